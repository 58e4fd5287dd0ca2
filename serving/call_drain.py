"""Draining the server's calls at shutdown: count the calls accepted, refuse new ones with
UNAVAILABLE once draining, and wait until the accepted ones are done (`DrainInterceptor`)."""

from __future__ import annotations

import threading
import time

import grpc


class DrainInterceptor(grpc.ServerInterceptor):
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
