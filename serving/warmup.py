"""TF Serving warm-up records: `assets.extra/tf_serving_warmup_requests`.

The file is a TFRecord file of serialized `tensorflow.serving.PredictionLog`
protos, each holding a `predict_log.request`. TF Serving replays them when it loads
a version, before marking it AVAILABLE, so the first user request does not pay for
graph initialisation. The project's own server replays the same file, and warms up
any signature the file does not cover (see `ModelManager`).

Every exported signature needs its own request: `edit` and `serving_default` are
the same function in the SavedModel, but each loaded signature is initialised on
its first call (graph optimisation, kernel creation), which took 7.5-8.8 s for the
trained model. A file that covered only `serving_default` left all of that to the
first user `edit` after every version swap.

The requests are built with `serving.client.predict_request`, the client's own
request builder, so warm-up exercises exactly what clients send.
"""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_log_pb2

from serving import contract
from serving.client import predict_request

WARMUP_TEXT = "make it red"


def warmup_image(image_size: int) -> np.ndarray:
    """A deterministic uint8 [1, S, S, 3] colour ramp (what the client sends after resizing)."""
    ramp = np.linspace(0, 255, image_size, dtype=np.float32)
    rows, cols = np.meshgrid(ramp, ramp[::-1], indexing="ij")
    image = np.stack([rows, cols, np.full_like(rows, 128.0)], axis=-1)
    return image.astype(np.uint8)[None]


def signature_inputs(signature: str, image_size: int, state_dim: int) -> dict[str, np.ndarray]:
    """Inputs of one warm-up request for `signature` (a name of `serving.contract`).

    Raises:
        ValueError: `signature` is not one of the contract's signatures.
    """
    image = warmup_image(image_size)
    if signature == contract.START_SIGNATURE:
        return {contract.IMAGE_INPUT: image}
    if signature in (contract.EDIT_SIGNATURE, contract.DEFAULT_SIGNATURE):
        return {
            contract.IMAGE_INPUT: image,
            contract.TEXT_INPUT: np.array([WARMUP_TEXT.encode()], dtype=object),
            contract.STATE_INPUT: np.zeros([1, state_dim], np.float32),
        }
    if signature == contract.SCHEMA_SIGNATURE:
        return {}  # it takes no inputs
    raise ValueError(f"no warm-up inputs for signature {signature!r}")


def warmup_requests(
    model_name: str,
    image_size: int,
    state_dim: int,
    signatures: tuple[str, ...] = contract.SIGNATURES,
) -> list[predict_pb2.PredictRequest]:
    """One request per signature, in `signatures` order (all of the contract's by default).

    Args:
        model_name: model name put in each request's model_spec.
        image_size: side of the (square) warm-up image, the model resolution.
        state_dim: width of the state sent to `edit`.
        signatures: signature names to cover.

    Returns:
        The requests, in replay order.
    """
    return [
        predict_request(model_name, name, signature_inputs(name, image_size, state_dim))
        for name in signatures
    ]


def write_warmup_file(saved_model_dir: str, requests: list[predict_pb2.PredictRequest]) -> str:
    """Writes `requests` as PredictionLog records into the SavedModel's assets.extra.

    Args:
        saved_model_dir: directory holding saved_model.pb.
        requests: PredictRequests to replay at load time.

    Returns:
        Path of the written warm-up file.
    """
    directory = os.path.join(saved_model_dir, contract.WARMUP_DIR)
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, contract.WARMUP_FILENAME)
    with tf.io.TFRecordWriter(path) as writer:
        for request in requests:
            log = prediction_log_pb2.PredictionLog(
                predict_log=prediction_log_pb2.PredictLog(request=request)
            )
            writer.write(log.SerializeToString())
    return path


def read_warmup_file(saved_model_dir: str) -> list[predict_pb2.PredictRequest]:
    """Reads the PredictRequests of a SavedModel's warm-up file ([] if there is none).

    Args:
        saved_model_dir: directory holding saved_model.pb.

    Returns:
        The predict requests found, in file order (non-predict records are skipped).
    """
    path = os.path.join(saved_model_dir, contract.WARMUP_DIR, contract.WARMUP_FILENAME)
    if not os.path.exists(path):
        return []
    requests = []
    for record in tf.data.TFRecordDataset(path).as_numpy_iterator():
        log = prediction_log_pb2.PredictionLog.FromString(record)
        if log.HasField("predict_log"):
            requests.append(log.predict_log.request)
    return requests
