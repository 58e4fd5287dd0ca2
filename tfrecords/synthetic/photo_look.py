"""The nuisance parameters of one photographic session: everything that is not an attribute.

A session's look is drawn once from its layout seed and used for every image of the session,
so only the edited attributes change the pixels of a session, while framing, item shape,
light, background, noise and JPEG quality vary continuously from one session to the next.

    look = draw_look(layout_seed=1234, shape_ranges={"toe_length": (0.72, 0.82)})
    look.size, look.rotation_deg, look.shape["toe_length"]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np

# Framing: the item's reference extent covers SIZE_RANGE of the frame, its centre is at most
# MAX_OFFSET of the frame off centre (less for big items, which must stay inside the frame),
# and it is rotated by at most MAX_ROTATION_DEG.
SIZE_RANGE = (0.62, 0.92)
MAX_OFFSET = 0.08
MAX_ROTATION_DEG = 6.0
JPEG_QUALITY_RANGE = (80, 95)
NOISE_SIGMA_RANGE = (0.8, 2.6)  # sensor noise, levels of 255 at the output size


@dataclasses.dataclass(frozen=True)
class Light:
    """A directional light over the item, in image axes (x right, y down, z to the viewer).

    Attributes:
      direction: unit vector pointing from the item towards the light.
      ambient: shading of a surface that faces away from the light.
      diffuse: added shading of a surface that faces the light.
      specular: scale of the material's specular highlights.
      tint: RGB multiplier of the light colour (near 1).
    """

    direction: tuple[float, float, float]
    ambient: float
    diffuse: float
    specular: float
    tint: tuple[float, float, float]


@dataclasses.dataclass(frozen=True)
class Backdrop:
    """The studio background and the item's contact shadow.

    Attributes:
      level: brightness of the background at the top, 0..255.
      tint: RGB offsets of the background, levels of 255.
      gradient: brightness change from the top to the bottom of the frame, levels of 255.
      shadow: darkness of the contact shadow right under the item, 0..1.
      shadow_blur: softness of the contact shadow, in item lengths.
    """

    level: float
    tint: tuple[float, float, float]
    gradient: float
    shadow: float
    shadow_blur: float


@dataclasses.dataclass(frozen=True)
class SessionLook:
    """Everything that stays fixed within one photographic session.

    Attributes:
      seed: the layout seed the look was drawn from (seeds textures and sensor noise).
      size: the item's reference extent as a share of the frame side.
      offset: (dx, dy) of the item's centre from the frame centre, shares of the frame side.
      rotation_deg: in-plane rotation of the item, degrees (counter-clockwise).
      light: the key light.
      backdrop: background and contact shadow.
      noise_sigma: sensor noise standard deviation at the output size, levels of 255.
      jpeg_quality: the JPEG quality the image is compressed with.
      shape: per-item continuous shape parameters (name -> value), see the domain renderer.
      tones: per-item continuous tone choices in [0, 1] (sole tone, metal, trim), by name.
    """

    seed: int
    size: float
    offset: tuple[float, float]
    rotation_deg: float
    light: Light
    backdrop: Backdrop
    noise_sigma: float
    jpeg_quality: int
    shape: Mapping[str, float]
    tones: Mapping[str, float]


TONE_NAMES = ("sole", "metal", "trim", "fabric", "lining")


def draw_look(
    layout_seed: int,
    shape_ranges: Mapping[str, tuple[float, float]],
    size_range: tuple[float, float] = SIZE_RANGE,
) -> SessionLook:
    """Draws a session's look from its layout seed.

    Args:
      layout_seed: the session's layout seed (from the session plan); any int >= 0.
      shape_ranges: shape parameter name -> (low, high); each is drawn uniformly.
      size_range: the range of the item's reference extent, as a share of the frame side.

    Returns:
      The SessionLook (same seed and ranges -> same look).

    Example:
      look = draw_look(7, {"sole_thickness": (0.8, 1.25)})
    """
    if layout_seed < 0:
        raise ValueError(f"layout_seed must be >= 0, got {layout_seed}")
    rng = np.random.default_rng([layout_seed, 20])
    size = float(rng.uniform(*size_range))
    room = min(MAX_OFFSET, max(0.0, (1.0 - size) / 2 - 0.015))
    offset = tuple(float(v) for v in rng.uniform(-room, room, size=2))
    rotation = float(rng.uniform(-MAX_ROTATION_DEG, MAX_ROTATION_DEG))
    # Key light from above, from the left or the right, at 25-60 degrees from the viewer axis.
    azimuth = np.deg2rad(rng.uniform(-160.0, -20.0))
    tilt = np.deg2rad(rng.uniform(25.0, 60.0))
    direction = (
        float(np.sin(tilt) * np.cos(azimuth)),
        float(np.sin(tilt) * np.sin(azimuth)),
        float(np.cos(tilt)),
    )
    warm = float(rng.uniform(-0.03, 0.03))
    light = Light(
        direction=direction,
        ambient=float(rng.uniform(0.50, 0.66)),
        diffuse=float(rng.uniform(0.40, 0.58)),
        specular=float(rng.uniform(0.8, 1.2)),
        tint=(1.0 + warm, 1.0, 1.0 - warm),
    )
    backdrop = Backdrop(
        level=float(rng.uniform(238.0, 252.0)),
        tint=tuple(float(v) for v in rng.uniform(-4.0, 4.0, size=3)),
        gradient=float(rng.uniform(-14.0, 3.0)),
        shadow=float(rng.uniform(0.30, 0.55)),
        shadow_blur=float(rng.uniform(0.02, 0.05)),
    )
    shape = {name: float(rng.uniform(lo, hi)) for name, (lo, hi) in shape_ranges.items()}
    tones = {name: float(rng.random()) for name in TONE_NAMES}
    return SessionLook(
        seed=int(layout_seed),
        size=size,
        offset=offset,
        rotation_deg=rotation,
        light=light,
        backdrop=backdrop,
        noise_sigma=float(rng.uniform(*NOISE_SIGMA_RANGE)),
        jpeg_quality=int(rng.integers(JPEG_QUALITY_RANGE[0], JPEG_QUALITY_RANGE[1] + 1)),
        shape=shape,
        tones=tones,
    )
