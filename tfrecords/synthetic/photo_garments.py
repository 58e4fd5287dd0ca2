"""Photographic front-view garments (a ghost-mannequin product shot): parametric geometry,
printed patterns, a fabric that varies between sessions, drape and light.

The garment lives in item coordinates: x across (0 at the centre line), y up, the top of the
neck at y = 1 and the longest hem near y = 0. Every part is computed from the attributes and
the session's continuous shape parameters (GARMENT_SHAPE): fit and width, shoulder slope,
neck size, hem drape and the folds of the cloth vary from one session to the next.

The fabric (cotton, knit, denim, satin, canvas) is a per-session nuisance, not an attribute:
DeepFashion-Seq's edits name the printed pattern, not the weave; at 64x64 a weave under a
print would compete with the print for the few pixels a pattern has, and a fabric that
changes between sessions but never within one teaches an editor to keep what no edit names.

    look = draw_look(seed, GARMENT_SHAPE, GARMENT_SIZE_RANGE)
    image = render_photo_garment(attributes, look, image_size=64)
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tfrecords.synthetic import palette
from tfrecords.synthetic.materials import FABRICS, Surface
from tfrecords.synthetic.photo_look import SessionLook
from tfrecords.synthetic.photo_studio import Frame, Layer, photograph

PHOTO_GARMENT_SCHEMA: dict[str, tuple[str, ...]] = {
    "category": ("dress", "tunic", "shirt", "coat", "jumpsuit"),
    "colour": tuple(palette.COLOURS),
    "sleeves": ("sleeveless", "short", "long"),
    "neckline": ("round", "v_neck", "square", "collar"),
    "length": ("short", "knee", "long"),
    "pattern": ("solid", "stripes", "dots", "checks", "floral"),
}

# Hem height (item units) of each length; the session's hem_level picks the same relative
# point in every range, so "longer" always is.
HEM_RANGES = {"short": (0.44, 0.50), "knee": (0.24, 0.30), "long": (0.02, 0.07)}

GARMENT_SHAPE: dict[str, tuple[float, float]] = {
    "shoulder": (0.2, 0.245),  # half width at the shoulder
    "slope": (0.03, 0.065),  # how far the shoulder drops from the neck
    "neck": (0.068, 0.088),  # half width of the neck
    "armpit": (0.22, 0.26),  # armpit depth below the top
    "waist_y": (0.60, 0.66),  # waist height
    "fit": (0.82, 0.96),  # waist width relative to the chest
    "flare": (0.30, 0.55),  # A-line spread of a dress per unit of skirt length
    "drape": (0.0, 0.035),  # how much the hem curves down in the middle
    "hem_level": (0.0, 1.0),
    "sleeve_angle": (0.0, 1.0),  # sleeves hang closer to or further from the body
    "neck_depth": (0.85, 1.2),  # neckline depth, times the neckline's own
    "fold_period": (0.07, 0.11),  # spacing of the cloth folds
    "fold_depth": (0.02, 0.05),  # relief of the cloth folds
    "pattern_scale": (0.9, 1.12),  # print scale
    "fabric": (0.0, 0.999),  # which fabric (FABRICS), a per-session nuisance
}

# Garments fill more of the frame than shoes: a short top is half as tall as a long dress.
GARMENT_SIZE_RANGE = (0.72, 0.95)
EXTENT = 1.0
CENTRE = (0.0, 0.52)


def _curve(p0, p1, p2, n: int = 8) -> list[tuple[float, float]]:
    """A quadratic Bezier from p0 through control p1 to p2 (n points, both ends included)."""
    t = np.linspace(0.0, 1.0, n)[:, None]
    pts = (1 - t) ** 2 * np.asarray(p0) + 2 * (1 - t) * t * np.asarray(p1) + t**2 * np.asarray(p2)
    return [tuple(p) for p in pts.tolist()]


def _mirror(points) -> list[tuple[float, float]]:
    return [(-x, y) for x, y in reversed(points)]


@dataclasses.dataclass(frozen=True)
class _Cut:
    """Where the body is: right-side outline points and numbers the details need."""

    right: list
    hem_y: float
    waist_y: float
    armpit: tuple[float, float]
    shoulder: tuple[float, float]
    waist_half: float


def _body(category: str, s: dict, hem_y: float) -> _Cut:
    wide = 0.025 if category == "coat" else 0.0
    sw, nw = s["shoulder"] + wide, s["neck"]
    top = 1.0
    shoulder = (sw, top - s["slope"])
    armpit = (sw - 0.012, top - s["armpit"])
    chest = armpit[0]
    waist_y = s["waist_y"]
    if category in ("dress", "jumpsuit"):
        waist = chest * s["fit"] * 0.92
    else:
        waist = chest * (0.97 + wide)
    right = [(nw, top), shoulder, armpit]
    right += _curve(armpit, (chest * 0.99, (armpit[1] + waist_y) / 2), (waist, waist_y), 5)[1:]
    if category == "dress":
        hem = waist + 0.03 + s["flare"] * (waist_y - hem_y)
        right += _curve((waist, waist_y), (waist + 0.02, waist_y - 0.05), (hem, hem_y), 5)[1:]
    elif category == "jumpsuit":
        hip = (waist * 1.06, waist_y - 0.1)
        right += [hip, (hip[0] + 0.01, hem_y)]
    else:
        hem = waist * (1.08 if category == "coat" else 1.03)
        right += [(hem, hem_y)]
    return _Cut(right, hem_y, waist_y, armpit, shoulder, waist)


def _hem_curve(x: float, hem_y: float, drape: float, shirt: bool) -> list[tuple[float, float]]:
    xs = np.linspace(x, -x, 11)
    ys = hem_y - drape * (1.0 - (xs / max(x, 1e-6)) ** 2)
    if shirt:  # a shirttail: the sides rise
        ys = ys + 0.03 * (xs / max(x, 1e-6)) ** 4
    return list(zip(xs.tolist(), ys.tolist()))


def _lattice(u: np.ndarray, v: np.ndarray, period: float, phase) -> tuple[np.ndarray, ...]:
    """Offsets (fu, fv) in [-0.5, 0.5) from the nearest point of a half-drop lattice."""
    row = np.floor(v / period + phase[1])
    fu = ((u / period + phase[0] + 0.5 * (row % 2)) % 1.0) - 0.5
    fv = ((v / period + phase[1]) % 1.0) - 0.5
    return fu, fv


def _edge(distance_inside: np.ndarray) -> np.ndarray:
    """Antialiased coverage from a signed distance (item units, > 0 inside)."""
    return np.clip(distance_inside / 0.008 + 0.5, 0.0, 1.0)


def _print_cover(pattern: str, u, v, scale: float, phase) -> tuple[np.ndarray, np.ndarray]:
    """Coverage 0..1 of the print's ink and of its accent (flower centres) over the grid."""
    none = np.zeros_like(u)
    if pattern == "stripes":  # horizontal bands
        period = 0.1 * scale
        d = np.abs(((v / period + phase[1]) % 1.0) - 0.5) * period
        return _edge(0.25 * period - d), none
    if pattern == "checks":  # a gingham: bands both ways, darker where they cross
        period = 0.12 * scale
        a = _edge(0.25 * period - np.abs(((u / period + phase[0]) % 1.0) - 0.5) * period)
        b = _edge(0.25 * period - np.abs(((v / period + phase[1]) % 1.0) - 0.5) * period)
        return np.clip(0.55 * a + 0.55 * b, 0.0, 1.0), none
    if pattern == "dots":
        period = 0.1 * scale
        fu, fv = _lattice(u, v, period, phase)
        return _edge(0.028 * scale - np.hypot(fu, fv) * period), none
    if pattern == "floral":  # five petals around a centre in the accent colour
        period = 0.14 * scale
        fu, fv = _lattice(u, v, period, phase)
        r = np.hypot(fu, fv) * period
        petals = 0.045 * scale * (0.55 + 0.45 * np.abs(np.cos(2.5 * np.arctan2(fv, fu))))
        return _edge(petals - r), _edge(0.012 * scale - r)
    raise ValueError(f"unknown pattern {pattern!r}")


def _albedo(frame: Frame, pattern: str, colour: str, scale: float) -> np.ndarray:
    """The garment's albedo: its colour, or its print over the frame [R, R, 3]."""
    rgb = palette.COLOURS[colour]
    base = np.asarray(rgb, np.float32) / 255.0
    if pattern == "solid":
        return base

    def compute() -> np.ndarray:
        u, v = frame.grid
        phase = tuple(np.random.default_rng([frame.look.seed, 51]).random(2).tolist())
        cover, accent = _print_cover(pattern, u, v, scale, phase)
        ink = np.asarray(palette.pattern_colour(rgb), np.float32) / 255.0
        centre = np.asarray(palette.trim_colour(rgb), np.float32) / 255.0
        field = base + (ink - base) * cover[..., None] + (centre - ink) * accent[..., None]
        field.flags.writeable = False
        return field

    return frame.cached("print", (pattern, colour, scale), compute)


def _folds(frame: Frame, period: float, depth: float, waist_y: float) -> np.ndarray:
    """Vertical cloth folds that deepen towards the hem (a relief field)."""

    def compute() -> np.ndarray:
        u, v = frame.grid
        phase = np.random.default_rng([frame.look.seed, 52]).uniform(0, 2 * np.pi, size=2)
        ramp = np.clip((waist_y + 0.15 - v) / 0.6, 0.0, 1.0) * 0.8 + 0.2
        wobble = 0.3 * np.sin(v * 6.0 + phase[1])
        return (depth * ramp * np.sin(2 * np.pi * u / period + phase[0] + wobble)).astype(
            np.float32
        )

    return frame.cached("folds", (period, depth, waist_y), compute)


def _fabric_surface(frame: Frame, fabric: str, period: float, depth: float, waist_y: float):
    """The session's fabric at 0.3 of its shoe contrast (a rib or a twill must not read as a
    print at 64x64), with the cloth folds."""

    def compute() -> Surface:
        folds = _folds(frame, period, depth, waist_y)
        surface = frame.surface(fabric)
        soft = 0.3
        return Surface(
            1.0 + soft * (surface.multiply - 1.0),
            soft * surface.add,
            soft * surface.bump + folds,
            surface.finish,
            surface.saturation,
        )

    return frame.cached("fabric", (fabric, period, depth, waist_y), compute)


def _outline(category: str, cut: _Cut, hem_y: float, drape: float) -> list:
    """The body: the right side, the hem (legs for a jumpsuit), the mirrored left side."""
    right = cut.right
    if category == "jumpsuit":
        gap = 0.012 + 0.075 * max(0.0, cut.waist_y - 0.1 - hem_y)
        crotch_y = cut.waist_y - 0.16
        legs = [(gap + 0.02, hem_y), (0.006, crotch_y), (-0.006, crotch_y), (-gap - 0.02, hem_y)]
        return right + legs + _mirror(right)
    hem = _hem_curve(right[-1][0], hem_y, drape, category == "shirt")
    return right + hem[1:-1] + _mirror(right)


def _sleeves(frame: Frame, sleeves: str, cut: _Cut, s, albedo, surface, darker) -> list[Layer]:
    """Sleeves hang from the shoulder seam: short ones stand out, long ones hang by the body."""
    if sleeves == "sleeveless":
        return []
    sx, sy = cut.shoulder
    ax, ay = cut.armpit
    if sleeves == "short":
        angle, length, end = np.deg2rad(40 + 12 * s["sleeve_angle"]), 0.2, 0.12
    else:
        angle, length, end = np.deg2rad(9 + 8 * s["sleeve_angle"]), 0.55, 0.09
    d = np.array([np.sin(angle), -np.cos(angle)])
    perp = np.array([-d[1], d[0]])  # across the sleeve, towards the body and down
    if perp[0] > 0:
        perp = -perp
    outer_end = np.array([sx + 0.012, sy]) + length * d
    inner_end = outer_end + end * perp
    sleeve = [(sx - 0.01, sy + 0.005), tuple(outer_end), tuple(inner_end), (ax - 0.01, ay)]
    sleeve_alpha = frame.polygons(sleeve, _mirror(sleeve))
    cuffs = [[tuple(outer_end), tuple(inner_end)], [(-outer_end[0], outer_end[1])]]
    cuffs[1].append((-inner_end[0], inner_end[1]))
    seam = frame.lines(cuffs, 0.008) * sleeve_alpha
    return [Layer(sleeve_alpha, albedo, surface, relief=0.8), Layer(seam, darker, relief=0.0)]


def _neck_opening(neckline: str, nw: float, depth: float) -> list:
    """The polygon the neckline cuts out of the front."""
    if neckline == "round":
        half = _curve((nw, 1.03), (nw, 1.0 - 0.1 * depth), (0.0, 1.0 - 0.09 * depth), 6)
        return half + _mirror(half)
    if neckline == "v_neck":
        return [(-nw, 1.03), (nw, 1.03), (nw * 0.9, 0.99), (0.0, 1.0 - 0.22 * depth)] + [
            (-nw * 0.9, 0.99)
        ]
    if neckline == "square":
        return [(-nw, 1.03), (nw, 1.03), (nw, 1.0 - 0.12 * depth), (-nw, 1.0 - 0.12 * depth)]
    half = _curve((nw * 0.85, 1.03), (nw * 0.85, 0.95), (0.0, 0.945), 6)  # under a collar
    return half + _mirror(half)


def _category_details(
    frame: Frame, category: str, cut: _Cut, front, top_y, nw, colour, surface, trim
) -> list[Layer]:
    """Plackets, lapels, belts, seams and bands, in darker tones of the garment."""
    darker = colour * 0.5
    hem_y = cut.hem_y
    if category == "shirt":  # a button placket
        placket = [[(0.0, top_y), (0.0, hem_y + 0.01)]]
        ys = np.arange(top_y - 0.05, hem_y + 0.04, -0.085)
        buttons = [(0.018, y, 0.011, 0.011) for y in ys]
        return [
            Layer(frame.lines(placket, 0.006) * front, darker, relief=0.0),
            Layer(frame.ellipses(*buttons) * front, trim, relief=0.3, lift=0.03),
        ]
    if category == "coat":  # lapels, an opening, a belt and two rows of buttons
        lapels = [[(nw, 1.0), (0.07, 0.82), (0.0, 0.74)], [(-nw, 1.0), (-0.07, 0.82)]]
        opening_line = [[(0.0, 0.74), (0.0, hem_y + 0.005)]]
        w = cut.waist_half + 0.02
        belt = [(-w, cut.waist_y + 0.025), (w, cut.waist_y + 0.025)]
        belt += [(w, cut.waist_y - 0.025), (-w, cut.waist_y - 0.025)]
        buttons = [(side * 0.06, y, 0.012, 0.012) for side in (-1, 1) for y in (0.80, 0.72)]
        return [
            Layer(frame.lines(lapels, 0.006) * front, darker, relief=0.0),
            Layer(frame.lines(opening_line, 0.006) * front, darker, relief=0.0),
            Layer(frame.polygons(belt) * front, colour * 0.8, surface, relief=0.6, lift=0.04),
            Layer(frame.ellipses(*buttons) * front, darker, relief=0.3, lift=0.03),
        ]
    seam = [[(-cut.waist_half, cut.waist_y), (cut.waist_half, cut.waist_y)]]
    if category == "dress":  # a waist seam
        return [Layer(frame.lines(seam, 0.007) * front, darker, relief=0.0)]
    if category == "jumpsuit":  # a waist seam with a tie
        return [Layer(frame.lines(seam, 0.014) * front, darker, relief=0.4, lift=0.02)]
    band = [(-0.5, hem_y + 0.05), (0.5, hem_y + 0.05), (0.5, -0.2), (-0.5, -0.2)]  # tunic
    return [Layer(frame.polygons(band) * front, colour * 0.7, surface, relief=0.3)]


def render_photo_garment(
    attributes: dict[str, str], look: SessionLook, image_size: int = 64
) -> np.ndarray:
    """Renders one garment as a product photograph.

    Args:
      attributes: every PHOTO_GARMENT_SCHEMA attribute -> one of its values (not validated
        here; use tfrecords.synthetic.render for checked input).
      look: the session's look (drawn with GARMENT_SHAPE and GARMENT_SIZE_RANGE).
      image_size: output side in pixels.

    Returns:
      uint8 array [image_size, image_size, 3] (a decoded JPEG).

    Example:
      look = draw_look(5, GARMENT_SHAPE, GARMENT_SIZE_RANGE)
      image = render_photo_garment({"category": "dress", "colour": "red", "sleeves": "short",
                                    "neckline": "v_neck", "length": "knee",
                                    "pattern": "dots"}, look)
    """
    s = look.shape
    category = attributes["category"]
    lo, hi = HEM_RANGES[attributes["length"]]
    hem_y = hi - (hi - lo) * s["hem_level"]
    frame = Frame(look, image_size, EXTENT, CENTRE)
    cut = _body(category, s, hem_y)
    colour_name = attributes["colour"]
    colour = np.asarray(palette.COLOURS[colour_name], np.float32) / 255.0
    fabric = FABRICS[int(s["fabric"] * len(FABRICS))]
    surface = _fabric_surface(frame, fabric, s["fold_period"], s["fold_depth"], cut.waist_y)
    albedo = _albedo(frame, attributes["pattern"], colour_name, s["pattern_scale"])
    trim = np.asarray(palette.trim_colour(palette.COLOURS[colour_name]), np.float32) / 255.0
    body = frame.polygons(_outline(category, cut, hem_y, s["drape"]))
    layers = _sleeves(frame, attributes["sleeves"], cut, s, albedo, surface, colour * 0.5)

    # The neckline: the front is cut away; the inside of the back shows through it.
    neckline = attributes["neckline"]
    nw = s["neck"] + 0.008
    cut_poly = _neck_opening(neckline, nw, s["neck_depth"])
    opening = frame.polygons(cut_poly)
    back_neck = _curve((nw, 1.0), (nw * 0.7, 0.965), (0.0, 0.962), 5)
    back_neck = back_neck + _mirror(back_neck) + [(-0.5, 1.2), (0.5, 1.2)]
    inside = opening * (1.0 - frame.polygons(back_neck)) * body
    front = body * (1.0 - opening)
    layers.append(Layer(inside, colour * 0.42, relief=0.2))
    layers.append(Layer(front, albedo, surface, relief=0.9))
    top_y = min(p[1] for p in cut_poly)
    layers += _category_details(frame, category, cut, front, top_y, nw, colour, surface, trim)
    if neckline == "collar":  # two collar flaps in a contrasting tone
        flaps = [[(nw * 0.85, 1.02), (0.0, 0.945), (0.03, 0.90), (nw + 0.05, 0.93)]]
        flaps.append(_mirror(flaps[0]))
        collar_rgb = 0.35 * colour + 0.65 * trim
        layers.append(Layer(frame.polygons(*flaps), collar_rgb, relief=0.6, lift=0.05))

    # A soft drop shadow on the backdrop behind the garment.
    silhouette = np.maximum(body, layers[0].alpha if attributes["sleeves"] != "sleeveless" else 0.0)
    shift = max(1, int(0.015 * frame.scale))
    drop = np.zeros_like(silhouette)
    drop[shift:, shift:] = 0.35 * silhouette[:-shift, :-shift]
    return photograph(frame, layers, drop)
