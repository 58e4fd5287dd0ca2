"""A tiny layered compositor for the synthetic renderers.

Items are drawn at 256x256 as a stack of filled regions (numpy boolean masks drawn with
Pillow), each with a dark outline, then shifted by the session's layout offset and
downsampled with LANCZOS to the requested image size.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from tfrecords.synthetic import palette

CANVAS = 256
OUTLINE_WIDTH = 4  # pixels at 256x256, i.e. one pixel at 64x64
MAX_OFFSET = 8  # pixels at 256x256, i.e. two pixels at 64x64

Point = tuple[float, float]


def new_mask() -> tuple[Image.Image, ImageDraw.ImageDraw]:
    """Returns an empty 256x256 mask image and a drawing context on it."""
    image = Image.new("L", (CANVAS, CANVAS), 0)
    return image, ImageDraw.Draw(image)


def polygon_mask(*polygons: Sequence[Point]) -> np.ndarray:
    """Returns the boolean union of filled polygons."""
    image, draw = new_mask()
    for points in polygons:
        draw.polygon([tuple(p) for p in points], fill=255)
    return np.asarray(image) > 0


def line_mask(segments: Sequence[Sequence[Point]], width: int) -> np.ndarray:
    """Returns the boolean union of thick polylines with rounded joints."""
    image, draw = new_mask()
    for points in segments:
        draw.line([tuple(p) for p in points], fill=255, width=width, joint="curve")
        r = width / 2
        for x, y in (points[0], points[-1]):
            draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    return np.asarray(image) > 0


def ellipse_mask(*boxes: Sequence[float]) -> np.ndarray:
    """Returns the boolean union of filled ellipses given as (x0, y0, x1, y1) boxes."""
    image, draw = new_mask()
    for box in boxes:
        draw.ellipse(tuple(box), fill=255)
    return np.asarray(image) > 0


def dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """Returns `mask` grown by `radius` pixels (square structuring element)."""
    rows = mask.copy()
    for s in range(1, radius + 1):
        rows[:, s:] |= mask[:, :-s]
        rows[:, :-s] |= mask[:, s:]
    out = rows.copy()
    for s in range(1, radius + 1):
        out[s:, :] |= rows[:-s, :]
        out[:-s, :] |= rows[s:, :]
    return out


def polyline_points(points: Sequence[Point], steps: int) -> list[Point]:
    """Returns `steps` evenly spaced points along a polyline (including both ends)."""
    pts = np.asarray(points, dtype=np.float64)
    seg = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    targets = np.linspace(0.0, cum[-1], steps)
    xs = np.interp(targets, cum, pts[:, 0])
    ys = np.interp(targets, cum, pts[:, 1])
    return list(zip(xs.tolist(), ys.tolist()))


@functools.lru_cache(maxsize=256)
def texture(pattern: str, colour: str, orientation: str = "vertical") -> np.ndarray:
    """Returns a read-only [256, 256] packed-uint32 texture of `pattern` on item colour `colour`.

    Args:
      pattern: one of solid, stripes, dots, checks, zebra, floral.
      colour: a key of palette.COLOURS.
      orientation: "vertical" or "horizontal" stripes.

    Raises:
      ValueError: unknown pattern or colour.
    """
    if colour not in palette.COLOURS:
        raise ValueError(f"unknown colour {colour!r}")
    base = palette.COLOURS[colour]
    ink = palette.pattern_colour(base)
    image = Image.new("RGB", (CANVAS, CANVAS), base)
    draw = ImageDraw.Draw(image)
    if pattern == "solid":
        pass
    elif pattern == "stripes":
        for k in range(-1, CANVAS // 40 + 2):
            a = k * 40 + 4
            box = (a, 0, a + 18, CANVAS) if orientation == "vertical" else (0, a, CANVAS, a + 18)
            draw.rectangle(box, fill=ink)
    elif pattern == "dots":
        for row, y in enumerate(range(10, CANVAS + 30, 34)):
            shift = 17 if row % 2 else 0
            for x in range(-34 + shift + 10, CANVAS + 34, 34):
                draw.ellipse((x - 10, y - 10, x + 10, y + 10), fill=ink)
    elif pattern == "checks":
        for yi, y in enumerate(range(0, CANVAS, 28)):
            for xi, x in enumerate(range(0, CANVAS, 28)):
                if (xi + yi) % 2 == 0:
                    draw.rectangle((x, y, x + 27, y + 27), fill=ink)
    elif pattern == "zebra":  # wavy diagonal bands of varying width
        ts = np.arange(-8, CANVAS + 16, 8, dtype=np.float64)
        for k in range(-8, 12):
            left = k * 38 + 0.55 * ts + 7 * np.sin(ts / 21 + 1.7 * k)
            width = 13 + 5 * np.sin(ts / 29 + 2.3 * k)
            edge = list(zip(left.tolist(), ts.tolist()))
            back = list(zip((left + width).tolist()[::-1], ts.tolist()[::-1]))
            draw.polygon(edge + back, fill=ink)
    elif pattern == "floral":
        centre = palette.trim_colour(base)
        for row, y in enumerate(range(18, CANVAS + 40, 46)):
            for x in range(-23 + (row % 2) * 23 + 18, CANVAS + 40, 46):
                for ang in np.linspace(0, 2 * np.pi, 5, endpoint=False):
                    px, py = x + 10 * np.cos(ang), y + 10 * np.sin(ang)
                    draw.ellipse((px - 8, py - 8, px + 8, py + 8), fill=ink)
                draw.ellipse((x - 5, y - 5, x + 5, y + 5), fill=centre)
    else:
        raise ValueError(f"unknown pattern {pattern!r}")
    return _packed(np.asarray(image))


def _packed(rgb: np.ndarray) -> np.ndarray:
    """Returns a read-only [H, W] uint32 view of an RGB image (RGBA bytes, one word per pixel)."""
    rgba = np.empty(rgb.shape[:2] + (4,), np.uint8)
    rgba[..., :3] = rgb
    rgba[..., 3] = 255
    out = rgba.view(np.uint32)[..., 0]
    out.flags.writeable = False
    return out


def pack_colour(rgb: tuple[int, int, int]) -> np.uint32:
    """Returns an RGB colour as one packed uint32 pixel."""
    return np.array([*rgb, 255], np.uint8).view(np.uint32)[0]


@functools.lru_cache(maxsize=1)
def _background() -> np.ndarray:
    out = np.empty((CANVAS, CANVAS, 3), np.uint8)
    out[:] = palette.BACKGROUND
    return _packed(out)


class Canvas:
    """A 256x256 RGB canvas on a plain light background that regions are painted onto.

    Pixels are kept packed (one uint32 per RGBA pixel) so masked fills are single fast copies.

    Args:
      offset: (dx, dy) layout shift in 256-pixel units, each in [-MAX_OFFSET, MAX_OFFSET].
    """

    def __init__(self, offset: tuple[int, int] = (0, 0)):
        if max(abs(offset[0]), abs(offset[1])) > MAX_OFFSET:
            raise ValueError(f"offset {offset} exceeds {MAX_OFFSET} pixels")
        self.offset = offset
        self.pixels = _background().copy()
        self.painted = np.zeros((CANVAS, CANVAS), bool)

    def _fill(self, mask: np.ndarray, fill: tuple[int, int, int] | np.ndarray) -> None:
        value = fill if isinstance(fill, np.ndarray) else pack_colour(fill)
        np.copyto(self.pixels, value, where=mask)

    def paint(
        self, mask: np.ndarray, fill: tuple[int, int, int] | np.ndarray, outline: bool = True
    ) -> None:
        """Paints `fill` (an RGB colour or a texture()) inside `mask`, outlined."""
        if outline:
            grown = dilate(mask, OUTLINE_WIDTH)
            self._fill(grown, palette.OUTLINE)
            self.painted |= grown
        self._fill(mask, fill)
        self.painted |= mask

    def erase(self, mask: np.ndarray, outline: bool = True) -> None:
        """Cuts `mask` out of everything painted so far (shows the background), outlined."""
        if outline:
            ring = dilate(mask, OUTLINE_WIDTH) & self.painted
            self._fill(ring, palette.OUTLINE)
        self._fill(mask, palette.BACKGROUND)
        self.painted &= ~mask

    def finish(self, image_size: int) -> np.ndarray:
        """Returns the shifted, LANCZOS-downsampled [image_size, image_size, 3] uint8 image."""
        dx, dy = self.offset
        shifted = _background().copy()
        src = self.pixels[max(0, -dy) : CANVAS - max(0, dy), max(0, -dx) : CANVAS - max(0, dx)]
        shifted[max(0, dy) : max(0, dy) + src.shape[0], max(0, dx) : max(0, dx) + src.shape[1]] = (
            src
        )
        image = Image.frombuffer("RGBX", (CANVAS, CANVAS), shifted, "raw", "RGBX", 0, 1)
        if image_size != CANVAS:
            # reducing_gap: an exact 2x box reduction first, then LANCZOS for the rest (fast).
            image = image.resize(
                (image_size, image_size), Image.Resampling.LANCZOS, reducing_gap=2.0
            )
        return np.asarray(image.convert("RGB"))
