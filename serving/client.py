"""gRPC client library for the editor, for TF Serving or serving/server.py alike.

In the style of TF Serving's `mnist_client.py`: plain functions and one small class,
signature and tensor names from `serving.contract`, a timeout on every call, and
errors wrapped in `ServingClientError` naming the gRPC code.

Example:
    >>> session = EditSession("127.0.0.1:8500", "seqattngan")
    >>> session.start(image)                 # uint8 HxWx3
    >>> result = session.edit("is red")      # EditResult(image, state, attention, tokens, ...)
    >>> result.design                        # {"colour": [("red", 0.97), ...], ...} or None
    >>> session.write_strip("out/strip.png")

The design: a model with attribute slots returns, with every edit, the design its state now
holds (`design` output: value probabilities per attribute). Its names come from the export's
attribute schema (`assets/attribute_schema.json`), which the client reads once per model
version through the export's `attribute_schema` signature (`attribute_schema`; cached per
server, model and version). Exports without it (older ones, models without attribute slots)
give `EditResult.design = None`.

Channels retry a call that failed with UNAVAILABLE (a draining server refuses new
calls with it) a few times with backoff; `EditSession` also waits for the server to
be ready (through a restart) up to its timeout. Both are safe because the server
keeps no per-user state: a repeated Predict is the same Predict.

This module and serving.strips import nothing of the training package (seqgan_tf).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
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

from serving import contract, strips

# Retry a call refused with UNAVAILABLE (e.g. by a draining server), per gRPC's retry design.
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
                "retryableStatusCodes": ["UNAVAILABLE"],
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

    With `retry`, calls refused with UNAVAILABLE are retried (RETRY_SERVICE_CONFIG).
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


def attribute_schema(
    channel: grpc.Channel, model_name: str, version: int, timeout_s: float = 10.0
) -> dict[str, list[str]]:
    """Reads one model version's attribute schema (its `attribute_schema` signature).

    Args:
        channel: gRPC channel to the server.
        model_name: model name.
        version: the version whose schema is wanted (the one that answered an edit).
        timeout_s: deadline of the call.

    Returns:
        Attribute name -> value names, in the order of the `design` output's segments.

    Raises:
        ServingClientError: the call failed (NOT_FOUND: the version has no such signature,
            or is not loaded any more); also when the answer is not a schema.
    """
    outputs, _ = predict(
        channel, model_name, contract.SCHEMA_SIGNATURE, {}, timeout_s, version=version
    )
    try:
        schema = json.loads(outputs[contract.SCHEMA_OUTPUT].item().decode("utf-8"))
        if not isinstance(schema, dict) or not all(
            isinstance(values, list) and all(isinstance(v, str) for v in values)
            for values in schema.values()
        ):
            raise ValueError("not an object of attribute -> list of value names")
    except (KeyError, ValueError, AttributeError) as error:
        raise ServingClientError(
            "Predict",
            grpc.StatusCode.DATA_LOSS,
            f"version {version} of {model_name!r} answered no attribute schema ({error})",
        ) from None
    return schema


def design_by_attribute(
    design: np.ndarray, schema: dict[str, list[str]]
) -> dict[str, list[tuple[str, float]]]:
    """Names a `design` vector: attribute -> [(value, probability)], most probable first.

    Args:
        design: float [sum of attribute sizes], one segment per attribute in schema order.
        schema: attribute name -> value names (see `attribute_schema`).

    Returns:
        Attribute -> list of (value, probability), sorted by probability, descending (ties
        in schema order).

    Raises:
        ValueError: the design's width is not the schema's.

    Example:
        >>> design_by_attribute(np.array([0.1, 0.9, 1.0, 0.0]),
        ...                     {"colour": ["red", "blue"], "heel": ["flat", "high"]})
        {'colour': [('blue', 0.9), ('red', 0.1)], 'heel': [('flat', 1.0), ('high', 0.0)]}
    """
    design = np.asarray(design, np.float64).reshape(-1)
    width = sum(len(values) for values in schema.values())
    if design.size != width:
        raise ValueError(f"design has {design.size} values, the attribute schema {width}")
    result, start = {}, 0
    for name, values in schema.items():
        probabilities = [float(p) for p in design[start : start + len(values)]]
        start += len(values)
        pairs = list(zip(values, probabilities, strict=True))
        result[name] = sorted(pairs, key=lambda pair: -pair[1])
    return result


def format_design(design: dict[str, list[tuple[str, float]]] | None) -> str:
    """One line saying what the model understood: each attribute's most probable value.

    Example:
        >>> format_design({"colour": [("red", 0.97), ("blue", 0.03)], "heel": [("high", 0.88)]})
        'colour: red 0.97, heel: high 0.88'
    """
    if not design:
        return ""
    return ", ".join(
        f"{name}: {pairs[0][0]} {pairs[0][1]:.2f}" for name, pairs in design.items() if pairs
    )


class _SchemaCache:
    """Attribute schemas read so far, per (server, model, version): read once per version."""

    def __init__(self, max_entries: int = 256):
        self._lock = threading.Lock()
        self._schemas: dict[tuple[str, str, int], dict[str, list[str]]] = {}
        self.max_entries = max_entries
        self.reads = 0  # calls made (for tests)

    def get(
        self, channel: grpc.Channel, target: str, model_name: str, version: int, timeout_s: float
    ) -> dict[str, list[str]]:
        key = (target, model_name, version)
        with self._lock:
            if key in self._schemas:
                return self._schemas[key]
        schema = attribute_schema(channel, model_name, version, timeout_s)
        with self._lock:
            self.reads += 1
            if len(self._schemas) >= self.max_entries:
                self._schemas.pop(next(iter(self._schemas)))
            self._schemas[key] = schema
        return schema


SCHEMAS = _SchemaCache()


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
    dims = [
        d.size for d in signature_defs[signature].outputs[contract.IMAGE_OUTPUT].tensor_shape.dim
    ]
    if len(dims) != 4 or dims[1] <= 0:
        raise ValueError(f"signature {signature!r} has no fixed image output size: {dims}")
    return dims[1]


def resize_image(image: np.ndarray, size: int) -> np.ndarray:
    """Resizes a uint8 HxWx3 image to size x size (antialiased bilinear; no-op if already)."""
    if image.shape[:2] == (size, size):
        return image
    from PIL import Image

    return np.asarray(Image.fromarray(image).resize((size, size), Image.Resampling.BILINEAR))


@dataclasses.dataclass(frozen=True)
class EditResult:
    """One editing turn's outputs (batch dimension removed).

    Attributes:
        image: uint8 [S, S, 3].
        state: float32 [state_dim], the state to send with the next turn.
        attention: float32 [16, 16, max_words].
        tokens: the tokens the model saw ("" padding removed).
        version: the model version that answered.
        dropped_words: words beyond the model's max_words that it ignored (0 when the
            model exports no `dropped_words` output).
        design: what the model understood: the design its state now holds, attribute ->
            [(value, probability), ...] most probable first, e.g. {"colour": [("red", 0.97),
            ("blue", 0.02), ...], "heel": [("high", 0.88), ...]}; None for a model without
            attribute slots, an older export, or when the schema could not be read (logged).
    """

    image: np.ndarray
    state: np.ndarray
    attention: np.ndarray
    tokens: list[str]
    version: int
    dropped_words: int = 0
    design: dict[str, list[tuple[str, float]]] | None = None


@dataclasses.dataclass(frozen=True)
class Turn:
    """One attempted turn of a session, for the record and the strip.

    Attributes:
        text: what was asked.
        result: the result, or None if the turn was refused or failed.
        error: the failure, or None.
    """

    text: str
    result: EditResult | None = None
    error: ServingClientError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def caption(self) -> str:
        """The strip caption: the text, with what went wrong or was ignored."""
        if self.error is not None:
            return f"REFUSED ({self.error.code.name}): {self.text}"
        if self.result is not None and self.result.dropped_words:
            return f"{self.text} [last {self.result.dropped_words} word(s) ignored]"
        return self.text


class EditSession:
    """An interactive editing session; the client carries the state between turns.

    Args:
        target: server address "host:port".
        model_name: model_spec.name.
        timeout_s: deadline of every call.
        start_signature: signature used by `start`.
        edit_signature: signature used by `edit`.
        version: pin a model version (None: the newest, re-resolved every call).
        channel: an existing channel to reuse instead of opening one to `target`.
        resize_to_model: resize the first image to the model resolution on the client
            (asked once via GetModelMetadata unless `image_size` is given), so that all
            requests have the same shape and TF Serving's batching can merge them. If
            False the image is sent as is and resized in the graph.
        image_size: the model resolution, if known.
        wait_for_ready: wait for an unreachable server (a restart) up to timeout_s
            instead of failing at once with UNAVAILABLE.

    Attributes:
        images: the start image and the image of every successful turn.
        descriptions: the text of every successful turn.
        results: every successful turn's result.
        turns: every attempted turn, refused and failed ones included.
        start_design: what the model read off the start image, as `EditResult.design`
            (None without it).
    """

    def __init__(
        self,
        target: str,
        model_name: str,
        timeout_s: float = 10.0,
        start_signature: str = contract.START_SIGNATURE,
        edit_signature: str = contract.EDIT_SIGNATURE,
        version: int | None = None,
        channel: grpc.Channel | None = None,
        resize_to_model: bool = True,
        image_size: int | None = None,
        wait_for_ready: bool = True,
    ):
        self.target = target
        self.wait_for_ready = wait_for_ready
        self.resize_to_model = resize_to_model
        self.image_size = image_size
        self.model_name = model_name
        self.timeout_s = timeout_s
        self.start_signature = start_signature
        self.edit_signature = edit_signature
        self.version = version
        self._owns_channel = channel is None
        self.channel = channel if channel is not None else make_channel(target)
        self.images: list[np.ndarray] = []
        self.descriptions: list[str] = []
        self.results: list[EditResult] = []
        self.turns: list[Turn] = []
        self.state: np.ndarray | None = None
        self.start_design: dict[str, list[tuple[str, float]]] | None = None

    def start(self, image: np.ndarray) -> np.ndarray:
        """Starts (or restarts) the session from `image`.

        Args:
            image: uint8 [H, W, 3].

        Returns:
            The initial state, float32 [state_dim].

        Raises:
            ValueError: the image is not uint8 HxWx3.
            ServingClientError: the call failed.
        """
        image = np.asarray(image)
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
            raise ValueError(f"image must be uint8 [H, W, 3], got {image.dtype} {image.shape}")
        if self.resize_to_model:
            if self.image_size is None:
                self.image_size = model_image_size(
                    self.channel, self.model_name, self.edit_signature, self.timeout_s
                )
            image = resize_image(image, self.image_size)
        outputs, version = predict(
            self.channel,
            self.model_name,
            self.start_signature,
            {contract.IMAGE_INPUT: image[None]},
            self.timeout_s,
            self.version,
            self.wait_for_ready,
        )
        design = outputs.get(contract.DESIGN_OUTPUT)
        self.start_design = None if design is None else self._name_design(design[0], version)
        self.state = outputs[contract.STATE_OUTPUT][0]
        self.images = [image]
        self.descriptions = []
        self.results = []
        self.turns = []
        return self.state

    def edit(self, text: str) -> EditResult:
        """Applies one edit to the current image.

        Args:
            text: the edit description.

        Returns:
            The turn's result; the session's image and state advance to it. If the
            model ignored words beyond its max_words, `dropped_words` says how many
            and a warning is logged.

        Raises:
            RuntimeError: `start` was not called.
            ServingClientError: the call failed (the session goes on from its last good
                state; the failed turn is kept in `turns` for the strip).
        """
        if self.state is None:
            raise RuntimeError("call start(image) before edit(text)")
        inputs = {
            contract.IMAGE_INPUT: self.images[-1][None],
            contract.TEXT_INPUT: np.array([text.encode("utf-8")], dtype=object),
            contract.STATE_INPUT: self.state[None].astype(np.float32),
        }
        try:
            outputs, version = predict(
                self.channel,
                self.model_name,
                self.edit_signature,
                inputs,
                self.timeout_s,
                self.version,
                self.wait_for_ready,
            )
        except ServingClientError as error:
            self.turns.append(Turn(text, error=error))
            raise
        tokens = [t.decode("utf-8") for t in outputs[contract.TOKENS_OUTPUT][0] if t]
        dropped = outputs.get(contract.DROPPED_WORDS_OUTPUT)
        design = outputs.get(contract.DESIGN_OUTPUT)
        result = EditResult(
            image=outputs[contract.IMAGE_OUTPUT][0],
            state=outputs[contract.STATE_OUTPUT][0],
            attention=outputs[contract.ATTENTION_OUTPUT][0],
            tokens=tokens,
            version=version,
            dropped_words=0 if dropped is None else int(dropped[0]),
            design=None if design is None else self._name_design(design[0], version),
        )
        if result.dropped_words:
            logging.getLogger(__name__).warning(
                "the model reads at most %d words: the last %d word(s) of %r were ignored",
                len(outputs[contract.TOKENS_OUTPUT][0]),
                result.dropped_words,
                text,
            )
        self.turns.append(Turn(text, result=result))
        self.state = result.state
        self.images.append(result.image)
        self.descriptions.append(text)
        self.results.append(result)
        return result

    def _name_design(
        self, design: np.ndarray, version: int
    ) -> dict[str, list[tuple[str, float]]] | None:
        """The design by attribute name (schema read once per version), or None (logged)."""
        try:
            schema = SCHEMAS.get(
                self.channel, self.target, self.model_name, version, self.timeout_s
            )
            return design_by_attribute(design, schema)
        except (ServingClientError, ValueError) as error:
            logging.getLogger(__name__).warning(
                "the design of version %d is not shown: its attribute schema: %s", version, error
            )
            return None

    def write_strip(self, path: str, tile_size: int = 128) -> str:
        """Writes a PNG strip: the start image, then one tile per attempted turn.

        A successful turn shows its image and text (noting ignored words); a refused or
        failed one shows the image the session went on from, crossed out, with the text
        and the status code in red.

        Args:
            path: output PNG path (folders are created).
            tile_size: side of each tile in pixels.

        Returns:
            `path`.

        Raises:
            RuntimeError: the session has no images.
        """
        if not self.images:
            raise RuntimeError("nothing to write: call start(image) first")
        images, captions, failed = [self.images[0]], ["(input)"], [False]
        current = self.images[0]
        for turn in self.turns:
            if turn.result is not None:
                current = turn.result.image
            images.append(current)
            captions.append(turn.caption())
            failed.append(not turn.ok)
        return strips.write_strip(path, images, captions, tile_size, failed)

    def close(self) -> None:
        """Closes the channel if this session opened it."""
        if self._owns_channel:
            self.channel.close()

    def __enter__(self) -> EditSession:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
