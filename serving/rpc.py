"""The stateless core of the gRPC client: channels, errors and the TF Serving calls.

In the style of TF Serving's `mnist_client.py`: plain functions, signature and tensor names
from `serving.contract`, a timeout on every call, and errors wrapped in `ServingClientError`
naming the gRPC code. Channels retry a call that failed with UNAVAILABLE (a draining server
refuses new calls with it) or that a stopping server dropped as CANCELLED, a few times with
backoff; this is safe because the server keeps no per-user state: a repeated Predict is the
same Predict. `serving.client` (EditSession) is built on it; both are importable as
`serving.client`.

Example:
    >>> channel = make_channel("127.0.0.1:8500")
    >>> outputs, version = predict(channel, "seqattngan", "edit", inputs, timeout_s=10.0)
"""

from __future__ import annotations

import json
import logging
import time

import grpc
import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from serving import contract
from serving.signature_info import signature_info

# Retry a call refused with UNAVAILABLE (e.g. by a draining server), per gRPC's retry design,
# and one that a stopping server dropped as CANCELLED: gRPC's core cancels the calls that
# reached the server but no handler yet when it shuts down (grpc/grpc#41785, seen in our load
# test during a restart on a busy box). A client's own cancellation is never retried, and
# every call here is safe to repeat (a Predict is a function of its request).
RETRY_SERVICE_CONFIG = {
    "methodConfig": [
        {
            "name": [
                {"service": "tensorflow.serving.PredictionService"},
                {"service": "tensorflow.serving.ModelService"},
            ],
            "retryPolicy": {
                "maxAttempts": 5,
                "initialBackoff": "0.1s",
                "maxBackoff": "2s",
                "backoffMultiplier": 2,
                "retryableStatusCodes": ["UNAVAILABLE", "CANCELLED"],
            },
        }
    ]
}
# A server that answers with one of these may be gone (scripts decide whether to go on).
CONNECTION_CODES = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


class ServingClientError(RuntimeError):
    """A failed call, with the gRPC status code and the server's details.

    Attributes:
        code: the grpc.StatusCode.
        details: the server's message.
    """

    def __init__(self, method: str, code: grpc.StatusCode, details: str):
        super().__init__(f"{method} failed with {code.name}: {details}")
        self.code = code
        self.details = details


def make_channel(
    target: str, max_message_bytes: int = contract.MAX_MESSAGE_BYTES, retry: bool = True
) -> grpc.Channel:
    """An insecure channel to `target` ("host:port") with the contract's message limits.

    With `retry`, calls that the server refused with UNAVAILABLE or dropped as CANCELLED are
    retried (RETRY_SERVICE_CONFIG).
    A lost connection is re-tried at most a second apart, so the channel recovers by itself
    once the server is back: a channel shared by many callers must not be closed because
    one call failed (closing it cancels every call in flight on it, and later calls on it
    fail with CANCELLED).
    """
    options = [
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.max_receive_message_length", max_message_bytes),
        # Reconnect to a restarted server within a second: gRPC's default backoff grows
        # to 120 s, and after a 30 s restart the channel slept ~10 s more before trying.
        ("grpc.initial_reconnect_backoff_ms", 200),
        ("grpc.min_reconnect_backoff_ms", 200),
        ("grpc.max_reconnect_backoff_ms", 1000),
    ]
    if retry:
        options += [
            ("grpc.enable_retries", 1),
            ("grpc.service_config", json.dumps(RETRY_SERVICE_CONFIG)),
        ]
    return grpc.insecure_channel(target, options=options)


def _call(method: str, fn, request, timeout_s: float, wait_for_ready: bool | None = None):
    """Makes one call; every failure becomes a ServingClientError.

    gRPC raises more than RpcError: a call on a closed channel raises ValueError ("Cannot
    invoke RPC on closed channel!"), which callers catching ServingClientError missed. It
    is reported as CANCELLED, saying the channel was closed on this side.
    """
    try:
        return fn(request, timeout=timeout_s, wait_for_ready=wait_for_ready)
    except grpc.RpcError as error:
        code = error.code() if callable(getattr(error, "code", None)) else None
        details = error.details() if callable(getattr(error, "details", None)) else None
        raise ServingClientError(
            method, code or grpc.StatusCode.UNKNOWN, details or "the call failed"
        ) from None
    except ValueError as error:
        if "closed channel" not in str(error):
            raise ServingClientError(
                method, grpc.StatusCode.UNKNOWN, f"the call could not be made: {error}"
            ) from None
        raise ServingClientError(
            method,
            grpc.StatusCode.CANCELLED,
            "the channel was closed on the client side before the call; open a new one "
            "(channels from make_channel never need closing after a failed call)",
        ) from None
    except Exception as error:  # any other failure of the gRPC library itself
        logging.getLogger(__name__).debug("%s failed", method, exc_info=True)
        raise ServingClientError(
            method, grpc.StatusCode.UNKNOWN, f"the call could not be made ({type(error).__name__})"
        ) from None


def predict_request(
    model_name: str,
    signature: str,
    inputs: dict[str, np.ndarray],
    version: int | None = None,
) -> predict_pb2.PredictRequest:
    """A PredictRequest for `signature` of `model_name` (newest version when None)."""
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model_name
    request.model_spec.signature_name = signature
    if version is not None:
        request.model_spec.version.value = version
    for name, value in inputs.items():
        request.inputs[name].CopyFrom(tf.make_tensor_proto(value))
    return request


def predict(
    channel: grpc.Channel,
    model_name: str,
    signature: str,
    inputs: dict[str, np.ndarray],
    timeout_s: float = 10.0,
    version: int | None = None,
    wait_for_ready: bool | None = None,
) -> tuple[dict[str, np.ndarray], int]:
    """Calls Predict.

    Args:
        channel: gRPC channel to the server.
        model_name: model_spec.name.
        signature: signature name (see serving.contract).
        inputs: input name -> numpy array.
        timeout_s: deadline of the call.
        version: a specific version, or None for the newest.
        wait_for_ready: wait (up to timeout_s) for an unreachable server instead of
            failing at once with UNAVAILABLE.

    Returns:
        (output name -> numpy array, version that answered).

    Raises:
        ServingClientError: the call failed.
    """
    request = predict_request(model_name, signature, inputs, version)
    stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
    response = _call("Predict", stub.Predict, request, timeout_s, wait_for_ready)
    outputs = {name: tf.make_ndarray(proto) for name, proto in response.outputs.items()}
    return outputs, response.model_spec.version.value


def model_status(
    channel: grpc.Channel, model_name: str, version: int | None = None, timeout_s: float = 10.0
) -> dict[int, str]:
    """Calls GetModelStatus.

    Args:
        channel: gRPC channel to the server.
        model_name: model name.
        version: ask about one version only.
        timeout_s: deadline of the call.

    Returns:
        version -> state name ("AVAILABLE", "LOADING", "END", ...).

    Raises:
        ServingClientError: the call failed.
    """
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = model_name
    if version is not None:
        request.model_spec.version.value = version
    stub = model_service_pb2_grpc.ModelServiceStub(channel)
    response = _call("GetModelStatus", stub.GetModelStatus, request, timeout_s)
    state_name = get_model_status_pb2.ModelVersionStatus.State.Name
    return {s.version: state_name(s.state) for s in response.model_version_status}


def wait_until_available(channel: grpc.Channel, model_name: str, timeout_s: float = 60.0) -> int:
    """Waits until some version of `model_name` is AVAILABLE (uses GetModelStatus, so it works
    with TF Serving, which has no gRPC health service).

    Args:
        channel: gRPC channel to the server.
        model_name: model name.
        timeout_s: how long to wait in total.

    Returns:
        The newest available version.

    Raises:
        TimeoutError: nothing became available in time (the message has the last error).
    """
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while True:
        remaining = deadline - time.monotonic()
        try:
            states = model_status(channel, model_name, timeout_s=max(0.1, min(5.0, remaining)))
            available = [v for v, state in states.items() if state == "AVAILABLE"]
            if available:
                return max(available)
            last = f"versions {states}"
        except ServingClientError as error:
            last = str(error)
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{model_name!r} not available after {timeout_s}s: {last}")
        time.sleep(0.2)


def model_metadata(
    channel: grpc.Channel, model_name: str, version: int | None = None, timeout_s: float = 10.0
) -> tuple[int, dict]:
    """Calls GetModelMetadata for the signature definitions.

    Args:
        channel: gRPC channel to the server.
        model_name: model name.
        version: a specific version, or None for the newest.
        timeout_s: deadline of the call.

    Returns:
        (version, signature name -> SignatureDef proto).

    Raises:
        ServingClientError: the call failed.
    """
    request = get_model_metadata_pb2.GetModelMetadataRequest()
    request.model_spec.name = model_name
    if version is not None:
        request.model_spec.version.value = version
    request.metadata_field.append("signature_def")
    stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
    response = _call("GetModelMetadata", stub.GetModelMetadata, request, timeout_s)
    signature_map = get_model_metadata_pb2.SignatureDefMap()
    response.metadata["signature_def"].Unpack(signature_map)
    return response.model_spec.version.value, dict(signature_map.signature_def)


def model_image_size(
    channel: grpc.Channel,
    model_name: str,
    signature: str = contract.EDIT_SIGNATURE,
    timeout_s: float = 10.0,
) -> int:
    """The model resolution S, read from the `image` output shape of `signature`.

    Raises:
        ServingClientError: the call failed.
        ValueError: the signature has no fixed-size image output.
    """
    _, signature_defs = model_metadata(channel, model_name, timeout_s=timeout_s)
    if signature not in signature_defs:
        raise ValueError(f"model {model_name!r} has no signature {signature!r}")
    info = signature_info(signature_defs, [signature])
    if info.image_size is None:
        raise ValueError(f"signature {signature!r} has no fixed image output size")
    return info.image_size
