"""Which version folders to serve, and when to retry one that failed to load.

TF Serving's behaviour is the reference: it retries a failed load `max_num_load_retries` = 5
times, `load_retry_interval` = 1 min apart, and never again after that. Here a version that
failed is retried with exponential backoff (one poll interval, doubling, at most
`max_retry_interval_s`) up to `max_load_retries` times while its contents are unchanged, and at
once when its contents change (a copy that completed, a folder replaced by a good one) and have
stopped changing over one poll; a content change also resets the retry count.
"""

from __future__ import annotations

import dataclasses
import os


def list_versions(base_path: str) -> list[int]:
    """Integer version folders under `base_path`, ascending (complete or not)."""
    try:
        names = os.listdir(base_path)
    except FileNotFoundError:
        return []
    return sorted(
        int(name)
        for name in names
        if name.isdigit() and os.path.isdir(os.path.join(base_path, name))
    )


def fingerprint(path: str) -> tuple:
    """What a version folder holds: its inode, and (path, size, mtime) of every file.

    Changes when a copy progresses or completes and when the folder is replaced
    (a rename brings another inode), without reading any file.
    """
    try:
        entries: list[tuple] = [("", os.stat(path).st_ino)]
    except FileNotFoundError:
        return ()
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(root, name)
            try:
                st = os.stat(full)
            except FileNotFoundError:
                continue
            entries.append((os.path.relpath(full, path), st.st_size, st.st_mtime_ns))
    return tuple(entries)


@dataclasses.dataclass
class LoadFailure:
    """A version that failed to load: what it held then, and when to try again."""

    fingerprint: tuple
    attempts: int
    next_retry: float  # time.monotonic(); inf once the retries are used up
    reason: str
    delay: float = 0.0
