"""One training process per run folder.

Two trainers on one run folder (the main job started twice in one clone, a resume typed while
the first run still trains) would both write its checkpoints, backup and `train_state.json`,
and each resume from the other's half-finished epochs. `RunLock` refuses the second one with a
message that names the process that holds the folder.

The lock is an advisory `flock` on `<run_dir>/train.lock` (per worker task in a multi-worker
cluster: `train.task<N>.lock` for the non-chief tasks). The kernel drops it when its process
ends in any way, `kill -9` included, so a killed run never leaves a stale lock behind: the next
`train.py` on the folder takes it and resumes. The file also records who holds it (PID, host,
command, start time) for the message; it stays on disk after the run and means nothing then.
`flock` is not reliable across hosts on some network file systems: run one cluster per folder.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time

__all__ = ["RunFolderBusyError", "RunLock", "lock_file_name"]


class RunFolderBusyError(RuntimeError):
    """Another live process trains this run folder."""


def lock_file_name(task: int = 0, chief: bool = True) -> str:
    """The lock file of one process of a run: `train.lock` for the chief (or a single process),
    `train.task<N>.lock` for a non-chief worker task N."""
    return "train.lock" if chief else f"train.task{task}.lock"


class RunLock:
    """Holds `<run_dir>/<name>` with an exclusive, non-blocking `flock` while in a `with` block.

    Example:
      with RunLock(run_dir):
          ...  # train; a second RunLock(run_dir) in any process raises RunFolderBusyError
    """

    def __init__(self, run_dir: str, name: str = "train.lock"):
        self.run_dir = run_dir
        self.path = os.path.join(run_dir, name)
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        os.makedirs(self.run_dir, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise RunFolderBusyError(self._busy_message(holder)) from None
        except BaseException:
            os.close(fd)
            raise
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": " ".join(sys.argv),
            "since": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(holder) + "\n").encode("utf-8"), 0)
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def _busy_message(self, holder: dict) -> str:
        who = f"process {holder['pid']}" if "pid" in holder else "another process"
        if holder.get("host") and holder["host"] != socket.gethostname():
            who += f" on {holder['host']}"
        details = "; ".join(
            f"{key}: {holder[key]}" for key in ("command", "since") if holder.get(key)
        )
        stop = f" (kill {holder['pid']})" if "pid" in holder else ""
        return (
            f"{self.run_dir} is being trained by {who}"
            + (f" ({details})" if details else "")
            + "; two trainers on one run folder would overwrite each other's checkpoints. "
            f"Wait for it to finish, stop it{stop} and run this again to resume, or pick "
            "another --run_dir"
        )


def _read_holder(fd: int) -> dict:
    """What the holder wrote into the lock file ({} if unreadable: it may be mid-write)."""
    try:
        holder = json.loads(os.pread(fd, 4096, 0).decode("utf-8") or "{}")
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}
