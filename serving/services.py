"""The gRPC services' handlers: PredictionService (Predict, GetModelMetadata) and ModelService
(GetModelStatus), TF Serving's API over the versions a `ModelManager` holds.

A request is resolved to a loaded version (`ModelResolver`), checked against the signature
(`serving.request_validation`) and run; every failure reaches the client as a gRPC status
(`ServingError`), and a failure of the model itself says what failed, never its details
(`internal_error`: those go to the server log).
"""

from __future__ import annotations

import logging
import re
import uuid

import grpc
import tensorflow as tf
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
from serving.request_validation import (
    RequestLimits,
    ServingError,
    invalid,
    too_big,
    validate_inputs,
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


class ModelResolver:
    """Resolves a ModelSpec to a loaded version."""

    def __init__(self, managers: dict[str, ModelManager]):
        self.managers = managers

    def manager(self, name: str) -> ModelManager:
        if not name:
            raise invalid("model_spec.name is required")
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


def internal_error(what: str, code: grpc.StatusCode = grpc.StatusCode.INTERNAL) -> ServingError:
    """An error for the client saying what failed, with a reference to the server log.

    The exception itself (type, text, stack) is logged here, under the same reference, and
    never sent: its text may hold paths, graph internals or other details of the server.
    Call it from inside the `except` block that caught the error.

    Args:
        what: what failed, in words for the client.
        code: the status code (INTERNAL unless the client's input is to blame).

    Example:
        >>> try:
        ...     run_model()
        ... except Exception:
        ...     raise internal_error("the model failed on this edit request") from None
    """
    reference = uuid.uuid4().hex[:12]
    logging.exception("%s (reference %s)", what, reference)
    return ServingError(code, f"{what}; the server log has the details (reference {reference})")


def _abort(context: grpc.ServicerContext, error: Exception):
    if isinstance(error, ServingError):
        context.abort(error.code, error.message)
    error = internal_error("internal server error")
    context.abort(error.code, error.message)


# The in-graph checks' messages (tf.debugging.assert_*: "assertion failed: [message]
# [Condition ...]"; check_numerics: "message : Tensor had NaN values"), without the graph's
# node names and the tensors' values that follow them.
_ASSERTION = re.compile(r"assertion failed: \[([^\]]{1,300})\]")
_NUMERICS = re.compile(r"^(.{1,300}?) : Tensor had (?:NaN|Inf) values")


def model_check_message(message: str) -> str | None:
    """The message of the exported graph's input check that failed, or None.

    Args:
        message: a tf.errors.InvalidArgumentError's message.

    Example:
        >>> model_check_message("assertion failed: [image height must be >= 8] [Condition")
        'image height must be >= 8'
    """
    for pattern in (_ASSERTION, _NUMERICS):
        match = pattern.search(message)
        if match:
            return match.group(1).strip()
    return None


class PredictionServicer(prediction_service_pb2_grpc.PredictionServiceServicer):
    """Predict and GetModelMetadata (Classify/Regress/MultiInference: UNIMPLEMENTED)."""

    def __init__(self, models: ModelResolver, limits: RequestLimits):
        self.models = models
        self.limits = limits

    def Predict(self, request, context):  # noqa: N802 (gRPC method name)
        try:
            return self.predict(request, context)
        except Exception as error:
            _abort(context, error)

    def GetModelMetadata(self, request, context):  # noqa: N802
        try:
            return self.model_metadata(request)
        except Exception as error:
            _abort(context, error)

    def predict(
        self, request: predict_pb2.PredictRequest, context: grpc.ServicerContext | None = None
    ) -> predict_pb2.PredictResponse:
        """Validates and runs one PredictRequest.

        Args:
            request: the request.
            context: the call's context; when its deadline has passed by the time the model
                would run, the model is not run (nobody waits for the answer any more).

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
            raise invalid(f"output_filter names unknown output(s) {unknown}; has {output_names}")

        remaining = None if context is None else context.time_remaining()
        if remaining is not None and remaining <= 0:
            logging.info(
                "Skipped a %s call: its deadline passed %.3fs before the model would run",
                signature,
                -remaining,
            )
            raise ServingError(
                grpc.StatusCode.DEADLINE_EXCEEDED,
                "the call's deadline passed before the model ran (the server was busy); "
                "the model was not run",
            )
        try:
            outputs = loaded.signatures[signature](
                **{name: tf.constant(value) for name, value in arrays.items()}
            )
        except tf.errors.InvalidArgumentError as error:
            check = model_check_message(error.message)
            if check is None:
                raise internal_error(
                    f"the model rejected the input of this {signature} request",
                    grpc.StatusCode.INVALID_ARGUMENT,
                ) from None
            raise invalid(f"model rejected the input: {check}") from None
        except tf.errors.ResourceExhaustedError:
            logging.exception("Model out of resources")
            raise too_big(
                f"the model ran out of memory for this {signature} request; send a smaller "
                "batch or smaller images"
            ) from None
        except Exception:
            raise internal_error(f"the model failed on this {signature} request") from None

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
            raise invalid(f"metadata_field must be ['signature_def'], got {fields}")
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

    def __init__(self, models: ModelResolver):
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
