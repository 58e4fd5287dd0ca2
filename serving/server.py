"""A TF-Serving-compatible gRPC server for the exported editor SavedModels.

Implements `tensorflow.serving.PredictionService` (Predict, GetModelMetadata) and
`tensorflow.serving.ModelService` (GetModelStatus) with tensorflow-serving-api's
generated stubs, plus the standard `grpc.health.v1.Health` service, over the same
`<model_base_path>/<integer version>/` layout TF Serving watches. A client written
against TF Serving works unchanged.

Requests are validated against the signature (and the limits of
`serving.contract`) before the model runs; failures map to gRPC codes:
INVALID_ARGUMENT (malformed input), NOT_FOUND (unknown model, version or
signature), RESOURCE_EXHAUSTED (over the size limits, or more than
`max_concurrent_rpcs` calls held at once), DEADLINE_EXCEEDED (the client's deadline
passed before the model ran: the model is not run for it), INTERNAL (the model itself
failed; the client reads what failed, the details go to the server log only). Bad input
never takes the server down. The checks are in `serving.request_validation`.

Bounds: at most `max_concurrent_rpcs` calls are held at once (running on one of the
`max_workers` threads or waiting for one); gRPC refuses one more at once with
RESOURCE_EXHAUSTED ("Concurrent RPC limit exceeded"). Messages are limited to
`max_message_bytes` (contract.MAX_MESSAGE_BYTES: the largest request the contract's
limits allow, with a margin), which gRPC checks before reading a message.

Shutdown drains (`ModelServer.stop`): health turns NOT_SERVING, a call that the
server accepted before the drain began runs to completion (within the grace
period), and a call that arrives during the drain is refused with UNAVAILABLE, which
clients retry elsewhere or after a restart. gRPC's own `server.stop(grace)` is only
called once the accepted calls are done: it drops the calls that have reached the
transport but not yet a handler, and clients see those as CANCELLED.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import re
import threading
import time
import uuid
from concurrent import futures

import grpc
import tensorflow as tf
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
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
from serving.request_validation import (  # noqa: F401 (RequestLimits, ServingError: re-exported)
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
        max_message_bytes: gRPC send/receive message limit (contract.MAX_MESSAGE_BYTES,
            52 MiB: the largest request the contract's limits allow, with a margin).
        max_workers: request handler threads.
        max_concurrent_rpcs: calls held at once, running or waiting for a handler thread;
            gRPC refuses one more with RESOURCE_EXHAUSTED (None: no bound).
        max_load_retries: retries of a failed version with unchanged contents.
        limits: request size limits.
        freeze_gc: at start, move the objects that exist then (TensorFlow's ~420,000 import
            objects, all alive for good) out of the garbage collector's reach
            (`gc.freeze`), so the full collection that releases a retired version scans
            only what was created since (0.1 s instead of 0.35-0.45 s holding the GIL, on
            an idle 2-core machine). Undone at stop.
    """

    model_name: str
    model_base_path: str
    host: str = contract.DEFAULT_HOST
    port: int = contract.DEFAULT_PORT
    poll_interval_s: float = 1.0
    num_versions: int = 1
    max_message_bytes: int = contract.MAX_MESSAGE_BYTES
    max_workers: int = 16
    max_concurrent_rpcs: int | None = contract.MAX_CONCURRENT_RPCS
    max_load_retries: int = 5
    limits: RequestLimits = dataclasses.field(default_factory=RequestLimits)
    freeze_gc: bool = True


class _Models:
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

    def __init__(self, models: _Models, limits: RequestLimits):
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


class _DrainInterceptor(grpc.ServerInterceptor):
    """Counts the calls the server accepted and refuses new ones once draining.

    gRPC Python runs interceptors when a call is matched to its handler, before the
    call is queued for a worker thread, so "accepted" here includes calls waiting
    for a thread. The health service is never refused (it reports NOT_SERVING).
    """

    def __init__(self, refused_prefixes: tuple[str, ...]):
        self._refused_prefixes = refused_prefixes
        self._cond = threading.Condition()
        self._in_flight = 0
        self.draining = False
        self.last_call = 0.0  # time.monotonic() of the last call seen

    @property
    def in_flight(self) -> int:
        with self._cond:
            return self._in_flight

    def begin_drain(self) -> int:
        """Refuses calls from now on; returns how many accepted calls are still running."""
        with self._cond:
            self.draining = True
            return self._in_flight

    def wait_drained(self, timeout_s: float) -> bool:
        """Waits until no accepted call is running (True) or the timeout (False)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._in_flight == 0, timeout=max(0.0, timeout_s))

    def wait_quiet(self, quiet_s: float, timeout_s: float) -> None:
        """Waits (up to timeout_s) until no call has arrived for quiet_s.

        gRPC's stop cancels the calls that reached the transport but no handler yet;
        stopping in a quiet moment leaves none there (refused clients back off).
        """
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            idle = time.monotonic() - self.last_call
            if idle >= quiet_s:
                return
            time.sleep(min(quiet_s - idle, max(0.0, deadline - time.monotonic())))

    def _done(self) -> None:
        with self._cond:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._cond.notify_all()

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        method = handler_call_details.method or ""
        if handler is None or handler.unary_unary is None:
            return handler
        if not method.startswith(self._refused_prefixes):
            return handler
        self.last_call = time.monotonic()
        with self._cond:
            if self.draining:
                return grpc.unary_unary_rpc_method_handler(
                    _refuse_draining,
                    request_deserializer=handler.request_deserializer,
                    response_serializer=handler.response_serializer,
                )
            self._in_flight += 1
        behaviour = handler.unary_unary

        def counted(request, context):
            try:
                return behaviour(request, context)
            finally:
                self._done()

        return grpc.unary_unary_rpc_method_handler(
            counted,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def _refuse_draining(request, context):
    del request
    context.abort(
        grpc.StatusCode.UNAVAILABLE, "the server is shutting down; retry on another replica"
    )


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
            max_load_retries=config.max_load_retries,
            on_change=lambda manager: self._set_health(bool(manager.available_versions())),
        )
        models = _Models({config.model_name: self.manager})
        options = [
            ("grpc.max_send_message_length", config.max_message_bytes),
            ("grpc.max_receive_message_length", config.max_message_bytes),
        ]
        self._drain = _DrainInterceptor((f"/{PREDICTION_SERVICE}/", f"/{MODEL_SERVICE}/"))
        self.server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=config.max_workers),
            options=options,
            interceptors=[self._drain],
            maximum_concurrent_rpcs=config.max_concurrent_rpcs,
        )
        prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
            PredictionServicer(models, config.limits), self.server
        )
        model_service_pb2_grpc.add_ModelServiceServicer_to_server(
            ModelServicer(models), self.server
        )
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        self.port: int | None = None
        self._frozen = False

    def _set_health(self, serving: bool) -> None:
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if serving
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for service in self._health_services:
            self.health.set(service, status)

    def start(self, wait_for_model_s: float = 0.0) -> int:
        """Starts the model poller, binds and starts serving.

        Args:
            wait_for_model_s: bind only once a version is AVAILABLE, waiting up to this
                long (then binding anyway, with a warning), as TF Serving opens its port
                only after the models' first versions are loaded. A restarted server
                then answers no request with NOT_FOUND while it is still loading;
                clients that wait for readiness wait instead. 0: bind at once.

        Returns:
            The bound port.

        Raises:
            RuntimeError: if the address cannot be bound.
        """
        if self.config.freeze_gc and not self._frozen:
            gc.collect()  # garbage left now would be frozen for good
            gc.freeze()
            self._frozen = True
        self.manager.start()
        if wait_for_model_s > 0:
            deadline = time.monotonic() + wait_for_model_s
            while not self.manager.available_versions() and time.monotonic() < deadline:
                time.sleep(0.05)
            if not self.manager.available_versions():
                logging.warning(
                    "No version of %s available after %.0fs: serving anyway",
                    self.config.model_name,
                    wait_for_model_s,
                )
        address = f"{self.config.host}:{self.config.port}"
        port = self.server.add_insecure_port(address)
        if port == 0:
            raise RuntimeError(f"could not bind {address}")
        self.port = port
        self.server.start()
        logging.info(
            "Serving %s from %s on %s:%d",
            self.config.model_name,
            self.config.model_base_path,
            self.config.host,
            port,
        )
        return port

    @property
    def in_flight(self) -> int:
        """Predict / metadata / status calls accepted and not finished yet."""
        return self._drain.in_flight

    def stop(self, grace_s: float = 5.0) -> None:
        """Drains, then stops.

        Reports NOT_SERVING, refuses calls arriving from now on with UNAVAILABLE, lets
        the calls already accepted finish (up to grace_s; those still running then are
        cancelled), then stops gRPC and the model poller.
        """
        start = time.monotonic()
        self.health.enter_graceful_shutdown()
        running = self._drain.begin_drain()
        logging.info("Draining: %d call(s) in flight, grace %.1fs", running, grace_s)
        drained = self._drain.wait_drained(grace_s)
        if drained:
            logging.info("Drained in %.2fs", time.monotonic() - start)
        else:
            logging.warning(
                "Grace period of %.1fs over with %d call(s) still running: cancelling them",
                grace_s,
                self._drain.in_flight,
            )
        if drained:
            self._drain.wait_quiet(0.1, max(0.0, min(1.0, start + grace_s - time.monotonic())))
        self.server.stop(0.2 if drained else 0).wait()
        self.manager.stop()
        if self._frozen:
            gc.unfreeze()
            self._frozen = False

    def wait(self, timeout_s: float | None = None) -> bool:
        """Blocks until the server stops (or timeout); True if it stopped."""
        return self.server.wait_for_termination(timeout_s)
