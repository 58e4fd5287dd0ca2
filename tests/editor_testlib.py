"""Helpers for the editor app tests: a tiny trained SeqAttnGAN export, test-split shards, the app
as a subprocess (the browser side is serving/editor_app/browser.py)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATASET = "synth_zap_seq"


def export_tiny_trained(base_dir: str, model_name: str, steps: int = 2) -> tuple[str, str]:
    """Exports the tests' tiny SeqAttnGAN trained for `steps` steps (as
    tests/test_serving_real_model.py does); returns (version folder, what was exported).

    Never a stand-in: if the tiny model cannot be trained, this raises, and the tests that
    serve it fail (an untrained stand-in would let them pass with the real model broken).
    """
    import keras

    from seqgan_tf.export import export_editor
    from tests.model_testlib import tiny_trained_edit_model

    keras.utils.set_random_seed(0)
    model = tiny_trained_edit_model(steps)
    return export_editor(model, str(base_dir), model_name), "tiny trained SeqAttnGAN"


def browser_required() -> bool:
    """Whether a missing browser fails the browser tests instead of skipping them: under CI
    (CI set, as CI services set it) or when .ci/run asks (SEQGAN_REQUIRE_BROWSER=1)."""
    flag = os.environ.get("SEQGAN_REQUIRE_BROWSER", "").lower()
    ci = os.environ.get("CI", "").lower()
    return flag in ("1", "true", "yes") or ci not in ("", "0", "false", "no")


def write_test_shards(data_dir: str, num_sessions: int = 6, image_size: int = 32) -> str:
    """A test split of fake sessions in the shard layout; returns the shard path."""
    import tensorflow as tf

    from tests.tfrecords_testlib import fake_generate_sessions
    from tfrecords.session_format import serialize_session

    folder = os.path.join(data_dir, DATASET, "1.0.0")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "test-00000-of-00001.tfrecord")
    with tf.io.TFRecordWriter(path) as writer:
        for session in fake_generate_sessions(DATASET, num_sessions, 0, image_size=image_size):
            writer.write(serialize_session(session, DATASET))
    return path


@contextlib.contextmanager
def running_app(
    server: str, model_name: str, data_dir: str, tmp_dir: str, *extra: str, timeout_s: float = 120.0
) -> Iterator[str]:
    """scripts/editor_app.py as a subprocess on a free loopback port; yields its base URL."""
    port_file = os.path.join(tmp_dir, f"editor_port_{time.monotonic_ns()}")
    log_path = port_file + ".log"
    cmd = [
        sys.executable,
        os.path.join(ROOT, "scripts", "editor_app.py"),
        f"--server={server}",
        f"--model_name={model_name}",
        f"--data_dir={data_dir}",
        f"--dataset={DATASET}",
        "--port=0",
        f"--port_file={port_file}",
        *extra,
    ]
    env = {**os.environ, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "2"}
    with open(log_path, "w") as log:
        process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + timeout_s
        while not (os.path.exists(port_file) and open(port_file).read().strip()):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the editor app did not start:\n{open(log_path).read()}")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{open(port_file).read().strip()}"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """scripts/serve.py as a subprocess on a fixed loopback port, so it can be stopped (SIGTERM,
    as a deployment stops it) and started again at the same address."""

    def __init__(self, base_dir: str, model_name: str, log_dir: str):
        self.base_dir = base_dir
        self.model_name = model_name
        self.log_dir = log_dir
        self.port = free_port()
        self.target = f"127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self, timeout_s: float = 120.0) -> None:
        from serving import client

        cmd = [
            sys.executable,
            os.path.join(ROOT, "scripts", "serve.py"),
            f"--model_base_path={os.path.join(self.base_dir, self.model_name)}",
            f"--model_name={self.model_name}",
            f"--port={self.port}",
            "--grace_s=0.5",
        ]
        env = {**os.environ, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "2"}
        log = open(os.path.join(self.log_dir, f"serve_{time.monotonic_ns()}.log"), "w")
        with log:
            self.process = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT
            )
        channel = client.make_channel(self.target)
        try:
            client.wait_until_available(channel, self.model_name, timeout_s)
        finally:
            channel.close()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


class FakeBackend:
    """Answers like `serving.editor_app.Backend` without a model server (16x16 images, state of
    4, 8 words): an edit paints a corner red and, with `design` set, returns that design as a
    client whose export carries one would.

    Args:
        design: attribute -> [(value, probability), ...] each edit returns (None: none).
    """

    target = "fake:0"
    model_name = "fake"
    timeout_s = 5.0
    max_text_chars = 1000

    def __init__(self, design: dict | None = None):
        self.design = design

    def info(self, refresh: bool = False):
        from serving.editor_app.backend import ModelInfo

        return ModelInfo(version=1, image_size=16, max_words=8)

    def status(self) -> dict:
        return {"ok": True, "versions": {1: "AVAILABLE"}, "message": "fake model v1"}

    def start(self, image, refresh: bool = True):
        import numpy as np

        return np.asarray(image, np.uint8), np.zeros([4], np.float32)

    def edit(self, image, state, text: str):
        import numpy as np

        from serving.editor_app.backend import TurnOutput, split_words

        out = np.array(image, np.uint8)
        out[: out.shape[0] // 2, : out.shape[1] // 2] = (220, 20, 20)
        words = split_words(text)[:8]
        return TurnOutput(
            image=out,
            state=np.asarray(state, np.float32) + 1,
            attention=np.random.default_rng(0).random([4, 4, 8]).astype(np.float32),
            tokens=words,
            version=1,
            client_ms=1.0,
            design=self.design,
            max_words=8,
        )

    def close(self) -> None:
        pass
