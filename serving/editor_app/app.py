"""The editor's web server: a JSON API over `Backend` plus one static page (stdlib http.server).

Routes (all JSON unless said otherwise; errors are {"error": {"kind", "message"}}):

    GET  /                                  the page (static/index.html, app.js, style.css)
    GET  /api/info                          server, model name, resolution, max_words, limits
    GET  /api/status                        GetModelStatus: is a version AVAILABLE?
    POST /api/session                       a new session (one per browser tab) -> {"session"}
    GET  /api/session/<id>                  the session's turns (a reloaded tab gets them back)
    POST /api/session/<id>/start            body: an image file -> turn 0
    POST /api/session/<id>/example          a random test-split example -> turn 0
    POST /api/session/<id>/edit             {"text", "parent"} -> the new turn
    GET  /api/ws                            WebSocket: the page's edits, one JSON message each way
                                            ({"id", "session", "text", "parent"} -> {"id", "turn",
                                            "app_ms"} or {"id", "error"}); same answers as /edit
    GET  /api/session/<id>/strip.png?turn=N the strip from the start to turn N (download)
    GET  /api/session/<id>/session.json?turn=N  texts, versions, tokens of that path and the tree

Nothing here loads a model: every model call is a gRPC call through `serving.client`.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import logging
import os
import socketserver
import struct
import time
import urllib.parse

from serving.editor_app import images
from serving.editor_app.backend import Backend, EditorError
from serving.editor_app.examples import ExampleSource
from serving.editor_app.sessions import Session, SessionStore, Turn

STATIC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
MAX_DRAIN_BYTES = 256 * 1024 * 1024
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455
MAX_WS_MESSAGE = 1 << 20

logger = logging.getLogger(__name__)


def turn_json(turn: Turn, pixels_inline: bool = True) -> dict:
    """A turn as the page reads it. pixels_inline=False leaves the image's "rgb" out: the
    WebSocket answer carries the raw pixels after the JSON (see `binary_answer`)."""
    attention = None
    if turn.attention is not None:
        h, w = turn.attention.shape[:2]
        attention = {
            "height": h,
            "width": w,
            "maps": images.attention_maps(turn.attention, len(turn.tokens)),
        }
    return {
        "id": turn.id,
        "parent": turn.parent,
        "text": turn.text,
        "image": images.rgb_json(turn.image, pixels_inline),
        "tokens": turn.tokens,
        "attention": attention,
        "version": turn.version,
        "client_ms": round(turn.client_ms, 3),
    }


def binary_answer(answer: dict, pixels: bytes) -> bytes:
    """A WebSocket edit answer as one binary message: the JSON's length (uint32, big-endian),
    the JSON, then the new image's bytes: what changed since its parent turn, or its raw RGB
    (the JSON's turn.image says which; see `images.pixels_after`). Against the JSON-only
    message (pixels in base64) it needs no base64 decode and is 4x smaller for a typical edit;
    in this headless Chromium a 22 kB message reaches the page's script in 1.17 ms, a 12 kB one
    in 0.67 ms and a 100 B one in 0.35 ms (medians, loopback)."""
    head = json.dumps(answer, separators=(",", ":")).encode("utf-8")
    return struct.pack(">I", len(head)) + head + pixels


class EditorApp:
    """The app's state: the backend, the sessions and the examples.

    Args:
        backend: the gRPC adapter.
        examples: test-split examples (may have none).
        max_upload_bytes: largest accepted upload.
        sessions: the session store.
    """

    def __init__(
        self,
        backend: Backend,
        examples: ExampleSource | None = None,
        max_upload_bytes: int = 20 * 1024 * 1024,
        sessions: SessionStore | None = None,
    ):
        self.backend = backend
        self.examples = examples
        self.max_upload_bytes = max_upload_bytes
        self.sessions = sessions or SessionStore()
        self.static = {}
        for name in os.listdir(STATIC_DIR):
            with open(os.path.join(STATIC_DIR, name), "rb") as f:
                self.static[name] = f.read()

    # -- API ---------------------------------------------------------------------------------

    def info(self) -> dict:
        model, model_error = None, None
        try:
            info = self.backend.info()
            model = {
                "version": info.version,
                "image_size": info.image_size,
                "max_words": info.max_words,
            }
        except EditorError as error:
            model_error = error.message
        return {
            "server": self.backend.target,
            "model_name": self.backend.model_name,
            "model": model,
            "model_error": model_error,
            "examples": bool(self.examples and self.examples.available),
            "examples_note": self.examples.describe() if self.examples else "no --data_dir",
            "max_upload_bytes": self.max_upload_bytes,
            "max_text_chars": self.backend.max_text_chars,
            "timeout_s": self.backend.timeout_s,
        }

    def session_json(self, session: Session) -> dict:
        return {
            "session": session.id,
            "source": session.source,
            "reference": session.reference,
            "turns": [turn_json(t) for t in session.turns],
        }

    def start(self, session: Session, data: bytes) -> dict:
        image = images.decode_upload(data, self.max_upload_bytes)
        with session.lock:
            model_image, state = self.backend.start(images.pad_to_square(image))
            source = f"upload ({image.shape[1]}x{image.shape[0]})"
            session.restart(model_image, state, source)
            return self.session_json(session)

    def example(self, session: Session) -> dict:
        if not (self.examples and self.examples.available):
            note = self.examples.describe() if self.examples else "the app has no --data_dir"
            raise EditorError("no_examples", f"No test-split examples: {note}.", 404)
        session_id, image, reference = self.examples.sample()
        with session.lock:
            model_image, state = self.backend.start(image)
            session.restart(model_image, state, f"test example {session_id}", reference)
            return self.session_json(session)

    def edit(self, session: Session, body: dict, pixels_inline: bool = True) -> dict:
        text = body.get("text")
        if not isinstance(text, str):
            raise EditorError("bad_text", "Type an edit first (the text is missing).")
        with session.lock:
            if not session.turns:
                raise EditorError("no_session", "Start from an image first (upload or example).")
            parent = body.get("parent", len(session.turns) - 1)
            if not isinstance(parent, int):
                raise EditorError("bad_turn", f"parent must be a turn number, got {parent!r}")
            if len(session.turns) >= self.sessions.max_turns:
                raise EditorError(
                    "too_many_turns",
                    f"This session has {len(session.turns)} turns, the most one session keeps. "
                    "Download it and start a new one.",
                )
            base = session.turn(parent)
            out = self.backend.edit(base.image, base.state, text)
            turn = session.add(
                parent,
                text=text.strip(),
                image=out.image,
                state=out.state,
                tokens=out.tokens,
                attention=out.attention,
                version=out.version,
                client_ms=out.client_ms,
            )
            answer = {"turn": turn_json(turn, pixels_inline)}
            if not pixels_inline:
                how, answer["pixels"] = images.pixels_after(turn.image, base.image)
                answer["turn"]["image"].update(how)
            return answer

    def _path(self, session: Session, query: dict) -> list[Turn]:
        try:
            turn_id = int(query.get("turn", [len(session.turns) - 1])[0])
        except ValueError:
            raise EditorError("bad_turn", "turn must be a number") from None
        return session.path(turn_id)

    def strip(self, session: Session, query: dict) -> bytes:
        with session.lock:
            path = self._path(session, query)
            captions = ["(start)"] + [
                f"{t.id}. {t.text}" + (f" [v{t.version}]" if t.version is not None else "")
                for t in path[1:]
            ]
            return images.strip_png([t.image for t in path], captions)

    def session_download(self, session: Session, query: dict) -> dict:
        with session.lock:
            path = self._path(session, query)

            def describe(t: Turn) -> dict:
                return {
                    "turn": t.id,
                    "parent": t.parent,
                    "text": t.text,
                    "model_version": t.version,
                    "tokens": t.tokens,
                }

            return {
                "model_name": self.backend.model_name,
                "server": self.backend.target,
                "source": session.source,
                "reference_edits": session.reference,
                "model_versions": sorted({t.version for t in path if t.version is not None}),
                "path": [describe(t) for t in path],
                "all_turns": [describe(t) for t in session.turns],
            }


class Handler(http.server.BaseHTTPRequestHandler):
    """Routes requests to the `EditorApp` held by the server."""

    protocol_version = "HTTP/1.1"  # keep-alive: the page reuses one connection
    disable_nagle_algorithm = True  # no delayed-ACK stall between writes
    # Headers and body are buffered and leave in one send() when the request is done
    # (BaseHTTPRequestHandler flushes wfile after each request): one segment, one wake-up of
    # the browser's network process instead of two.
    wbufsize = 256 * 1024
    server_version = "seqgan-editor"

    @property
    def app(self) -> EditorApp:
        return self.server.app  # type: ignore[attr-defined]

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        logger.debug("%s " + format, self.address_string(), *args)

    def _send(self, status: int, body: bytes, content_type: str, headers: dict | None = None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, payload: dict, headers: dict | None = None) -> None:
        body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        self._send(status, body, "application/json", headers)

    def _body(self, limit: int) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > limit:
            # Read (and drop) what was sent so the answer reaches the browser, then refuse.
            if length <= MAX_DRAIN_BYTES:
                remaining = length
                while remaining > 0:
                    chunk = self.rfile.read(min(remaining, 1 << 20))
                    if not chunk:
                        break
                    remaining -= len(chunk)
            else:
                self.close_connection = True
            raise EditorError(
                "bad_image",
                f"The upload is {length / 1e6:.1f} MB; at most {limit / 1e6:.0f} MB is accepted.",
                413,
            )
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:  # noqa: N802
        self._dispatch("GET")

    def do_HEAD(self) -> None:  # noqa: N802
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        tic = time.perf_counter()
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        parts = [p for p in url.path.split("/") if p]
        try:
            self._route(method, parts, query, tic)
        except EditorError as error:
            self._json(error.http_status, {"error": {"kind": error.kind, "message": error.message}})
        except Exception as error:  # a bug: say so on the page, keep serving
            logger.exception("request %s %s failed", method, self.path)
            self._json(500, {"error": {"kind": "app_error", "message": f"App error: {error!r}"}})

    def _route(self, method: str, parts: list[str], query: dict, tic: float) -> None:
        app = self.app
        if method == "GET" and (not parts or parts == ["index.html"]):
            return self._send(200, app.static["index.html"], STATIC_TYPES[".html"])
        if method == "GET" and len(parts) == 2 and parts[0] == "static":
            name = parts[1]
            if name in app.static:
                kind = STATIC_TYPES.get(os.path.splitext(name)[1], "application/octet-stream")
                return self._send(200, app.static[name], kind)
        if method == "GET" and parts == ["favicon.ico"]:
            return self._send(204, b"", "image/x-icon")
        if parts[:1] != ["api"]:
            raise EditorError("not_found", f"No page at {self.path}", 404)
        route = parts[1:]
        if method == "GET" and route == ["info"]:
            return self._json(200, app.info())
        if method == "GET" and route == ["status"]:
            return self._json(200, app.backend.status())
        if method == "GET" and route == ["ws"]:
            return self._websocket()
        if method == "POST" and route == ["session"]:
            self._body(1 << 16)
            return self._json(200, {"session": app.sessions.create().id})
        if len(route) >= 2 and route[0] == "session":
            if method == "POST":
                limit = app.max_upload_bytes if route[2:] == ["start"] else 1 << 20
                body = self._body(limit)
            session = app.sessions.get(route[1])
            action = route[2:]
            if method == "GET" and not action:
                return self._json(200, app.session_json(session))
            if method == "POST" and action == ["start"]:
                return self._json(200, app.start(session, body))
            if method == "POST" and action == ["example"]:
                return self._json(200, app.example(session))
            if method == "POST" and action == ["edit"]:
                try:
                    payload = json.loads(body or b"{}")
                except ValueError:
                    raise EditorError("bad_request", "the edit request is not JSON") from None
                result = app.edit(session, payload if isinstance(payload, dict) else {})
                app_ms = (time.perf_counter() - tic) * 1000.0
                result["app_ms"] = round(app_ms, 3)
                timing = f"client;dur={result['turn']['client_ms']}, app;dur={app_ms:.3f}"
                return self._json(200, result, {"Server-Timing": timing})
            if method == "GET" and action == ["strip.png"]:
                return self._send(
                    200,
                    app.strip(session, query),
                    "image/png",
                    {"Content-Disposition": 'attachment; filename="session_strip.png"'},
                )
            if method == "GET" and action == ["session.json"]:
                body = json.dumps(app.session_download(session, query), indent=2).encode()
                return self._send(
                    200,
                    body,
                    "application/json",
                    {"Content-Disposition": 'attachment; filename="session.json"'},
                )
        raise EditorError("not_found", f"No {method} {self.path}", 404)

    # -- WebSocket (the page's edits) ----------------------------------------------------------
    #
    # A fetch() costs this headless Chromium 4-5 ms of its own per request (URL loader, response
    # head, body data pipe, each a hop between its processes); a message on an open WebSocket
    # about 1.5 ms. An edit turn is ~10-20 ms of model call, so the page sends its edits here.
    # Minimal RFC 6455 server side: text frames, fragmentation, ping/pong, close; no extensions.

    def _websocket(self) -> None:
        headers = self.headers
        key = headers.get("Sec-WebSocket-Key", "")
        if (
            headers.get("Upgrade", "").lower() != "websocket"
            or "upgrade" not in headers.get("Connection", "").lower()
            or headers.get("Sec-WebSocket-Version") != "13"
            or not key
        ):
            raise EditorError("bad_request", "expected a WebSocket upgrade (version 13)", 400)
        origin = headers.get("Origin")
        if origin is not None and urllib.parse.urlsplit(origin).netloc != headers.get("Host"):
            # Another site's page must not drive this app through the visitor's browser.
            raise EditorError("forbidden", f"WebSocket from another origin ({origin})", 403)
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True  # after the WebSocket ends, so does the connection
        try:
            while True:
                message = self._ws_receive()
                if message is None:
                    return
                tic = time.perf_counter()
                received = time.time()
                answer = self._ws_answer(message, tic)
                # Wall-clock times (ms since the epoch) for the page's own latency breakdown.
                answer["app_received"] = round(received * 1000.0, 3)
                answer["app_sent"] = round(time.time() * 1000.0, 3)
                pixels = answer.pop("pixels", None)
                if pixels is None:
                    self._ws_send(json.dumps(answer, separators=(",", ":")))
                else:
                    self._ws_send(binary_answer(answer, pixels), opcode=0x2)
        except (ConnectionError, OSError):
            return  # the tab went away

    def _ws_answer(self, message: bytes, tic: float) -> dict:
        request_id = None
        try:
            try:
                request = json.loads(message)
            except ValueError:
                raise EditorError("bad_request", "the edit message is not JSON") from None
            if not isinstance(request, dict):
                raise EditorError("bad_request", "the edit message is not a JSON object")
            request_id = request.get("id")
            session = self.app.sessions.get(str(request.get("session")))
            result = self.app.edit(session, request, pixels_inline=False)
            result["app_ms"] = round((time.perf_counter() - tic) * 1000.0, 3)
            result["id"] = request_id
            return result
        except EditorError as error:
            return {"id": request_id, "error": {"kind": error.kind, "message": error.message}}
        except Exception as error:  # a bug: say so on the page, keep the socket
            logger.exception("WebSocket edit failed")
            message = f"App error: {error!r}"
            return {"id": request_id, "error": {"kind": "app_error", "message": message}}

    def _ws_read(self, n: int) -> bytes:
        data = self.rfile.read(n)
        if len(data) < n:
            raise ConnectionError("the WebSocket closed mid-frame")
        return data

    def _ws_receive(self) -> bytes | None:
        """The next text/binary message (None: the page closed the socket)."""
        parts: list[bytes] = []
        size = 0
        while True:
            head = self.rfile.read(2)
            if len(head) < 2:
                return None
            fin, opcode = head[0] & 0x80, head[0] & 0x0F
            length = head[1] & 0x7F
            if length == 126:
                length = struct.unpack(">H", self._ws_read(2))[0]
            elif length == 127:
                length = struct.unpack(">Q", self._ws_read(8))[0]
            if not head[1] & 0x80:  # a browser always masks its frames
                self._ws_close(1002)
                return None
            size += length
            if size > MAX_WS_MESSAGE:
                self._ws_close(1009)
                return None
            mask = self._ws_read(4)
            payload = self._ws_read(length)
            if length:
                key = int.from_bytes((mask * (length // 4 + 1))[:length], "big")
                payload = (int.from_bytes(payload, "big") ^ key).to_bytes(length, "big")
            if opcode == 0x8:  # close
                self._ws_close(1000)
                return None
            if opcode == 0x9:  # ping
                self._ws_send(payload, opcode=0xA)
                size -= length
                continue
            if opcode == 0xA:  # pong
                size -= length
                continue
            parts.append(payload)
            if fin:
                return b"".join(parts)

    def _ws_send(self, data: str | bytes, opcode: int = 0x1) -> None:
        payload = data.encode("utf-8") if isinstance(data, str) else data
        n = len(payload)
        if n < 126:
            head = struct.pack(">BB", 0x80 | opcode, n)
        elif n < 1 << 16:
            head = struct.pack(">BBH", 0x80 | opcode, 126, n)
        else:
            head = struct.pack(">BBQ", 0x80 | opcode, 127, n)
        self.wfile.write(head + payload)
        self.wfile.flush()

    def _ws_close(self, code: int) -> None:
        try:
            self._ws_send(struct.pack(">H", code), opcode=0x8)
        except OSError:
            pass


class EditorServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    """A threaded HTTP server holding an `EditorApp` (one thread per connection)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, app: EditorApp, host: str = "127.0.0.1", port: int = 0):
        self.app = app
        super().__init__((host, port), Handler)

    @property
    def port(self) -> int:
        return self.server_address[1]
