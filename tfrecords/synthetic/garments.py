"""Procedural front-view garments, fully described by their attributes."""

from __future__ import annotations

import numpy as np

from tfrecords.synthetic import canvas, palette

GARMENT_SCHEMA: dict[str, tuple[str, ...]] = {
    "category": ("dress", "tunic", "shirt", "coat", "jumpsuit"),
    "colour": tuple(palette.COLOURS),
    "sleeves": ("sleeveless", "short", "long"),
    "neckline": ("round", "v_neck", "square", "collar"),
    "length": ("short", "knee", "long"),
    "pattern": ("solid", "stripes", "dots", "checks", "floral"),
}

CX = 128
NECK_Y = 32
SHOULDER_Y = 52
ARMPIT_Y = 96
WAIST_Y = 130
CROTCH_Y = 126
HEM_Y = {"short": 166, "knee": 202, "long": 240}

# Half widths (pixels at 256x256): shoulder, armpit, waist, hem.
WIDTHS = {
    "dress": (50, 44, 30, None),
    "tunic": (50, 48, 48, 54),
    "shirt": (50, 48, 46, 50),
    "coat": (62, 58, 56, 62),
    "jumpsuit": (50, 48, 46, 50),
}


def _dress_hem_half_width(hem_y: float) -> float:
    # The A-line flare grows with length so every length keeps the same silhouette angle.
    return 54 + (hem_y - WAIST_Y) * 0.45


def render_garment(
    attributes: dict[str, str], offset: tuple[int, int] = (0, 0), image_size: int = 64
) -> np.ndarray:
    """Renders one garment on a plain light background.

    Args:
      attributes: every GARMENT_SCHEMA attribute name -> one of its values (not validated here;
        use tfrecords.synthetic.render for checked input).
      offset: layout shift (dx, dy) in 256-pixel units, at most canvas.MAX_OFFSET.
      image_size: output side in pixels.

    Returns:
      uint8 array [image_size, image_size, 3].
    """
    category = attributes["category"]
    base = palette.COLOURS[attributes["colour"]]
    trim = palette.trim_colour(base)
    tex = canvas.texture(attributes["pattern"], attributes["colour"], "horizontal")
    shoulder, armpit, waist, hem = WIDTHS[category]
    hem_y = HEM_Y[attributes["length"]]
    if hem is None:
        hem = _dress_hem_half_width(hem_y)
    c = canvas.Canvas(offset)

    # Sleeves first, so the body's outline runs over their inner ends.
    sleeves = attributes["sleeves"]
    if sleeves != "sleeveless":
        polys = []
        for s in (-1, 1):
            sx = CX + s * shoulder
            if sleeves == "short":
                pts = [(sx - s * 6, SHOULDER_Y - 2), (sx + s * 34, SHOULDER_Y + 30)]
                pts += [(sx + s * 18, SHOULDER_Y + 56), (CX + s * (armpit - 6), ARMPIT_Y)]
            else:
                pts = [(sx - s * 6, SHOULDER_Y - 2), (sx + s * 36, SHOULDER_Y + 40)]
                pts += [(sx + s * 44, 184), (sx + s * 18, 188), (CX + s * (armpit - 6), ARMPIT_Y)]
            polys.append(pts)
        c.paint(canvas.polygon_mask(*polys), tex)

    # Body outline: neck, shoulders, sides down to the hem (legs for a jumpsuit).
    right = [(CX + 26, NECK_Y), (CX + shoulder, SHOULDER_Y), (CX + armpit, ARMPIT_Y)]
    right += [(CX + waist, WAIST_Y), (CX + hem, hem_y)]
    left = [(2 * CX - x, y) for x, y in reversed(right)]
    if category == "jumpsuit":
        inner = [(CX + 16, hem_y), (CX + 8, CROTCH_Y), (CX - 8, CROTCH_Y), (CX - 16, hem_y)]
        body = canvas.polygon_mask(right + inner + left)
    else:
        body = canvas.polygon_mask(right + left)
    c.paint(body, tex)

    # Category details.
    if category == "shirt":
        c.paint(
            canvas.polygon_mask(
                [
                    (CX - 8, NECK_Y + 20),
                    (CX + 8, NECK_Y + 20),
                    (CX + 8, hem_y - 4),
                    (CX - 8, hem_y - 4),
                ]
            )
            & body,
            trim,
        )
        buttons = [(CX - 4, y - 4, CX + 4, y + 4) for y in range(NECK_Y + 56, hem_y - 10, 26)]
        c.paint(canvas.ellipse_mask(*buttons), palette.OUTLINE, outline=False)
    elif category == "coat":
        c.paint(
            canvas.line_mask([[(CX, NECK_Y + 40), (CX, hem_y - 2)]], 6) & body,
            palette.OUTLINE,
            outline=False,
        )
        belt = canvas.polygon_mask(
            [(0, WAIST_Y - 10), (256, WAIST_Y - 10), (256, WAIST_Y + 10), (0, WAIST_Y + 10)]
        )
        c.paint(belt & body, trim)
        buttons = [
            (CX + s * 18 - 5, y - 5, CX + s * 18 + 5, y + 5) for s in (-1, 1) for y in (84, 108)
        ]
        c.paint(canvas.ellipse_mask(*buttons), palette.OUTLINE, outline=False)
    elif category == "tunic":  # a contrasting hem band
        band = canvas.polygon_mask([(0, hem_y - 18), (256, hem_y - 18), (256, hem_y), (0, hem_y)])
        c.paint(band & body, trim)
    elif category == "dress":
        c.paint(
            canvas.line_mask([[(CX - waist, WAIST_Y), (CX + waist, WAIST_Y)]], 5) & body,
            palette.OUTLINE,
            outline=False,
        )

    # Neckline cut.
    neckline = attributes["neckline"]
    if neckline == "round":
        c.erase(canvas.ellipse_mask((CX - 30, NECK_Y - 24, CX + 30, NECK_Y + 24)))
    elif neckline == "v_neck":
        c.erase(
            canvas.polygon_mask(
                [
                    (CX - 30, 0),
                    (CX + 30, 0),
                    (CX + 30, NECK_Y),
                    (CX, NECK_Y + 66),
                    (CX - 30, NECK_Y),
                ]
            )
        )
    elif neckline == "square":
        c.erase(
            canvas.polygon_mask(
                [(CX - 30, 0), (CX + 30, 0), (CX + 30, NECK_Y + 44), (CX - 30, NECK_Y + 44)]
            )
        )
    elif neckline == "collar":
        c.erase(canvas.ellipse_mask((CX - 24, NECK_Y - 18, CX + 24, NECK_Y + 18)))
        flaps = [
            [(CX + s * 26, NECK_Y - 4), (CX + s * 2, NECK_Y + 20), (CX + s * 34, NECK_Y + 40)]
            for s in (-1, 1)
        ]
        c.paint(canvas.polygon_mask(*flaps), trim)
    return c.finish(image_size)
