"""The editor's server: uvicorn (h11 for HTTP, the `websockets` package for the WebSocket)
running the Starlette app of serving/editor_app/web.py on a socket bound before it starts (so
the port, and with it the allowed Host names, is known at once, also for --port=0).

uvicorn closes a keep-alive connection idle after an answer (timeout_keep_alive) but starts no
timer before the first request's head is in, nor while one trickles in: `TimedH11Protocol`
adds that one timer (`Limits.header_timeout_s`), so a connection that sends no whole request
head in time is closed (slowloris). The request body has its own deadline (`guards.read_body`).
"""

from __future__ import annotations

import socket
import threading
import time

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from serving.editor_app import guards
from serving.editor_app.app import EditorApp
from serving.editor_app.web import make_asgi_app


class TimedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request head (set by `EditorServer`)."""

    header_timeout_s = 10.0

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self.header_timeout_s, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        timer = getattr(self, "_head_timer", None)
        if timer is not None:
            timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._cancel_head_timer()  # the head is in (or the connection is done)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_head_timer()

    def connection_lost(self, exc) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)


class EditorServer:
    """The editor on uvicorn, on `host:port` (127.0.0.1 and a free port by default).

    Args:
        app: the editor's state.
        host: the address to bind.
        port: the port (0: a free one; see `port`).
        allowed_hosts: names the app answers to besides the loopback names (127.0.0.1,
            localhost, [::1]); each may carry ":port" (default: the bound port).
        limits: body caps, timeouts, connection and upload bounds.

    Example:
        server = EditorServer(EditorApp(Backend("127.0.0.1:8500", "seqattngan")))
        server.start_in_thread()
        print(f"http://127.0.0.1:{server.port}/")
        server.stop()
    """

    def __init__(
        self,
        app: EditorApp,
        host: str = "127.0.0.1",
        port: int = 0,
        allowed_hosts: list[str] | None = None,
        limits: guards.Limits | None = None,
    ):
        self.app = app
        self.limits = limits or guards.Limits()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind((host.strip("[]"), port))
        self.socket.listen(128)  # connections queue from now on, before uvicorn runs
        self.port = self.socket.getsockname()[1]
        self.hosts = guards.AllowedHosts(
            list(guards.LOOPBACK_NAMES) + list(allowed_hosts or []), self.port
        )
        protocol = type("EditorH11Protocol", (TimedH11Protocol,), {})
        protocol.header_timeout_s = self.limits.header_timeout_s
        config = uvicorn.Config(
            make_asgi_app(app, self.hosts, self.limits),
            http=protocol,
            ws="websockets-sansio",
            ws_max_size=self.limits.max_ws_message_bytes,
            ws_per_message_deflate=False,  # answers are small; no compression state per socket
            timeout_keep_alive=self.limits.keep_alive_s,
            limit_concurrency=self.limits.max_connections,
            lifespan="off",
            log_level="warning",
            server_header=False,
        )
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    def serve_forever(self) -> None:
        """Serves until `stop` (or SIGINT / SIGTERM when run in the main thread)."""
        self.server.run(sockets=[self.socket])

    def start_in_thread(self, timeout_s: float = 30.0) -> None:
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started and self._thread.is_alive():
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)
        if not self.server.started:
            raise RuntimeError("the editor server did not start")

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(15)
        self.socket.close()
