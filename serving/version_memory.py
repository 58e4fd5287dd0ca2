"""Releasing a retired version's memory.

A loaded SavedModel is full of reference cycles (its concrete functions, their graphs and the
objects that own them), so dropping the last reference frees almost nothing; the version
(about 35 MB for the TinyEditor, including its function definitions in the eager context's
function library) waits for a full (generation 2) garbage collection. CPython runs those only
once the objects that survived a collection since the last one reach a quarter of the old ones,
and with TensorFlow imported there are ~420,000 old objects: under steady traffic that takes
about five swaps, and RSS climbs ~35 MB per swap between collections. So a retired version is
kept until no request holds it any more (its reference count, exact because nothing in
TensorFlow points back at a `LoadedVersion`), then one full collection runs, weak references
check that the version's functions are gone (a version still held after a few collections is
logged as leaked), and the freed heap goes back to the system (glibc `malloc_trim`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import dataclasses
import gc
import logging
import sys
import threading
import time
import weakref
from collections.abc import Callable

from serving.version_loading import LoadedVersion


@dataclasses.dataclass
class RetiredVersion:
    """A version taken out of routing whose memory is not released yet.

    Attributes:
        loaded: the version, held until no request uses it (then None).
        functions: weak references to its concrete functions; all dead once it is freed.
        since: time.monotonic() of the unload.
        next_collect: time.monotonic() of the next collection that may free it.
        collections: full collections run since `loaded` was dropped.
    """

    loaded: LoadedVersion | None
    functions: list[weakref.ref]
    since: float
    next_collect: float = 0.0
    collections: int = 0


def _libc_malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc
        return None


_MALLOC_TRIM = _libc_malloc_trim()


def release_memory() -> tuple[float, float]:
    """One full garbage collection, then returns free heap pages to the OS (glibc).

    Returns:
        (wall seconds, CPU seconds of this thread) it took; the collection holds the
        GIL, so requests wait meanwhile.
    """
    start, cpu = time.perf_counter(), time.thread_time()
    gc.collect()
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)
    return time.perf_counter() - start, time.thread_time() - cpu


class RetiredVersions:
    """The versions taken out of service whose memory is not released yet.

    Args:
        release_wait_s: how long a retired version may stay held by requests before it is
            collected anyway (a request frame kept alive by a reference cycle holds it until a
            collection); normally it goes once its last request finishes.
        release_delay_s: the collection waits this long after the unload: it holds the GIL,
            and the first requests on the new version should not wait for it too.
        poll_interval_s: the first backoff between collections of a version that survives one.
        decide: logs a decision about a version once (`ModelManager._decide`).

    Example:
        >>> retired = RetiredVersions(30.0, 2.0, 1.0, decide=lambda v, msg, level=0: None)
        >>> retired.retire(loaded)
        >>> retired.release()   # [3] once version 3 is no longer held and is collected
    """

    def __init__(
        self,
        release_wait_s: float,
        release_delay_s: float,
        poll_interval_s: float,
        decide: Callable[..., None],
    ):
        self.release_wait_s = release_wait_s
        self.release_delay_s = release_delay_s
        self.poll_interval_s = poll_interval_s
        self._decide = decide
        self._versions: dict[int, RetiredVersion] = {}
        self._lock = threading.Lock()

    def retire(self, loaded: LoadedVersion) -> None:
        """Takes `loaded` out of service: its memory is released once no request holds it."""
        retired = RetiredVersion(
            loaded=loaded,
            functions=[weakref.ref(f) for f in loaded.signatures.values()],
            since=time.monotonic(),
            next_collect=time.monotonic() + self.release_delay_s,
        )
        with self._lock:
            self._versions[loaded.version] = retired

    def release(self) -> list[int]:
        """Frees the memory of retired versions that no request holds any more.

        A version still held by a
        request waits (at most `release_wait_s`), and none is collected earlier than
        `release_delay_s` after its unload; then one full collection runs for all
        versions that are due, and a version whose functions survive it is collected
        again with backoff (one poll interval, doubling up to a minute), with a warning
        after the third try.

        Returns:
            The versions released now.
        """
        if not self._versions:
            return []
        with self._lock:
            return self._release_due()

    def _release_due(self) -> list[int]:
        now = time.monotonic()
        due = False
        for retired in self._versions.values():
            if retired.loaded is not None:
                # References: `retired.loaded` and getrefcount's argument; more are requests.
                held = sys.getrefcount(retired.loaded) > 2
                if held and now - retired.since < self.release_wait_s:
                    continue
                retired.loaded = None
            due = due or now >= retired.next_collect
        if not due:
            return []
        seconds, cpu = release_memory()
        released = []
        for version, retired in list(self._versions.items()):
            if retired.loaded is not None:
                continue
            if not any(ref() is not None for ref in retired.functions):
                del self._versions[version]
                released.append(version)
                self._decide(
                    version,
                    f"memory released {time.monotonic() - retired.since:.2f}s after the "
                    f"unload (collection: {seconds:.2f}s, {cpu:.2f}s CPU)",
                )
                continue
            retired.collections += 1
            retired.next_collect = time.monotonic() + min(
                60.0, max(self.poll_interval_s, 0.1) * 2 ** (retired.collections - 1)
            )
            if retired.collections == 3:
                self._decide(
                    version,
                    "still referenced after 3 full collections: its memory is not released "
                    "(a reference to the version or its functions is kept somewhere)",
                    logging.WARNING,
                )
        return released
