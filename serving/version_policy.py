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


def skip_reason(
    has_saved_model: bool,
    failure: LoadFailure | None,
    contents: tuple,
    last_contents: tuple | None,
    now: float,
    max_load_retries: int,
) -> str | None:
    """Why a version folder is not a candidate for loading now (None: it is).

    Args:
        has_saved_model: the folder holds a saved_model.pb.
        failure: the version's last failed load, or None.
        contents: its `fingerprint` now; last_contents: at the previous poll.
        now: time.monotonic().
        max_load_retries: retries while the contents are unchanged.
    """
    if not has_saved_model:
        return "skipped: no saved_model.pb (incomplete or not a SavedModel)"
    if failure is None:
        return None
    if contents != failure.fingerprint:
        if contents != last_contents:
            return "skipped: contents changing since the failed load; retried once they settle"
        return None  # changed since the failure and settled: retry
    if now >= failure.next_retry:
        return None
    if failure.attempts > max_load_retries:
        return (
            f"skipped: failed {failure.attempts} times with these contents "
            f"({failure.reason}); retried when its contents change"
        )
    return (
        f"skipped: failed ({failure.reason}); retry {failure.attempts} of "
        f"{max_load_retries} {failure.delay:.1f}s after the failure, or when its "
        "contents change"
    )


def next_failure(
    previous: LoadFailure | None,
    contents: tuple,
    error: BaseException,
    now: float,
    max_load_retries: int,
    poll_interval_s: float,
    max_retry_interval_s: float,
) -> tuple[LoadFailure, str]:
    """The record of a failed load and when it is retried: (failure, "retry 2 of 5 in ...").

    The count restarts when the contents changed since the previous failure; the delay doubles
    from one poll interval up to `max_retry_interval_s`; past `max_load_retries` the version
    waits for its contents to change.
    """
    attempts = 1 if previous is None or previous.fingerprint != contents else previous.attempts + 1
    reason = f"{type(error).__name__}: {error}".strip()
    if len(reason) > 500:
        reason = reason[:500] + "..."
    delay = 0.0
    if attempts > max_load_retries:
        next_retry = float("inf")
        when = "no more retries until its contents change"
    else:
        delay = min(max_retry_interval_s, max(poll_interval_s, 0.1) * 2 ** (attempts - 1))
        next_retry = now + delay
        when = f"retry {attempts} of {max_load_retries} in {delay:.1f}s or when its contents change"
    return LoadFailure(contents, attempts, next_retry, reason, delay), when
