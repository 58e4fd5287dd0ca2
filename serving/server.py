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
never takes the server down. The checks are in `serving.request_validation`, the services'
handlers in `serving.services`.

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
transport but not yet a handler, and clients see those as CANCELLED. The counting and refusing
of calls is `serving.call_drain`.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import time
from concurrent import futures

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from tensorflow_serving.apis import model_service_pb2_grpc, prediction_service_pb2_grpc

from serving import contract
from serving.call_drain import DrainInterceptor
from serving.model_manager import ModelManager
from serving.request_validation import RequestLimits
from serving.services import (
    MODEL_SERVICE,
    PREDICTION_SERVICE,
    ModelResolver,
    ModelServicer,
    PredictionServicer,
)


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
        models = ModelResolver({config.model_name: self.manager})
        options = [
            ("grpc.max_send_message_length", config.max_message_bytes),
            ("grpc.max_receive_message_length", config.max_message_bytes),
        ]
        self._drain = DrainInterceptor((f"/{PREDICTION_SERVICE}/", f"/{MODEL_SERVICE}/"))
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
