"""Photographic side-view shoes (toe to the right): parametric geometry, materials and light.

The shoe lives in item coordinates: x runs from the back of the heel (0) to the toe tip (1),
y up from the ground (0). Every part is a polygon or a line computed from the attributes and
the session's continuous shape parameters (SHOE_SHAPE), so toe, vamp, throat, shaft, sole and
heel vary from one session to the next while an edit changes only its own part:
`render_photo_shoe(attributes, draw_look(seed, SHOE_SHAPE), image_size=64)`.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tfrecords.synthetic import palette
from tfrecords.synthetic.materials import SHOE_MATERIALS
from tfrecords.synthetic.photo_look import SessionLook
from tfrecords.synthetic.photo_studio import Frame, Layer, photograph

PHOTO_SHOE_SCHEMA: dict[str, tuple[str, ...]] = {
    "category": ("sneaker", "boot", "ankle_boot", "pump", "loafer", "sandal"),
    "colour": tuple(palette.COLOURS),
    "heel": ("flat", "low", "mid", "high"),
    "closure": ("laces", "buckle", "zipper", "slip_on"),
    "material": SHOE_MATERIALS,
}

# Heel lift at the back of the footbed, in shoe lengths: each value is a range, and the
# session's heel_level picks the same relative point in every range (so "higher" always is).
HEEL_RANGES = {
    "flat": (0.0, 0.012),
    "low": (0.06, 0.085),
    "mid": (0.13, 0.16),
    "high": (0.21, 0.26),
}

# Continuous per-session shape parameters (name -> range), drawn by photo_look.draw_look.
SHOE_SHAPE: dict[str, tuple[float, float]] = {
    "toe_start": (0.70, 0.80),  # where the toe box starts to round down
    "toe_round": (1.7, 3.2),  # superellipse exponent of the toe (low: pointed, high: square)
    "toe_height": (0.11, 0.15),  # toe box height above the footbed
    "throat_x": (0.48, 0.58),  # where the vamp starts
    "throat_scale": (0.85, 1.15),  # throat height, times the category's
    "collar_scale": (0.85, 1.15),  # collar / shaft height, times the category's
    "sole_scale": (0.8, 1.25),  # sole thickness, times the category's
    "heel_level": (0.0, 1.0),  # where in its value's range the heel height is
    "heel_taper": (0.0, 1.0),  # 0: a stiletto, 1: a block heel
    "heel_length": (0.15, 0.21),  # heel seat length
    "toe_spring": (0.0, 0.03),  # how much the toe lifts off the ground
    "ball_x": (0.62, 0.70),  # where the forefoot meets the ground
    "counter_bulge": (0.01, 0.03),  # how far the heel counter curves out at the back
    "lace_count": (4.0, 6.99),  # eyelet pairs
}


@dataclasses.dataclass(frozen=True)
class _Category:
    """Base proportions of one category (shoe lengths).

    Attributes:
      collar: height of the collar (or shaft top) above the footbed at the back.
      throat: height of the throat above the footbed.
      sole: sole thickness.
      collar_front: x where the collar opening ends at the front (the instep starts).
      ref_height: the height of the reference box the shoe is framed in.
    """

    collar: float
    throat: float
    sole: float
    collar_front: float
    ref_height: float


CATEGORIES = {
    "sneaker": _Category(collar=0.29, throat=0.21, sole=0.08, collar_front=0.30, ref_height=0.5),
    "loafer": _Category(collar=0.23, throat=0.16, sole=0.035, collar_front=0.34, ref_height=0.46),
    "pump": _Category(collar=0.21, throat=0.08, sole=0.025, collar_front=0.30, ref_height=0.46),
    "sandal": _Category(collar=0.2, throat=0.14, sole=0.04, collar_front=0.30, ref_height=0.46),
    "ankle_boot": _Category(
        collar=0.42, throat=0.2, sole=0.045, collar_front=0.32, ref_height=0.66
    ),
    "boot": _Category(collar=0.64, throat=0.2, sole=0.045, collar_front=0.34, ref_height=0.98),
}
EXTENT = 1.04  # the reference box is this many shoe lengths on its bigger side


@dataclasses.dataclass(frozen=True)
class _Shoe:
    """The resolved geometry of one shoe (shoe lengths)."""

    heel: float
    sole: float
    ball_x: float
    spring: float

    def footbed(self, x: np.ndarray | float) -> np.ndarray:
        """Height of the footbed (top of the sole) at x."""
        x = np.asarray(x, np.float64)
        t = np.clip((x - 0.12) / (self.ball_x - 0.12), 0.0, 1.0)
        rise = self.heel * (1.0 - t * t * (3.0 - 2.0 * t))
        lift = self.spring * np.clip((x - 0.82) / 0.18, 0.0, 1.0) ** 2
        return self.sole + rise + lift

    def ground(self, x: np.ndarray | float) -> np.ndarray:
        """Height of the bottom of the sole at x (0 where it touches the ground)."""
        x = np.asarray(x, np.float64)
        lift = self.spring * np.clip((x - 0.82) / 0.18, 0.0, 1.0) ** 2
        arch = np.clip(self.footbed(x) - self.sole * 1.05, 0.0, None)
        return np.where(x > self.ball_x - 0.1, lift, arch)


def _curve(p0, p1, p2, n: int = 8) -> list[tuple[float, float]]:
    """A quadratic Bezier from p0 through control p1 to p2 (n points, both ends included)."""
    t = np.linspace(0.0, 1.0, n)[:, None]
    pts = (1 - t) ** 2 * np.asarray(p0) + 2 * (1 - t) * t * np.asarray(p1) + t**2 * np.asarray(p2)
    return [tuple(p) for p in pts.tolist()]


def _luminance(rgb) -> float:
    return palette.luminance(tuple(int(c) for c in rgb))


def _sole_albedo(tone: float) -> tuple[float, float, float]:
    if tone < 0.4:
        g = 0.10 + 0.2 * tone
        return (g, g, g * 1.04)
    if tone < 0.8:
        g = 0.84 + 0.2 * (tone - 0.4)
        return (g, g * 0.99, g * 0.95)
    return (0.62, 0.42 + 0.2 * (tone - 0.8), 0.22)


def _metal_albedo(tone: float) -> tuple[float, float, float]:
    return (0.78, 0.78, 0.8) if tone < 0.6 else (0.86, 0.7, 0.34)


@dataclasses.dataclass(frozen=True)
class _Upper:
    """The upper's outline and the points its details hang from (shoe lengths).

    Attributes:
      outline: the upper's polygon.
      top: height of the collar (or shaft top) at the back.
      instep_top: where the instep (the closure's line) starts.
      throat: where the vamp starts (the closure's line ends).
      toe_start: where the toe box starts to round down.
      toe_top: height of the toe box's top at toe_start.
    """

    outline: list
    top: float
    instep_top: tuple[float, float]
    throat: tuple[float, float]
    toe_start: float
    toe_top: float


def _upper(category: str, cat: _Category, s, fb) -> _Upper:
    """The upper, anticlockwise from the back of the footbed."""
    back_y = float(fb(0.0))
    collar = cat.collar * s["collar_scale"]
    top = back_y + collar
    bulge = s["counter_bulge"]
    ts = np.linspace(0.0, 1.0, 6)
    upper = [(-bulge * np.sin(np.pi * t * 0.85), back_y + t * collar) for t in ts]
    xcf = cat.collar_front
    throat = (s["throat_x"], float(fb(s["throat_x"])) + cat.throat * s["throat_scale"])
    if category in ("boot", "ankle_boot"):  # the shaft top, then the shaft front to the ankle
        ankle = (xcf + 0.05, float(fb(xcf + 0.05)) + 0.27)
        upper += [(0.02, top + 0.004), (xcf, top - 0.01)]
        upper += _curve((xcf, top - 0.01), (xcf + 0.01, (top + ankle[1]) / 2), ankle, 5)[1:]
        instep_top = ankle
    elif category == "pump":  # the topline dips straight down to a low throat; a closure
        # crosses the opening from the top of the quarter (a lace-up or a Mary Jane strap)
        instep_top = (xcf, float(fb(xcf)) + collar * 0.8)
        upper += _curve((0.02, top), (0.25, float(fb(0.25)) + 0.02), throat, 7)[1:]
    else:
        front_y = float(fb(xcf)) + collar * 0.72
        upper += _curve((0.0, top), (xcf * 0.5, top - 0.02), (xcf, front_y), 5)[1:]
        if category == "sneaker":  # the tongue sticks up out of the collar
            upper += [(xcf + 0.02, front_y + 0.05), (xcf + 0.08, front_y + 0.045)]
            instep_top = (xcf + 0.09, front_y - 0.005)
        else:
            instep_top = (xcf + 0.02, front_y - 0.01)
        upper.append(instep_top)
    upper += _curve(instep_top, ((instep_top[0] + throat[0]) / 2, throat[1] + 0.01), throat, 4)[1:]
    toe_start = s["toe_start"]
    toe_top = float(fb(toe_start)) + s["toe_height"]
    upper += _curve(
        throat, ((throat[0] + toe_start) / 2, toe_top + 0.012), (toe_start, toe_top), 5
    )[1:]
    theta = np.linspace(0.0, np.pi / 2, 9)[1:]
    e = 2.0 / s["toe_round"]
    for th in theta:
        x = toe_start + (1.0 - toe_start) * np.sin(th) ** e
        y = float(fb(x)) + s["toe_height"] * np.cos(th) ** e
        upper.append((x, y))
    xs = np.linspace(1.0, 0.0, 10)
    upper += list(zip(xs.tolist(), (fb(xs) - 0.008).tolist()))
    return _Upper(upper, top, instep_top, throat, toe_start, toe_top)


def _sandal_mask(frame: Frame, upper: _Upper, cat: _Category, fb) -> np.ndarray:
    """What a sandal keeps of the upper: a heel counter, an ankle strap, a wide instep band and
    a wide band over the toes (wide enough for the material and the closure to read at 64)."""
    top, xcf = upper.top, cat.collar_front
    straps = [[(-0.05, -0.1), (0.16, -0.1), (0.12, top + 0.1), (-0.05, top + 0.1)]]
    straps.append([(-0.05, top - 0.07), (xcf + 0.08, top - 0.08), (xcf + 0.08, top + 0.1)])
    straps[-1].append((-0.05, top + 0.1))
    x0 = upper.throat[0] - 0.1  # the instep band leans forward, the toe band back
    straps.append([(x0, -0.1), (x0 + 0.11, -0.1), (x0 + 0.2, 1.2), (x0 + 0.09, 1.2)])
    x0 = upper.toe_start - 0.06
    straps.append([(x0, -0.1), (x0 + 0.17, -0.1), (x0 + 0.09, 1.2), (x0 - 0.08, 1.2)])
    rim_x = np.linspace(-0.05, 1.05, 12)
    rim = list(zip(rim_x.tolist(), (fb(rim_x) + 0.014).tolist()))
    rim += [(1.05, -0.1), (-0.05, -0.1)]
    return np.minimum(1.0, frame.polygons(*straps, rim))


def _sole(frame: Frame, shoe: _Shoe, s, category: str, tone: float):
    """The sole and the heel block as layers, and the coverage of where they touch the ground."""
    fb = shoe.footbed
    back_y = float(fb(0.0))
    sx = np.linspace(-0.012, 1.012, 16)
    sole_top = list(zip(sx.tolist(), (fb(sx) + 0.004).tolist()))
    bx = np.linspace(1.0, 0.0, 16)
    sole_bottom = list(zip(bx.tolist(), shoe.ground(bx).tolist()))
    front = [(1.016, float(fb(1.0)) - 0.3 * shoe.sole)]
    sole_poly = sole_top + front + sole_bottom + [(-0.012, float(fb(0.0)) - 0.5 * shoe.sole)]
    sole_parts = [sole_poly]
    if shoe.heel > 0.02:
        taper = s["heel_taper"]
        length = s["heel_length"]
        back = 0.01 + 0.03 * (1.0 - taper) * shoe.heel / 0.26
        foot = max(0.025, length * (0.18 + 0.75 * taper))
        seat = float(fb(length))
        heel_poly = [(-0.008, back_y - shoe.sole * 0.6), (length, seat - shoe.sole * 0.6)]
        heel_poly += _curve(
            (length, seat - shoe.sole * 0.6),
            (back + foot + 0.02 * (1 - taper), shoe.heel * 0.4),
            (back + foot, 0.0),
            5,
        )[1:]
        heel_poly += [(back, 0.0), (-0.004, back_y * 0.5)]
        sole_parts.append(heel_poly)
        contact_x = [back, back + foot, shoe.ball_x - 0.1, 1.0]
    else:
        contact_x = [0.0, 1.0]
    sole_alpha = frame.polygons(*sole_parts)
    sole_rgb = _sole_albedo(tone)
    layers = [Layer(sole_alpha, sole_rgb, relief=0.6)]
    if category == "sneaker":  # a midsole line
        mid = [list(zip(sx.tolist(), (fb(sx) - shoe.sole * 0.45).tolist()))]
        line = frame.lines(mid, 0.006) * sole_alpha
        layers.append(Layer(line, tuple(0.55 * c for c in sole_rgb), relief=0.0))
    contact_polys = [
        [(x0, -0.012), (x1, -0.012), (x1, 0.01), (x0, 0.01)]
        for x0, x1 in zip(contact_x[0::2], contact_x[1::2])
    ]
    return layers, frame.polygons(*contact_polys)


def _category_details(frame, category, upper: _Upper, upper_alpha, fb, darker, surface):
    """Seams and category details, in a darker tone of the upper."""
    throat, toe_start, toe_top = upper.throat, upper.toe_start, upper.toe_top
    details = []
    if category == "loafer":  # the moccasin apron and a saddle across the vamp
        apron = _curve(
            (throat[0] + 0.03, throat[1] - 0.01),
            (toe_start + 0.02, toe_top + 0.03),
            (0.96, float(fb(0.96)) + 0.035),
            8,
        )
        details.append(Layer(frame.lines([apron], 0.008) * upper_alpha, darker, relief=0.0))
        saddle = [
            (throat[0] - 0.1, throat[1] + 0.005),
            (throat[0] - 0.02, throat[1] + 0.005),
            (throat[0] - 0.03, float(fb(throat[0])) + 0.01),
            (throat[0] - 0.11, float(fb(throat[0] - 0.1)) + 0.01),
        ]
        details.append(Layer(frame.polygons(saddle) * upper_alpha, darker, surface, relief=0.4))
    elif category == "sneaker":  # a toe cap seam
        cap = _curve(
            (toe_start - 0.05, float(fb(toe_start)) + 0.005),
            (toe_start - 0.02, toe_top),
            (toe_start + 0.08, toe_top + 0.005),
            6,
        )
        details.append(Layer(frame.lines([cap], 0.006) * upper_alpha, darker, relief=0.0))
    return details


def _closure(frame, closure, upper: _Upper, upper_alpha, fb, s, colour, surface, metal_rgb):
    """The closure along the instep (laces, a buckled strap) or up the back (a zip)."""
    darker = colour * 0.55
    trim_rgb = (0.12, 0.12, 0.13) if _luminance(colour * 255) > 140 else (0.93, 0.92, 0.89)
    metal = frame.surface("patent")  # metal shines like patent leather
    instep = np.array([upper.instep_top, upper.throat], np.float64)
    direction = instep[1] - instep[0]
    along = direction / max(float(np.hypot(*direction)), 1e-6)
    inward = np.array([-along[1], along[0]])  # points into the shoe (down and back)
    if inward[1] > 0:
        inward = -inward
    details = []
    if closure == "laces":
        count = int(s["lace_count"])
        ks = np.linspace(0.08, 0.95, count)
        outer = instep[0] + ks[:, None] * direction + 0.006 * -inward
        inner = outer + 0.075 * inward
        tongue = [tuple(outer[0] - 0.02 * along), tuple(outer[-1] + 0.02 * along)]
        tongue += [tuple(inner[-1] + 0.012 * inward), tuple(inner[0] + 0.012 * inward)]
        details.append(Layer(frame.polygons(tongue) * upper_alpha, darker, surface, relief=0.3))
        bars = [[tuple(outer[k]), tuple(inner[k])] for k in range(count)]
        bars += [[tuple(outer[k]), tuple(inner[k + 1])] for k in range(count - 1)]
        details.append(Layer(frame.lines(bars, 0.021), trim_rgb, relief=0.5, lift=0.04))
        eyelets = [(x, y, 0.012, 0.012) for x, y in inner.tolist()]
        details.append(Layer(frame.ellipses(*eyelets), metal_rgb, relief=0.2))
    elif closure == "buckle":  # a strap across the instep with a metal buckle
        mid = instep[0] + 0.5 * direction
        x_low = mid[0] + 0.05
        low = np.array([x_low, float(fb(x_low)) + 0.03])
        w = 0.035
        strap = [tuple(mid - w * along + 0.01 * -inward), tuple(mid + w * along + 0.01 * -inward)]
        strap += [tuple(low + (w, 0.0)), tuple(low - (w, 0.0))]
        details.append(Layer(frame.polygons(strap), darker, surface, relief=0.6, lift=0.03))
        cx, cy = mid + 0.6 * (low - mid)
        bw, bh = 0.065, 0.05
        corners = [(cx - bw, cy - bh), (cx + bw, cy - bh), (cx + bw, cy + bh), (cx - bw, cy + bh)]
        ring = [[corners[k], corners[(k + 1) % 4]] for k in range(4)]
        details.append(Layer(frame.lines(ring, 0.014), metal_rgb, metal, relief=0.5, lift=0.05))
    elif closure == "zipper":  # a zip up the back seam, with a pull tab at the collar
        # Close to the back, where every category's quarter is tallest (a pump's topline
        # dips right after it), and wide enough to read at 64 px: teeth about 1-1.5 px and a
        # tape about 2-3 px (shoes fill 60-95% of the frame). The tape contrasts with the
        # upper (dark on light colours, light on dark) and the pull hangs over the collar,
        # against the background, so that a low shoe's short zip still shows.
        x0 = 0.035
        y_top = upper.top - 0.01
        y_bottom = float(fb(x0)) + 0.02
        seam = [[(x0, y_top), (x0 + 0.006, y_bottom)]]
        tape = frame.lines(seam, 0.05) * upper_alpha
        details.append(Layer(tape, trim_rgb, relief=0.2))
        teeth = frame.lines(seam, 0.024) * upper_alpha
        details.append(Layer(teeth, metal_rgb, metal, relief=0.1))
        pull = [(x0 - 0.03, y_top + 0.055), (x0 + 0.03, y_top + 0.055)]
        pull += [(x0 + 0.022, y_top - 0.06), (x0 - 0.022, y_top - 0.06)]
        details.append(Layer(frame.polygons(pull), metal_rgb, metal, relief=0.4, lift=0.04))
    return details


def render_photo_shoe(
    attributes: dict[str, str], look: SessionLook, image_size: int = 64
) -> np.ndarray:
    """Renders one shoe as a product photograph.

    Args:
      attributes: every PHOTO_SHOE_SCHEMA attribute -> one of its values (not validated here;
        use tfrecords.synthetic.render for checked input).
      look: the session's look (drawn with SHOE_SHAPE).
      image_size: output side in pixels.

    Returns:
      uint8 array [image_size, image_size, 3] (a decoded JPEG).

    Example:
      look = draw_look(5, SHOE_SHAPE)
      image = render_photo_shoe({"category": "boot", "colour": "tan", "heel": "mid",
                                 "closure": "zipper", "material": "suede"}, look)
    """
    s = look.shape
    category = attributes["category"]
    cat = CATEGORIES[category]
    lo, hi = HEEL_RANGES[attributes["heel"]]
    shoe = _Shoe(
        heel=lo + (hi - lo) * s["heel_level"],
        sole=cat.sole * s["sole_scale"],
        ball_x=s["ball_x"],
        spring=s["toe_spring"],
    )
    frame = Frame(look, image_size, EXTENT, (0.5, cat.ref_height / 2))
    colour = np.asarray(palette.COLOURS[attributes["colour"]], np.float32) / 255.0
    surface = frame.surface(attributes["material"])
    upper = _upper(category, cat, s, shoe.footbed)
    upper_alpha = frame.polygons(upper.outline)
    if category == "sandal":
        upper_alpha = upper_alpha * _sandal_mask(frame, upper, cat, shoe.footbed)
    layers, contact = _sole(frame, shoe, s, category, look.tones["sole"])
    layers.append(Layer(upper_alpha, colour, surface, relief=0.7))
    layers += _category_details(
        frame, category, upper, upper_alpha, shoe.footbed, colour * 0.55, surface
    )
    layers += _closure(
        frame,
        attributes["closure"],
        upper,
        upper_alpha,
        shoe.footbed,
        s,
        colour,
        surface,
        _metal_albedo(look.tones["metal"]),
    )
    return photograph(frame, layers, contact)
