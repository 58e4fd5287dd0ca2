"""Pictures of sessions: one strip per session, the descriptions above the turns."""

from __future__ import annotations

import textwrap

import numpy as np
from PIL import Image, ImageDraw

from common.fonts import font


def to_uint8(images: np.ndarray) -> np.ndarray:
    """float images in [-1, 1] (or uint8) -> uint8."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images
    return np.clip((images + 1.0) * 127.5 + 0.5, 0, 255).astype(np.uint8)


def session_strips(
    first_images: np.ndarray,
    generated: np.ndarray,
    descriptions: list[list[str]],
    targets: np.ndarray | None = None,
    num_turns: list[int] | None = None,
    scale: int = 2,
    title: str = "",
) -> Image.Image:
    """Lays out sessions as rows: x0 then one column per turn, the description above it.

    Args:
      first_images: [N, S, S, 3] x0 per session (float in [-1,1] or uint8).
      generated: [N, T, S, S, 3] generated images.
      descriptions: N lists of T strings.
      targets: optional [N, T, S, S, 3] ground truth, drawn under the generated row.
      num_turns: real turns per session (columns past it are left blank).
      scale: nearest-neighbour upscaling of every image.
      title: a line at the top.

    Returns:
      A PIL image.
    """
    first = to_uint8(first_images)
    gen = to_uint8(generated)
    tgt = None if targets is None else to_uint8(targets)
    n, t = gen.shape[:2]
    s = gen.shape[2] * scale
    cell_w = max(s, 120)
    text_h = 40
    rows_per_session = 2 if tgt is not None else 1
    title_h = 18 if title else 0
    label_w = 52
    height = title_h + n * (text_h + rows_per_session * s + 8)
    width = label_w + (t + 1) * (cell_w + 4)
    sheet = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(sheet)
    f = font(10)
    if title:
        draw.text((4, 2), title, fill="black", font=font(12))

    def paste(img: np.ndarray, x: int, y: int) -> None:
        sheet.paste(Image.fromarray(img).resize((s, s), Image.NEAREST), (x, y))

    y = title_h
    for i in range(n):
        turns = t if num_turns is None else int(num_turns[i])
        draw.text((label_w, y + 2), "x0", fill="black", font=f)
        paste(first[i], label_w, y + text_h)
        draw.text((2, y + text_h + s // 2 - 6), "model", fill="black", font=f)
        if tgt is not None:
            draw.text((2, y + text_h + s + s // 2 - 6), "truth", fill="gray", font=f)
            paste(first[i], label_w, y + text_h + s)
        for j in range(turns):
            x = label_w + (j + 1) * (cell_w + 4)
            wrapped = textwrap.wrap(descriptions[i][j], width=max(cell_w // 6, 10))[:3]
            draw.multiline_text((x, y + 1), "\n".join(wrapped), fill="black", font=f, spacing=1)
            paste(gen[i, j], x, y + text_h)
            if tgt is not None:
                paste(tgt[i, j], x, y + text_h + s)
        y += text_h + rows_per_session * s + 8
    return sheet
