"""TF Serving warm-up records: `assets.extra/tf_serving_warmup_requests`.

The file is a TFRecord file of serialized `tensorflow.serving.PredictionLog`
protos, each holding a `predict_log.request`. TF Serving replays them when it loads
a version, before marking it AVAILABLE, so the first user request does not pay for
graph initialisation. The project's own server replays the same file.
"""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_log_pb2

from serving import contract


def warmup_requests(
    model_name: str, image_size: int, state_dim: int
) -> list[predict_pb2.PredictRequest]:
    """Builds a `start` request and an `edit` request that exercise both signatures.

    Args:
        model_name: model name put in each request's model_spec.
        image_size: side of the (square) warm-up image.
        state_dim: width of the state sent to `edit`.

    Returns:
        The requests, in replay order.
    """
    ramp = np.linspace(0, 255, image_size, dtype=np.float32)
    rows, cols = np.meshgrid(ramp, ramp[::-1], indexing="ij")
    image = np.stack([rows, cols, np.full_like(rows, 128.0)], axis=-1).astype(np.uint8)[None]
    state = np.zeros([1, state_dim], np.float32)
    text = np.array(["make it red"], dtype=object)

    start = predict_pb2.PredictRequest()
    start.model_spec.name = model_name
    start.model_spec.signature_name = contract.START_SIGNATURE
    start.inputs[contract.IMAGE_INPUT].CopyFrom(tf.make_tensor_proto(image))

    edit = predict_pb2.PredictRequest()
    edit.model_spec.name = model_name
    edit.model_spec.signature_name = contract.DEFAULT_SIGNATURE
    edit.inputs[contract.IMAGE_INPUT].CopyFrom(tf.make_tensor_proto(image))
    edit.inputs[contract.TEXT_INPUT].CopyFrom(tf.make_tensor_proto(text))
    edit.inputs[contract.STATE_INPUT].CopyFrom(tf.make_tensor_proto(state))
    return [start, edit]


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
