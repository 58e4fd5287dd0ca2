"""The evaluation report's text: report.md's tables (model x metric) and its definitions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from seqgan_tf.evaluation.pixel_metrics import EDGE_BAND

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
    ("its edge", "edge_error"),
    ("its interior", "interior_error"),
    ("unchanged MAE", "unchanged_mae"),
    ("unchanged MAE (copy)", "unchanged_mae_copy"),
    ("untouched MAE", "untouched_mae"),
    ("untouched MAE (copy)", "untouched_mae_copy"),
    ("carried share", "carried_share"),
    ("carried MAE", "carried_mae"),
    ("carried MAE (copy)", "carried_mae_copy"),
    ("MAE", "mae"),
    ("MAE (copy)", "mae_copy"),
)


# The pixel columns of the unseen-designs table.
_UNSEEN_PIXEL_KEYS = (
    "closer_than_previous",
    "closer_than_input",
    "edit_region_error",
    "unchanged_mae",
)


def _pixel_cells(group: Mapping | None, keys: tuple[str, ...] | None = None) -> list[str]:
    group = group or {}
    columns = [key for _, key in _PIXEL_COLUMNS if keys is None or key in keys]
    return [_fmt(group.get(key), 4 if "mae" in key else 3) for key in columns]


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


# Built-in rows whose misses say nothing about a model's drawing.
_NOT_A_DRAWING = ("copy_previous", "ground_truth")


def _asked_value_section(metrics: Mapping, worst: int = 8, min_asked: int = 10) -> list[str]:
    """Each model's worst-read asked-for values (at least `min_asked` edits asked for them),
    with what the judge reads instead: which colour comes out as which."""
    values = metrics.get("attribute_values")
    if not values:
        return []
    rows = []
    for name, m in metrics["models"].items():
        if name in _NOT_A_DRAWING:
            continue
        cells = []
        for attr, per in m["edit"]["per_attribute"].items():
            for value, group in per.get("per_asked_value", {}).items():
                if group["num_asked"] >= min_asked:
                    cells.append((group["edit_accuracy"], attr, int(value), group))
        for accuracy, attr, value, group in sorted(cells, key=lambda c: c[:3])[:worst]:
            misses = group["num_asked"] - group["num_correct"]
            instead = ", ".join(
                f"{values[attr][int(v)]} {count / misses:.2f}"
                for v, count in list(group["read_instead"].items())[:3]
            )
            rows.append(
                [name, attr, values[attr][value], _fmt(group["num_asked"]), _fmt(accuracy)]
                + [instead or "-"]
            )
    if not rows:
        return []
    header = ["model", "attribute", "asked for", "edits", "edit acc", "read instead (share)"]
    return [
        "## The asked-for values read least often",
        "",
        f"Each model's {worst} worst asked-for values among those at least {min_asked} edits ask "
        "for: the share of those edits the judge reads with the value, and what it reads instead "
        "on the others (share of the misses).",
        "",
        _table(header, rows),
        "",
    ]


def _changed_attribute_section(models: Mapping) -> list[str]:
    """Edit-region error and closer share of the turns that change each attribute."""
    header = [
        "model",
        "changed attribute",
        "turn-1 turns",
        "turn-1 edit-region error",
        "turn-1 closer than previous",
        "all turns",
        "edit-region error",
        "closer than previous",
    ]
    rows = []
    for name, m in models.items():
        for attribute, groups in m.get("pixel", {}).get("by_changed_attribute", {}).items():
            first, every = groups["turn 1"], groups["all"]
            if not every["num_turns"]:
                continue
            rows.append(
                [name, attribute]
                + [
                    _fmt(first[k])
                    for k in ("num_turns", "edit_region_error", "closer_than_previous")
                ]
                + [
                    _fmt(every[k])
                    for k in ("num_turns", "edit_region_error", "closer_than_previous")
                ]
            )
    if not rows:
        return []
    return [
        "## Pixel figures by changed attribute",
        "",
        "The turns that change each attribute (a turn changing two counts under both). At turn "
        "1 the input is the true x_0, so those columns show how exactly one edit is drawn; the "
        "others include the turns on the model's own earlier output.",
        "",
        _table(header, rows),
        "",
    ]


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
        *[c for c, key in _PIXEL_COLUMNS if key in _UNSEEN_PIXEL_KEYS],
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
            + _pixel_cells(pixel, _UNSEEN_PIXEL_KEYS)
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
    sources = metrics.get("trained_models") or {}
    if sources:
        rows = [
            [
                name,
                f"`{s['run_dir']}`",
                f"`{s['weights']}`" if s.get("weights") else "trained weights",
                str(s.get("config") or "-"),
                _fmt(s.get("epochs")),
            ]
            for name, s in sources.items()
        ]
        out += [
            "## The trained models",
            "",
            _table(["model", "run", "weights", "config", "GAN epochs"], rows),
            "",
        ]
    out += [
        f"Sessions: {metrics['num_sessions']}, generated images per model: "
        f"{metrics['num_images']}. Feature sources: {', '.join(metrics['feature_sources'])}.",
        "",
    ]
    for heading, image_group, edit_group in (
        ("All turns", "all", "overall"),
        ("Last turn of each session", "last_turn", "last_turn"),
    ):
        rows = [
            [name, *_row(m["image"][image_group], m["edit"][edit_group], image_columns)]
            for name, m in models.items()
        ]
        out += [f"## {heading}", "", _table(header, rows), ""]
    out += ["## Per turn", ""]
    rows = []
    for name, m in models.items():
        for turn, group in m["image"]["per_turn"].items():
            edit = m["edit"]["per_turn"].get(turn, {})
            rows.append([name, turn, _fmt(group["num_images"]), *_row(group, edit, image_columns)])
    out += [_table(["model", "turn", "images", *header[1:]], rows), ""]
    out += _pixel_section(models)
    out += _changed_attribute_section(models)
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
    out += _asked_value_section(metrics)

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
        "returns each turn's input image (perfect preservation, no edits). `blurred_truth` "
        "draws each edit one pixel out of focus, as served: the target blurred by a Gaussian "
        "of 1 pixel on the edited pixels, its own previous output elsewhere (a scale for the "
        "pixel figures).",
        "- Pixel figures (no classifier; MAE on [0, 1] RGB). *Previous image* is the TRUE "
        "previous image x_{t-1} (what `copy_previous` returns), the same for every model. "
        "closer than previous: share of turns whose output has a lower MAE to the truth x_t "
        "than x_{t-1} has; closer than its input: the same against the model's own input "
        "(x_0 at turn 1, its previous output after). Edited pixels: where x_t differs from "
        "x_{t-1} by more than 0.05 in a channel. edit-region error: the output's error on "
        "those pixels over x_{t-1}'s error there, pooled over the turns (0 perfect, 1 as bad "
        f"as not editing); its edge: the same on the edited pixels within {EDGE_BAND} pixels "
        "of an unchanged one (outlines), its interior: on the others (colour and texture). "
        "unchanged MAE: the output's error on the other pixels; (copy): "
        "x_{t-1}'s error there (0 where unchanged regions are pixel-identical). The unchanged "
        "pixels split in two: untouched, where x_t still equals the session's first image "
        "x_0 (no turn has edited them: error above copying's there is drift), and carried, "
        "where an earlier turn edited them (the error there is what earlier turns drew wrong "
        "and this turn kept); carried share: their part of the unchanged pixels (0 at turn 1).",
        "- Unseen designs: turns whose target image's full attribute combination occurs on no "
        "image of the build's training split.",
        "",
    ]
    return "\n".join(out)
