"""Writes an evaluation report folder: report.md, metrics.json, figure4_grid.png, attention.png."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
from PIL import Image, ImageDraw

from common import fonts
from common.atomic_files import (
    save_image_atomically,
    write_json_atomically,
    write_text_atomically,
)
from seqgan_tf.visualization import strips

REPORT_FILENAME = "report.md"
METRICS_FILENAME = "metrics.json"
GRID_FILENAME = "figure4_grid.png"
ATTENTION_FILENAME = "attention.png"

_EDIT_COLUMNS = (
    ("edit acc", "edit_accuracy"),
    ("preservation", "preservation"),
    ("exact match", "exact_match"),
    ("ignored edits", "ignored_edit_rate"),
)


def _fmt(value, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return f"{float(value):.{digits}f}"


def _info_value(value) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {_fmt(v)}" for k, v in value.items())
    return str(value)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


_PIXEL_COLUMNS = (
    ("closer than previous", "closer_than_previous"),
    ("closer than its input", "closer_than_input"),
    ("edit-region error", "edit_region_error"),
    ("unchanged MAE", "unchanged_mae"),
    ("unchanged MAE (copy)", "unchanged_mae_copy"),
    ("MAE", "mae"),
    ("MAE (copy)", "mae_copy"),
)


def _pixel_cells(group: Mapping | None) -> list[str]:
    group = group or {}
    return [_fmt(group.get(key), 4 if "mae" in key else 3) for _, key in _PIXEL_COLUMNS]


def _pixel_section(models: Mapping) -> list[str]:
    """Pixel figures: all turns, then per turn, one row per model."""
    header = ["model", "turn", "turns", *[c for c, _ in _PIXEL_COLUMNS]]
    rows = []
    for name, m in models.items():
        pixel = m.get("pixel")
        if not pixel:
            continue
        rows.append([name, "all", _fmt(pixel["all"]["num_turns"]), *_pixel_cells(pixel["all"])])
        for turn, group in pixel["per_turn"].items():
            rows.append([name, turn, _fmt(group["num_turns"]), *_pixel_cells(group)])
    if not rows:
        return []
    return ["## Pixel figures (no classifier)", "", _table(header, rows), ""]


def _unseen_section(metrics: Mapping) -> list[str]:
    """Edit, SSIM and pixel figures on the turns whose target design is not in training."""
    unseen = metrics.get("unseen_designs")
    if not unseen:
        return []
    models = metrics["models"]
    header = [
        "model",
        "turns",
        *[c for c, _ in _EDIT_COLUMNS],
        "SSIM",
        *[c for c, _ in _PIXEL_COLUMNS[:4]],
    ]
    rows = []
    for name, m in models.items():
        edit = m["edit"].get("unseen_designs", {})
        pixel = m.get("pixel", {}).get("unseen_designs", {})
        image = m["image"].get("unseen_designs", {})
        rows.append(
            [name, _fmt(pixel.get("num_turns"))]
            + [_fmt(edit.get(key)) for _, key in _EDIT_COLUMNS]
            + [_fmt(image.get("SSIM"))]
            + _pixel_cells(pixel)[:4]
        )
    return [
        "## Turns whose target design never occurs in training",
        "",
        f"{unseen['num_turns']} turns ({_fmt(unseen['share'])} of all): {unseen['definition']}.",
        "",
        _table(header, rows),
        "",
    ]


def _image_columns(metrics: Mapping) -> list[str]:
    columns = []
    for source in metrics["feature_sources"]:
        columns += [f"IS ({source})", f"FID ({source})"]
    return columns + ["SSIM"]


def _row(image_group: Mapping, edit_group: Mapping, image_columns: Sequence[str]) -> list[str]:
    cells = [_fmt(image_group.get(c)) for c in image_columns]
    return cells + [_fmt(edit_group.get(key)) for _, key in _EDIT_COLUMNS]


def render_markdown(metrics: Mapping, title: str = "Evaluation") -> str:
    """The report as markdown (tables model x metric; overall, last turn, per turn,
    per phrase type, per-attribute F1).

    Args:
      metrics: the "metrics" dict of `evaluate_generators` (optionally with "info").
      title: the heading.

    Returns:
      Markdown text.
    """
    models = metrics["models"]
    image_columns = _image_columns(metrics)
    header = ["model", *image_columns, *[c for c, _ in _EDIT_COLUMNS]]
    out = [f"# {title}", ""]
    info = metrics.get("info", {})
    if info:
        out += [f"- {k}: {_info_value(v)}" for k, v in info.items()] + [""]
    out += [
        f"Sessions: {metrics['num_sessions']}, generated images per model: "
        f"{metrics['num_images']}. Feature sources: {', '.join(metrics['feature_sources'])}.",
        "",
        "## All turns",
        "",
        _table(
            header,
            [
                [name, *_row(m["image"]["all"], m["edit"]["overall"], image_columns)]
                for name, m in models.items()
            ],
        ),
        "",
        "## Last turn of each session",
        "",
        _table(
            header,
            [
                [name, *_row(m["image"]["last_turn"], m["edit"]["last_turn"], image_columns)]
                for name, m in models.items()
            ],
        ),
        "",
        "## Per turn",
        "",
    ]
    rows = []
    for name, m in models.items():
        for turn, group in m["image"]["per_turn"].items():
            edit = m["edit"]["per_turn"].get(turn, {})
            rows.append([name, turn, _fmt(group["num_images"]), *_row(group, edit, image_columns)])
    out += [_table(["model", "turn", "images", *header[1:]], rows), ""]
    out += _pixel_section(models)
    out += _unseen_section(metrics)

    out += ["## Per phrase type", ""]
    rows = []
    for name, m in models.items():
        for phrase, group in m["edit"]["per_phrase_type"].items():
            rows.append(
                [name, phrase, _fmt(group["num_images"])]
                + [_fmt(group.get(key)) for _, key in _EDIT_COLUMNS]
            )
    out += [_table(["model", "phrase type", "turns", *[c for c, _ in _EDIT_COLUMNS]], rows), ""]

    out += ["## Per-attribute F1 (macro over values)", ""]
    names = metrics["attribute_names"]
    rows = [
        [attr, *[_fmt(models[m]["edit"]["per_attribute"][attr]["f1"]) for m in models]]
        for attr in names
    ]
    out += [_table(["attribute", *models], rows), ""]

    out += [
        "## Definitions",
        "",
        "- Every IS / FID figure names its feature source. *domain features*: the attribute "
        "classifier's penultimate layer (FID) and its per-attribute softmax heads (IS = mean "
        "over heads of each head's Inception Score, so its ceiling is the mean number of values "
        "per attribute). *InceptionV3*: ImageNet InceptionV3 pool features / 1000-way softmax "
        "(only when a local weights file was given). The two are not comparable with each "
        "other nor with the paper's numbers.",
        "- FID and SSIM compare turn t's generated images with turn t's ground-truth images "
        "(FID: the two sets; SSIM: image by image, on [0, 1] RGB). FID is biased upwards on "
        "small sets (later turns hold fewer sessions than the feature dimension), so compare "
        "models within a row of the same turn, not across turns.",
        "- Edit metrics read attributes off the generated images with the attribute "
        "classifier. edit acc: changed attributes that show the target value; preservation: "
        "unchanged attributes that kept their value; exact match: images whose attributes all "
        "equal the target's; ignored edits: changed attributes still showing the previous "
        "value.",
        "- `ground_truth` is the target images (sanity row: its edit figures are the "
        "classifier's accuracy on real renders, the ceiling for every model). `copy_previous` "
        "returns each turn's input image (perfect preservation, no edits).",
        "- Pixel figures (no classifier; MAE on [0, 1] RGB). *Previous image* is the TRUE "
        "previous image x_{t-1} (what `copy_previous` returns), the same for every model. "
        "closer than previous: share of turns whose output has a lower MAE to the truth x_t "
        "than x_{t-1} has; closer than its input: the same against the model's own input "
        "(x_0 at turn 1, its previous output after). Edited pixels: where x_t differs from "
        "x_{t-1} by more than 0.05 in a channel. edit-region error: the output's error on "
        "those pixels over x_{t-1}'s error there, pooled over the turns (0 perfect, 1 as bad "
        "as not editing). unchanged MAE: the output's error on the other pixels; (copy): "
        "x_{t-1}'s error there (0 where unchanged regions are pixel-identical).",
        "- Unseen designs: turns whose target image's full attribute combination occurs on no "
        "image of the build's training split.",
        "",
    ]
    return "\n".join(out)


def _to_uint8(image: np.ndarray) -> np.ndarray:
    return strips.to_uint8(np.asarray(image, np.float32))  # the project's one [-1, 1] -> uint8


def _wrap(draw: ImageDraw.ImageDraw, text: str, width_px: int, font) -> list[str]:
    chars = max(4, width_px // max(1, int(draw.textlength("x", font=font))))
    return textwrap.wrap(text, chars) or [""]


def figure4_grid(
    examples: Mapping,
    path: str,
    model_names: Sequence[str] | None = None,
    max_sessions: int = 3,
    scale: int = 2,
) -> str:
    """The paper's Figure 4 layout: per session, descriptions above the turn columns, then a
    ground-truth row and one row per model (column 0 is the shared first image).

    Args:
      examples: the "examples" dict of `evaluate_generators`.
      path: output PNG path.
      model_names: rows to draw (default: all models in `examples`).
      max_sessions: sessions to draw.
      scale: integer upscaling of each image.

    Returns:
      The path written.

    Raises:
      ValueError: if examples hold no sessions.
    """
    if len(examples.get("first", [])) == 0:
        raise ValueError("figure4_grid: no example sessions")
    # The ground-truth row is always drawn; a "ground_truth" model row would repeat it.
    model_names = [m for m in (model_names or examples["models"]) if m != "ground_truth"]
    first, targets = examples["first"], examples["targets"]
    num = min(max_sessions, len(first))
    size = first.shape[1] * scale
    turns = targets.shape[1]
    font = fonts.font(11)
    label_w, line_h, text_lines = 110, 12, 5
    block_h = text_lines * line_h + (1 + len(model_names)) * (size + 4) + 16
    canvas = Image.new("RGB", (label_w + (turns + 1) * (size + 4), num * block_h), "white")
    draw = ImageDraw.Draw(canvas)
    for s in range(num):
        top = s * block_h
        n_turns = int(examples["num_turns"][s])
        draw.text((4, top + 2), examples["session_id"][s], fill="gray", font=font)
        for t in range(n_turns):
            lines = _wrap(draw, examples["descriptions"][s][t], size, font)[:text_lines]
            for i, line in enumerate(lines):
                x = label_w + (t + 1) * (size + 4)
                draw.text((x, top + 14 + i * line_h), line, fill="black", font=font)
        rows = [("ground truth", targets[s])] + [(m, examples["models"][m][s]) for m in model_names]
        for r, (label, images) in enumerate(rows):
            y = top + text_lines * line_h + 14 + r * (size + 4)
            draw.text((4, y + size // 2 - 6), label[:18], fill="black", font=font)
            cells = [first[s]] + [images[t] for t in range(n_turns)]
            for c, image in enumerate(cells):
                tile = Image.fromarray(_to_uint8(image)).resize((size, size), Image.NEAREST)
                canvas.paste(tile, (label_w + c * (size + 4), y))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    save_image_atomically(canvas, path)
    return path


def _jet(values: np.ndarray) -> np.ndarray:
    """A jet-like colormap for values in [0, 1] -> uint8 RGB."""
    v = np.clip(values, 0.0, 1.0)[..., None]
    rgb = np.clip(1.5 - np.abs(4.0 * v - np.array([3.0, 2.0, 1.0])), 0.0, 1.0)
    return (rgb * 255).astype(np.uint8)


def attention_figure(
    images: np.ndarray,
    attention: np.ndarray,
    tokens: Sequence[Sequence[str]],
    path: str,
    descriptions: Sequence[str] | None = None,
    max_words: int = 10,
    scale: int = 2,
    alpha: float = 0.6,
    skip_tokens: Sequence[str] = ("", "<pad>", "[PAD]", "<unk>"),
) -> str:
    """The paper's Figure 8: one row per turn, the generated image then each word's attention
    map (normalised per word) overlaid on it, the word above.

    Args:
      images: float [T, S, S, 3] in [-1, 1], the generated image of each turn.
      attention: float [T, h, w, L] attention of each word over the h x w sub-regions.
      tokens: T lists of L tokens (str or bytes); padding tokens are skipped.
      path: output PNG path.
      descriptions: optional T descriptions printed at the start of each row.
      max_words: at most this many words per row.
      scale: integer upscaling of the images.
      alpha: overlay opacity.
      skip_tokens: tokens not drawn.

    Returns:
      The path written.

    Raises:
      ValueError: on inconsistent shapes.
    """
    images, attention = np.asarray(images), np.asarray(attention, np.float32)
    if images.ndim != 4 or attention.ndim != 4 or images.shape[0] != attention.shape[0]:
        raise ValueError(
            f"attention_figure: images {images.shape} must be [T,S,S,3] and attention "
            f"{attention.shape} [T,h,w,L] with the same T"
        )
    if len(tokens) != images.shape[0]:
        raise ValueError(f"attention_figure: {len(tokens)} token lists for {images.shape[0]} turns")
    turns, size = images.shape[0], images.shape[1] * scale
    font = fonts.font(11)
    desc_w = 150 if descriptions else 0
    canvas = Image.new("RGB", (desc_w + (max_words + 1) * (size + 4), turns * (size + 18)), "white")
    draw = ImageDraw.Draw(canvas)
    for t in range(turns):
        y = t * (size + 18) + 14
        if descriptions:
            for i, line in enumerate(_wrap(draw, descriptions[t], desc_w - 8, font)[:6]):
                draw.text((4, y + i * 12), line, fill="black", font=font)
        base = Image.fromarray(_to_uint8(images[t])).resize((size, size), Image.BILINEAR)
        canvas.paste(base, (desc_w, y))
        draw.text((desc_w, y - 13), f"turn {t + 1}", fill="black", font=font)
        words = [
            (j, w.decode("utf-8") if isinstance(w, bytes) else str(w))
            for j, w in enumerate(tokens[t])
            if j < attention.shape[3]
        ]
        words = [(j, w) for j, w in words if w not in skip_tokens][:max_words]
        for c, (j, word) in enumerate(words):
            amap = attention[t, :, :, j]
            amap = (amap - amap.min()) / (amap.max() - amap.min() + 1e-8)
            heat = Image.fromarray(_jet(amap)).resize((size, size), Image.BILINEAR)
            blended = Image.blend(base, heat, alpha)
            x = desc_w + (c + 1) * (size + 4)
            canvas.paste(blended, (x, y))
            draw.text((x, y - 13), word[:12], fill="black", font=font)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    save_image_atomically(canvas, path)
    return path


def write_report(
    result: Mapping,
    out_dir: str,
    title: str = "Evaluation",
    grid_models: Sequence[str] | None = None,
    attention: Mapping | None = None,
) -> dict[str, str]:
    """Writes report.md, metrics.json and (when examples / attention are given) the figures.

    Args:
      result: the dict of `evaluate_generators` ({"metrics", "examples"}); "examples" optional.
      out_dir: the report folder (created).
      title: report heading.
      grid_models: models drawn in figure4_grid.png (default: all).
      attention: optional kwargs for `attention_figure` (images, attention, tokens,
        descriptions) for one session of a model that provides attention maps.

    Returns:
      {"report": path, "metrics": path, ["grid": path], ["attention": path]}.
    """
    os.makedirs(out_dir, exist_ok=True)
    metrics = result["metrics"]
    paths = {
        "report": os.path.join(out_dir, REPORT_FILENAME),
        "metrics": os.path.join(out_dir, METRICS_FILENAME),
    }
    markdown = render_markdown(metrics, title)
    examples = result.get("examples") or {}
    if len(examples.get("first", [])):
        paths["grid"] = figure4_grid(examples, os.path.join(out_dir, GRID_FILENAME), grid_models)
        markdown += f"\n## Examples\n\n![Figure 4 layout]({GRID_FILENAME})\n"
    if attention is not None:
        paths["attention"] = attention_figure(
            path=os.path.join(out_dir, ATTENTION_FILENAME), **attention
        )
        markdown += f"\n## Attention\n\n![attention maps]({ATTENTION_FILENAME})\n"
    write_text_atomically(paths["report"], markdown)
    write_json_atomically(paths["metrics"], metrics, default=_json_default)
    return paths


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serializable: {type(value)}")
