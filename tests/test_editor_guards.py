"""What the editor's server refuses, tried as a hostile client or page would on loopback: bodies
that dodge their cap, idle and slow connections, too many connections, foreign Host names and
origins (DNS rebinding, cross-site requests), uploads beyond the decoding bound, and internal
errors leaking their text. Each of these was let through by the stdlib server the editor ran on
before (issue 22 lists how).

The server runs in this process over a fake backend (no model, no gRPC)."""

from __future__ import annotations

import http.client
import io
import json
import socket
import threading
import time

import pytest
from PIL import Image

from serving.editor_app import EditorApp, EditorServer
from serving.editor_app.guards import REQUEST_HEADER, REQUEST_HEADER_VALUE, AllowedHosts, Limits
from tests.editor_testlib import FakeBackend

PAGE = {REQUEST_HEADER: REQUEST_HEADER_VALUE, "Content-Type": "application/json"}


@pytest.fixture
def serve():
    servers = []

    def start(limits: Limits | None = None, **kwargs) -> tuple[EditorApp, EditorServer]:
        editor = EditorApp(FakeBackend(), max_upload_bytes=kwargs.pop("max_upload_bytes", 50_000))
        server = EditorServer(editor, limits=limits, **kwargs)
        server.start_in_thread()
        servers.append(server)
        return editor, server

    yield start
    for server in servers:
        server.stop()


def request(
    port: int, method: str, path: str, body=None, headers=None, host: str | None = None
) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    connection.putheader("Host", f"127.0.0.1:{port}" if host is None else host)
    for key, value in (headers or {}).items():
        connection.putheader(key, value)
    if body is not None:
        connection.putheader("Content-Length", str(len(body)))
    connection.endheaders(body)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    try:
        return response.status, json.loads(data)
    except ValueError:
        return response.status, {"text": data.decode("latin-1")}


def raw(port: int, head: bytes, wait_s: float = 5.0) -> bytes:
    """Sends `head` as is and returns what the server answered before closing (or wait_s)."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait_s) as sock:
        sock.sendall(head)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
                if b"\r\n\r\n" in answer and b"}" in answer:
                    break
        except TimeoutError:
            pass
        return answer


def new_session(port: int) -> str:
    status, payload = request(port, "POST", "/api/session", b"{}", PAGE)
    assert status == 200, payload
    return payload["session"]


# -- bodies -------------------------------------------------------------------------------------


def test_a_body_without_a_true_length_is_refused(serve):
    _, server = serve()
    port = server.port
    session = new_session(port)
    host = f"Host: 127.0.0.1:{port}\r\nX-Requested-With: seqgan-editor\r\n".encode()
    path = f"/api/session/{session}/edit".encode()
    # A negative length once read the stream to its end: 64 MiB through a 64 KiB route.
    answer = raw(
        port,
        b"POST " + path + b" HTTP/1.1\r\n" + host + b"Content-Type: application/json\r\n"
        b"Content-Length: -1\r\n\r\n" + b"x" * 100_000,
    )
    assert answer.startswith(b"HTTP/1.1 400"), answer[:80]
    # No length at all (a chunked body): 411, nothing read.
    answer = raw(
        port,
        b"POST " + path + b" HTTP/1.1\r\n" + host + b"Content-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n" + b"186a0\r\n" + b"x" * 100_000 + b"\r\n0\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 411"), answer[:80]
    # More than the cap declared: 413 before the body is sent at all.
    answer = raw(
        port,
        b"POST " + path + b" HTTP/1.1\r\n" + host + b"Content-Type: application/json\r\n"
        b"Content-Length: 67108864\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 413"), answer[:80]


def test_an_oversized_upload_is_refused_before_it_is_read(serve):
    _, server = serve(max_upload_bytes=1_000_000)
    port = server.port
    session = new_session(port)
    tic = time.monotonic()
    answer = raw(
        port,
        f"POST /api/session/{session}/start HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "X-Requested-With: seqgan-editor\r\nContent-Type: image/jpeg\r\n"
        "Content-Length: 268435456\r\n\r\n".encode(),
    )
    assert answer.startswith(b"HTTP/1.1 413") and b"at most 1 MB" in answer, answer[:200]
    assert time.monotonic() - tic < 3.0  # not 256 MB read first


def test_a_slow_body_is_cut_off(serve):
    _, server = serve(Limits(body_timeout_s=0.5))
    port = server.port
    session = new_session(port)
    answer = raw(
        port,
        f"POST /api/session/{session}/edit HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "X-Requested-With: seqgan-editor\r\nContent-Type: application/json\r\n"
        'Content-Length: 100\r\n\r\n{"te'.encode(),
    )
    assert answer.startswith(b"HTTP/1.1 408"), answer[:80]


# -- connections ----------------------------------------------------------------------------------


def _closed_within(sock: socket.socket, seconds: float) -> bool:
    sock.settimeout(seconds)
    try:
        return sock.recv(1024) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def test_idle_and_slow_connections_are_closed(serve):
    _, server = serve(Limits(header_timeout_s=0.5, keep_alive_s=1))
    port = server.port
    # Connected, never a byte: closed (the old server kept it, and its thread, for ever).
    with socket.create_connection(("127.0.0.1", port)) as sock:
        assert _closed_within(sock, 3.0)
    # A head trickled in a byte at a time (slowloris): closed at the head's deadline.
    with socket.create_connection(("127.0.0.1", port)) as sock:
        tic = time.monotonic()
        closed = False
        for byte in b"GET /api/info HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + b"a" * 100:
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                closed = True
                break
            if _closed_within(sock, 0.1):
                closed = True
                break
        assert closed and time.monotonic() - tic < 3.0
    # Idle after an answer on a keep-alive connection: closed after keep_alive_s.
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("GET", "/api/info")
    assert connection.getresponse().read()
    assert _closed_within(connection.sock, 3.0)
    connection.close()


def test_connections_beyond_the_cap_are_answered_503(serve):
    _, server = serve(Limits(max_connections=3, header_timeout_s=5.0))
    port = server.port
    held = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
    try:
        time.sleep(0.2)
        status, _ = request(port, "GET", "/api/info")
        assert status == 503
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.2)
    assert request(port, "GET", "/api/info")[0] == 200


# -- hosts and origins --------------------------------------------------------------------------


def test_only_allowed_host_names_are_answered(serve):
    _, server = serve()
    port = server.port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", f"LOCALHOST:{port}"):
        assert request(port, "GET", "/api/info", host=host)[0] == 200, host
    # A DNS-rebound name (the attacker's domain pointed at 127.0.0.1), another port, junk.
    for host in (f"evil.example:{port}", "127.0.0.1:1", "127.0.0.1", "", "a@127.0.0.1"):
        status, payload = request(port, "GET", "/api/info", host=host)
        assert status == 400 and payload["error"]["kind"] == "bad_host", host
    _, wide = serve(allowed_hosts=["editor.lan", "box:8080"])
    assert request(wide.port, "GET", "/", host=f"editor.lan:{wide.port}")[0] == 200
    assert request(wide.port, "GET", "/", host="box:8080")[0] == 200
    assert request(wide.port, "GET", "/", host=f"box:{wide.port}")[0] == 400


def test_allowed_hosts_parse_names_ports_and_origins():
    hosts = AllowedHosts(["127.0.0.1", "localhost", "[::1]", "Editor.LAN:80"], 7860)
    assert hosts.allows_host("[::1]:7860") and hosts.allows_host("editor.lan")
    assert not hosts.allows_host("[::1]") and not hosts.allows_host("127.0.0.1:7860:1")
    assert hosts.allows_origin("http://localhost:7860")
    assert not hosts.allows_origin(None) and not hosts.allows_origin("null")
    assert not hosts.allows_origin("http://localhost.evil.example:7860")
    assert not hosts.allows_origin("file:///tmp/x.html")


def _websocket_handshake(port: int, host: str, origin: str | None) -> int:
    """The status of a WebSocket opening handshake (101 = opened)."""
    headers = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
    }
    if origin is not None:
        headers["Origin"] = origin
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.putrequest("GET", "/api/ws", skip_host=True, skip_accept_encoding=True)
    connection.putheader("Host", host)
    for key, value in headers.items():
        connection.putheader(key, value)
    connection.endheaders()
    status = connection.getresponse().status
    connection.close()
    return status


def test_websocket_origin_must_be_the_apps_own(serve):
    _, server = serve()
    port = server.port
    own = f"127.0.0.1:{port}"
    assert _websocket_handshake(port, own, f"http://{own}") == 101
    assert _websocket_handshake(port, own, f"http://localhost:{port}") == 101
    # The old check let a missing Origin through and compared the Origin with the request's own
    # Host, which a DNS-rebound page controls: both names are the attacker's there.
    assert _websocket_handshake(port, own, None) == 403
    assert _websocket_handshake(port, own, "http://evil.example") == 403
    rebound = f"evil.example:{port}"
    assert _websocket_handshake(port, rebound, f"http://{rebound}") in (400, 403)


def test_state_changes_need_same_origin_proof(serve):
    editor, server = serve()
    port = server.port
    before = len(editor.sessions)
    # What another site's page can send without a CORS preflight: a text/plain "JSON" body,
    # no custom header. It once created sessions until the real ones were evicted.
    status, payload = request(
        port, "POST", "/api/session", b"{}", {"Content-Type": "text/plain;charset=UTF-8"}
    )
    assert status == 403 and "editor's page" in payload["error"]["message"]
    status, _ = request(
        port, "POST", "/api/session", b"{}", {**PAGE, "Content-Type": "text/plain;charset=UTF-8"}
    )
    assert status == 415
    status, _ = request(
        port, "POST", "/api/session", b"{}", {**PAGE, "Origin": "http://evil.example"}
    )
    assert status == 403
    status, _ = request(
        port, "POST", "/api/session", b"{}", {**PAGE, "Sec-Fetch-Site": "cross-site"}
    )
    assert status == 403
    assert len(editor.sessions) == before
    origin = {"Origin": f"http://localhost:{port}", "Sec-Fetch-Site": "same-origin"}
    assert request(port, "POST", "/api/session", b"{}", {**PAGE, **origin})[0] == 200
    session = new_session(port)
    png = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(png, format="PNG")
    status, _ = request(
        port, "POST", f"/api/session/{session}/start", png.getvalue(), {"Content-Type": "image/png"}
    )
    assert status == 403


# -- uploads and errors ---------------------------------------------------------------------------


def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (10, 200, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_uploads_decoding_at_once_are_bounded(serve):
    editor, server = serve(Limits(max_decoding_uploads=1, upload_wait_s=2.0))
    port = server.port
    decoding, release = threading.Event(), threading.Event()
    prepare = editor.prepare_upload

    def slow_prepare(data, size):
        decoding.set()
        release.wait(10)
        return prepare(data, size)

    editor.prepare_upload = slow_prepare
    first, second = new_session(port), new_session(port)
    headers = {REQUEST_HEADER: REQUEST_HEADER_VALUE, "Content-Type": "image/png"}
    results = {}
    thread = threading.Thread(
        target=lambda: results.update(
            first=request(port, "POST", f"/api/session/{first}/start", _png(20, 10), headers)
        )
    )
    thread.start()
    try:
        assert decoding.wait(10)
        status, payload = request(
            port, "POST", f"/api/session/{second}/start", _png(20, 10), headers
        )
        assert status == 503 and payload["error"]["kind"] == "busy"
        assert "1 uploads are being read" in payload["error"]["message"]
    finally:
        release.set()
        thread.join(10)
        # An oversized one is refused at once, not after waiting for a slot.
        tic = time.monotonic()
        big = raw(
            port,
            f"POST /api/session/{second}/start HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "X-Requested-With: seqgan-editor\r\nContent-Type: image/png\r\n"
            "Content-Length: 60000\r\n\r\n".encode(),
        )
        assert big.startswith(b"HTTP/1.1 413") and time.monotonic() - tic < 1.0
    assert results["first"][0] == 200
    assert results["first"][1]["source"] == "upload (20x10)"


def test_internal_errors_say_what_failed_without_their_text(serve):
    editor, server = serve()
    port = server.port
    session = new_session(port)

    def broken(*args):
        raise RuntimeError("secret detail <Session object at 0x7f00>")

    editor.session_json = broken
    status, payload = request(port, "GET", f"/api/session/{session}")
    assert status == 500
    message = payload["error"]["message"]
    assert "internal error" in message and "secret" not in message and "0x7f" not in message
    assert "Traceback" not in json.dumps(payload)
    status, payload = request(port, "GET", "/no/such/page")
    assert status == 404 and payload["error"]["kind"] == "not_found"
