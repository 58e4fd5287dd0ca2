"""The photographic pipeline shared by the photo shoes and garments.

An item is described in its own coordinates (item lengths, y up) as layers of polygons and
lines. The studio places it in the frame with the session's size, offset and rotation, draws
antialiased masks at twice the render size, builds a relief (height) field from the layers'
silhouettes, shades it with the session's light (albedo x shading + specular, so a recolour
keeps the shading), puts it on a near-white backdrop with a soft contact shadow, downsamples
to the output size, adds the session's fixed sensor noise and round-trips it through JPEG.

    frame = Frame(look, image_size=64, extent=1.1, centre=(0.5, 0.45))
    upper = Layer(frame.polygons(points), albedo=(0.8, 0.1, 0.1), surface=surface)
    image = photograph(frame, [sole, upper], contact=frame.polygons(ground_points))
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import io
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

from tfrecords.synthetic.materials import Finish, Surface, material_surface
from tfrecords.synthetic.photo_look import SessionLook

SUPERSAMPLE = 2  # render at SUPERSAMPLE x the output size; masks are drawn at twice that
RELIEF = 2.2  # how strongly the relief field tilts the normals

Point = tuple[float, float]


class Frame:
    """Places item coordinates in the frame of one session.

    Args:
      look: the session's look (size, offset, rotation).
      image_size: the output side in pixels.
      extent: the item's reference extent in item units (its bigger side); `look.size` of the
        frame is this long.
      centre: the item point (item units) that goes to the frame centre plus `look.offset`.
    """

    def __init__(
        self, look: SessionLook, image_size: int, extent: float, centre: tuple[float, float]
    ):
        self.look = look
        self.image_size = image_size
        self.res = SUPERSAMPLE * image_size
        self.scale = look.size * self.res / extent  # render pixels per item unit
        self.centre = centre
        angle = np.deg2rad(look.rotation_deg)
        self.cos, self.sin = float(np.cos(angle)), float(np.sin(angle))
        self.origin = (
            self.res * (0.5 + look.offset[0]),
            self.res * (0.5 + look.offset[1]),
        )
        self.key = (
            look.seed,
            look.size,
            look.offset,
            look.rotation_deg,
            image_size,
            round(extent, 6),
            centre,
        )

    def to_render(self, points: Sequence[Point] | np.ndarray, factor: float = 1.0) -> list[Point]:
        """Maps item points to render pixels (times `factor`, e.g. 2 for the mask canvas)."""
        p = np.asarray(points, np.float64).reshape(-1, 2)
        a = p[:, 0] - self.centre[0]
        b = -(p[:, 1] - self.centre[1])
        x = self.origin[0] + self.scale * (self.cos * a + self.sin * b)
        y = self.origin[1] + self.scale * (-self.sin * a + self.cos * b)
        return list(zip((x * factor).tolist(), (y * factor).tolist()))

    def _canvas(self) -> tuple[Image.Image, ImageDraw.ImageDraw]:
        image = Image.new("L", (2 * self.res, 2 * self.res), 0)
        return image, ImageDraw.Draw(image)

    @staticmethod
    def _finish(image: Image.Image) -> np.ndarray:
        return np.asarray(image.reduce(2), np.float32) * (1.0 / 255.0)

    def polygons(self, *polygons: Sequence[Point]) -> np.ndarray:
        """Returns the antialiased [R, R] coverage (0..1) of the union of item polygons."""
        image, draw = self._canvas()
        for points in polygons:
            draw.polygon(self.to_render(points, 2.0), fill=255)
        return self._finish(image)

    def lines(self, segments: Sequence[Sequence[Point]], width: float) -> np.ndarray:
        """Returns the coverage of polylines `width` item units wide, with round ends."""
        image, draw = self._canvas()
        w = max(1.0, 2.0 * width * self.scale)
        r = w / 2
        for points in segments:
            pts = self.to_render(points, 2.0)
            draw.line(pts, fill=255, width=int(round(w)), joint="curve")
            for x, y in (pts[0], pts[-1]):
                draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
        return self._finish(image)

    def ellipses(self, *centres_radii: tuple[float, float, float, float]) -> np.ndarray:
        """Returns the coverage of ellipses given as (cx, cy, rx, ry) in item units."""
        image, draw = self._canvas()
        for cx, cy, rx, ry in centres_radii:
            (x, y) = self.to_render([(cx, cy)], 2.0)[0]
            sx, sy = 2.0 * rx * self.scale, 2.0 * ry * self.scale
            draw.ellipse((x - sx, y - sy, x + sx, y + sy), fill=255)
        return self._finish(image)

    def cached(self, name: str, params: tuple, compute: Callable[[], Any]) -> Any:
        """Returns compute(), cached for this session's framing under (name, params).

        The images of a session share their framing, so per-session fields (the grid,
        textures, prints, folds) are computed once per session, not once per image.
        """
        key = (self.key, name, params)
        if key in _FIELD_CACHE:
            _FIELD_CACHE.move_to_end(key)
            return _FIELD_CACHE[key]
        value = compute()
        _FIELD_CACHE[key] = value
        while len(_FIELD_CACHE) > FIELD_CACHE_SIZE:
            _FIELD_CACHE.popitem(last=False)
        return value

    @property
    def grid(self) -> tuple[np.ndarray, np.ndarray]:
        """(u, v): the item coordinates of every render pixel centre, [R, R] each."""
        return self.cached("grid", (), self._grid)

    def _grid(self) -> tuple[np.ndarray, np.ndarray]:
        ys, xs = np.mgrid[0 : self.res, 0 : self.res].astype(np.float32) + 0.5
        dx, dy = xs - self.origin[0], ys - self.origin[1]
        a = (self.cos * dx - self.sin * dy) / self.scale
        b = (self.sin * dx + self.cos * dy) / self.scale
        return (a + self.centre[0]).astype(np.float32), (self.centre[1] - b).astype(np.float32)

    def surface(self, material: str) -> Surface:
        """The session's texture of `material` over this frame (cached)."""
        u, v = self.grid
        return self.cached(
            "surface", (material,), lambda: material_surface(material, u, v, self.look.seed)
        )


FIELD_CACHE_SIZE = 48
_FIELD_CACHE: collections.OrderedDict = collections.OrderedDict()


@dataclasses.dataclass
class Layer:
    """One painted part of the item.

    Attributes:
      alpha: [R, R] coverage 0..1.
      albedo: RGB reflectance 0..1 (3 values, or an [R, R, 3] field).
      surface: the material's texture and finish (None: smooth, matte-ish).
      relief: how much the layer's own outline rounds the shading (0: follows what is under it).
      lift: how far the layer stands above the item (adds a small step in the relief).
    """

    alpha: np.ndarray
    albedo: tuple[float, float, float] | np.ndarray
    surface: Surface | None = None
    relief: float = 0.5
    lift: float = 0.0


DEFAULT_FINISH = Finish(specular=0.08, shininess=10.0)


def _blur(field: np.ndarray, sigma: float) -> np.ndarray:
    return ndimage.gaussian_filter(field, max(0.3, sigma), truncate=2.5)


def _colourful(albedo: np.ndarray, saturation: float) -> np.ndarray:
    if saturation == 1.0:
        return albedo
    grey = albedo.mean(axis=-1, keepdims=True)
    return np.clip(grey + (albedo - grey) * saturation, 0.0, 1.0)


def _box(alpha: np.ndarray, pad: int) -> tuple[slice, slice]:
    """The bounding box of alpha > 0, grown by `pad` pixels (clipped to the frame)."""
    rows = np.flatnonzero(alpha.max(axis=1) > 0.002)
    cols = np.flatnonzero(alpha.max(axis=0) > 0.002)
    if rows.size == 0:
        return slice(0, 0), slice(0, 0)
    h, w = alpha.shape
    return (
        slice(max(0, rows[0] - pad), min(h, rows[-1] + pad + 1)),
        slice(max(0, cols[0] - pad), min(w, cols[-1] + pad + 1)),
    )


def _dome(silhouette: np.ndarray, sigma: float) -> np.ndarray:
    """The silhouette blurred over `sigma` pixels (computed at half resolution: it is smooth)."""
    n = silhouette.shape[0] // 2 * 2
    half = silhouette[:n, :n].reshape(n // 2, 2, n // 2, 2).mean(axis=(1, 3))
    half = ndimage.gaussian_filter(half, max(0.3, sigma / 2), truncate=2.5)
    out = np.zeros_like(silhouette)
    out[:n, :n] = ndimage.zoom(half, 2, order=1, grid_mode=True, mode="nearest")
    return out


def photograph(frame: Frame, layers: Sequence[Layer], contact: np.ndarray) -> np.ndarray:
    """Shades, composites and finishes one image of the session.

    Args:
      frame: the session's frame.
      layers: the item's parts, bottom first.
      contact: [R, R] coverage of where the item touches the ground (the contact shadow).

    Returns:
      uint8 [image_size, image_size, 3]: the decoded JPEG of the photograph.
    """
    look = frame.look
    res = frame.res
    silhouette = np.zeros((res, res), np.float32)
    for layer in layers:
        silhouette = silhouette + layer.alpha * (1.0 - silhouette)
    big, small = 0.09 * frame.scale, 0.018 * frame.scale

    # Backdrop with the contact shadow.
    bd = look.backdrop
    dome = _dome(silhouette, big)
    rows = np.linspace(0.0, 1.0, res, dtype=np.float32)[:, None, None]
    background = (bd.level + bd.gradient * rows + np.asarray(bd.tint, np.float32)) / 255.0
    shadow = bd.shadow * np.clip(
        1.3 * _blur(contact, bd.shadow_blur * frame.scale) + 0.2 * dome, 0.0, 1.0
    )
    image = background * (1.0 - shadow[..., None])

    # Relief inside the item's box: a broad dome over the whole silhouette, each part's own
    # rounded outline, the material bumps. Its gradient tilts the normals; the blurred
    # silhouette's edge is the ambient occlusion.
    box = _box(silhouette, int(3 * small) + 2)
    sil = silhouette[box]
    height = 1.4 * dome[box]
    edge = _blur(sil, small)
    for layer in layers:
        alpha = layer.alpha[box]
        if layer.relief:
            height = height + layer.relief * _blur(alpha, small)
        if layer.lift:
            height = height + layer.lift * alpha
        if layer.surface is not None:
            height = height + alpha * layer.surface.bump[box]
    gy, gx = np.gradient(height)
    k = RELIEF * frame.scale * 0.04
    nx, ny = -k * gx, -k * gy
    norm = 1.0 / np.sqrt(nx * nx + ny * ny + 1.0)
    nx, ny, nz = nx * norm, ny * norm, norm
    lx, ly, lz = look.light.direction
    lambert = np.maximum(0.0, nx * lx + ny * ly + nz * lz)
    hx, hy, hz = lx, ly, lz + 1.0  # half vector between the light and the viewer
    hn = 1.0 / np.sqrt(hx * hx + hy * hy + hz * hz)
    n_dot_h = np.maximum(0.0, (nx * hx + ny * hy + nz * hz) * hn)
    occlusion = 0.78 + 0.22 * np.clip(2.0 * edge, 0.0, 1.0)
    up = np.clip(-ny * 2.2 - 0.15, 0.0, 1.0) * np.clip(nz * 1.5, 0.0, 1.0)  # faces the ceiling
    tint = np.asarray(look.light.tint, np.float32)
    diffuse = (look.light.ambient + look.light.diffuse * lambert) * occlusion
    flat = (look.light.ambient + look.light.diffuse * lz) * occlusion

    item = image[box].copy()
    for layer in layers:
        inner = _box(layer.alpha[box], 0)
        if inner[0].stop == 0:
            continue
        sub = (
            slice(box[0].start + inner[0].start, box[0].start + inner[0].stop),
            slice(box[1].start + inner[1].start, box[1].start + inner[1].stop),
        )
        surface = layer.surface
        finish = surface.finish if surface else DEFAULT_FINISH
        albedo = np.asarray(layer.albedo, np.float32)
        albedo = albedo[sub] if albedo.ndim == 3 else albedo.reshape(1, 1, 3)
        if surface is not None:
            albedo = _colourful(albedo, surface.saturation)
            albedo = np.clip(
                albedo * surface.multiply[sub][..., None] + surface.add[sub][..., None], 0.0, 1.0
            )
        shade = diffuse[inner]
        if finish.matte:
            shade = shade + finish.matte * (flat[inner] - shade)
        colour = albedo * shade[..., None] * tint
        if finish.specular or finish.gloss:
            glow = finish.gloss * up[inner]
            if finish.specular:
                glow = (
                    glow
                    + finish.specular * look.light.specular * n_dot_h[inner] ** finish.shininess
                )
            colour = colour + glow[..., None] * tint
        a = layer.alpha[sub][..., None]
        item[inner] = item[inner] * (1.0 - a) + colour * a
    image[box] = item
    return finish_photo(frame, image)


@functools.lru_cache(maxsize=4)
def _sensor_noise(seed: int, size: int, sigma: float) -> np.ndarray:
    rng = np.random.default_rng([seed, 41])
    chroma = rng.standard_normal((size, size, 3)).astype(np.float32)
    luma = rng.standard_normal((size, size, 1)).astype(np.float32)
    noise = sigma * (0.8 * luma + 0.45 * chroma)
    noise.flags.writeable = False
    return noise


def finish_photo(frame: Frame, image: np.ndarray) -> np.ndarray:
    """Downsamples a float render, adds the session's sensor noise and round-trips JPEG."""
    look = frame.look
    size = frame.image_size
    render = Image.fromarray(np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8), "RGB")
    small = np.asarray(render.resize((size, size), Image.Resampling.LANCZOS), np.float32)
    noisy = small + _sensor_noise(look.seed, size, look.noise_sigma)
    pixels = np.clip(noisy + 0.5, 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buffer, format="JPEG", quality=look.jpeg_quality)
    with Image.open(io.BytesIO(buffer.getvalue())) as decoded:
        return np.asarray(decoded.convert("RGB"), dtype=np.uint8)
