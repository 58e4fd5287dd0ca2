"""What the editor refuses before a route runs: foreign Host names, cross-site requests, bodies
without a length or over their cap.

The threat is a web page the person visits while the editor runs on their machine: it can make
their browser send requests to 127.0.0.1 (cross-site requests), or point its own DNS name at
127.0.0.1 and read the answers (DNS rebinding). So:

* `HostGuard` (ASGI middleware): the Host header of every request and WebSocket must be one of
  the allowed names with the bound port (loopback names by default), which a rebound name is not;
* `require_same_origin`: a state-changing request must carry the page's own header
  (`REQUEST_HEADER`, which a cross-site page cannot send without a CORS preflight that this app
  never grants), an Origin (when the browser sends one) that is an allowed origin, and no
  Sec-Fetch-Site other than same-origin; JSON routes take only application/json;
* `websocket_origin_allowed`: a WebSocket must name an allowed Origin (browsers always send one;
  it is compared with the allowed names, never with the request's own Host);
* `read_body`: a body needs a Content-Length (411) within the route's cap (413, refused before
  it is read), arrives within a deadline (408), and is read in chunks that stop at the cap.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import json
import time
import urllib.parse

from serving.editor_app.backend import EditorError

REQUEST_HEADER = "x-requested-with"
REQUEST_HEADER_VALUE = "seqgan-editor"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


@dataclasses.dataclass(frozen=True)
class Limits:
    """How much the editor's server lets one client take.

    Attributes:
        max_json_bytes: largest JSON body (the edit and session routes).
        max_ws_message_bytes: largest WebSocket message from the page (uvicorn refuses more,
            closing with 1009).
        body_timeout_s: a request body must arrive within this (a slow sender is cut off, 408).
        header_timeout_s: a connection must send a whole request head within this after it
            opens or after its previous answer (uvicorn has no such timer of its own).
        keep_alive_s: an idle keep-alive connection is closed after this (uvicorn's
            timeout_keep_alive).
        max_connections: connections and requests at once; more are answered 503 (uvicorn's
            limit_concurrency).
        max_decoding_uploads: uploads read and decoded at once; each can take tens of MB.
        upload_wait_s: how long an upload waits for a decoding slot before a 503.
        ws_idle_s: a WebSocket silent this long is closed (the page reopens it on its next edit).
    """

    max_json_bytes: int = 1 << 16
    max_ws_message_bytes: int = 1 << 20
    body_timeout_s: float = 30.0
    header_timeout_s: float = 10.0
    keep_alive_s: int = 5
    max_connections: int = 64
    max_decoding_uploads: int = 2
    upload_wait_s: float = 10.0
    ws_idle_s: float = 900.0


def _split_host(netloc: str) -> tuple[str, int | None]:
    """("name", port) of a Host header or an Origin's netloc; names lower-cased, IPv6 in
    brackets. Raises ValueError when it is not a host[:port]."""
    netloc = netloc.strip().lower()
    if not netloc or any(c in netloc for c in "/@?# \t"):
        raise ValueError(netloc)
    if netloc.startswith("["):
        end = netloc.index("]")
        name, rest = netloc[: end + 1], netloc[end + 1 :]
        ipaddress.IPv6Address(name[1:-1])
    else:
        name, _, port_text = netloc.partition(":")
        rest = ":" + port_text if port_text or netloc.endswith(":") else ""
    if not rest:
        return name, None
    if not rest.startswith(":") or not rest[1:].isdigit():
        raise ValueError(netloc)
    return name, int(rest[1:])


class AllowedHosts:
    """The names the app answers to, each with the bound port.

    Args:
        names: host names or addresses, each optionally with ":port" (without one, the bound
            port); IPv6 addresses in brackets.
        port: the port the app listens on.

    Example:
        hosts = AllowedHosts(LOOPBACK_NAMES, 7860)
        hosts.allows_host("localhost:7860")  # True
        hosts.allows_origin("http://evil.example:7860")  # False
    """

    def __init__(self, names, port: int):
        self.port = port
        self._allowed: set[tuple[str, int]] = set()
        for name in names:
            host, name_port = _split_host(name)
            self._allowed.add((host, port if name_port is None else name_port))

    def __repr__(self) -> str:
        return f"AllowedHosts({sorted(self._allowed)})"

    def allows_host(self, netloc: str, default_port: int = 80) -> bool:
        try:
            host, port = _split_host(netloc)
        except ValueError:
            return False
        return (host, default_port if port is None else port) in self._allowed

    def allows_origin(self, origin: str | None) -> bool:
        """Whether `origin` ("http://host:port") is a page of this app."""
        if not origin or origin == "null":
            return False
        parts = urllib.parse.urlsplit(origin)
        if parts.scheme not in ("http", "https") or parts.path not in ("", "/"):
            return False
        return self.allows_host(parts.netloc, 443 if parts.scheme == "https" else 80)


class HostGuard:
    """ASGI middleware: requests and WebSockets whose Host is not allowed are refused (400),
    before any route runs. A DNS-rebound page sends its own name as Host, so it is refused.

    Args:
        app: the ASGI app to guard.
        hosts: the allowed names.
    """

    def __init__(self, app, hosts: AllowedHosts):
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        host = ""
        for key, value in scope["headers"]:
            if key == b"host":
                host = value.decode("latin-1")
                break
        if self.hosts.allows_host(host):
            return await self.app(scope, receive, send)
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        body = json.dumps(
            {
                "error": {
                    "kind": "bad_host",
                    "message": f"This app does not answer to the host name {host!r} (see "
                    "--allowed_hosts).",
                }
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 400,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def require_same_origin(headers, hosts: AllowedHosts, json_body: bool) -> None:
    """Refuses a state-changing request that may come from another site's page.

    Args:
        headers: the request's headers (case-insensitive mapping).
        hosts: the allowed names.
        json_body: the route reads JSON: only application/json is accepted (a cross-site form
            or fetch without preflight can send text/plain, never application/json).

    Raises:
        EditorError: 403 (or 415 for the content type) naming what was missing.
    """
    if headers.get(REQUEST_HEADER) != REQUEST_HEADER_VALUE:
        raise EditorError(
            "forbidden",
            f"Refused: requests that change a session must come from the editor's page "
            f"(header {REQUEST_HEADER}: {REQUEST_HEADER_VALUE} missing).",
            403,
        )
    origin = headers.get("origin")
    if origin is not None and not hosts.allows_origin(origin):
        raise EditorError("forbidden", f"Refused: a request from another site ({origin}).", 403)
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        raise EditorError("forbidden", f"Refused: a {fetch_site} request.", 403)
    if json_body:
        kind = headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "application/json":
            raise EditorError(
                "bad_request",
                f"This route takes application/json, not {kind or 'a body without a type'}.",
                415,
            )


def websocket_origin_allowed(headers, hosts: AllowedHosts) -> bool:
    """Whether a WebSocket's Origin is one of the app's own (a missing one is not)."""
    return hosts.allows_origin(headers.get("origin"))


def check_length(headers, limit: int, what: str = "request", kind: str = "too_large") -> int:
    """The declared Content-Length, refused before any of the body is read when it is missing
    (411), malformed (400) or over `limit` (413)."""
    declared = headers.get("content-length")
    if declared is None:
        raise EditorError(
            "length_required", f"The {what} has no Content-Length; it is required here.", 411
        )
    if not declared.isdigit():
        raise EditorError("bad_request", f"The {what}'s Content-Length is not a number.", 400)
    if int(declared) > limit:
        raise EditorError(kind, _too_large_message(what, int(declared), limit), 413)
    return int(declared)


async def read_body(
    request, limit: int, timeout_s: float, what: str = "request", kind: str = "too_large"
) -> bytes:
    """The request's body, read in chunks, at most `limit` bytes, within `timeout_s`.

    Args:
        request: the Starlette request.
        limit: the most bytes accepted.
        timeout_s: the whole body must arrive within this.
        what: what the body is, for the messages ("upload").
        kind: the error kind of a body over the limit.

    Raises:
        EditorError: no Content-Length (411), a malformed one (400), more than `limit` declared
            or sent (413, refused before reading), or too slow (408).
    """
    check_length(request.headers, limit, what, kind)
    chunks, size = [], 0
    deadline = time.monotonic() + timeout_s
    stream = request.stream().__aiter__()
    while True:
        left = deadline - time.monotonic()
        try:
            chunk = await asyncio.wait_for(stream.__anext__(), max(left, 0.0))
        except StopAsyncIteration:
            break
        except TimeoutError:
            raise EditorError(
                "timeout", f"The {what} did not arrive within {timeout_s:g} s.", 408
            ) from None
        size += len(chunk)
        if size > limit:  # cannot happen with a true Content-Length; never buffer past it
            raise EditorError(kind, _too_large_message(what, size, limit), 413)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large_message(what: str, size: int, limit: int) -> str:
    if limit >= 1_000_000:
        return f"The {what} is {size / 1e6:.1f} MB; at most {limit / 1e6:.0f} MB is accepted."
    return f"The {what} is {size} bytes; at most {limit} bytes are accepted."
