"""Loading one SavedModel version and warming up every signature before it serves.

Warm-up: the version's `assets.extra/tf_serving_warmup_requests` is replayed, and every
signature the file does not cover is called once with a synthesized request (each loaded
signature is initialised on its first call, `edit` and `serving_default` separately), so no
traffic reaches a signature before it ran.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from typing import Any

import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import meta_graph_pb2, saved_model_pb2

from serving import contract, warmup
from serving.signature_info import signature_info

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
