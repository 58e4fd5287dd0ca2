"""Raw-builder image decoding: bit depth, EXIF orientation, palettes, transparency, CMYK.

Each case is compared against a reference conversion written out here, not only "it decoded".
"""

import io

import numpy as np
import pytest
from PIL import Image

from tfrecords.build import raw_images
from tfrecords.build.raw_images import TRANSPARENCY_BACKGROUND, load_image

SIZE = 32


def _file(tmp_path, image, name, **save_kwargs):
    path = str(tmp_path / name)
    image.save(path, **save_kwargs)
    return path


def _quadrants(size=SIZE):
    """An RGB square with four differently coloured quadrants (orientation is visible)."""
    array = np.zeros((size, size, 3), np.uint8)
    half = size // 2
    array[:half, :half] = (230, 20, 20)  # top left red
    array[:half, half:] = (20, 230, 20)  # top right green
    array[half:, :half] = (20, 20, 230)  # bottom left blue
    array[half:, half:] = (240, 240, 20)  # bottom right yellow
    return array


def test_16_bit_grayscale_is_scaled_not_clipped(tmp_path):
    ramp = np.tile(np.linspace(0, 65535, SIZE).astype(np.uint16), (SIZE, 1))
    path = _file(tmp_path, Image.fromarray(ramp), "ramp16.png")
    with Image.open(path) as image:
        assert image.mode.startswith("I")  # really stored and read as 16-bit
    out = load_image(path, SIZE)
    reference = np.rint(ramp / 257.0).astype(np.uint8)
    assert out.shape == (SIZE, SIZE, 3)
    for channel in range(3):
        np.testing.assert_allclose(out[..., channel], reference, atol=1)
    assert (out == 255).mean() < 0.1
    assert abs(out.mean() - 127.5) < 2


def test_32_bit_integer_image_with_16_bit_values_is_scaled(tmp_path):
    values = np.tile(np.linspace(0, 65535, SIZE), (SIZE, 1)).astype(np.int32)
    path = _file(tmp_path, Image.fromarray(values, mode="I"), "ramp32.tif")
    out = load_image(path, SIZE)
    np.testing.assert_allclose(out[..., 0], np.rint(values / 257.0), atol=1)


def test_exif_orientation_6_is_applied_before_resizing(tmp_path):
    pixels = _quadrants()
    stored = Image.fromarray(pixels)
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the viewer rotates the stored pixels 90 degrees clockwise.
    path = _file(tmp_path, stored, "rot6.jpg", exif=exif, quality=95)
    out = load_image(path, SIZE // 2)
    # Reference: rotate the stored pixels clockwise, then resize the same way.
    reference_image = Image.fromarray(pixels).transpose(Image.Transpose.ROTATE_270)
    reference = np.asarray(
        reference_image.resize((SIZE // 2, SIZE // 2), Image.Resampling.BICUBIC)
    ).astype(int)
    assert np.abs(out.astype(int) - reference).mean() < 8
    # And not the unrotated image (the colours moved quadrant).
    unrotated = np.asarray(
        Image.fromarray(pixels).resize((SIZE // 2, SIZE // 2), Image.Resampling.BICUBIC)
    ).astype(int)
    assert np.abs(out.astype(int) - unrotated).mean() > 50


def test_palette_image_matches_its_rgb_pixels(tmp_path):
    rgb = Image.fromarray(_quadrants())
    palette = rgb.quantize(colors=4)
    path = _file(tmp_path, palette, "palette.png")
    with Image.open(path) as image:
        assert image.mode == "P"
    np.testing.assert_array_equal(load_image(path, SIZE), np.asarray(palette.convert("RGB")))


def test_palette_with_transparent_index_is_composited_on_the_background(tmp_path):
    palette = Image.fromarray(_quadrants()).quantize(colors=4)
    transparent_index = palette.getpixel((0, 0))
    path = _file(tmp_path, palette, "palette_t.png", transparency=transparent_index)
    out = load_image(path, SIZE)
    assert tuple(out[0, 0]) == TRANSPARENCY_BACKGROUND
    assert tuple(out[-1, -1]) == tuple(np.asarray(palette.convert("RGB"))[-1, -1])


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_transparency_is_composited_on_the_stated_background(tmp_path, mode):
    rgb = _quadrants().astype(np.float64)
    alpha = np.tile(np.linspace(0, 255, SIZE), (SIZE, 1)).round()
    if mode == "LA":
        gray = np.asarray(Image.fromarray(_quadrants()).convert("L")).astype(np.float64)
        array = np.dstack([gray, alpha]).astype(np.uint8)
        colour = np.dstack([gray] * 3)
    else:
        array = np.dstack([rgb, alpha]).astype(np.uint8)
        colour = rgb
    path = _file(tmp_path, Image.fromarray(array, mode=mode), f"{mode}.png")
    out = load_image(path, SIZE).astype(np.float64)
    background = np.array(TRANSPARENCY_BACKGROUND, np.float64)
    a = alpha[..., None] / 255.0
    reference = colour * a + background * (1 - a)
    np.testing.assert_allclose(out, reference, atol=1.5)
    # Fully transparent pixels show the background, not black.
    assert tuple(out[0, 0].astype(int)) == TRANSPARENCY_BACKGROUND


def test_background_is_white():
    # The source datasets photograph products on white; transparent pixels become white too.
    assert TRANSPARENCY_BACKGROUND == (255, 255, 255)


def test_cmyk_jpeg_matches_the_reference_conversion(tmp_path):
    c, m, y, k = (np.full((SIZE, SIZE), v, np.uint8) for v in (0, 200, 200, 40))
    c[:, SIZE // 2 :] = 180
    cmyk = Image.merge("CMYK", [Image.fromarray(p) for p in (c, m, y, k)])
    path = _file(tmp_path, cmyk, "cmyk.jpg", quality=98)
    with Image.open(path) as image:
        assert image.mode == "CMYK"
    out = load_image(path, SIZE).astype(np.float64)
    # Naive CMYK -> RGB (no ICC profile embedded): R = 255 (1 - C) (1 - K), etc.
    k_scale = 1 - k.astype(np.float64) / 255
    reference = np.dstack([255 * (1 - p.astype(np.float64) / 255) * k_scale for p in (c, m, y)])
    assert np.abs(out - reference).mean() < 4


def test_image_check_and_load_use_the_same_conversion(tmp_path):
    # The scan decodes every image once; a 16-bit image passes it and loads scaled.
    ramp = np.full((8, 8), 32896, np.uint16)  # 128 * 257
    buffer = io.BytesIO()
    Image.fromarray(ramp).save(buffer, format="PNG")
    path = tmp_path / "flat16.png"
    path.write_bytes(buffer.getvalue())
    assert raw_images.load_image(str(path), 8)[0, 0].tolist() == [128, 128, 128]
