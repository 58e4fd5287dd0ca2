"""Session strips for clients: the images of a session left to right, each caption above.

Lives in serving/ so that clients (serving.client, scripts/edit.py) need nothing of the
training package; the font comes from `common.fonts`, the project's one font lookup.
"""

from __future__ import annotations

import os
import textwrap

import numpy as np
from PIL import Image, ImageDraw

from common.fonts import font

REFUSED_COLOUR = (200, 30, 30)


def write_strip(
    path: str,
    images: list[np.ndarray],
    captions: list[str],
    tile_size: int = 128,
    failed: list[bool] | None = None,
) -> str:
    """Writes images side by side with a wrapped caption above each.

    Args:
        path: output PNG path (folders are created).
        images: uint8 [H, W, 3] arrays.
        captions: one caption per image.
        tile_size: side of each tile.
        failed: per image, whether it stands for a refused or failed turn: its caption is
            drawn in red and the tile (the unchanged image the session went on from) is
            crossed out.

    Returns:
        `path`.
    """
    failed = failed or [False] * len(images)
    caption_font = font(10)
    line_height, chars_per_line, max_lines = 12, max(8, tile_size // 6), 5
    wrapped = [textwrap.wrap(c, chars_per_line)[:max_lines] or [""] for c in captions]
    header = line_height * max(len(lines) for lines in wrapped) + 6
    strip = Image.new("RGB", (tile_size * len(images), header + tile_size), "white")
    draw = ImageDraw.Draw(strip)
    for i, (image, lines, bad) in enumerate(zip(images, wrapped, failed)):
        tile = Image.fromarray(np.asarray(image, np.uint8)).resize((tile_size, tile_size))
        x0 = i * tile_size
        strip.paste(tile, (x0, header))
        colour = REFUSED_COLOUR if bad else "black"
        for j, line in enumerate(lines):
            draw.text((x0 + 3, 3 + j * line_height), line, fill=colour, font=caption_font)
        if bad:
            x1, y0, y1 = x0 + tile_size - 1, header, header + tile_size - 1
            draw.rectangle((x0, y0, x1, y1), outline=REFUSED_COLOUR, width=3)
            draw.line((x0, y0, x1, y1), fill=REFUSED_COLOUR, width=2)
            draw.line((x0, y1, x1, y0), fill=REFUSED_COLOUR, width=2)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    strip.save(path)
    return path
