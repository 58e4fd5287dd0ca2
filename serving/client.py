"""gRPC client library for the editor, for TF Serving or serving/server.py alike.

`EditSession` (one small class holding a session's turns) on the stateless core in
`serving.rpc` (channels, errors, Predict / GetModelMetadata / GetModelStatus) and
`serving.designs` (the `design` output named); their public names are importable from here.

Example:
    >>> session = EditSession("127.0.0.1:8500", "seqattngan")
    >>> session.start(image)                 # uint8 HxWx3
    >>> result = session.edit("is red")      # EditResult(image, state, attention, tokens, ...)
    >>> result.design                        # {"colour": [("red", 0.97), ...], ...} or None
    >>> session.write_strip("out/strip.png")
    >>> outputs, version = predict(make_channel("127.0.0.1:8500"), "seqattngan", "edit", inputs)

The design: a model with attribute slots returns, with every edit, the design its state now
holds (`design` output: value probabilities per attribute). Its names come from the export's
attribute schema (`assets/attribute_schema.json`), which the client reads once per model
version through the export's `attribute_schema` signature (`attribute_schema`; cached per
server, model and version). Exports without it (older ones, models without attribute slots)
give `EditResult.design = None`.

Channels retry a call that failed with UNAVAILABLE (a draining server refuses new
calls with it) a few times with backoff; `EditSession` also waits for the server to
be ready (through a restart) up to its timeout. Both are safe because the server
keeps no per-user state: a repeated Predict is the same Predict.

This module and serving.strips import nothing of the training package (seqgan_tf).
"""

from __future__ import annotations

import dataclasses
import logging

import grpc
import numpy as np

from serving import contract, strips
from serving.designs import (  # noqa: F401 (the client API)
    SCHEMAS,
    attribute_schema,
    design_by_attribute,
    format_design,
)
from serving.rpc import (  # noqa: F401 (the client API)
    CONNECTION_CODES,
    RETRY_SERVICE_CONFIG,
    ServingClientError,
    make_channel,
    model_image_size,
    model_metadata,
    model_status,
    predict,
    predict_request,
    wait_until_available,
)


def resize_image(image: np.ndarray, size: int) -> np.ndarray:
    """Resizes a uint8 HxWx3 image to size x size (antialiased bilinear; no-op if already)."""
    if image.shape[:2] == (size, size):
        return image
    from PIL import Image

    return np.asarray(Image.fromarray(image).resize((size, size), Image.Resampling.BILINEAR))


@dataclasses.dataclass(frozen=True)
class EditResult:
    """One editing turn's outputs (batch dimension removed).

    Attributes:
        image: uint8 [S, S, 3].
        state: float32 [state_dim], the state to send with the next turn.
        attention: float32 [16, 16, max_words].
        tokens: the tokens the model saw ("" padding removed).
        version: the model version that answered.
        dropped_words: words beyond the model's max_words that it ignored (0 when the
            model exports no `dropped_words` output).
        design: what the model understood: the design its state now holds, attribute ->
            [(value, probability), ...] most probable first, e.g. {"colour": [("red", 0.97),
            ("blue", 0.02), ...], "heel": [("high", 0.88), ...]}; None for a model without
            attribute slots, an older export, or when the schema could not be read (logged).
    """

    image: np.ndarray
    state: np.ndarray
    attention: np.ndarray
    tokens: list[str]
    version: int
    dropped_words: int = 0
    design: dict[str, list[tuple[str, float]]] | None = None


@dataclasses.dataclass(frozen=True)
class AttemptedTurn:
    """One attempted turn of a session, for the record and the strip.

    Attributes:
        text: what was asked.
        result: the result, or None if the turn was refused or failed.
        error: the failure, or None.
    """

    text: str
    result: EditResult | None = None
    error: ServingClientError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def caption(self) -> str:
        """The strip caption: the text, with what went wrong or was ignored."""
        if self.error is not None:
            return f"REFUSED ({self.error.code.name}): {self.text}"
        if self.result is not None and self.result.dropped_words:
            return f"{self.text} [last {self.result.dropped_words} word(s) ignored]"
        return self.text


class EditSession:
    """An interactive editing session; the client carries the state between turns.

    Args:
        target: server address "host:port".
        model_name: model_spec.name.
        timeout_s: deadline of every call.
        start_signature: signature used by `start`.
        edit_signature: signature used by `edit`.
        version: pin a model version (None: the newest, re-resolved every call).
        channel: an existing channel to reuse instead of opening one to `target`.
        resize_to_model: resize the first image to the model resolution on the client
            (asked once via GetModelMetadata unless `image_size` is given), so that all
            requests have the same shape and TF Serving's batching can merge them. If
            False the image is sent as is and resized in the graph.
        image_size: the model resolution, if known.
        wait_for_ready: wait for an unreachable server (a restart) up to timeout_s
            instead of failing at once with UNAVAILABLE.

    Attributes:
        images: the start image and the image of every successful turn.
        descriptions: the text of every successful turn.
        results: every successful turn's result.
        turns: every attempted turn, refused and failed ones included.
        start_design: what the model read off the start image, as `EditResult.design`
            (None without it).
    """

    def __init__(
        self,
        target: str,
        model_name: str,
        timeout_s: float = 10.0,
        start_signature: str = contract.START_SIGNATURE,
        edit_signature: str = contract.EDIT_SIGNATURE,
        version: int | None = None,
        channel: grpc.Channel | None = None,
        resize_to_model: bool = True,
        image_size: int | None = None,
        wait_for_ready: bool = True,
    ):
        self.target = target
        self.wait_for_ready = wait_for_ready
        self.resize_to_model = resize_to_model
        self.image_size = image_size
        self.model_name = model_name
        self.timeout_s = timeout_s
        self.start_signature = start_signature
        self.edit_signature = edit_signature
        self.version = version
        self._owns_channel = channel is None
        self.channel = channel if channel is not None else make_channel(target)
        self.images: list[np.ndarray] = []
        self.descriptions: list[str] = []
        self.results: list[EditResult] = []
        self.turns: list[AttemptedTurn] = []
        self.state: np.ndarray | None = None
        self.start_design: dict[str, list[tuple[str, float]]] | None = None

    def start(self, image: np.ndarray) -> np.ndarray:
        """Starts (or restarts) the session from `image`.

        Args:
            image: uint8 [H, W, 3].

        Returns:
            The initial state, float32 [state_dim].

        Raises:
            ValueError: the image is not uint8 HxWx3.
            ServingClientError: the call failed.
        """
        image = np.asarray(image)
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
            raise ValueError(f"image must be uint8 [H, W, 3], got {image.dtype} {image.shape}")
        if self.resize_to_model:
            if self.image_size is None:
                self.image_size = model_image_size(
                    self.channel, self.model_name, self.edit_signature, self.timeout_s
                )
            image = resize_image(image, self.image_size)
        outputs, version = predict(
            self.channel,
            self.model_name,
            self.start_signature,
            {contract.IMAGE_INPUT: image[None]},
            self.timeout_s,
            self.version,
            self.wait_for_ready,
        )
        design = outputs.get(contract.DESIGN_OUTPUT)
        self.start_design = None if design is None else self._name_design(design[0], version)
        self.state = outputs[contract.STATE_OUTPUT][0]
        self.images = [image]
        self.descriptions = []
        self.results = []
        self.turns = []
        return self.state

    def edit(self, text: str) -> EditResult:
        """Applies one edit to the current image.

        Args:
            text: the edit description.

        Returns:
            The turn's result; the session's image and state advance to it. If the
            model ignored words beyond its max_words, `dropped_words` says how many
            and a warning is logged.

        Raises:
            RuntimeError: `start` was not called.
            ServingClientError: the call failed (the session goes on from its last good
                state; the failed turn is kept in `turns` for the strip).
        """
        if self.state is None:
            raise RuntimeError("call start(image) before edit(text)")
        inputs = {
            contract.IMAGE_INPUT: self.images[-1][None],
            contract.TEXT_INPUT: np.array([text.encode("utf-8")], dtype=object),
            contract.STATE_INPUT: self.state[None].astype(np.float32),
        }
        try:
            outputs, version = predict(
                self.channel,
                self.model_name,
                self.edit_signature,
                inputs,
                self.timeout_s,
                self.version,
                self.wait_for_ready,
            )
        except ServingClientError as error:
            self.turns.append(AttemptedTurn(text, error=error))
            raise
        tokens = [t.decode("utf-8") for t in outputs[contract.TOKENS_OUTPUT][0] if t]
        dropped = outputs.get(contract.DROPPED_WORDS_OUTPUT)
        design = outputs.get(contract.DESIGN_OUTPUT)
        result = EditResult(
            image=outputs[contract.IMAGE_OUTPUT][0],
            state=outputs[contract.STATE_OUTPUT][0],
            attention=outputs[contract.ATTENTION_OUTPUT][0],
            tokens=tokens,
            version=version,
            dropped_words=0 if dropped is None else int(dropped[0]),
            design=None if design is None else self._name_design(design[0], version),
        )
        if result.dropped_words:
            logging.getLogger(__name__).warning(
                "the model reads at most %d words: the last %d word(s) of %r were ignored",
                len(outputs[contract.TOKENS_OUTPUT][0]),
                result.dropped_words,
                text,
            )
        self.turns.append(AttemptedTurn(text, result=result))
        self.state = result.state
        self.images.append(result.image)
        self.descriptions.append(text)
        self.results.append(result)
        return result

    def _name_design(
        self, design: np.ndarray, version: int
    ) -> dict[str, list[tuple[str, float]]] | None:
        """The design by attribute name (schema read once per version), or None (logged)."""
        try:
            schema = SCHEMAS.get(
                self.channel, self.target, self.model_name, version, self.timeout_s
            )
            return design_by_attribute(design, schema)
        except (ServingClientError, ValueError) as error:
            logging.getLogger(__name__).warning(
                "the design of version %d is not shown: its attribute schema: %s", version, error
            )
            return None

    def write_strip(self, path: str, tile_size: int = 128) -> str:
        """Writes a PNG strip: the start image, then one tile per attempted turn.

        A successful turn shows its image and text (noting ignored words); a refused or
        failed one shows the image the session went on from, crossed out, with the text
        and the status code in red.

        Args:
            path: output PNG path (folders are created).
            tile_size: side of each tile in pixels.

        Returns:
            `path`.

        Raises:
            RuntimeError: the session has no images.
        """
        if not self.images:
            raise RuntimeError("nothing to write: call start(image) first")
        images, captions, failed = [self.images[0]], ["(input)"], [False]
        current = self.images[0]
        for turn in self.turns:
            if turn.result is not None:
                current = turn.result.image
            images.append(current)
            captions.append(turn.caption())
            failed.append(not turn.ok)
        return strips.write_strip(path, images, captions, tile_size, failed)

    def close(self) -> None:
        """Closes the channel if this session opened it."""
        if self._owns_channel:
            self.channel.close()

    def __enter__(self) -> EditSession:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
