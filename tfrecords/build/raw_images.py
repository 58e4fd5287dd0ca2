"""Reading an image as a viewer shows it: EXIF orientation applied, high bit depths scaled to 8
bits, transparency composited on white, then center-cropped to a square and resized."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageOps

TRANSPARENCY_BACKGROUND = (255, 255, 255)
SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N")


def _gray_to_rgb(values: np.ndarray) -> Image.Image:
    gray = np.clip(np.rint(values), 0, 255).astype(np.uint8)
    return Image.fromarray(np.dstack([gray] * 3), mode="RGB")


def to_rgb(image: Image.Image) -> Image.Image:
    """Converts a decoded image to 8-bit RGB the way a viewer would show it.

    - EXIF orientation is applied first (`ImageOps.exif_transpose`).
    - 16-bit grayscale ("I;16*") is scaled to 8 bits (v / 257), not clipped; 32-bit integer
      ("I") is read as 16-bit when its values fit 0..65535 (how Pillow opens 16-bit PNG/TIFF
      data), else stretched from its min..max; float ("F") is scaled from 0..1 when it fits,
      else stretched from its min..max.
    - Transparency (RGBA, LA, PA, a palette or "transparency" entry) is composited on
      TRANSPARENCY_BACKGROUND (white), not dropped (which shows black or stray colours).
    - Everything else (palette, CMYK, YCbCr, L, 1, ...) goes through Pillow's convert("RGB").
    """
    image = ImageOps.exif_transpose(image)
    mode = image.mode
    if mode in SIXTEEN_BIT_MODES or mode in ("I", "F"):
        values = np.asarray(image).astype(np.float64)
        low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
        if mode == "F" and 0.0 <= low and high <= 1.0:
            scaled = values * 255.0
        elif mode != "F" and 0.0 <= low and high <= 65535.0:
            scaled = values / 257.0
        else:
            scaled = (values - low) * (255.0 / max(high - low, 1e-12))
        return _gray_to_rgb(scaled)
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
    if has_alpha:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (*TRANSPARENCY_BACKGROUND, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def load_image(path: str, image_size: int) -> np.ndarray:
    """Loads an image as RGB (see `to_rgb`), center-crops it to a square and resizes it."""
    with Image.open(path) as image:
        image = to_rgb(image)
        width, height = image.size
        side = min(width, height)
        left, top = (width - side) // 2, (height - side) // 2
        image = image.crop((left, top, left + side, top + side))
        if side != image_size:
            image = image.resize((image_size, image_size), Image.Resampling.BICUBIC)
        return np.asarray(image, dtype=np.uint8)
