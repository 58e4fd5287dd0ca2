"""Atomic file writes, the project's one helper for them: a temporary file beside the target,
flushed to disk, then renamed over it with `os.replace`.

A reader never sees a half-written file, and a process killed mid-write leaves the old file
(or none) plus a hidden temporary. Temporary names start with TEMP_PREFIX and end with
TEMP_SUFFIX, so a shard pattern never matches them and a rebuild can clear them. No
TensorFlow import: the training package, the builders and the scripts all use it.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from typing import Any

TEMP_PREFIX = ".tmp-"
TEMP_SUFFIX = ".partial"


def temporary_path(path: str) -> str:
    """A unique hidden temporary name in `path`'s directory."""
    directory, name = os.path.split(path)
    return os.path.join(directory, f"{TEMP_PREFIX}{secrets.token_hex(4)}-{name}{TEMP_SUFFIX}")


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
