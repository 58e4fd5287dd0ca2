"""Helpers shared by the export and serving tests: tiny exports, in-process servers, requests."""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Iterator

import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2

from seqgan_tf.export import export_editor
from seqgan_tf.export.tiny_editor import TinyEditor
from serving import client, contract
from serving.server import ModelServer, ServerConfig

MODEL_NAME = "editor"
IMAGE_SIZE, STATE_DIM, MAX_WORDS = 16, 8, 6


def tiny_editor(offset: float = 0.0) -> TinyEditor:
    return TinyEditor(
        image_size=IMAGE_SIZE, state_dim=STATE_DIM, max_words=MAX_WORDS, offset=offset
    )


def export_tiny(base_dir: str, version: int | None = None, offset: float = 0.0) -> str:
    return export_editor(tiny_editor(offset), str(base_dir), MODEL_NAME, version)


def wait_for(predicate: Callable[[], bool], timeout_s: float = 60.0, what: str = "condition"):
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(0.05)


@contextlib.contextmanager
def running_server(
    base_dir: str, wait_loaded: bool = True, **config
) -> Iterator[tuple[ModelServer, str]]:
    """An in-process server on a free loopback port; yields (server, "127.0.0.1:port")."""
    config.setdefault("poll_interval_s", 0.1)
    config.setdefault("port", 0)
    server = ModelServer(ServerConfig(MODEL_NAME, f"{base_dir}/{MODEL_NAME}", **config))
    port = server.start()
    try:
        if wait_loaded:
            wait_for(lambda: server.manager.available_versions(), what="a loaded version")
        yield server, f"127.0.0.1:{port}"
    finally:
        server.stop(0.5)


def random_image(height: int, width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, [height, width, 3], dtype=np.uint8)


def make_request(
    signature: str,
    inputs: dict[str, np.ndarray],
    model_name: str = MODEL_NAME,
    version: int | None = None,
) -> predict_pb2.PredictRequest:
    return client.predict_request(model_name, signature, inputs, version)


def edit_inputs(batch: int = 1, side: int = IMAGE_SIZE, text: str = "make it red") -> dict:
    return {
        contract.IMAGE_INPUT: np.stack([random_image(side, side, i) for i in range(batch)]),
        contract.TEXT_INPUT: np.array([text.encode()] * batch, dtype=object),
        contract.STATE_INPUT: np.zeros([batch, STATE_DIM], np.float32),
    }


def call_in_process(loaded, signature: str, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    outputs = loaded.signatures[signature](**{k: tf.constant(v) for k, v in inputs.items()})
    return {k: v.numpy() for k, v in outputs.items()}


def in_process_session(loaded, image: np.ndarray, texts: list[str]):
    """A session through the SavedModel's signatures in this process, each turn editing the
    previous output: (images after each turn, states [state after start, after each turn])."""
    state = call_in_process(loaded, contract.START_SIGNATURE, {"image": image[None]})["state"]
    images, states = [], [state[0]]
    current = image
    for text in texts:
        inputs = {"image": current[None], "text": np.array([text.encode()], object), "state": state}
        out = call_in_process(loaded, contract.EDIT_SIGNATURE, inputs)
        state, current = out["state"], out["image"][0]
        images.append(current)
        states.append(state[0])
    return images, states


class _InstrumentedSignature:
    """A loaded signature that records its calls, optionally waits first or fails."""

    def __init__(self, function, calls: list[str], name: str, delay_s: float, error):
        self._function, self._calls, self._name = function, calls, name
        self._delay_s, self._error = delay_s, error

    def __call__(self, **inputs):
        self._calls.append(self._name)
        time.sleep(self._delay_s)
        if self._error is not None:
            raise self._error
        return self._function(**inputs)

    def __getattr__(self, name):
        return getattr(self._function, name)


@contextlib.contextmanager
def instrumented_model(
    server: ModelServer,
    delay_s: float = 0.0,
    error: Exception | None = None,
    resolve_delay_s: float = 0.0,
) -> Iterator[list[str]]:
    """Makes the server's model slow or failing; yields the list of signatures it ran.

    Args:
        server: a running in-process server.
        delay_s: each model call sleeps this long first.
        error: each model call raises this (after the delay) instead of running.
        resolve_delay_s: resolving the version of a request sleeps this long (time spent
            before the model runs).
    """
    calls: list[str] = []
    original = server.manager.get

    def get(version=None):
        time.sleep(resolve_delay_s)
        loaded = original(version)
        signatures = {
            name: _InstrumentedSignature(fn, calls, name, delay_s, error)
            for name, fn in loaded.signatures.items()
        }
        return dataclasses.replace(loaded, signatures=signatures)

    server.manager.get = get
    try:
        yield calls
    finally:
        server.manager.get = original
