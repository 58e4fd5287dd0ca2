"""Loads the SavedModel versions of one model folder and hot-swaps new ones.

Mirrors TF Serving's file-system source with the default `latest` version policy:
the `num_versions` newest integer folders under the model base path are served. A
background thread polls the folder; a new version is loaded and warmed up (its
`assets.extra/tf_serving_warmup_requests` replayed) before it becomes AVAILABLE,
and only then is the previous one unloaded (availability preserving). Readers get
an immutable snapshot, so a request that already holds the old version finishes on
it even while the swap happens.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import tensorflow as tf
from tensorflow.core.protobuf import meta_graph_pb2, saved_model_pb2

from seqgan_tf.export import warmup

# Version states, named as in tensorflow.serving.ModelVersionStatus.State.
LOADING = "LOADING"
AVAILABLE = "AVAILABLE"
UNLOADING = "UNLOADING"
END = "END"

_INIT_OP = "__saved_model_init_op"


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


def load_version(path: str, version: int, run_warmup: bool = True) -> LoadedVersion:
    """Loads (and warms up) the SavedModel in `path`.

    Args:
        path: version folder holding saved_model.pb.
        version: its integer version.
        run_warmup: replay the warm-up requests of assets.extra, if any.

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
        for request in warmup.read_warmup_file(path):
            name = request.model_spec.signature_name or "serving_default"
            inputs = {k: tf.constant(tf.make_ndarray(v)) for k, v in request.inputs.items()}
            loaded.signatures[name](**inputs)
    return loaded


def list_versions(base_path: str) -> list[int]:
    """Complete integer version folders (holding saved_model.pb) under `base_path`, ascending."""
    try:
        names = os.listdir(base_path)
    except FileNotFoundError:
        return []
    return sorted(
        int(name)
        for name in names
        if name.isdigit() and os.path.exists(os.path.join(base_path, name, "saved_model.pb"))
    )


class ModelNotFoundError(LookupError):
    """The requested version is not loaded."""


class ModelManager:
    """Serves the newest `num_versions` versions under `base_path`, polling for new ones.

    Args:
        model_name: the name clients use in model_spec.name.
        base_path: `<export_dir>/<model_name>`, holding integer version folders.
        poll_interval_s: seconds between folder scans by the background thread.
        num_versions: how many of the newest versions to keep loaded.
        run_warmup: replay each version's warm-up file before it becomes AVAILABLE.
        on_change: called (with this manager) whenever the set of available versions changes.
    """

    def __init__(
        self,
        model_name: str,
        base_path: str,
        poll_interval_s: float = 1.0,
        num_versions: int = 1,
        run_warmup: bool = True,
        on_change: Callable[[ModelManager], None] | None = None,
    ):
        if num_versions < 1:
            raise ValueError(f"num_versions must be >= 1, got {num_versions}")
        self.model_name = model_name
        self.base_path = base_path
        self.poll_interval_s = poll_interval_s
        self.num_versions = num_versions
        self.run_warmup = run_warmup
        self.on_change = on_change
        self._available: dict[int, LoadedVersion] = {}  # replaced, never mutated
        self._status: dict[int, VersionStatus] = {}
        self._failed: set[int] = set()
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

    def poll_once(self) -> bool:
        """Loads newly aspired versions and unloads superseded ones.

        Returns:
            True if the set of available versions changed.
        """
        # Versions that failed to load are skipped, so a broken export never pushes a
        # good version out (TF Serving would unload it and serve one fewer).
        loadable = [v for v in list_versions(self.base_path) if v not in self._failed]
        aspired = loadable[-self.num_versions :]
        changed = False
        for version in aspired:
            if version in self._available:
                continue
            path = os.path.join(self.base_path, str(version))
            self._set_status(version, LOADING)
            start = time.monotonic()
            try:
                loaded = load_version(path, version, self.run_warmup)
            except Exception as error:  # a broken export must not take the server down
                logging.exception("Failed to load %s", path)
                self._failed.add(version)
                self._set_status(version, END, f"{type(error).__name__}: {error}")
                continue
            with self._lock:
                self._available = {**self._available, version: loaded}
            self._set_status(version, AVAILABLE)
            logging.info(
                "Loaded %s version %d in %.2fs", self.model_name, version, time.monotonic() - start
            )
            changed = True
        aspired = [v for v in loadable if v not in self._failed][-self.num_versions :]
        # Availability preserving: retire old versions only once an aspired one serves.
        if any(v in self._available for v in aspired):
            for version in [v for v in self._available if v not in aspired]:
                self._set_status(version, UNLOADING)
                with self._lock:
                    self._available = {
                        v: m for v, m in self._available.items() if v != version
                    }  # in-flight requests keep their reference until they finish
                self._set_status(version, END)
                logging.info("Unloaded %s version %d", self.model_name, version)
                changed = True
        if changed and self.on_change is not None:
            self.on_change(self)
        return changed

    def start(self) -> None:
        """Starts the background poller (it polls once immediately)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="model-poller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stops the background poller."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:  # keep polling whatever happens
                logging.exception("Model poll failed")
            self._stop.wait(self.poll_interval_s)

    def _set_status(self, version: int, state: str, error: str = "") -> None:
        with self._lock:
            self._status[version] = VersionStatus(version, state, error)
