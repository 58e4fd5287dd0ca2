"""Procedural side-view shoes (toe to the right), fully described by their attributes."""

from __future__ import annotations

import dataclasses

import numpy as np

from tfrecords.synthetic import canvas, palette

SHOE_SCHEMA: dict[str, tuple[str, ...]] = {
    "category": ("sneaker", "boot", "ankle_boot", "pump", "loafer", "sandal"),
    "colour": tuple(palette.COLOURS),
    "heel": ("flat", "low", "mid", "high"),
    "sole": ("black", "white", "gum"),
    "toe": ("round", "pointed", "open"),
    "closure": ("laces", "buckle", "zipper", "slip_on"),
    "pattern": ("solid", "stripes", "dots", "checks", "zebra"),
    "strap": ("none", "ankle", "t_strap"),
}

SOLE_COLOURS = {"black": (34, 34, 36), "white": (250, 250, 246), "gum": (176, 116, 52)}
HEEL_HEIGHTS = {"flat": 0, "low": 22, "mid": 44, "high": 66}

GROUND = 228
BACK_X = 40
BALL_X = 150
TOE_X = {"round": 222, "pointed": 240, "open": 222}


@dataclasses.dataclass(frozen=True)
class _Style:
    """Geometry of one shoe category (pixels at 256x256)."""

    sole: int  # sole thickness
    collar: int  # collar height above the back of the footbed (low shoes)
    collar_front: int  # x offset of the front of the collar from the back
    throat_x: int  # x of the throat (where the vamp starts)
    throat: int  # throat height above the local footbed
    vamp: int  # toe-box height above the footbed
    shaft_top: int | None = None  # absolute y of a boot shaft's top, None for low shoes


STYLES = {
    "sneaker": _Style(sole=24, collar=64, collar_front=56, throat_x=144, throat=54, vamp=50),
    "loafer": _Style(sole=14, collar=58, collar_front=62, throat_x=150, throat=46, vamp=46),
    "pump": _Style(sole=12, collar=54, collar_front=50, throat_x=150, throat=32, vamp=38),
    "sandal": _Style(sole=14, collar=58, collar_front=56, throat_x=146, throat=40, vamp=40),
    "ankle_boot": _Style(sole=16, collar=100, collar_front=74, throat_x=158, throat=54, vamp=44),
    "boot": _Style(
        sole=16, collar=0, collar_front=78, throat_x=160, throat=54, vamp=44, shaft_top=18
    ),
}


def _footbed(style: _Style, heel: str):
    """Returns footbed y as a function of x, and the y at the back of the shoe."""
    y_ball = GROUND - style.sole
    y_back = y_ball - HEEL_HEIGHTS[heel]

    def fb(x: float) -> float:
        if x >= BALL_X:
            return y_ball
        t = max(0.0, (x - BACK_X) / (BALL_X - BACK_X))
        return y_back + (y_ball - y_back) * t

    return fb, y_back


def render_shoe(
    attributes: dict[str, str], offset: tuple[int, int] = (0, 0), image_size: int = 64
) -> np.ndarray:
    """Renders one shoe on a plain light background.

    Args:
      attributes: every SHOE_SCHEMA attribute name -> one of its values (not validated here;
        use tfrecords.synthetic.render for checked input).
      offset: layout shift (dx, dy) in 256-pixel units, at most canvas.MAX_OFFSET.
      image_size: output side in pixels.

    Returns:
      uint8 array [image_size, image_size, 3].
    """
    style = STYLES[attributes["category"]]
    heel, toe = attributes["heel"], attributes["toe"]
    base = palette.COLOURS[attributes["colour"]]
    trim = palette.trim_colour(base)
    sole_rgb = SOLE_COLOURS[attributes["sole"]]
    fb, y_back = _footbed(style, heel)
    y_ball = GROUND - style.sole
    toe_x = TOE_X[toe]
    c = canvas.Canvas(offset)

    # Upper outline, from the back of the footbed clockwise.
    if style.shaft_top is not None:
        top = style.shaft_top
    else:
        top = y_back - style.collar
    collar_front = (BACK_X + style.collar_front, top + (10 if style.shaft_top is None else 0))
    throat = (style.throat_x, fb(style.throat_x) - style.throat)
    upper = [(BACK_X, y_back), (BACK_X - 4, top), collar_front]
    if attributes["category"] == "sneaker":  # tongue sticking out of the collar
        upper = [(BACK_X, y_back), (BACK_X - 4, top), (BACK_X + 44, top + 8)]
        upper += [(BACK_X + 52, top - 10), (BACK_X + 66, top - 8), (BACK_X + 70, top + 12)]
    if style.shaft_top is not None:  # the shaft front comes straight down to the ankle
        upper += [(collar_front[0] + 2, fb(collar_front[0]) - 96)]
    upper.append(throat)
    vamp_y = y_ball - style.vamp
    if toe == "pointed":
        upper += [(192, vamp_y + 4), (toe_x, y_ball - 6), (toe_x, y_ball)]
    else:
        angles = np.linspace(-np.pi / 2, 0, 8)
        cx, rx = 194, toe_x - 194
        upper += [(cx + rx * np.cos(a), y_ball + style.vamp * np.sin(a)) for a in angles]
    upper += [(BALL_X, y_ball), (BACK_X + 20, fb(BACK_X + 20))]
    upper_mask = canvas.polygon_mask(upper)
    if attributes["category"] == "sandal":  # a solid heel counter, then bands with gaps in front
        gaps = [
            [(x, 0), (x + 18, 0), (x + 18 - 90, 256), (x - 90, 256)] for x in range(190, 380, 46)
        ]
        upper_mask &= ~canvas.polygon_mask(*gaps)
    if toe == "open":  # cut the front of the toe box away
        upper_mask &= ~canvas.polygon_mask([(178, 0), (256, 0), (256, y_ball), (170, y_ball)])

    # Sole and heel.
    front = toe_x + 6
    if heel == "flat":
        sole = [(BACK_X - 2, y_back), (front - 8, y_ball), (front, y_ball + 6), (front - 4, GROUND)]
        sole += [(BACK_X + 2, GROUND), (BACK_X - 4, GROUND - 6)]
        c.paint(canvas.polygon_mask(sole), sole_rgb)
    else:
        slope = (y_ball - y_back) / (BALL_X - BACK_X)
        sole = [(BACK_X - 2, y_back), (BALL_X, y_ball), (front - 8, y_ball), (front, y_ball + 6)]
        sole += [
            (front - 4, GROUND),
            (BALL_X - 16, GROUND),
            (BACK_X + 44, y_back + 44 * slope + 14),
        ]
        sole += [(BACK_X - 2, y_back + 12)]
        bottom = {"low": 32, "mid": 22, "high": 12}[heel]
        block = [(BACK_X - 2, y_back + 4), (BACK_X + 40, y_back + 40 * slope + 4)]
        block += [(BACK_X + 6 + bottom, GROUND), (BACK_X + 4, GROUND)]
        c.paint(canvas.polygon_mask(sole, block), sole_rgb)

    c.paint(upper_mask, canvas.texture(attributes["pattern"], attributes["colour"], "vertical"))
    if attributes["category"] == "loafer":  # moccasin apron seam
        seam = canvas.line_mask([[(150, y_ball - 22), (162, vamp_y - 2), (206, vamp_y + 2)]], 5)
        c.paint(seam & upper_mask, palette.OUTLINE, outline=False)

    # Straps.
    strap = attributes["strap"]
    if strap != "none":
        if style.shaft_top is not None or attributes["category"] == "ankle_boot":
            ya = fb(BACK_X) - 72
        else:
            ya = top - 8
        x1 = BACK_X + style.collar_front + 24
        parts = [[(BACK_X - 10, ya), (x1, ya + 6), (x1, ya + 28), (BACK_X - 10, ya + 22)]]
        mask = canvas.polygon_mask(*parts)
        if strap == "t_strap":  # plus a bar along the top of the vamp, ahead of the laces
            x2 = min(throat[0] + 48, 200)
            bar = [[(throat[0] + 2, throat[1] + 10), (x2, fb(x2) - style.vamp + 12)]]
            mask |= canvas.line_mask(bar, 20)
        c.paint(mask, trim)
        rivet = (BACK_X + 2, ya + 6, BACK_X + 16, ya + 20)
        c.paint(canvas.ellipse_mask(rivet), palette.METAL, outline=False)

    # Closure along the instep, from the ankle front down to the throat.
    if style.shaft_top is not None or attributes["category"] == "ankle_boot":
        instep_top = (collar_front[0] + 2, fb(collar_front[0]) - 96)
    else:
        instep_top = (collar_front[0], top + 12)
    instep = [instep_top, throat]
    closure = attributes["closure"]
    if closure == "laces":
        pts = canvas.polyline_points(instep, 5)
        inner = [(x - 14, y + 22) for x, y in pts]
        crosses = [[pts[k], inner[k + 1]] for k in range(4)]
        crosses += [[inner[k], pts[k + 1]] for k in range(4)]
        c.paint(canvas.line_mask(crosses, 8), trim, outline=False)
    elif closure == "buckle":  # a monk strap across the vamp with a big buckle near the sole
        mx, my = canvas.polyline_points(instep, 3)[1]
        bx = mx + 34
        band = [(mx - 14, my - 6), (mx + 12, my - 6), (bx + 14, fb(bx) - 4), (bx - 14, fb(bx) - 4)]
        c.paint(canvas.polygon_mask(band) & upper_mask, trim)
        by = fb(bx) - 30
        c.paint(
            canvas.polygon_mask(
                [(bx - 16, by), (bx + 16, by), (bx + 16, by + 24), (bx - 16, by + 24)]
            ),
            palette.METAL,
        )
        c.paint(
            canvas.polygon_mask(
                [(bx - 7, by + 7), (bx + 7, by + 7), (bx + 7, by + 17), (bx - 7, by + 17)]
            ),
            trim,
            outline=False,
        )
    elif closure == "zipper":  # a zip up the back quarter
        x0 = BACK_X + 16
        zip_top = top + 10
        zip_line = canvas.line_mask([[(x0, zip_top), (x0 + 2, fb(x0) - 4)]], 16) & upper_mask
        c.paint(zip_line, trim)
        teeth = [[(x0 - 6, y), (x0 + 8, y)] for y in range(int(zip_top) + 4, int(fb(x0)) - 6, 8)]
        c.paint(canvas.line_mask(teeth, 3) & zip_line, palette.OUTLINE, outline=False)
        ty = (zip_top + fb(x0)) / 2 - 10
        c.paint(
            canvas.polygon_mask(
                [(x0 + 4, ty), (x0 + 22, ty), (x0 + 22, ty + 20), (x0 + 4, ty + 20)]
            ),
            palette.METAL,
        )
    return c.finish(image_size)
