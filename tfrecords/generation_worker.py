"""Worker-process side of parallel synthetic builds (imports no TensorFlow: spawns stay cheap)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

from tfrecords.image_codec import encode_png
from tfrecords.session import Session


def generate_encoded_chunk(
    args: tuple[Callable[..., Iterator[Session]], str, int, int, int, int],
) -> list[Session]:
    """Generates sessions [start, start + count) with their images already PNG-encoded.

    Args:
      args: (generate_fn, dataset, seed, image_size, start, count); generate_fn has the
        signature of `tfrecords.synthetic.generate_sessions` and must be importable by name.

    Returns:
      The sessions, each image replaced by its PNG bytes.
    """
    generate_fn, dataset, seed, image_size, start, count = args
    return [
        dataclasses.replace(session, images=[encode_png(image) for image in session.images])
        for session in generate_fn(dataset, count, seed, image_size=image_size, start=start)
    ]
