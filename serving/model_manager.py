"""Loads the SavedModel versions of one model folder and hot-swaps new ones.

Mirrors TF Serving's file-system source with the default `latest` version policy:
the `num_versions` newest integer folders under the model base path are served. A
background thread polls the folder; a new version is loaded and warmed up before it
becomes AVAILABLE, and only then is the previous one unloaded (availability
preserving). Readers get an immutable snapshot, so a request that already holds the
old version finishes on it even while the swap happens.

Its parts: loading and warm-up (`serving/version_loading.py`), which folders to serve and
when to retry a failed one (`serving/version_policy.py`), and releasing a retired version's
memory (`serving/version_memory.py`, run by the `model-releaser` thread every poll interval,
so a slow load of the next version does not delay it). Every decision is logged once when it
is made (loaded, failed with the reason, skipped with the reason, unloaded, released).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable

from serving.version_loading import (  # noqa: F401 (register_custom_ops: part of the API)
    LoadedVersion,
    load_version,
    register_custom_ops,
    warm_up,
)
from serving.version_memory import RetiredVersions
from serving.version_policy import (
    LoadFailure,
    fingerprint,
    list_versions,
    next_failure,
    skip_reason,
)

# Version states, named as in tensorflow.serving.ModelVersionStatus.State.
LOADING = "LOADING"
AVAILABLE = "AVAILABLE"
UNLOADING = "UNLOADING"
END = "END"


@dataclasses.dataclass(frozen=True)
class VersionStatus:
    """State of one version, as reported by GetModelStatus."""

    version: int
    state: str
    error: str = ""


class ModelNotFoundError(LookupError):
    """The requested version is not loaded."""


class ModelManager:
    """Serves the newest `num_versions` versions under `base_path`, polling for new ones.

    Args:
        model_name: the name clients use in model_spec.name.
        base_path: `<export_dir>/<model_name>`, holding integer version folders.
        poll_interval_s: seconds between folder scans by the background thread.
        num_versions: how many of the newest versions to keep loaded.
        run_warmup: warm up each version (every signature) before it becomes AVAILABLE.
        on_change: called (with this manager) whenever the set of available versions changes.
        max_load_retries: retries of a failed version whose contents did not change
            (TF Serving's max_num_load_retries); a content change resets the count.
        max_retry_interval_s: cap of the exponential backoff between those retries.
        release_wait_s: how long a retired version may stay held by requests before it
            is collected anyway (a request frame kept alive by a reference cycle holds
            it until a collection); normally it goes once its last request finishes.
        release_delay_s: the collection waits this long after the unload: it holds the
            GIL (0.07-0.09 s of CPU for the TinyEditor after `gc.freeze`), and the first
            requests on the new version should not wait for it too.
    """

    def __init__(
        self,
        model_name: str,
        base_path: str,
        poll_interval_s: float = 1.0,
        num_versions: int = 1,
        run_warmup: bool = True,
        on_change: Callable[[ModelManager], None] | None = None,
        max_load_retries: int = 5,
        max_retry_interval_s: float = 60.0,
        release_wait_s: float = 30.0,
        release_delay_s: float = 2.0,
    ):
        if num_versions < 1:
            raise ValueError(f"num_versions must be >= 1, got {num_versions}")
        self.model_name = model_name
        self.base_path = base_path
        self.poll_interval_s = poll_interval_s
        self.num_versions = num_versions
        self.run_warmup = run_warmup
        self.on_change = on_change
        self.max_load_retries = max_load_retries
        self.max_retry_interval_s = max_retry_interval_s
        self.release_wait_s = release_wait_s
        self.release_delay_s = release_delay_s
        # Unloaded, memory not released yet.
        self._retired = RetiredVersions(
            release_wait_s, release_delay_s, poll_interval_s, decide=self._decide
        )
        self._releaser: threading.Thread | None = None
        self._available: dict[int, LoadedVersion] = {}  # replaced, never mutated
        self._status: dict[int, VersionStatus] = {}
        self._failed: dict[int, LoadFailure] = {}
        self._last_fingerprint: dict[int, tuple] = {}
        self._decisions: dict[int, str] = {}  # last decision logged per version
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # Readers.

    def get(self, version: int | None = None) -> LoadedVersion:
        """The newest available version, or `version` if given.

        Raises:
            ModelNotFoundError: nothing is loaded, or `version` is not loaded.
        """
        available = self._available  # one atomic read: a consistent snapshot
        if not available:
            raise ModelNotFoundError(f"model {self.model_name!r} has no available version yet")
        if version is None:
            return available[max(available)]
        if version not in available:
            raise ModelNotFoundError(
                f"version {version} of model {self.model_name!r} is not available "
                f"(available: {sorted(available)})"
            )
        return available[version]

    def available_versions(self) -> list[int]:
        """Versions that can serve requests now, ascending."""
        return sorted(self._available)

    def statuses(self) -> list[VersionStatus]:
        """Every version seen so far, ascending."""
        with self._lock:
            return [self._status[v] for v in sorted(self._status)]

    # Polling.

    def _decide(self, version: int, decision: str, level: int = logging.INFO) -> None:
        """Logs `decision` about `version` unless it is the one logged last for it."""
        if self._decisions.get(version) != decision:
            self._decisions[version] = decision
            logging.log(level, "%s version %d: %s", self.model_name, version, decision)

    def _skip_reason(self, version: int, prints: dict[int, tuple], now: float) -> str | None:
        """Why `version` is not a candidate for loading now (None: it is)."""
        path = os.path.join(self.base_path, str(version))
        return skip_reason(
            os.path.exists(os.path.join(path, "saved_model.pb")),
            self._failed.get(version),
            prints[version],
            self._last_fingerprint.get(version),
            now,
            self.max_load_retries,
        )

    def _record_failure(self, version: int, print_: tuple, error: BaseException) -> None:
        failure, when = next_failure(
            self._failed.get(version),
            print_,
            error,
            time.monotonic(),
            self.max_load_retries,
            self.poll_interval_s,
            self.max_retry_interval_s,
        )
        self._failed[version] = failure
        # What GetModelStatus tells clients: the kind of failure, not its text (paths and
        # internals of this machine); the log below has the reason.
        self._set_status(
            version, END, f"failed to load ({type(error).__name__}); the server log has the reason"
        )
        self._decide(version, f"failed to load ({failure.reason}); {when}", logging.WARNING)

    def _load(self, version: int, print_: tuple) -> bool:
        """Loads and warms up `version`, then routes to it; False (logged) if that failed."""
        path = os.path.join(self.base_path, str(version))
        self._set_status(version, LOADING)
        start = time.monotonic()
        try:
            loaded = load_version(path, version, run_warmup=False)
            warmed = warm_up(loaded) if self.run_warmup else []
        except Exception as error:  # a broken export must not take the server down
            logging.debug("Load of %s failed", path, exc_info=True)
            self._record_failure(version, print_, error)
            return False
        # Routed to only now: loaded and every signature warmed up.
        with self._lock:
            self._available = {**self._available, version: loaded}
        self._failed.pop(version, None)
        self._set_status(version, AVAILABLE)
        self._decide(
            version,
            f"loaded in {time.monotonic() - start:.2f}s, warmed up {warmed or 'nothing'}; "
            "AVAILABLE",
        )
        return True

    def poll_once(self) -> bool:
        """Loads newly aspired versions (retrying failed ones) and unloads superseded ones.

        Returns:
            True if the set of available versions changed.
        """
        now = time.monotonic()
        on_disk = list_versions(self.base_path)
        prints = {v: fingerprint(os.path.join(self.base_path, str(v))) for v in on_disk}
        skip = {v: self._skip_reason(v, prints, now) for v in on_disk}
        changed = False
        # Failed versions out of retries are left out, so a broken export never pushes a
        # good version out (TF Serving would unload it and serve one fewer).
        candidates = [v for v in on_disk if skip[v] is None or v in self._available]
        failed_now: set[int] = set()
        while True:  # a version that fails now leaves its place to the next-newest one
            aspired = [v for v in candidates if v not in failed_now][-self.num_versions :]
            pending = [v for v in aspired if v not in self._available]
            if not pending:
                break
            for version in pending:
                if self._load(version, prints[version]):
                    changed = True
                else:
                    failed_now.add(version)
        for version in on_disk:
            if version in self._available or version in failed_now:
                continue
            if skip[version] is not None:
                self._decide(version, skip[version])
            elif version not in aspired:
                self._decide(
                    version,
                    f"skipped: older than the {self.num_versions} newest loadable version(s) "
                    f"{aspired}",
                )
        # Availability preserving: retire old versions only once an aspired one serves.
        if any(v in self._available for v in aspired):
            for version in [v for v in self._available if v not in aspired]:
                self._set_status(version, UNLOADING)
                self._retired.retire(self._available[version])
                with self._lock:
                    self._available = {
                        v: m for v, m in self._available.items() if v != version
                    }  # in-flight requests keep their reference until they finish
                self._set_status(version, END)
                gone = version not in on_disk
                self._decide(
                    version,
                    "unloaded: its folder was removed"
                    if gone
                    else f"unloaded: superseded by {sorted(self._available)}",
                )
                changed = True
        self._last_fingerprint = prints
        for version in list(self._failed):
            if version not in on_disk:
                del self._failed[version]
        if changed and self.on_change is not None:
            self.on_change(self)
        self.release_retired()
        return changed

    def release_retired(self) -> list[int]:
        """Frees the memory of retired versions that no request holds any more (see
        `RetiredVersions.release`). Called after every poll and by the releaser thread.

        Returns:
            The versions released now.
        """
        return self._retired.release()

    def start(self) -> None:
        """Starts the background poller (it polls once immediately)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="model-poller", daemon=True)
        self._thread.start()
        self._releaser = threading.Thread(
            target=self._run_releaser, name="model-releaser", daemon=True
        )
        self._releaser.start()

    def stop(self) -> None:
        """Stops the background poller."""
        self._stop.set()
        for thread in (self._thread, self._releaser):
            if thread is not None:
                thread.join(timeout=30)
        self._thread = self._releaser = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:  # keep polling whatever happens
                logging.exception("Model poll failed")
            self._stop.wait(self.poll_interval_s)

    def _run_releaser(self) -> None:
        while not self._stop.wait(max(self.poll_interval_s, 0.1)):
            try:
                self.release_retired()
            except Exception:  # keep releasing whatever happens
                logging.exception("Releasing retired versions failed")

    def _set_status(self, version: int, state: str, error: str = "") -> None:
        with self._lock:
            self._status[version] = VersionStatus(version, state, error)
