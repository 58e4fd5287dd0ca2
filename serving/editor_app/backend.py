"""The editor's only way to the model: a thin adapter over `serving.client`.

Everything goes through the project's gRPC client (`EditSession`, `model_metadata`,
`model_status`), exactly as any other client of TF Serving or `serving/server.py` would; the
model is never loaded in this process. What the adapter adds is what a web page needs:

* an edit from *any* kept turn (the client carries the state, so a branch is one call);
* the model's limits (resolution, `max_words`) read from GetModelMetadata;
* every failure turned into an `EditorError` with a message a person can act on;
* one channel shared by all sessions that a failure of one call never closes under another
  (`SharedChannel`), and a word limit that follows the model version that answers.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time

import grpc
import numpy as np

from serving import client, contract, edit_text
from serving.edit_text import split_words  # noqa: F401 (re-exported by editor_app)
from serving.signature_info import signature_info


class EditorError(Exception):
    """A failure to show on the page.

    Attributes:
        kind: a short machine-readable kind ("server_down", "timeout", "bad_text", ...).
        message: what the person reads.
        http_status: the HTTP status the app answers with.
    """

    def __init__(self, kind: str, message: str, http_status: int = 400):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.http_status = http_status


@dataclasses.dataclass(frozen=True)
class ModelInfo:
    """What the page needs to know about the served model.

    Attributes:
        version: the newest available version when asked.
        image_size: the model resolution S.
        max_words: how many words of an edit the model reads (None if the signature does not say).
    """

    version: int
    image_size: int
    max_words: int | None


# What the model holds after a turn: attribute -> [(value, probability), ...], most probable
# first (`client.EditResult.design` on exports that return it; None on older ones).
Design = dict[str, list[tuple[str, float]]]


@dataclasses.dataclass(frozen=True)
class TurnOutput:
    """One edit's answer (see `client.EditResult`), with the time the client call took.

    Attributes:
        design: the design the model now holds, per attribute its most probable values
            (None when the export does not return it).
        max_words: the word limit of the version that answered.
    """

    image: np.ndarray
    state: np.ndarray
    attention: np.ndarray
    tokens: list[str]
    version: int
    client_ms: float
    design: Design | None = None
    max_words: int | None = None


def design_of(result) -> Design | None:
    """The result's `design` as {attribute: [(value, probability), ...]} sorted by probability,
    or None when the client result has none (older exports, or a client without the field)."""
    design = getattr(result, "design", None)
    if not design:
        return None
    return {
        str(attribute): sorted(
            ((str(value), float(p)) for value, p in values), key=lambda vp: -vp[1]
        )
        for attribute, values in design.items()
    }


class SharedChannel:
    """One gRPC channel for every session, replaced (not closed) after a failure.

    After UNAVAILABLE a channel may sit in reconnect backoff for up to minutes, so the next
    call should get a fresh one; but other sessions' calls may be in flight on the old one, and
    closing it would cancel them (or make a call that starts on it raise ValueError). So
    `replace` only stops handing out the old channel; it is closed when its last call returns.

    Args:
        target: server "host:port".

    Example:
        shared = SharedChannel("127.0.0.1:8500")
        with shared.use() as channel:
            client.model_status(channel, "seqattngan")
    """

    def __init__(self, target: str):
        self.target = target
        self._lock = threading.Lock()
        self._current: grpc.Channel | None = None
        self._in_use: dict[int, int] = {}  # id(channel) -> calls in flight on it
        self._retired: dict[int, grpc.Channel] = {}

    @contextlib.contextmanager
    def use(self):
        """The current channel, held open until the block ends."""
        with self._lock:
            if self._current is None:
                self._current = client.make_channel(self.target)
            channel = self._current
            self._in_use[id(channel)] = self._in_use.get(id(channel), 0) + 1
        try:
            yield channel
        finally:
            self._release(channel)

    def _release(self, channel: grpc.Channel) -> None:
        with self._lock:
            left = self._in_use[id(channel)] - 1
            if left:
                self._in_use[id(channel)] = left
                return
            del self._in_use[id(channel)]
            retired = self._retired.pop(id(channel), None)
        if retired is not None:
            retired.close()

    def replace(self, channel: grpc.Channel) -> None:
        """New calls get a new channel; `channel` closes once no call uses it."""
        with self._lock:
            if channel is not self._current:
                return  # already replaced by another failed call
            self._current = None
            if id(channel) in self._in_use:
                self._retired[id(channel)] = channel
                return
        channel.close()

    def close(self) -> None:
        with self._lock:
            channel = self._current
        if channel is not None:
            self.replace(channel)


class Backend:
    """Calls the served model for the app; thread-safe, one channel shared by all sessions.

    Args:
        target: server "host:port" (serving/server.py or a TF Serving container).
        model_name: model_spec.name.
        timeout_s: deadline of every call.
        max_text_chars: longest edit text accepted.

    Example:
        backend = Backend("127.0.0.1:8500", "seqattngan")
        image, state = backend.start(photo)
        turn = backend.edit(image, state, "make it red")
    """

    def __init__(
        self,
        target: str,
        model_name: str,
        timeout_s: float = 10.0,
        max_text_chars: int = contract.MAX_TEXT_CHARS,
    ):
        self.target = target
        self.model_name = model_name
        self.timeout_s = timeout_s
        self.max_text_chars = max_text_chars
        self._channel = SharedChannel(target)
        self._info: ModelInfo | None = None

    def close(self) -> None:
        self._channel.close()

    # -- errors ----------------------------------------------------------------------------

    def _translate(
        self, error: client.ServingClientError, what: str, channel: grpc.Channel
    ) -> EditorError:
        code, details = error.code, error.details or ""
        if code == grpc.StatusCode.UNAVAILABLE:
            # New calls get a fresh channel (this one may sit in reconnect backoff); calls of
            # other sessions still running on it finish on it.
            self._channel.replace(channel)
            return EditorError(
                "server_down",
                f"The model server at {self.target} is not reachable: it is down or "
                f"restarting ({details}). Your turns are kept; retry when it is back.",
                503,
            )
        if code == grpc.StatusCode.DEADLINE_EXCEEDED:
            return EditorError(
                "timeout",
                f"The model server did not answer the {what} within {self.timeout_s:g} s "
                "(request timed out). Your turns are kept; retry.",
                504,
            )
        if code == grpc.StatusCode.NOT_FOUND:
            return EditorError(
                "model_not_found",
                f"The server has no available version of model {self.model_name!r} ({details}); "
                "it may still be loading. Retry in a moment.",
                503,
            )
        if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
            return EditorError(
                "busy",
                f"The model server is busy and refused the {what} ({details}). Your turns are "
                "kept; retry in a moment.",
                503,
            )
        if code == grpc.StatusCode.INVALID_ARGUMENT:
            return EditorError("refused", f"The model refused the {what}: {details}", 400)
        return EditorError("server_error", f"The {what} failed ({code.name}): {details}", 502)

    # -- model ------------------------------------------------------------------------------

    def info(self, refresh: bool = False) -> ModelInfo:
        """The model's version, resolution and word limit (cached; GetModelMetadata).

        Raises:
            EditorError: the server cannot be asked or the model has no usable signature.
        """
        if self._info is not None and not refresh:
            return self._info
        with self._channel.use() as channel:
            try:
                version, signatures = client.model_metadata(
                    channel, self.model_name, timeout_s=self.timeout_s
                )
            except client.ServingClientError as error:
                raise self._translate(error, "model metadata request", channel) from None
        edit = signatures.get(contract.EDIT_SIGNATURE) or signatures.get(contract.DEFAULT_SIGNATURE)
        if edit is None or contract.START_SIGNATURE not in signatures:
            raise EditorError(
                "bad_model",
                f"Model {self.model_name!r} has no {contract.START_SIGNATURE!r} and "
                f"{contract.EDIT_SIGNATURE!r} signatures: {sorted(signatures)}",
                502,
            )

        info = signature_info(signatures)
        if info.image_size is None:
            image_dims = [d.size for d in edit.outputs[contract.IMAGE_OUTPUT].tensor_shape.dim]
            raise EditorError("bad_model", f"the edit signature's image is {image_dims}", 502)
        self._info = ModelInfo(
            version=version, image_size=info.image_size, max_words=info.max_words
        )
        return self._info

    def status(self) -> dict:
        """{"ok": bool, "versions": {version: state}, "message": str} (GetModelStatus)."""
        with self._channel.use() as channel:
            try:
                versions = client.model_status(
                    channel, self.model_name, timeout_s=min(self.timeout_s, 5.0)
                )
            except client.ServingClientError as error:
                return {
                    "ok": False,
                    "versions": {},
                    "message": self._translate(error, "status", channel).message,
                }
        available = sorted(v for v, s in versions.items() if s == "AVAILABLE")
        message = (
            f"{self.model_name} version {available[-1]} is available at {self.target}"
            if available
            else f"{self.model_name} has no available version yet: {versions}"
        )
        return {"ok": bool(available), "versions": versions, "message": message}

    def check_text(self, text: str) -> str:
        """The edit text, stripped, or an EditorError saying why the model cannot take it."""
        text = text.strip()
        problem = edit_text.text_problem(text, self.max_text_chars)
        if problem == edit_text.EMPTY:
            raise EditorError("bad_text", "Type an edit first (the text is empty).")
        if problem == edit_text.TOO_LONG:
            raise EditorError(
                "bad_text",
                f"The edit is {len(text)} characters long; at most {self.max_text_chars} are "
                "accepted.",
            )
        words = split_words(text)
        if problem == edit_text.NO_WORD or not words:
            raise EditorError(
                "bad_text", "The edit has no words (only punctuation or symbols): type a word."
            )
        max_words = self._info.max_words if self._info else None
        if max_words is not None and len(words) > max_words:
            raise EditorError(
                "bad_text",
                f"The edit is too long: the model reads {max_words} words and this one has "
                f"{len(words)}. Shorten it, or split it over two turns.",
            )
        return text

    def _session(self, channel: grpc.Channel, info: ModelInfo) -> client.EditSession:
        return client.EditSession(
            self.target,
            self.model_name,
            timeout_s=self.timeout_s,
            channel=channel,
            image_size=info.image_size,
            # Fail fast when the server is down, so the page says so at once (the person
            # retries); the channel still retries a draining server's UNAVAILABLE.
            wait_for_ready=False,
        )

    def start(self, image: np.ndarray, refresh: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Starts a session from `image` (uint8 HxWx3, any size; resized to the model's).

        Args:
            image: the start image.
            refresh: ask the model's metadata anew first (a new version may have another
                resolution); False when the caller just did.

        Returns:
            (the image as the model sees it, S x S; the initial state).

        Raises:
            EditorError: the call failed.
        """
        info = self.info(refresh=refresh)
        with self._channel.use() as channel:
            session = self._session(channel, info)
            try:
                state = session.start(image)
            except client.ServingClientError as error:
                raise self._translate(error, "start request", channel) from None
            except ValueError as error:
                raise EditorError("bad_image", str(error)) from None
        return session.images[0], state

    def edit(self, image: np.ndarray, state: np.ndarray, text: str) -> TurnOutput:
        """One edit of `image` with the session `state` of the turn it continues.

        Raises:
            EditorError: the text is unusable or the call failed.
        """
        text = self.check_text(text)  # empty / no words: said even when the server is down
        info = self.info()
        text = self.check_text(text)  # now with the model's max_words
        with self._channel.use() as channel:
            # The state lives with the client: resuming from any kept turn is a new EditSession
            # positioned at that turn (its public `images` / `state`), so a branch is one call.
            session = self._session(channel, info)
            session.images = [image]
            session.state = state
            tic = time.perf_counter()
            try:
                result = session.edit(text)
            except client.ServingClientError as error:
                if error.code == grpc.StatusCode.INVALID_ARGUMENT:
                    self._refresh_quietly()  # a new version may read fewer words
                raise self._translate(error, "edit request", channel) from None
            client_ms = (time.perf_counter() - tic) * 1000.0
        if result.version != info.version:
            # Another version answered (a swap): its word limit applies from the next turn.
            info = self._refresh_quietly() or info
        return TurnOutput(
            image=result.image,
            state=result.state,
            attention=result.attention,
            tokens=result.tokens,
            version=result.version,
            client_ms=client_ms,
            design=design_of(result),
            max_words=info.max_words,
        )

    def _refresh_quietly(self) -> ModelInfo | None:
        try:
            return self.info(refresh=True)
        except EditorError:
            return None  # the next call refreshes or says what is wrong
