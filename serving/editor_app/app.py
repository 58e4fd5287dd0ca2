"""The editor's state and its answers, without HTTP: `EditorApp` holds the backend, the
sessions and the examples and answers each API route with a JSON-ready dict (the routes, the
WebSocket and the server are serving/editor_app/web.py and server.py, on Starlette + uvicorn).

Nothing here loads a model: every model call is a gRPC call through `serving.client`.
"""

from __future__ import annotations

import json
import logging
import os
import struct

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
        "design": design_json(turn.design),
    }


def design_json(design: dict | None) -> list[dict] | None:
    """The design a turn's model holds as the page shows it: [{"attribute", "values": [[value,
    probability], ...]}] in the export's attribute order, or None when the export gives none."""
    if not design:
        return None
    return [
        {"attribute": attribute, "values": [[value, round(p, 4)] for value, p in values]}
        for attribute, values in design.items()
    ]


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

    def model_size(self) -> int:
        """The served model's resolution, asked anew (a new version may have another)."""
        return self.backend.info(refresh=True).image_size

    def prepare_upload(self, data: bytes, size: int) -> images.Upload:
        """An upload as the model sees it (see `images.prepare_upload`); the caller bounds how
        many run at once (each can take tens of MB while it decodes)."""
        return images.prepare_upload(data, self.max_upload_bytes, size)

    def start(self, session: Session, upload: images.Upload) -> dict:
        with session.lock:
            model_image, state = self.backend.start(upload.image, refresh=False)
            source = f"upload ({upload.width}x{upload.height})"
            session.restart(model_image, state, source)
            return self.session_json(session)

    def example(self, session: Session) -> dict:
        if not (self.examples and self.examples.available):
            note = self.examples.describe() if self.examples else "the app has no --data_dir"
            raise EditorError("no_examples", f"No test-split examples: {note}.", 404)
        session_id, image, reference = self.examples.sample()
        with session.lock:
            model_image, state = self.backend.start(images.pad_to_square(image))
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
                design=out.design,
            )
            # The word limit of the version that answered (it follows a version swap).
            answer = {"turn": turn_json(turn, pixels_inline), "max_words": out.max_words}
            if not pixels_inline:
                how, answer["pixels"] = images.pixels_after(turn.image, base.image)
                answer["turn"]["image"].update(how)
            return answer

    def _path(self, session: Session, query) -> list[Turn]:
        try:
            turn_id = int(query.get("turn", len(session.turns) - 1))
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
                    "design": design_json(t.design),
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
