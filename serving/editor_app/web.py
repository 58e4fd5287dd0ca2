"""The editor's routes on Starlette: the JSON API over `EditorApp`, the page's WebSocket, the
static page.

Routes (JSON unless said otherwise; errors are {"error": {"kind", "message"}}):

    GET  /                                  the page (static/index.html, app.js, style.css)
    GET  /api/info                          server, model name, resolution, max_words, limits
    GET  /api/status                        GetModelStatus: is a version AVAILABLE?
    POST /api/session                       a new session (one per browser tab) -> {"session"}
    GET  /api/session/<id>                  the session's turns (a reloaded tab gets them back)
    POST /api/session/<id>/start            body: an image file -> turn 0
    POST /api/session/<id>/example          a random test-split example -> turn 0
    POST /api/session/<id>/edit             {"text", "parent"} -> the new turn
    WS   /api/ws                            the page's edits, one message each way ({"id",
                                            "session", "text", "parent"} -> a binary answer, see
                                            `app.binary_answer`, or {"id", "error"}); same
                                            answers as /edit
    GET  /api/session/<id>/strip.png?turn=N the strip from the start to turn N (download)
    GET  /api/session/<id>/session.json?turn=N  texts, versions, tokens of that path and the tree

POST routes need the page's own header and origin (see `guards`); every route needs an allowed
Host (`guards.HostGuard`). Model calls and image decoding run in worker threads.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import time

import anyio.to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from serving.editor_app import guards
from serving.editor_app.app import STATIC_TYPES, EditorApp, binary_answer
from serving.editor_app.backend import EditorError

logger = logging.getLogger(__name__)
INTERNAL_ERROR = (
    "The editor app failed on this request (an internal error, written to the app's log). "
    "Your turns are kept; retry."
)
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'"
    ),
}


def error_response(error: EditorError) -> JSONResponse:
    return JSONResponse(
        {"error": {"kind": error.kind, "message": error.message}},
        status_code=error.http_status,
        headers=SECURITY_HEADERS,
    )


def internal_error() -> JSONResponse:
    return JSONResponse(
        {"error": {"kind": "app_error", "message": INTERNAL_ERROR}},
        status_code=500,
        headers=SECURITY_HEADERS,
    )


def endpoint(handler):
    """An API route: an EditorError becomes its JSON answer, any other failure is logged with
    its stack and answered with a plain message (never the exception's text)."""

    @functools.wraps(handler)
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except EditorError as error:
            return error_response(error)
        except Exception:
            logger.exception("request %s %s failed", request.method, request.url.path)
            return internal_error()

    return wrapped


def json_answer(payload: dict, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(payload, headers={**SECURITY_HEADERS, **(headers or {})})


def make_asgi_app(editor: EditorApp, hosts: guards.AllowedHosts, limits: guards.Limits):
    """The editor as an ASGI app (Starlette behind `guards.HostGuard`).

    Args:
        editor: the app's state.
        hosts: the names (with port) the app answers to.
        limits: body caps, timeouts and the upload bound.

    Example:
        asgi = make_asgi_app(editor, guards.AllowedHosts(guards.LOOPBACK_NAMES, 7860),
                             guards.Limits())
    """
    decoding = asyncio.Semaphore(limits.max_decoding_uploads)
    threads = anyio.to_thread.run_sync  # model calls and decoding block: worker threads

    def static(name: str) -> Response:
        kind = STATIC_TYPES.get(os.path.splitext(name)[1], "application/octet-stream")
        return Response(editor.static[name], media_type=kind, headers=SECURITY_HEADERS)

    async def index(request: Request) -> Response:
        return static("index.html")

    async def static_file(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in editor.static:
            raise EditorError("not_found", f"No page at {request.url.path}", 404)
        return static(name)

    async def favicon(request: Request) -> Response:
        return Response(status_code=204)

    async def info(request: Request) -> Response:
        return json_answer(await threads(editor.info))

    async def status(request: Request) -> Response:
        return json_answer(await threads(editor.backend.status))

    async def json_body(request: Request) -> dict:
        guards.require_same_origin(request.headers, hosts, json_body=True)
        body = await guards.read_body(request, limits.max_json_bytes, limits.body_timeout_s)
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            raise EditorError("bad_request", "The request is not JSON.") from None
        if not isinstance(payload, dict):
            raise EditorError("bad_request", "The request is not a JSON object.")
        return payload

    async def create_session(request: Request) -> Response:
        await json_body(request)
        return json_answer({"session": editor.sessions.create().id})

    async def get_session(request: Request) -> Response:
        session = editor.sessions.get(request.path_params["id"])
        return json_answer(await threads(editor.session_json, session))

    async def start(request: Request) -> Response:
        guards.require_same_origin(request.headers, hosts, json_body=False)
        session = editor.sessions.get(request.path_params["id"])
        # Too large: refused before waiting for a decoding slot or reading a byte of it.
        guards.check_length(request.headers, editor.max_upload_bytes, "upload", "bad_image")
        size = await threads(editor.model_size)
        try:
            await asyncio.wait_for(decoding.acquire(), limits.upload_wait_s)
        except TimeoutError:
            raise EditorError(
                "busy",
                f"{limits.max_decoding_uploads} uploads are being read already; this one "
                f"waited {limits.upload_wait_s:g} s. Retry in a moment.",
                503,
            ) from None
        try:
            data = await guards.read_body(
                request, editor.max_upload_bytes, limits.body_timeout_s, "upload", "bad_image"
            )
            upload = await threads(editor.prepare_upload, data, size)
        finally:
            decoding.release()
        return json_answer(await threads(editor.start, session, upload))

    async def example(request: Request) -> Response:
        await json_body(request)
        session = editor.sessions.get(request.path_params["id"])
        return json_answer(await threads(editor.example, session))

    async def edit(request: Request) -> Response:
        tic = time.perf_counter()
        payload = await json_body(request)
        session = editor.sessions.get(request.path_params["id"])
        result = await threads(editor.edit, session, payload)
        app_ms = (time.perf_counter() - tic) * 1000.0
        result["app_ms"] = round(app_ms, 3)
        timing = f"client;dur={result['turn']['client_ms']}, app;dur={app_ms:.3f}"
        return json_answer(result, {"Server-Timing": timing})

    async def strip(request: Request) -> Response:
        session = editor.sessions.get(request.path_params["id"])
        png = await threads(editor.strip, session, request.query_params)
        disposition = {"Content-Disposition": 'attachment; filename="session_strip.png"'}
        return Response(png, media_type="image/png", headers={**SECURITY_HEADERS, **disposition})

    async def download(request: Request) -> Response:
        session = editor.sessions.get(request.path_params["id"])
        payload = await threads(editor.session_download, session, request.query_params)
        disposition = {"Content-Disposition": 'attachment; filename="session.json"'}
        return Response(
            json.dumps(payload, indent=2),
            media_type="application/json",
            headers={**SECURITY_HEADERS, **disposition},
        )

    async def websocket(ws: WebSocket) -> None:
        # A fetch() costs headless Chromium 4-5 ms of its own per request, a message on an open
        # WebSocket about 1.5 ms; an edit turn is ~10-20 ms of model call, so edits come here.
        if not guards.websocket_origin_allowed(ws.headers, hosts):
            await ws.close(code=1008)  # before accept: uvicorn answers the handshake with 403
            return
        await ws.accept()
        try:
            while True:
                try:
                    message = await asyncio.wait_for(ws.receive(), limits.ws_idle_s)
                except TimeoutError:
                    await ws.close(code=1001)  # idle: the page reopens it on its next edit
                    return
                if message["type"] == "websocket.disconnect":
                    return
                tic = time.perf_counter()
                received = time.time()
                data = message.get("text")
                if data is None:
                    data = message.get("bytes") or b""
                answer = await ws_answer(data, tic)
                # Wall-clock times (ms since the epoch) for the page's own latency breakdown.
                answer["app_received"] = round(received * 1000.0, 3)
                answer["app_sent"] = round(time.time() * 1000.0, 3)
                pixels = answer.pop("pixels", None)
                if pixels is None:
                    await ws.send_text(json.dumps(answer, separators=(",", ":")))
                else:
                    await ws.send_bytes(binary_answer(answer, pixels))
        except WebSocketDisconnect:
            return

    async def ws_answer(data: str | bytes, tic: float) -> dict:
        request_id = None
        try:
            try:
                request = json.loads(data)
            except ValueError:
                raise EditorError("bad_request", "The edit message is not JSON.") from None
            if not isinstance(request, dict):
                raise EditorError("bad_request", "The edit message is not a JSON object.")
            request_id = request.get("id")
            session = editor.sessions.get(str(request.get("session")))
            result = await threads(editor.edit, session, request, False)
            result["app_ms"] = round((time.perf_counter() - tic) * 1000.0, 3)
            result["id"] = request_id
            return result
        except EditorError as error:
            return {"id": request_id, "error": {"kind": error.kind, "message": error.message}}
        except Exception:
            logger.exception("WebSocket edit failed")
            return {"id": request_id, "error": {"kind": "app_error", "message": INTERNAL_ERROR}}

    async def http_error(request: Request, error: HTTPException) -> Response:
        kind = "not_found" if error.status_code == 404 else "bad_request"
        message = (
            f"No {request.method} {request.url.path}"
            if error.status_code in (404, 405)
            else error.detail
        )
        return error_response(EditorError(kind, message, error.status_code))

    async def server_error(request: Request, error: Exception) -> Response:
        return internal_error()

    routes = [
        Route("/", index),
        Route("/index.html", index),
        Route("/static/{name}", endpoint(static_file)),
        Route("/favicon.ico", favicon),
        Route("/api/info", endpoint(info)),
        Route("/api/status", endpoint(status)),
        Route("/api/session", endpoint(create_session), methods=["POST"]),
        Route("/api/session/{id}", endpoint(get_session)),
        Route("/api/session/{id}/start", endpoint(start), methods=["POST"]),
        Route("/api/session/{id}/example", endpoint(example), methods=["POST"]),
        Route("/api/session/{id}/edit", endpoint(edit), methods=["POST"]),
        Route("/api/session/{id}/strip.png", endpoint(strip)),
        Route("/api/session/{id}/session.json", endpoint(download)),
        WebSocketRoute("/api/ws", websocket),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: http_error, Exception: server_error},
    )
    return guards.HostGuard(app, hosts)
