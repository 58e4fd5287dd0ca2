"""The project's one font lookup, for strips, sample sheets and the editor's downloads."""

from __future__ import annotations

import os

from PIL import ImageFont

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
)


def font(size: int = 11) -> ImageFont.ImageFont:
    """A TrueType font of `size` pixels: DejaVu Sans when installed, else PIL's default at that
    size (PIL's bitmap default squeezes spaces away).

    Example:
      >>> draw.text((4, 2), "make it red", fill="black", font=font(12))
    """
    for path in FONT_CANDIDATES:
        if os.path.exists(path):
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)
