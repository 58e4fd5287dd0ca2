"""Loads the SavedModel versions of one model folder and hot-swaps new ones.

Mirrors TF Serving's file-system source with the default `latest` version policy:
the `num_versions` newest integer folders under the model base path are served. A
background thread polls the folder; a new version is loaded and warmed up before it
becomes AVAILABLE, and only then is the previous one unloaded (availability
preserving). Readers get an immutable snapshot, so a request that already holds the
old version finishes on it even while the swap happens.

Warm-up: the version's `assets.extra/tf_serving_warmup_requests` is replayed, and
every signature the file does not cover is called once with a synthesized request
(each loaded signature is initialised on its first call, `edit` and
`serving_default` separately), so no traffic reaches a signature before it ran.

Failed versions (TF Serving's behaviour as the reference: it retries a failed load
`max_num_load_retries` = 5 times, `load_retry_interval` = 1 min apart, and never again
after that): a version that failed is retried with exponential backoff (one poll
interval, doubling, at most `max_retry_interval_s`) up to `max_load_retries` times
while its contents are unchanged, and at once when its contents change (a copy that
completed, a folder replaced by a good one) and have stopped changing over one poll;
a content change also resets the retry count. Every decision is logged once when it
is made (loaded, failed with the reason, skipped with the reason, unloaded, released).

Releasing a retired version's memory: a loaded SavedModel is full of reference cycles
(its concrete functions, their graphs and the objects that own them), so dropping the
last reference frees almost nothing; the version (about 35 MB for the TinyEditor,
including its function definitions in the eager context's function library) waits for
a full (generation 2) garbage collection. CPython runs those only once the objects that
survived a collection since the last one reach a quarter of the old ones, and with
TensorFlow imported there are ~420,000 old objects: under steady traffic that took
about five swaps, so RSS climbed ~35 MB per swap between collections. The manager
therefore keeps a retired version until no request holds it any more (its reference
count, exact because nothing in TensorFlow points back at a `LoadedVersion`), then
runs one full collection, checks through weak references that the version's functions
are gone (a version still held after a few collections is logged as leaked), and hands
the freed heap back to the system (glibc `malloc_trim`). This runs in its own thread
(`model-releaser`, every poll interval), so a slow load of the next version does not
delay it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import dataclasses
import gc
import logging
import os
import sys
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import meta_graph_pb2, saved_model_pb2

from serving import contract, warmup
from serving.signature_info import signature_info

# Version states, named as in tensorflow.serving.ModelVersionStatus.State.
LOADING = "LOADING"
AVAILABLE = "AVAILABLE"
UNLOADING = "UNLOADING"
END = "END"

_INIT_OP = "__saved_model_init_op"
_DEFAULT_IMAGE_SIZE = 64


@dataclasses.dataclass(frozen=True)
class LoadedVersion:
    """One loaded SavedModel version.

    Attributes:
        version: integer version (folder name).
        path: the version folder.
        signatures: signature name -> concrete function.
        signature_defs: signature name -> SignatureDef proto (for GetModelMetadata).
        module: the loaded SavedModel object; kept so its variables stay alive.
    """

    version: int
    path: str
    signatures: dict[str, Any]
    signature_defs: dict[str, meta_graph_pb2.SignatureDef]
    module: Any

    def input_specs(self, signature: str) -> dict[str, tf.TensorSpec]:
        """Input name -> TensorSpec of `signature`."""
        return dict(self.signatures[signature].structured_input_signature[1])

    def output_names(self, signature: str) -> list[str]:
        """Output names of `signature`."""
        return sorted(self.signatures[signature].structured_outputs)


@dataclasses.dataclass(frozen=True)
class VersionStatus:
    """State of one version, as reported by GetModelStatus."""

    version: int
    state: str
    error: str = ""


def _read_signature_defs(path: str) -> dict[str, meta_graph_pb2.SignatureDef]:
    with open(os.path.join(path, "saved_model.pb"), "rb") as f:
        saved_model = saved_model_pb2.SavedModel.FromString(f.read())
    defs = saved_model.meta_graphs[0].signature_def
    return {name: defs[name] for name in defs if name != _INIT_OP}


def register_custom_ops() -> None:
    """Registers the tensorflow-text ops the editor's in-graph tokenizer uses.

    Loading a SavedModel that calls them fails with "Op type not registered" unless
    the module was imported in this process (TF Serving links them in instead).
    """
    try:
        import tensorflow_text  # noqa: F401 (import registers the ops)
    except ImportError:
        logging.warning("tensorflow_text is not installed; models using its ops will not load")


def _synthesized_inputs(loaded: LoadedVersion, signature: str) -> dict[str, np.ndarray]:
    """Warm-up inputs for a signature the warm-up file does not cover."""
    specs = loaded.input_specs(signature)
    image_size = signature_info(loaded.signature_defs).image_size or _DEFAULT_IMAGE_SIZE
    state = specs.get(contract.STATE_INPUT)
    if set(specs) <= set(contract.EDIT_INPUTS) and (state is None or state.shape[-1] is not None):
        state_dim = 1 if state is None else int(state.shape[-1])
        inputs = warmup.signature_inputs(
            contract.EDIT_SIGNATURE if state is not None else contract.START_SIGNATURE,
            image_size,
            state_dim,
        )
        return {name: inputs[name] for name in specs}
    arrays = {}  # an unknown signature: one element, zeros / a short text
    for name, spec in specs.items():
        shape = [
            (1 if axis == 0 else image_size) if d is None else d
            for axis, d in enumerate(spec.shape.as_list())
        ]
        if spec.dtype == tf.string:
            arrays[name] = np.full(shape, warmup.WARMUP_TEXT.encode(), dtype=object)
        else:
            arrays[name] = np.zeros(shape, spec.dtype.as_numpy_dtype)
    return arrays


def warm_up(loaded: LoadedVersion) -> list[str]:
    """Replays the warm-up file, then calls every signature it did not cover once.

    Returns:
        The signatures called, in call order.

    Raises:
        Any TensorFlow error of a warm-up call (the version then fails to load).
    """
    called = []
    for request in warmup.read_warmup_file(loaded.path):
        name = request.model_spec.signature_name or contract.DEFAULT_SIGNATURE
        inputs = {k: tf.constant(tf.make_ndarray(v)) for k, v in request.inputs.items()}
        loaded.signatures[name](**inputs)
        called.append(name)
    for name in sorted(set(loaded.signatures) - set(called)):
        inputs = _synthesized_inputs(loaded, name)
        loaded.signatures[name](**{k: tf.constant(v) for k, v in inputs.items()})
        called.append(name)
    return called


def load_version(path: str, version: int, run_warmup: bool = True) -> LoadedVersion:
    """Loads (and warms up every signature of) the SavedModel in `path`.

    Args:
        path: version folder holding saved_model.pb.
        version: its integer version.
        run_warmup: replay the warm-up requests of assets.extra and call every signature
            they do not cover.

    Returns:
        The loaded version.

    Raises:
        Any TensorFlow or OS error from loading or warm-up.
    """
    register_custom_ops()
    module = tf.saved_model.load(path)
    loaded = LoadedVersion(
        version=version,
        path=path,
        signatures=dict(module.signatures),
        signature_defs=_read_signature_defs(path),
        module=module,
    )
    if run_warmup:
        warm_up(loaded)
    return loaded


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
class _Failure:
    """A version that failed to load: what it held then, and when to try again."""

    fingerprint: tuple
    attempts: int
    next_retry: float  # time.monotonic(); inf once the retries are used up
    reason: str
    delay: float = 0.0


@dataclasses.dataclass
class _Retired:
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
        self._retired: dict[int, _Retired] = {}  # unloaded, memory not released yet
        self._release_lock = threading.Lock()
        self._releaser: threading.Thread | None = None
        self._available: dict[int, LoadedVersion] = {}  # replaced, never mutated
        self._status: dict[int, VersionStatus] = {}
        self._failed: dict[int, _Failure] = {}
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
        if not os.path.exists(os.path.join(path, "saved_model.pb")):
            return "skipped: no saved_model.pb (incomplete or not a SavedModel)"
        failure = self._failed.get(version)
        if failure is None:
            return None
        if prints[version] != failure.fingerprint:
            if prints[version] != self._last_fingerprint.get(version):
                return "skipped: contents changing since the failed load; retried once they settle"
            return None  # changed since the failure and settled: retry
        if now >= failure.next_retry:
            return None
        if failure.attempts > self.max_load_retries:
            return (
                f"skipped: failed {failure.attempts} times with these contents "
                f"({failure.reason}); retried when its contents change"
            )
        return (
            f"skipped: failed ({failure.reason}); retry {failure.attempts} of "
            f"{self.max_load_retries} {failure.delay:.1f}s after the failure, or when its "
            "contents change"
        )

    def _record_failure(self, version: int, print_: tuple, error: BaseException) -> None:
        previous = self._failed.get(version)
        attempts = (
            1 if previous is None or previous.fingerprint != print_ else previous.attempts + 1
        )
        reason = f"{type(error).__name__}: {error}".strip()
        if len(reason) > 500:
            reason = reason[:500] + "..."
        delay = 0.0
        if attempts > self.max_load_retries:
            next_retry = float("inf")
            when = "no more retries until its contents change"
        else:
            delay = min(
                self.max_retry_interval_s, max(self.poll_interval_s, 0.1) * 2 ** (attempts - 1)
            )
            next_retry = time.monotonic() + delay
            when = f"retry {attempts} of {self.max_load_retries} in {delay:.1f}s or when its contents change"
        self._failed[version] = _Failure(print_, attempts, next_retry, reason, delay)
        # What GetModelStatus tells clients: the kind of failure, not its text (paths and
        # internals of this machine); the log below has the reason.
        self._set_status(
            version, END, f"failed to load ({type(error).__name__}); the server log has the reason"
        )
        self._decide(version, f"failed to load ({reason}); {when}", logging.WARNING)

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
                self._retire(self._available[version])
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

    def _retire(self, loaded: LoadedVersion) -> None:
        retired = _Retired(
            loaded=loaded,
            functions=[weakref.ref(f) for f in loaded.signatures.values()],
            since=time.monotonic(),
            next_collect=time.monotonic() + self.release_delay_s,
        )
        with self._release_lock:
            self._retired[loaded.version] = retired

    def release_retired(self) -> list[int]:
        """Frees the memory of retired versions that no request holds any more.

        Called after every poll and by the releaser thread. A version still held by a
        request waits (at most `release_wait_s`), and none is collected earlier than
        `release_delay_s` after its unload; then one full collection runs for all
        versions that are due, and a version whose functions survive it is collected
        again with backoff (one poll interval, doubling up to a minute), with a warning
        after the third try.

        Returns:
            The versions released now.
        """
        if not self._retired:
            return []
        with self._release_lock:
            return self._release_retired()

    def _release_retired(self) -> list[int]:
        now = time.monotonic()
        due = False
        for retired in self._retired.values():
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
        for version, retired in list(self._retired.items()):
            if retired.loaded is not None:
                continue
            if not any(ref() is not None for ref in retired.functions):
                del self._retired[version]
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
