"""Image handling for the editor: uploads in, PNGs and strips out (Pillow only)."""

from __future__ import annotations

import base64
import dataclasses
import io
import logging
import textwrap
import warnings

import numpy as np
from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError

from common import fonts
from serving.editor_app.backend import EditorError

logger = logging.getLogger(__name__)

MAX_UPLOAD_PIXELS = 50_000_000  # decompression-bomb guard: 50 megapixels
FORMATS = "PNG, JPEG, WebP, GIF, BMP or TIFF"
WHITE = (255, 255, 255)
# A border whose pixels are this close to their median (mean absolute deviation per channel)
# is a backdrop: the padding takes its colour. Otherwise (a photo cut off at its edges) white.
UNIFORM_BORDER_MAD = 12.0
# EXIF orientations that swap width and height (5-8: the transposes and 90-degree turns).
_SWAPPING_ORIENTATIONS = (5, 6, 7, 8)


@dataclasses.dataclass(frozen=True)
class Upload:
    """An uploaded photograph as the model sees it.

    Attributes:
        image: uint8 [size, size, 3]: EXIF-transposed, centred on a square of `background`,
            resized to the model resolution.
        width: the photograph's width as displayed (after its EXIF rotation), in pixels.
        height: its height as displayed.
        background: the RGB colour of the padding.
    """

    image: np.ndarray
    width: int
    height: int
    background: tuple[int, int, int]


def _too_large(data: bytes, max_bytes: int) -> EditorError:
    return EditorError(
        "bad_image",
        f"The upload is {len(data) / 1e6:.1f} MB; at most {max_bytes / 1e6:.0f} MB is accepted.",
        413,
    )


def _open_checked(image: Image.Image) -> tuple[int, int]:
    """The displayed (width, height) of an opened image; refuses a decompression bomb."""
    if image.width * image.height > MAX_UPLOAD_PIXELS:
        raise EditorError(
            "bad_image",
            f"The image is {image.width}x{image.height} pixels; at most "
            f"{MAX_UPLOAD_PIXELS // 1_000_000} megapixels are accepted.",
            413,
        )
    orientation = image.getexif().get(0x0112, 1)
    if orientation in _SWAPPING_ORIENTATIONS:
        return image.height, image.width
    return image.width, image.height


def _to_rgb(image: Image.Image) -> Image.Image:
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "P", "PA"):
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, "white")
        image = Image.alpha_composite(background, image)
    return image.convert("RGB")


def _decode(data: bytes, max_bytes: int, draft_side: int | None) -> tuple[Image.Image, int, int]:
    """(the first frame as RGB, displayed width, displayed height). With draft_side, a JPEG is
    decoded at the smallest of 1/2, 1/4, 1/8 scale whose sides are still >= draft_side (a
    12-megapixel phone photo read for a 64-pixel model takes 1/64 of the memory and time)."""
    if not data:
        raise EditorError("bad_image", "The upload is empty: choose an image file.")
    if len(data) > max_bytes:
        raise _too_large(data, max_bytes)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = _open_checked(image)
                image.seek(0)  # first frame of an animation
                if draft_side and image.format == "JPEG":
                    image.draft("RGB", (draft_side, draft_side))
                return _to_rgb(image), width, height
    except EditorError:
        raise
    except UnidentifiedImageError:
        raise EditorError(
            "bad_image", f"The upload is not an image this app can read ({FORMATS})."
        ) from None
    except (
        OSError,
        ValueError,
        SyntaxError,
        EOFError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as error:
        logger.info("unreadable upload: %s", error)
        raise EditorError(
            "bad_image",
            f"The upload is a damaged or cut-short image file; it cannot be read ({FORMATS}).",
        ) from None


def decode_upload(data: bytes, max_bytes: int) -> np.ndarray:
    """An uploaded file as uint8 [H, W, 3] at full size: EXIF orientation applied, alpha on
    white.

    Raises:
        EditorError: empty, too large, or not an image.
    """
    image, _, _ = _decode(data, max_bytes, draft_side=None)
    return np.asarray(image)


def border_colour(image: np.ndarray) -> tuple[int, int, int]:
    """The colour of a uniform border (a product shot's backdrop), else white."""
    height, width = image.shape[:2]
    ring = max(1, min(height, width) // 50)
    border = np.concatenate(
        [
            image[:ring].reshape(-1, 3),
            image[-ring:].reshape(-1, 3),
            image[:, :ring].reshape(-1, 3),
            image[:, -ring:].reshape(-1, 3),
        ]
    ).astype(np.float32)
    median = np.median(border, axis=0)
    if np.abs(border - median).mean(axis=0).max() > UNIFORM_BORDER_MAD:
        return WHITE
    return tuple(int(round(c)) for c in median)


def prepare_upload(data: bytes, max_bytes: int, size: int) -> Upload:
    """An uploaded photograph of any size and aspect as the model sees it: EXIF-transposed,
    centred on a square of its border colour (white when the border is not uniform), resized
    to size x size.

    Raises:
        EditorError: empty, too large, or not an image.

    Example:
        upload = prepare_upload(open("phone.jpg", "rb").read(), 20_000_000, 64)
        upload.image.shape  # (64, 64, 3)
    """
    image, width, height = _decode(data, max_bytes, draft_side=max(4 * size, 256))
    pixels = np.asarray(image)
    background = border_colour(pixels)
    square = Image.fromarray(pad_to_square(pixels, background))
    model_image = square.resize((size, size), Image.Resampling.LANCZOS, reducing_gap=3.0)
    return Upload(np.asarray(model_image), width, height, background)


def pad_to_square(image: np.ndarray, fill: int | tuple[int, int, int] = 255) -> np.ndarray:
    """Centres a uint8 HxWx3 image on a square of `fill` (the model sees square images; a
    photo of another shape keeps its proportions instead of being squashed)."""
    height, width = image.shape[:2]
    side = max(height, width)
    if height == width:
        return image
    square = np.empty([side, side, 3], np.uint8)
    square[...] = np.asarray(fill, np.uint8)
    top, left = (side - height) // 2, (side - width) // 2
    square[top : top + height, left : left + width] = image
    return square


def png_bytes(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(image, np.uint8)).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def png_data_url(image: np.ndarray) -> str:
    return "data:image/png;base64," + base64.b64encode(png_bytes(image)).decode("ascii")


def rgb_json(image: np.ndarray, pixels_inline: bool = True) -> dict:
    """An image as the page draws it: {"width", "height", "rgb": base64 of row-major RGB bytes}
    ("rgb" left out with pixels_inline=False, when the bytes travel beside the JSON).

    Raw pixels rather than a PNG: no PNG encode on the app (0.3 ms at 64x64) and no
    asynchronous image decode in the browser; the page puts them on a canvas at once.
    """
    pixels = np.ascontiguousarray(image, np.uint8)
    height, width = pixels.shape[:2]
    if not pixels_inline:
        return {"width": width, "height": height}
    return {"width": width, "height": height, "rgb": base64.b64encode(pixels.tobytes()).decode()}


def pixels_after(image: np.ndarray, parent: np.ndarray | None) -> tuple[dict, bytes]:
    """The bytes that carry a turn's image after a WebSocket answer's JSON, and the fields that
    say how to read them (merged into the JSON's turn.image):

    - {"encoding": "delta", "changed": n}: the image differs from its parent turn's in n pixels
      (an edit redraws some pixels and copies the rest exactly, the hard mask): a bitmap of the
      changed pixels (row-major, 1 bit each, most significant bit first, ceil(h*w/8) bytes),
      then the n changed pixels' RGB, in row-major order;
    - {"encoding": "rgb"}: the image's raw RGB bytes, row-major (no parent of the same size, or
      a delta would not be smaller).

    A quick-model edit changes 6-18% of a 64x64 shoe (median by edit), so a delta is 2-3 kB
    instead of 12 kB; in this Chromium a WebSocket message costs about 0.04 ms per kB.
    """
    pixels = np.ascontiguousarray(image, np.uint8)
    if parent is not None and np.shape(parent) == pixels.shape:
        differs = pixels != parent
        changed = differs[..., 0] | differs[..., 1] | differs[..., 2]  # 3x faster than any()
        count = int(changed.sum())
        if (changed.size + 7) // 8 + 3 * count < pixels.nbytes:
            payload = np.packbits(changed).tobytes() + pixels[changed].tobytes()
            return {"encoding": "delta", "changed": count}, payload
    return {"encoding": "rgb"}, pixels.tobytes()


def attention_maps(attention: np.ndarray, num_tokens: int) -> list[dict]:
    """Per-word maps of a turn's attention [h, w, max_words], for the page to draw.

    Each map is min-max scaled to uint8 (base64, row-major h x w), as the paper's Figure 8 shows
    them: where a word attended *most* (a flat map as an even half tint). `min` and `max` keep the raw range, so the page can also
    say how peaked (or flat) the map is.
    """
    n = min(num_tokens, attention.shape[-1])
    values = np.nan_to_num(np.asarray(attention[..., :n], np.float32))  # [h, w, n]
    if not values.size:
        return [{"min": 0.0, "max": 0.0, "data": ""} for _ in range(n)]
    low, high = values.min(axis=(0, 1)), values.max(axis=(0, 1))  # per word, in one pass
    span = high - low
    peaked = span > 1e-6 * np.maximum(high, 1e-12)
    # A flat map (the word attended everywhere alike) is drawn as an even half tint.
    scaled = np.where(peaked, (values - low) / np.where(peaked, span, 1.0), 0.5)
    data = np.round(np.clip(scaled, 0.0, 1.0) * 255).astype(np.uint8)
    data = np.ascontiguousarray(np.moveaxis(data, -1, 0))  # [n, h, w], each map row-major
    return [
        {"min": float(low[j]), "max": float(high[j]), "data": base64.b64encode(data[j]).decode()}
        for j in range(n)
    ]


def strip_png(images: list[np.ndarray], captions: list[str], tile_size: int = 160) -> bytes:
    """The session strip: images left to right, each caption wrapped above its image."""
    font = fonts.font(12)
    line_height, chars_per_line, max_lines = 15, max(8, tile_size // 7), 5
    wrapped = [textwrap.wrap(c, chars_per_line)[:max_lines] or [""] for c in captions]
    header = line_height * max(len(lines) for lines in wrapped) + 8
    gap = 4
    width = tile_size * len(images) + gap * (len(images) - 1)
    strip = Image.new("RGB", (width, header + tile_size), "white")
    draw = ImageDraw.Draw(strip)
    for i, (image, lines) in enumerate(zip(images, wrapped, strict=True)):
        x = i * (tile_size + gap)
        tile = Image.fromarray(np.asarray(image, np.uint8)).resize(
            (tile_size, tile_size), Image.Resampling.BICUBIC
        )
        strip.paste(tile, (x, header))
        for j, line in enumerate(lines):
            draw.text((x + 3, 4 + j * line_height), line, fill="black", font=font)
    buffer = io.BytesIO()
    strip.save(buffer, format="PNG")
    return buffer.getvalue()
