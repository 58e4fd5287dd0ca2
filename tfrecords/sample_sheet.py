"""A PNG contact sheet of sessions: images in a row, each edit description above its result."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterable

import numpy as np
from PIL import Image, ImageDraw

from common import fonts
from tfrecords.session import Session


def write_sample_sheet(
    sessions: Iterable[Session],
    path: str,
    num_sessions: int = 8,
    scale: int = 2,
    font_size: int = 11,
) -> str:
    """Writes a PNG with one row per session: x0, then each result image under its description.

    Args:
      sessions: sessions to draw (the first `num_sessions` are used).
      path: output PNG path (parent folders are created).
      num_sessions: rows to draw.
      scale: nearest-neighbour upscaling of the images.
      font_size: caption font size in pixels.

    Returns:
      `path`.

    Raises:
      ValueError: no sessions, or images of different sizes.
    """
    rows = [s for _, s in zip(range(num_sessions), sessions)]
    if not rows:
        raise ValueError("write_sample_sheet needs at least one session")
    size = rows[0].images[0].shape[0]
    if any(im.shape[:2] != (size, size) for s in rows for im in s.images):
        raise ValueError("all images of the sample sheet must have the same square size")
    cell = size * scale
    gap = 10
    col = max(cell, 150)
    font = fonts.font(font_size)
    chars = max(12, int(col / (font_size * 0.55)))
    line_h = font_size + 3
    max_cols = max(len(s.images) for s in rows)
    captions = [[["(start)"]] + [textwrap.wrap(d, chars)[:4] for d in s.descriptions] for s in rows]
    lines_per_row = [max(len(c) for c in cs) for cs in captions]
    heights = [14 + n * line_h + cell + gap for n in lines_per_row]
    width = max_cols * (col + gap) + gap
    sheet = Image.new("RGB", (width, sum(heights) + gap), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    y = gap
    for session, caps, n_lines, h in zip(rows, captions, lines_per_row, heights):
        draw.text((gap, y), session.session_id, fill=(120, 120, 120), font=font)
        for k, (image, cap) in enumerate(zip(session.images, caps)):
            x = gap + k * (col + gap)
            for j, line in enumerate(cap):
                draw.text((x, y + 14 + j * line_h), line, fill=(20, 20, 20), font=font)
            big = Image.fromarray(np.asarray(image, np.uint8)).resize(
                (cell, cell), Image.Resampling.NEAREST
            )
            sheet.paste(big, (x, y + 14 + n_lines * line_h))
        y += h
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    sheet.save(path, optimize=True)
    return path
