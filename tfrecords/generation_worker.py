"""Worker-process side of parallel synthetic builds (imports no TensorFlow: spawns stay cheap)."""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Callable, Iterator

from tfrecords.image_codec import encode_png
from tfrecords.session import Session

PARENT_POLL_SECONDS = 0.2


def _exit_when_orphaned(parent_pid: int) -> None:
    while True:
        if os.getppid() != parent_pid:
            os._exit(1)  # The build's process is gone: nobody will read what we make.
        time.sleep(PARENT_POLL_SECONDS)


def init_worker(parent_pid: int) -> None:
    """Pool initializer: the worker exits within PARENT_POLL_SECONDS of its parent's death.

    A worker in the middle of a chunk otherwise finishes it (seconds to minutes) after the
    parent was killed, since a SIGKILL gives the pool no chance to terminate its workers.
    """
    threading.Thread(
        target=_exit_when_orphaned, args=(parent_pid,), name="parent-watch", daemon=True
    ).start()


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
