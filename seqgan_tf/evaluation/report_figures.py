"""The evaluation report's figures: the paper's Figure 4 grid and Figure 8 attention maps."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
from PIL import Image, ImageDraw

from common import fonts
from common.atomic_files import save_image_atomically
from seqgan_tf.visualization import strips


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
