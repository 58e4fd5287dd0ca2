"""The editor app without a browser: its HTTP API and WebSocket (Starlette on uvicorn) over a
fake TF-Serving server that answers metadata but never a Predict (a timeout), input checks, and
the word count the model sees. What the server refuses (hostile clients) is
tests/test_editor_guards.py."""

from __future__ import annotations

import base64
import concurrent.futures
import http.client
import io
import json
import struct
import threading
import time

import grpc
import numpy as np
import pytest
from PIL import Image
from tensorflow.core.protobuf import meta_graph_pb2
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    prediction_service_pb2_grpc,
)

from serving import contract
from serving.editor_app import Backend, EditorApp, EditorError, EditorServer, split_words
from serving.editor_app import app as app_module
from serving.editor_app.guards import REQUEST_HEADER, REQUEST_HEADER_VALUE
from serving.editor_app.images import decode_upload, pad_to_square
from serving.editor_app.sessions import SessionStore

MODEL = "editor"


def _signature(outputs: dict[str, list[int]]) -> meta_graph_pb2.SignatureDef:
    signature = meta_graph_pb2.SignatureDef()
    for name, dims in outputs.items():
        for size in dims:
            signature.outputs[name].tensor_shape.dim.add(size=size)
    return signature


class HangingPredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
    """Answers GetModelMetadata like TF Serving; every Predict hangs past the client's deadline."""

    def __init__(self):
        self.release = threading.Event()

    def GetModelMetadata(self, request, context):  # noqa: N802
        signatures = get_model_metadata_pb2.SignatureDefMap()
        edit = _signature({"image": [-1, 16, 16, 3], "tokens": [-1, 8], "state": [-1, 8]})
        signatures.signature_def[contract.EDIT_SIGNATURE].CopyFrom(edit)
        signatures.signature_def[contract.START_SIGNATURE].CopyFrom(_signature({"state": [-1, 8]}))
        response = get_model_metadata_pb2.GetModelMetadataResponse()
        response.model_spec.name = request.model_spec.name
        response.model_spec.version.value = 1
        response.metadata["signature_def"].Pack(signatures)
        return response

    def Predict(self, request, context):  # noqa: N802
        self.release.wait(10)
        context.abort(grpc.StatusCode.UNAVAILABLE, "released")


@pytest.fixture
def hanging_app():
    service = HangingPredictionService()
    server = grpc.server(concurrent.futures.ThreadPoolExecutor(4))
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(service, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    backend = Backend(f"127.0.0.1:{port}", MODEL, timeout_s=0.5)
    editor = EditorApp(backend, max_upload_bytes=50_000)
    http_server = EditorServer(editor)
    http_server.start_in_thread()
    try:
        yield editor, http_server.port
    finally:
        service.release.set()
        http_server.stop()
        backend.close()
        server.stop(0)


PAGE_HEADERS = {REQUEST_HEADER: REQUEST_HEADER_VALUE, "Content-Type": "application/json"}


def _call(
    port: int, method: str, path: str, body: bytes | str = b"", headers: dict | None = None
) -> tuple[int, dict]:
    """A request as the page makes it (its header, JSON) unless `headers` says otherwise."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    if headers is None:
        headers = (
            PAGE_HEADERS if isinstance(body, str) else {**PAGE_HEADERS, "Content-Type": "image/png"}
        )
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    payload = json.loads(response.read())
    connection.close()
    return response.status, payload


def _png(side: int = 32) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (side, side), (10, 200, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_timed_out_edit_is_explained_and_the_session_kept(hanging_app):
    editor, port = hanging_app
    _, created = _call(port, "POST", "/api/session", "{}")
    session_id = created["session"]
    # Turn 0 as if the start had answered (the fake server answers no Predict).
    session = editor.sessions.get(session_id)
    session.restart(np.zeros([16, 16, 3], np.uint8), np.zeros([8], np.float32), "test")
    status, payload = _call(
        port, "POST", f"/api/session/{session_id}/edit", json.dumps({"text": "make it red"})
    )
    assert status == 504
    assert payload["error"]["kind"] == "timeout"
    assert "timed out" in payload["error"]["message"] and "0.5 s" in payload["error"]["message"]
    status, payload = _call(port, "GET", f"/api/session/{session_id}")
    assert status == 200 and len(payload["turns"]) == 1
    # The word limit comes from the model's metadata: tokens [B, 8].
    status, payload = _call(
        port, "POST", f"/api/session/{session_id}/edit", json.dumps({"text": "a " * 9})
    )
    assert status == 400 and "reads 8 words" in payload["error"]["message"]


def test_edits_over_the_websocket_answer_as_the_http_api(hanging_app):
    from websockets.sync.client import connect

    editor, port = hanging_app
    _, created = _call(port, "POST", "/api/session", "{}")
    session_id = created["session"]
    session = editor.sessions.get(session_id)
    session.restart(np.zeros([16, 16, 3], np.uint8), np.zeros([8], np.float32), "test")
    url = f"ws://127.0.0.1:{port}/api/ws"
    with connect(url, origin=f"http://127.0.0.1:{port}", compression=None) as ws:

        def edit(text: str, request_id: int) -> dict:
            ws.send(
                json.dumps({"id": request_id, "session": session_id, "text": text, "parent": 0})
            )
            answer = ws.recv(timeout=30)
            assert isinstance(answer, str)  # errors come as text, turns as binary
            return json.loads(answer)

        answer = edit("make it red", 1)  # the fake server never answers: a timeout
        assert answer["id"] == 1 and answer["error"]["kind"] == "timeout"
        answer = edit("a " * 9, 2)
        assert answer["id"] == 2 and "reads 8 words" in answer["error"]["message"]
        ws.send("not json")
        assert json.loads(ws.recv(timeout=30))["error"]["kind"] == "bad_request"
        ws.send(json.dumps({"id": 3, "session": "nope", "text": "x"}))
        assert json.loads(ws.recv(timeout=30))["error"]["kind"] == "unknown_session"
    assert len(session.turns) == 1  # nothing was added by the failed edits
    assert _call(port, "GET", "/api/info")[0] == 200  # the app goes on


def test_uploads_are_checked_before_the_model_is_asked(hanging_app):
    _, port = hanging_app
    _, created = _call(port, "POST", "/api/session", "{}")
    start = f"/api/session/{created['session']}/start"
    status, payload = _call(port, "POST", start, b"GIF89a not really")
    assert status == 400 and "not an image" in payload["error"]["message"]
    status, payload = _call(port, "POST", start, b"\0" * 60_000)
    assert status == 413 and "at most" in payload["error"]["message"]
    status, payload = _call(port, "POST", start, b"")
    assert status == 400 and "empty" in payload["error"]["message"]
    status, payload = _call(port, "POST", start, _png())
    assert status == 504  # a real image reaches the (hanging) model
    status, payload = _call(port, "POST", "/api/session/nope/edit", "{}")
    assert status == 404 and payload["error"]["kind"] == "unknown_session"


def test_too_many_pixels_and_exif_rotation():
    wide = Image.new("RGB", (8000, 7000))
    buffer = io.BytesIO()
    wide.save(buffer, format="PNG")
    with pytest.raises(EditorError, match="megapixels"):
        decode_upload(buffer.getvalue(), 10_000_000)
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 8  # rotate 90 degrees counter-clockwise to display
    Image.new("RGB", (40, 20), "red").save(buffer, format="JPEG", exif=exif)
    assert decode_upload(buffer.getvalue(), 10_000_000).shape == (40, 20, 3)


def test_uploads_keep_their_proportions():
    tall = np.zeros([30, 10, 3], np.uint8)
    square = pad_to_square(tall)
    assert square.shape == (30, 30, 3)
    assert (square[:, :10] == 255).all() and (square[:, 10:20] == 0).all()


def test_split_words_matches_the_in_graph_tokenizer():
    tf = pytest.importorskip("tensorflow")
    from seqgan_tf.text.normalization import split_words_in_graph

    texts = ["Make it RED!", "  has a higher-heel, please ", "?! ...", "Ｂｌｕｅ café", ""]
    graph = split_words_in_graph(tf.constant(texts)).to_list()
    assert [split_words(t) for t in texts] == [[w.decode() for w in row] for row in graph]


def test_sessions_expire_least_recently_used_first():
    store = SessionStore(max_sessions=2)
    first, second = store.create(), store.create()
    store.get(first.id)
    store.create()
    store.get(first.id)
    with pytest.raises(EditorError, match="no longer"):
        store.get(second.id)


def test_a_websocket_edit_answer_is_the_json_then_what_changed():
    from serving.editor_app.app import binary_answer
    from serving.editor_app.images import pixels_after
    from serving.editor_app.sessions import Turn

    parent = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    image = parent.copy()
    image[1, 2] = [255, 0, 0]  # an edit that redraws two pixels and copies the rest
    image[3, 4] = [0, 0, 255]
    turn = Turn(id=1, parent=0, text="make it red", image=image, state=np.zeros([8], np.float32))
    answer = {"turn": app_module.turn_json(turn, pixels_inline=False), "id": 7}
    assert "rgb" not in answer["turn"]["image"]
    how, payload = pixels_after(image, parent)
    answer["turn"]["image"].update(how)
    message = binary_answer(answer, payload)
    (size,) = struct.unpack(">I", message[:4])
    head = json.loads(message[4 : 4 + size])
    assert head["id"] == 7
    assert head["turn"]["image"] == {"width": 5, "height": 4, "encoding": "delta", "changed": 2}
    body = message[4 + size :]
    assert len(body) == 3 + 2 * 3  # 20 pixels' bits in 3 bytes, then two RGB triples
    changed = np.unpackbits(np.frombuffer(body[:3], np.uint8))[:20].reshape(4, 5).astype(bool)
    rebuilt = parent.copy()
    rebuilt[changed] = np.frombuffer(body[3:], np.uint8).reshape(-1, 3)
    np.testing.assert_array_equal(rebuilt, image)
    # No parent of the same size, or most pixels changed: the raw RGB, row-major.
    for other in (None, parent[:2], 255 - parent):
        how, payload = pixels_after(image, other)
        assert how == {"encoding": "rgb"}
        np.testing.assert_array_equal(np.frombuffer(payload, np.uint8).reshape(4, 5, 3), image)
    # Over HTTP (and in a session's listing) the pixels stay inline, in base64.
    inline = app_module.turn_json(turn)["image"]["rgb"]
    np.testing.assert_array_equal(np.frombuffer(base64.b64decode(inline), np.uint8), image.ravel())


class ScriptedPredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
    """A fake TF Serving whose answers the test sets: the version and word limit its metadata
    and Predict report, a metadata call that waits for `release`, a Predict that fails."""

    def __init__(self):
        self.version, self.max_words = 1, 8
        self.block_metadata = threading.Event()
        self.release = threading.Event()
        self.fail_predict = False

    def GetModelMetadata(self, request, context):  # noqa: N802
        if self.block_metadata.is_set():
            self.release.wait(10)
        signatures = get_model_metadata_pb2.SignatureDefMap()
        edit = _signature(
            {"image": [-1, 16, 16, 3], "tokens": [-1, self.max_words], "state": [-1, 8]}
        )
        signatures.signature_def[contract.EDIT_SIGNATURE].CopyFrom(edit)
        signatures.signature_def[contract.START_SIGNATURE].CopyFrom(_signature({"state": [-1, 8]}))
        response = get_model_metadata_pb2.GetModelMetadataResponse()
        response.model_spec.name = request.model_spec.name
        response.model_spec.version.value = self.version
        response.metadata["signature_def"].Pack(signatures)
        return response

    def Predict(self, request, context):  # noqa: N802
        import tensorflow as tf
        from tensorflow_serving.apis import predict_pb2

        if self.fail_predict:
            context.abort(grpc.StatusCode.UNAVAILABLE, "the server is restarting")
        response = predict_pb2.PredictResponse()
        response.model_spec.name = request.model_spec.name
        response.model_spec.version.value = self.version
        words = np.array([[b"red"] + [b""] * (self.max_words - 1)], dtype=object)
        outputs = {
            "image": np.zeros([1, 16, 16, 3], np.uint8),
            "state": np.zeros([1, 8], np.float32),
            "attention": np.zeros([1, 4, 4, self.max_words], np.float32),
            "tokens": words,
        }
        for name, value in outputs.items():
            response.outputs[name].CopyFrom(tf.make_tensor_proto(value))
        return response


@pytest.fixture
def scripted():
    service = ScriptedPredictionService()
    server = grpc.server(concurrent.futures.ThreadPoolExecutor(4))
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(service, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    backend = Backend(f"127.0.0.1:{port}", MODEL, timeout_s=5.0)
    try:
        yield service, backend
    finally:
        service.release.set()
        backend.close()
        server.stop(0)


def test_one_sessions_channel_error_does_not_fail_another_call(scripted):
    """An UNAVAILABLE once closed the channel every session shares: a call of another session
    in flight on it failed (CANCELLED, or a ValueError for a call starting on it)."""
    service, backend = scripted
    image, state = np.zeros([16, 16, 3], np.uint8), np.zeros([8], np.float32)
    backend.info()
    service.block_metadata.set()
    in_flight = concurrent.futures.ThreadPoolExecutor(1).submit(backend.info, True)
    time.sleep(0.3)  # the other session's metadata call is on the channel, waiting
    service.fail_predict = True
    with pytest.raises(EditorError, match="not reachable"):
        backend.edit(image, state, "make it red")
    service.release.set()
    assert in_flight.result(10).max_words == 8  # not cancelled by the other call's failure
    service.block_metadata.clear()
    service.fail_predict = False
    assert backend.edit(image, state, "make it red").tokens == ["red"]  # a fresh channel


def test_the_word_limit_follows_the_version_that_answers(scripted):
    service, backend = scripted
    image, state = np.zeros([16, 16, 3], np.uint8), np.zeros([8], np.float32)
    assert backend.edit(image, state, "a b c d e f").max_words == 8
    # Version 2 is swapped in; it reads 4 words. Its first answer says so...
    service.version, service.max_words = 2, 4
    out = backend.edit(image, state, "a b c d e f")
    assert out.version == 2 and out.max_words == 4
    # ...and the next edit is checked against it (before, the limit of the session's start).
    with pytest.raises(EditorError, match="reads 4 words"):
        backend.edit(image, state, "a b c d e f")


def test_the_design_passes_through_when_the_client_gives_one():
    from serving.editor_app.backend import design_of

    class Result:
        design = {"colour": [("blue", 0.02), ("red", 0.97)], "heel": [("high", 0.88)]}

    assert design_of(Result()) == {
        "colour": [("red", 0.97), ("blue", 0.02)],
        "heel": [("high", 0.88)],
    }
    assert design_of(object()) is None
    turn_design = app_module.design_json(design_of(Result()))
    assert turn_design[0] == {"attribute": "colour", "values": [["red", 0.97], ["blue", 0.02]]}


def test_a_12_megapixel_phone_photo_is_read_small_and_shown_as_the_model_sees_it():
    from serving.editor_app import images

    # 4032x3024 stored sideways (EXIF 6: turn 90 degrees clockwise): a 3024x4032 portrait.
    ramp = np.linspace(0, 255, 4032, dtype=np.float32)
    pixels = np.broadcast_to(ramp[None, :, None], (3024, 4032, 3)).astype(np.uint8)
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=80, exif=exif)
    data = buffer.getvalue()
    # Decoded in JPEG draft mode: 1/8 scale (each side still >= 256), rotated upright.
    small, width, height = images._decode(data, 20_000_000, draft_side=256)
    assert (width, height) == (3024, 4032) and small.size == (378, 504)
    upload = images.prepare_upload(data, 20_000_000, 64)
    assert (upload.width, upload.height) == (3024, 4032) and upload.image.shape == (64, 64, 3)
    # The border is a ramp, not a backdrop: padded on white, left and right (a portrait).
    assert upload.background == (255, 255, 255)
    assert (upload.image[:, :4] >= 250).all() and (upload.image[:, -4:] >= 250).all()
    # Rotated: the ramp now runs top to bottom.
    column = upload.image[8:56, 32, 0].astype(int)
    assert (
        abs(column[-1] - column[0]) > 150
        and (np.diff(column) * np.sign(column[-1] - column[0]) >= -3).all()
    )


def test_a_product_shot_is_padded_on_its_own_backdrop():
    from serving.editor_app import images

    shot = np.full([40, 100, 3], (235, 230, 220), np.uint8)
    shot[10:30, 30:70] = (20, 20, 20)
    buffer = io.BytesIO()
    Image.fromarray(shot).save(buffer, format="PNG")
    upload = images.prepare_upload(buffer.getvalue(), 1_000_000, 20)
    assert upload.background == (235, 230, 220)
    assert (upload.image[0] == (235, 230, 220)).all() and (
        upload.image[-1] == (235, 230, 220)
    ).all()
