"""An exclusive lock held by one process, that names its holder to whoever else asks.

`FileLock(path)` takes an advisory `flock` on `path` and writes into it who holds it (PID,
host, command, start time). The kernel drops a `flock` when its process ends in any way,
`kill -9` included, so a killed holder never leaves a stale lock: the next process takes it.
The file stays on disk afterwards and means nothing then. `flock` is not reliable across hosts
on some network file systems.

Used by the trainer (one trainer per run folder, seqgan_tf/training/run_lock.py) and by the
dataset builds (one build of a dataset version at a time, tfrecords/builders.py).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
from collections.abc import Callable

__all__ = ["FileLock", "LockHeldError", "describe_holder"]


class LockHeldError(RuntimeError):
    """Another live process holds the lock (non-blocking acquire)."""

    def __init__(self, path: str, holder: dict):
        super().__init__(f"{path} is held by {describe_holder(holder)}")
        self.path = path
        self.holder = holder


class FileLock:
    """Holds `path` with an exclusive `flock` while in a `with` block.

    Args:
      path: the lock file (created, with its folder, if missing).
      wait: False raises LockHeldError at once if another process holds it; True waits.
      on_wait: called once with the holder's record (a dict, {} if unreadable) before waiting.

    Example:
      with FileLock("data/x.build.lock", wait=True, on_wait=print):
          ...  # no other process is inside a FileLock on the same file
    """

    def __init__(
        self, path: str, wait: bool = False, on_wait: Callable[[dict], None] | None = None
    ):
        self.path = path
        self.wait = wait
        self.on_wait = on_wait
        self._fd: int | None = None

    def __enter__(self) -> FileLock:
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_holder(fd)
                if not self.wait:
                    raise LockHeldError(self.path, holder) from None
                if self.on_wait is not None:
                    self.on_wait(holder)
                fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": " ".join(sys.argv),
            "since": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(record) + "\n").encode("utf-8"), 0)
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _read_holder(fd: int) -> dict:
    """What the holder wrote into the lock file ({} if unreadable: it may be mid-write)."""
    try:
        holder = json.loads(os.pread(fd, 4096, 0).decode("utf-8") or "{}")
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


def describe_holder(holder: dict) -> str:
    """'process 123 (command: ...; since: ...)', or 'another process' for an unreadable record."""
    who = f"process {holder['pid']}" if "pid" in holder else "another process"
    if holder.get("host") and holder["host"] != socket.gethostname():
        who += f" on {holder['host']}"
    details = "; ".join(f"{key}: {holder[key]}" for key in ("command", "since") if holder.get(key))
    return who + (f" ({details})" if details else "")
