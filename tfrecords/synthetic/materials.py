"""Surface materials of the photographic renderers: texture fields and how they reflect light.

A material is a surface texture (a multiplicative and an additive albedo field and a bump field
that tilts the shading normals) plus a finish (specular strength, shininess, a glossy
environment reflection, how matte the diffuse shading is). Textures are made to read at 64x64:
their periods are 2.5-5 output pixels at the frame sizes the looks use, with enough contrast
to survive JPEG, and the additive part keeps them visible on black items.

    surface = material_surface("canvas", u, v, seed=3)
    albedo = colour * surface.multiply[..., None] + surface.add[..., None]
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import ndimage

# Shoe materials (tell-apart cues at 64x64): leather = smooth, a faint grain, a soft broad sheen;
# suede = matte, paler, a speckled nap, no highlight; canvas = a visible two-way weave;
# knit = strong one-way ribbing; patent = a deep colour under sharp white highlights and
# reflections.
SHOE_MATERIALS = ("leather", "suede", "canvas", "knit", "patent")
# Garment fabrics (a per-session nuisance of the garments, see photo_garments.py).
FABRICS = ("cotton", "knit", "denim", "satin", "canvas")
MATERIALS = tuple(dict.fromkeys(SHOE_MATERIALS + FABRICS))


@dataclasses.dataclass(frozen=True)
class Finish:
    """How a material reflects light.

    Attributes:
      specular: strength of the specular highlight (0: none).
      shininess: Phong exponent of the highlight (higher: smaller, sharper).
      gloss: strength of a white environment reflection on surfaces facing up (patent, satin).
      matte: how much of the diffuse shading contrast is flattened (suede's soft look: 0..1);
        negative values deepen it (patent mirrors its dark surroundings too).
    """

    specular: float
    shininess: float
    gloss: float = 0.0
    matte: float = 0.0


@dataclasses.dataclass(frozen=True)
class Surface:
    """A material's fields over the render grid and its finish.

    Attributes:
      multiply: [R, R] albedo multiplier (around 1).
      add: [R, R] albedo offset (around 0, in 0..1 albedo units).
      bump: [R, R] height added to the shading relief (small).
      finish: the Finish.
      saturation: colour saturation multiplier of the albedo.
    """

    multiply: np.ndarray
    add: np.ndarray
    bump: np.ndarray
    finish: Finish
    saturation: float = 1.0


FINISHES: dict[str, Finish] = {
    "leather": Finish(specular=0.15, shininess=6.0),
    "suede": Finish(specular=0.0, shininess=1.0, matte=0.6),
    "canvas": Finish(specular=0.03, shininess=6.0, matte=0.15),
    "knit": Finish(specular=0.02, shininess=6.0, matte=0.2),
    "patent": Finish(specular=1.0, shininess=60.0, gloss=0.55, matte=-0.9),
    "cotton": Finish(specular=0.02, shininess=6.0, matte=0.1),
    "denim": Finish(specular=0.02, shininess=6.0, matte=0.15),
    "satin": Finish(specular=0.35, shininess=14.0, gloss=0.18),
}


def _normalised(field: np.ndarray) -> np.ndarray:
    field = field - field.mean()
    return (field / (field.std() + 1e-6)).astype(np.float32)


def _noise(rng: np.random.Generator, res: int, sigma: float) -> np.ndarray:
    """Unit-variance noise smoothed over `sigma` render pixels."""
    white = rng.standard_normal((res, res)).astype(np.float32)
    return _normalised(ndimage.gaussian_filter(white, sigma, truncate=2.5) if sigma else white)


def material_surface(material: str, u: np.ndarray, v: np.ndarray, seed: int) -> Surface:
    """Returns the Surface of `material` over a render grid.

    Args:
      material: one of MATERIALS.
      u, v: [R, R] item coordinates (item lengths) of every render pixel; periodic textures
        follow them, so they scale and rotate with the item.
      seed: the session's seed (the noise realisation of the texture).

    Returns:
      The Surface (callers cache it per session: photo_studio.Frame.surface).

    Raises:
      ValueError: unknown material.
    """
    if material not in MATERIALS:
        raise ValueError(f"unknown material {material!r}; expected one of {MATERIALS}")
    res = u.shape[0]
    rng = np.random.default_rng([seed, 31, MATERIALS.index(material)])
    # Render pixels per output pixel (the grid is drawn at twice the output size).
    fine = max(0.5, res / 128.0 * 0.55)
    zero = np.zeros((res, res), np.float32)
    one = np.ones((res, res), np.float32)
    finish = FINISHES[material]
    if material == "leather":
        grain = _noise(rng, res, fine)  # smooth: a faint grain that glints in the sheen
        return Surface(one + 0.025 * grain, zero, 0.008 * grain, finish)
    if material == "patent":  # a deep body colour under mirror-like highlights
        return Surface(0.82 * one, zero, zero, finish, saturation=1.2)
    if material == "suede":
        mottle = _noise(rng, res, 5.0 * fine)  # a speckled, brushed nap, paler than leather
        nap = _noise(rng, res, fine)
        return Surface(one + 0.07 * mottle + 0.16 * nap, 0.07 + 0.04 * nap, zero, finish, 0.7)
    phase_u, phase_v = rng.uniform(0, 2 * np.pi, size=2)
    if material in ("canvas", "denim"):
        if material == "canvas":  # plain weave: threads over and under in both directions
            period = 0.075
            a = np.cos(2 * np.pi * u / period + phase_u)
            b = np.cos(2 * np.pi * v / period + phase_v)
            weave = _normalised(a * b + 0.35 * (a + b))
            slub = _noise(rng, res, fine)
            return Surface(
                one + 0.11 * weave + 0.03 * slub, 0.07 * weave, 0.04 * weave, finish, 0.92
            )
        period = 0.06  # denim: a diagonal twill
        twill = _normalised(np.cos(2 * np.pi * (u + v) / period + phase_u))
        slub = _noise(rng, res, fine)
        return Surface(one + 0.2 * twill + 0.05 * slub, 0.06 * twill + 0.05, 0.04 * twill, finish)
    if material == "knit":  # ribbing: raised wales running up the item, with stitch rows
        period = 0.07
        wale = np.abs(np.sin(np.pi * u / period + phase_u))
        rows = np.cos(2 * np.pi * v / (0.5 * period) + phase_v + 2.0 * wale)
        rib = _normalised(wale**0.6 + 0.12 * rows)
        return Surface(one + 0.2 * rib, 0.08 * rib, 0.07 * rib, finish, 0.95)
    if material == "satin":
        return Surface(one + 0.03 * _noise(rng, res, 8 * fine), zero, zero, finish, 1.05)
    if material == "cotton":
        grain = _noise(rng, res, fine)
        return Surface(one + 0.05 * grain, 0.01 * grain, 0.01 * grain, finish)
    raise ValueError(f"unknown material {material!r}; expected one of {MATERIALS}")
