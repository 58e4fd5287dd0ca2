"""File helpers, the project's one module for them: atomic writes and a file's sha256.

Atomic file writes: a temporary file beside the target,
flushed to disk, then renamed over it with `os.replace`.

A reader never sees a half-written file, and a process killed mid-write leaves the old file
(or none) plus a hidden temporary. Temporary names start with TEMP_PREFIX and end with
TEMP_SUFFIX, so a shard pattern never matches them and a rebuild can clear them. Writers that
insist on an extension (Keras weights and models, PIL images) get it repeated after
TEMP_SUFFIX. No TensorFlow import: the training package, the builders and the scripts all use
it (the Keras and PIL helpers only call the object's own save method).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Callable
from typing import Any

TEMP_PREFIX = ".tmp-"
TEMP_SUFFIX = ".partial"


def temporary_path(path: str, keep_extension: str = "") -> str:
    """A unique hidden temporary name in `path`'s directory.

    Args:
      path: the target file.
      keep_extension: an ending that the writer insists on (Keras: ".weights.h5", ".keras";
        PIL: ".png"); it is repeated after TEMP_SUFFIX, so the name still starts with
        TEMP_PREFIX and carries TEMP_SUFFIX.
    """
    directory, name = os.path.split(path)
    token = secrets.token_hex(4)
    return os.path.join(directory, f"{TEMP_PREFIX}{token}-{name}{TEMP_SUFFIX}{keep_extension}")


def write_atomically(path: str, write: Callable[[str], Any], keep_extension: str = "") -> None:
    """Calls `write(temporary_path)`, then renames the temporary file over `path`.

    For writers that take a file name (Keras `save_weights` / `save`, PIL `Image.save`): a kill
    or an exception during `write` leaves `path` as it was (the old file, or none).

    Args:
      path: the target file.
      write: writes the complete file to the name it is given.
      keep_extension: the ending the writer needs on that name (e.g. ".weights.h5").

    Example:
      write_atomically(path, model.save_weights, keep_extension=".weights.h5")
    """
    temp_path = temporary_path(path, keep_extension)
    try:
        write(temp_path)
        with open(temp_path, "rb") as f:
            os.fsync(f.fileno())
        os.replace(temp_path, path)
    finally:
        if os.path.exists(temp_path):
            os.remove(temp_path)


def save_weights_atomically(model: Any, path: str) -> None:
    """Keras `model.save_weights(path)` through a temporary file renamed over `path`."""
    write_atomically(path, model.save_weights, keep_extension=".weights.h5")


def save_model_atomically(model: Any, path: str) -> None:
    """Keras `model.save(path)` (a ".keras" file) through a temporary file renamed over `path`."""
    write_atomically(path, model.save, keep_extension=".keras")


def save_image_atomically(image: Any, path: str) -> None:
    """PIL `image.save(path)` (format from the extension) through a temporary file."""
    write_atomically(path, image.save, keep_extension=os.path.splitext(path)[1])


def remove_temporaries(directory: str) -> list[str]:
    """Deletes the temporaries that killed writers left in `directory`; returns their paths."""
    if not os.path.isdir(directory):
        return []
    removed = []
    for name in os.listdir(directory):
        if name.startswith(TEMP_PREFIX) and TEMP_SUFFIX in name:
            path = os.path.join(directory, name)
            if os.path.isfile(path):
                os.remove(path)
                removed.append(path)
    return removed


def write_text_atomically(path: str, text: str) -> None:
    """Writes `text` (UTF-8) to `path` atomically."""
    temp_path = temporary_path(path)
    try:
        with open(temp_path, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp_path, path)
    finally:
        if os.path.exists(temp_path):
            os.remove(temp_path)


def write_json_atomically(
    path: str,
    content: Any,
    *,
    sort_keys: bool = False,
    default: Callable[[Any], Any] | None = None,
) -> None:
    """Writes `content` as indented JSON (and a final newline) to `path` atomically.

    Args:
      path: the target file.
      content: anything `json.dumps` takes.
      sort_keys: sort the keys of every object.
      default: `json.dumps`'s converter for values JSON has no type for (e.g. numpy scalars).
    """
    text = json.dumps(content, indent=2, sort_keys=sort_keys, default=default)
    write_text_atomically(path, text + "\n")


def sha256_of_file(path: str) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB blocks.

    Example:
      >>> sha256_of_file("raw/sessions.jsonl")
      'e3b0c442...'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
