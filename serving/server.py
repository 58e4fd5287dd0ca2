"""A TF-Serving-compatible gRPC server for the exported editor SavedModels.

Implements `tensorflow.serving.PredictionService` (Predict, GetModelMetadata) and
`tensorflow.serving.ModelService` (GetModelStatus) with tensorflow-serving-api's
generated stubs, plus the standard `grpc.health.v1.Health` service, over the same
`<model_base_path>/<integer version>/` layout TF Serving watches. A client written
against TF Serving works unchanged.

Requests are validated against the signature (and the limits of
`serving.contract`) before the model runs; failures map to gRPC codes:
INVALID_ARGUMENT (malformed input), NOT_FOUND (unknown model, version or
signature), RESOURCE_EXHAUSTED (over the size limits), INTERNAL (the model itself
failed). Bad input never takes the server down.
"""

from __future__ import annotations

import dataclasses
import logging
from concurrent import futures

import grpc
import numpy as np
import tensorflow as tf
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from tensorflow.core.framework import tensor_pb2, types_pb2
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from serving import contract
from serving.model_manager import (
    AVAILABLE,
    END,
    LOADING,
    UNLOADING,
    LoadedVersion,
    ModelManager,
    ModelNotFoundError,
)

PREDICTION_SERVICE = "tensorflow.serving.PredictionService"
MODEL_SERVICE = "tensorflow.serving.ModelService"

_STATE_ENUM = {
    LOADING: get_model_status_pb2.ModelVersionStatus.LOADING,
    AVAILABLE: get_model_status_pb2.ModelVersionStatus.AVAILABLE,
    UNLOADING: get_model_status_pb2.ModelVersionStatus.UNLOADING,
    END: get_model_status_pb2.ModelVersionStatus.END,
}
_TF_UNKNOWN_ERROR = 2  # tensorflow.error.Code.UNKNOWN


@dataclasses.dataclass(frozen=True)
class RequestLimits:
    """Size limits checked before the model runs (RESOURCE_EXHAUSTED beyond them).

    Attributes:
        max_text_chars: characters per text.
        min_image_side: smallest accepted image height/width (INVALID_ARGUMENT below).
        max_image_side: largest accepted image height/width.
        max_batch_size: largest batch per request.
    """

    max_text_chars: int = contract.MAX_TEXT_CHARS
    min_image_side: int = contract.MIN_IMAGE_SIDE
    max_image_side: int = contract.MAX_IMAGE_SIDE
    max_batch_size: int = contract.MAX_BATCH_SIZE


@dataclasses.dataclass(frozen=True)
class ServerConfig:
    """Configuration of `ModelServer`.

    Attributes:
        model_name: name clients send in model_spec.name.
        model_base_path: `<export_dir>/<model_name>` holding integer version folders.
        host: interface to bind (loopback by default).
        port: TCP port; 0 picks a free one (see `ModelServer.port`).
        poll_interval_s: seconds between scans of model_base_path.
        num_versions: newest versions kept loaded.
        max_message_bytes: gRPC send/receive message limit.
        max_workers: request handler threads.
        limits: request size limits.
    """

    model_name: str
    model_base_path: str
    host: str = contract.DEFAULT_HOST
    port: int = contract.DEFAULT_PORT
    poll_interval_s: float = 1.0
    num_versions: int = 1
    max_message_bytes: int = contract.MAX_MESSAGE_BYTES
    max_workers: int = 16
    limits: RequestLimits = dataclasses.field(default_factory=RequestLimits)


class ServingError(Exception):
    """A request failure with its gRPC status code."""

    def __init__(self, code: grpc.StatusCode, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _invalid(message: str) -> ServingError:
    return ServingError(grpc.StatusCode.INVALID_ARGUMENT, message)


def _too_big(message: str) -> ServingError:
    return ServingError(grpc.StatusCode.RESOURCE_EXHAUSTED, message)


def _dtype_name(dtype_enum: int) -> str:
    return (
        types_pb2.DataType.Name(dtype_enum)
        if dtype_enum in types_pb2.DataType.values()
        else str(dtype_enum)
    )


def _proto_shape(name: str, proto: tensor_pb2.TensorProto) -> list[int]:
    if proto.tensor_shape.unknown_rank:
        raise _invalid(f"input {name!r} has unknown rank")
    dims = [d.size for d in proto.tensor_shape.dim]
    if any(d < 0 for d in dims):
        raise _invalid(f"input {name!r} has a negative dimension: {dims}")
    return dims


def _check_text(name: str, values: np.ndarray, limits: RequestLimits) -> None:
    for i, value in enumerate(values.reshape(-1)):
        raw = value if isinstance(value, bytes) else str(value).encode()
        if len(raw) > 4 * limits.max_text_chars:
            raise _too_big(
                f"{name}[{i}] has {len(raw)} bytes; at most {limits.max_text_chars} characters allowed"
            )
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise _invalid(f"{name}[{i}] is not valid UTF-8: {error}") from None
        if not text.strip():
            raise _invalid(f"{name}[{i}] is empty; an edit needs a description")
        if len(text) > limits.max_text_chars:
            raise _too_big(
                f"{name}[{i}] has {len(text)} characters; at most {limits.max_text_chars} allowed"
            )


def validate_inputs(
    request_inputs: dict[str, tensor_pb2.TensorProto],
    specs: dict[str, tf.TensorSpec],
    signature: str,
    limits: RequestLimits,
) -> dict[str, np.ndarray]:
    """Checks a request's inputs against a signature and the limits, then decodes them.

    Args:
        request_inputs: PredictRequest.inputs.
        specs: input name -> TensorSpec of the signature.
        signature: signature name (for messages).
        limits: size limits.

    Returns:
        Input name -> numpy array.

    Raises:
        ServingError: INVALID_ARGUMENT or RESOURCE_EXHAUSTED naming the problem.
    """
    missing = sorted(set(specs) - set(request_inputs))
    if missing:
        raise _invalid(
            f"signature {signature!r} is missing input(s) {missing}; expects {sorted(specs)}"
        )
    unexpected = sorted(set(request_inputs) - set(specs))
    if unexpected:
        raise _invalid(
            f"signature {signature!r} got unexpected input(s) {unexpected}; expects {sorted(specs)}"
        )

    shapes = {}
    for name, spec in specs.items():
        proto = request_inputs[name]
        if proto.dtype != spec.dtype.as_datatype_enum:
            raise _invalid(
                f"input {name!r} has dtype {_dtype_name(proto.dtype)}, expected {_dtype_name(spec.dtype.as_datatype_enum)}"
            )
        dims = _proto_shape(name, proto)
        expected = spec.shape.as_list()
        if len(dims) != len(expected) or any(
            e is not None and e != d for e, d in zip(expected, dims)
        ):
            expected_text = [-1 if e is None else e for e in expected]
            raise _invalid(f"input {name!r} has shape {dims}, expected {expected_text} (-1: any)")
        shapes[name] = dims

    batch_sizes = {name: dims[0] for name, dims in shapes.items() if dims}
    if len(set(batch_sizes.values())) > 1:
        raise _invalid(f"inputs have different batch sizes: {batch_sizes}")
    for name, batch in batch_sizes.items():
        if batch < 1:
            raise _invalid(f"input {name!r} has an empty batch")
        if batch > limits.max_batch_size:
            raise _too_big(f"batch size {batch} is over the limit of {limits.max_batch_size}")

    image_dims = shapes.get(contract.IMAGE_INPUT)
    if image_dims is not None and len(image_dims) == 4:
        height, width = image_dims[1:3]
        if min(height, width) < limits.min_image_side:
            raise _invalid(
                f"image is {height}x{width}; each side must be at least {limits.min_image_side}"
            )
        if max(height, width) > limits.max_image_side:
            raise _too_big(
                f"image is {height}x{width}; each side must be at most {limits.max_image_side}"
            )

    arrays = {}
    for name, proto in request_inputs.items():
        try:
            arrays[name] = tf.make_ndarray(proto)
        except Exception as error:
            raise _invalid(f"input {name!r} is malformed: {error}") from None
        if list(arrays[name].shape) != shapes[name]:
            raise _invalid(f"input {name!r} content does not match its shape {shapes[name]}")

    for name, array in arrays.items():
        if specs[name].dtype == tf.string:
            _check_text(name, array, limits)
        elif specs[name].dtype.is_floating and not np.all(np.isfinite(array)):
            raise _invalid(f"input {name!r} contains NaN or infinite values")
    return arrays


class _Models:
    """Resolves a ModelSpec to a loaded version."""

    def __init__(self, managers: dict[str, ModelManager]):
        self.managers = managers

    def manager(self, name: str) -> ModelManager:
        if not name:
            raise _invalid("model_spec.name is required")
        if name not in self.managers:
            raise ServingError(
                grpc.StatusCode.NOT_FOUND,
                f"model {name!r} is not served here (served: {sorted(self.managers)})",
            )
        return self.managers[name]

    def resolve(self, model_spec) -> LoadedVersion:
        manager = self.manager(model_spec.name)
        if model_spec.version_label:
            raise ServingError(
                grpc.StatusCode.NOT_FOUND,
                f"version label {model_spec.version_label!r} is not configured on this server",
            )
        version = model_spec.version.value if model_spec.HasField("version") else None
        try:
            return manager.get(version)
        except ModelNotFoundError as error:
            raise ServingError(grpc.StatusCode.NOT_FOUND, str(error)) from None


def _abort(context: grpc.ServicerContext, error: Exception):
    if isinstance(error, ServingError):
        context.abort(error.code, error.message)
    logging.exception("Unexpected server error")
    context.abort(grpc.StatusCode.INTERNAL, f"{type(error).__name__}: {error}")


class PredictionServicer(prediction_service_pb2_grpc.PredictionServiceServicer):
    """Predict and GetModelMetadata (Classify/Regress/MultiInference: UNIMPLEMENTED)."""

    def __init__(self, models: _Models, limits: RequestLimits):
        self.models = models
        self.limits = limits

    def Predict(self, request, context):  # noqa: N802 (gRPC method name)
        try:
            return self.predict(request)
        except Exception as error:
            _abort(context, error)

    def GetModelMetadata(self, request, context):  # noqa: N802
        try:
            return self.model_metadata(request)
        except Exception as error:
            _abort(context, error)

    def predict(self, request: predict_pb2.PredictRequest) -> predict_pb2.PredictResponse:
        """Validates and runs one PredictRequest.

        Raises:
            ServingError: for any failure, with its status code.
        """
        loaded = self.models.resolve(request.model_spec)
        signature = request.model_spec.signature_name or contract.DEFAULT_SIGNATURE
        if signature not in loaded.signatures:
            raise ServingError(
                grpc.StatusCode.NOT_FOUND,
                f"signature {signature!r} not found in model {request.model_spec.name!r} "
                f"version {loaded.version} (has: {sorted(loaded.signatures)})",
            )
        arrays = validate_inputs(
            request.inputs, loaded.input_specs(signature), signature, self.limits
        )
        output_names = loaded.output_names(signature)
        wanted = list(request.output_filter) or output_names
        unknown = sorted(set(wanted) - set(output_names))
        if unknown:
            raise _invalid(f"output_filter names unknown output(s) {unknown}; has {output_names}")

        try:
            outputs = loaded.signatures[signature](
                **{name: tf.constant(value) for name, value in arrays.items()}
            )
        except tf.errors.InvalidArgumentError as error:
            raise _invalid(f"model rejected the input: {error.message}") from None
        except tf.errors.ResourceExhaustedError as error:
            raise _too_big(f"model ran out of resources: {error.message}") from None
        except Exception as error:
            logging.exception("Model failure")
            raise ServingError(
                grpc.StatusCode.INTERNAL, f"model failed: {type(error).__name__}: {error}"
            ) from None

        response = predict_pb2.PredictResponse()
        response.model_spec.name = request.model_spec.name
        response.model_spec.version.value = loaded.version
        response.model_spec.signature_name = signature
        for name in wanted:
            response.outputs[name].CopyFrom(tf.make_tensor_proto(outputs[name].numpy()))
        return response

    def model_metadata(
        self, request: get_model_metadata_pb2.GetModelMetadataRequest
    ) -> get_model_metadata_pb2.GetModelMetadataResponse:
        """Answers GetModelMetadata (the only metadata field is "signature_def")."""
        loaded = self.models.resolve(request.model_spec)
        fields = list(request.metadata_field)
        if fields != ["signature_def"]:
            raise _invalid(f"metadata_field must be ['signature_def'], got {fields}")
        response = get_model_metadata_pb2.GetModelMetadataResponse()
        response.model_spec.name = request.model_spec.name
        response.model_spec.version.value = loaded.version
        signature_map = get_model_metadata_pb2.SignatureDefMap()
        for name, signature_def in loaded.signature_defs.items():
            signature_map.signature_def[name].CopyFrom(signature_def)
        response.metadata["signature_def"].Pack(signature_map)
        return response


class ModelServicer(model_service_pb2_grpc.ModelServiceServicer):
    """GetModelStatus (HandleReloadConfigRequest: UNIMPLEMENTED)."""

    def __init__(self, models: _Models):
        self.models = models

    def GetModelStatus(self, request, context):  # noqa: N802
        try:
            return self.model_status(request)
        except Exception as error:
            _abort(context, error)

    def model_status(
        self, request: get_model_status_pb2.GetModelStatusRequest
    ) -> get_model_status_pb2.GetModelStatusResponse:
        """Reports the state of every known version (or of the requested one)."""
        manager = self.models.manager(request.model_spec.name)
        statuses = manager.statuses()
        if request.model_spec.HasField("version"):
            wanted = request.model_spec.version.value
            statuses = [s for s in statuses if s.version == wanted]
            if not statuses:
                raise ServingError(
                    grpc.StatusCode.NOT_FOUND,
                    f"version {wanted} of model {manager.model_name!r} was never seen",
                )
        elif not statuses:
            raise ServingError(
                grpc.StatusCode.NOT_FOUND, f"model {manager.model_name!r} has no versions yet"
            )
        response = get_model_status_pb2.GetModelStatusResponse()
        for status in statuses:
            entry = response.model_version_status.add()
            entry.version = status.version
            entry.state = _STATE_ENUM[status.state]
            if status.error:
                entry.status.error_code = _TF_UNKNOWN_ERROR
                entry.status.error_message = status.error
        return response


class ModelServer:
    """The gRPC server: PredictionService, ModelService and Health over one model folder.

    Args:
        config: server configuration.

    Example:
        >>> server = ModelServer(ServerConfig("seqattngan", "exports/seqattngan", port=0))
        >>> port = server.start()
        >>> server.stop(grace_s=5.0)
    """

    def __init__(self, config: ServerConfig):
        self.config = config
        self.health = health.HealthServicer()
        self._health_services = ("", PREDICTION_SERVICE, MODEL_SERVICE, config.model_name)
        self._set_health(False)
        self.manager = ModelManager(
            config.model_name,
            config.model_base_path,
            poll_interval_s=config.poll_interval_s,
            num_versions=config.num_versions,
            on_change=lambda manager: self._set_health(bool(manager.available_versions())),
        )
        models = _Models({config.model_name: self.manager})
        options = [
            ("grpc.max_send_message_length", config.max_message_bytes),
            ("grpc.max_receive_message_length", config.max_message_bytes),
        ]
        self.server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=config.max_workers), options=options
        )
        prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
            PredictionServicer(models, config.limits), self.server
        )
        model_service_pb2_grpc.add_ModelServiceServicer_to_server(
            ModelServicer(models), self.server
        )
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        self.port: int | None = None

    def _set_health(self, serving: bool) -> None:
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if serving
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for service in self._health_services:
            self.health.set(service, status)

    def start(self) -> int:
        """Binds, starts serving and starts the model poller.

        Returns:
            The bound port.

        Raises:
            RuntimeError: if the address cannot be bound.
        """
        address = f"{self.config.host}:{self.config.port}"
        port = self.server.add_insecure_port(address)
        if port == 0:
            raise RuntimeError(f"could not bind {address}")
        self.port = port
        self.server.start()
        self.manager.start()
        logging.info(
            "Serving %s from %s on %s:%d",
            self.config.model_name,
            self.config.model_base_path,
            self.config.host,
            port,
        )
        return port

    def stop(self, grace_s: float = 5.0) -> None:
        """Reports NOT_SERVING, lets in-flight requests finish (up to grace_s), stops."""
        self.health.enter_graceful_shutdown()
        self.server.stop(grace_s).wait()
        self.manager.stop()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Blocks until the server stops (or timeout); True if it stopped."""
        return self.server.wait_for_termination(timeout_s)
