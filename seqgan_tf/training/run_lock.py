"""One training process per run folder.

Two trainers on one run folder (the main job started twice in one clone, a resume typed while
the first run still trains) would both write its checkpoints, backup and `train_state.json`,
and each resume from the other's half-finished epochs. `RunLock` refuses the second one with a
message that names the process that holds the folder.

The lock is a `common.file_lock.FileLock` (an advisory `flock`) on `<run_dir>/train.lock`
(per worker task in a multi-worker cluster: `train.task<N>.lock` for the non-chief tasks). The
kernel drops it when its process ends in any way, `kill -9` included, so a killed run never
leaves a stale lock behind: the next `train.py` on the folder takes it and resumes. The file
records who holds it for the message. `flock` is not reliable across hosts on some network file
systems: run one cluster per folder.
"""

from __future__ import annotations

import os

from common.file_lock import FileLock, LockHeldError, describe_holder

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
        self._lock = FileLock(self.path)

    def __enter__(self) -> RunLock:
        try:
            self._lock.__enter__()
        except LockHeldError as held:
            raise RunFolderBusyError(self._busy_message(held.holder)) from None
        return self

    def __exit__(self, *exc) -> None:
        self._lock.__exit__(*exc)

    def _busy_message(self, holder: dict) -> str:
        stop = f" (kill {holder['pid']})" if "pid" in holder else ""
        return (
            f"{self.run_dir} is being trained by {describe_holder(holder)}"
            + "; two trainers on one run folder would overwrite each other's checkpoints. "
            f"Wait for it to finish, stop it{stop} and run this again to resume, or pick "
            "another --run_dir"
        )
