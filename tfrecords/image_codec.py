"""PNG encoding and decoding of session images (TensorFlow-free, so worker processes stay light)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def encode_png(image: np.ndarray) -> bytes:
    """PNG-encodes an image (deterministic bytes for equal pixels).

    Args:
      image: uint8 array [H, W, 3].

    Returns:
      The PNG bytes.

    Raises:
      ValueError: if the array is not uint8 [H, W, 3].
    """
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"expected a uint8 [H, W, 3] image, got {image.dtype} {image.shape}")
    buffer = io.BytesIO()
    Image.fromarray(image, mode="RGB").save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def decode_png(data: bytes) -> np.ndarray:
    """Decodes PNG bytes to a uint8 [H, W, 3] array."""
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"), dtype=np.uint8)


def png_size(data: bytes) -> tuple[int, int]:
    """Returns (height, width) of PNG bytes without decoding the pixels."""
    with Image.open(io.BytesIO(data)) as image:
        return image.height, image.width
