"""An interrupted build: the error names its parameters, and its workers die with the parent."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from seqgan_tf.data.input_pipeline import make_dataset
from tests.tfrecords_testlib import FAKE_SCHEMA, fake_generate_sessions
from tfrecords.synthetic_builder import build_synthetic

DATASET = "synth_zap_seq"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _interrupted_generate(dataset, num_sessions, seed, image_size=64, start=0):
    for i, session in enumerate(fake_generate_sessions(dataset, num_sessions, seed, image_size)):
        if i == 30:
            raise KeyboardInterrupt("killed halfway")
        yield session


def test_interrupted_build_message_names_its_parameters(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        build_synthetic(
            DATASET,
            str(tmp_path),
            40,
            seed=7,
            num_shards={"train": 4, "val": 1, "test": 1},
            image_size=16,
            generate_fn=_interrupted_generate,
            schema=FAKE_SCHEMA,
            generator_version="fake-1",
        )
    build_dir = tmp_path / DATASET / "1.0.0"
    assert any(name.endswith(".tfrecord") for name in os.listdir(build_dir))
    with pytest.raises(FileNotFoundError) as error:
        make_dataset(str(tmp_path), DATASET, "train", 4, is_training=True)
    message = str(error.value)
    assert "interrupted build" in message
    rerun = (
        f"python scripts/build_dataset.py --dataset={DATASET} --num_sessions=40 "
        f"--data_dir={tmp_path} --seed=7 --image_size=16"
    )
    assert rerun in message
    # The generic default command is not what the message offers for this build.
    assert "--num_sessions=10000" not in message


def test_a_complete_build_leaves_no_marker(tmp_path):
    build_synthetic(
        DATASET,
        str(tmp_path),
        10,
        image_size=16,
        generate_fn=fake_generate_sessions,
        schema=FAKE_SCHEMA,
        generator_version="fake-1",
    )
    assert os.listdir(tmp_path / DATASET) == ["1.0.0"]  # no 1.0.0.build_in_progress.json


def _children(pid):
    """Pids of the generation workers (spawned with spawn_main) whose parent is `pid`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        if ppid == pid and b"spawn_main" in cmdline:
            found.append(int(entry))
    return found


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc")
def test_workers_die_promptly_when_the_parent_is_killed(tmp_path):
    script = textwrap.dedent(
        f"""
        from tfrecords.synthetic_builder import build_synthetic
        from tests.tfrecords_testlib import FAKE_SCHEMA, slow_fake_generate_sessions
        build_synthetic(
            {DATASET!r}, {str(tmp_path)!r}, 1000, image_size=16, num_workers=2,
            generate_fn=slow_fake_generate_sessions, schema=FAKE_SCHEMA,
        )
        """
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 120
        workers = []
        while time.time() < deadline and len(workers) < 2:
            time.sleep(0.5)
            workers = _children(parent.pid)
            assert parent.poll() is None, "the build ended before its workers started"
        assert len(workers) == 2
        time.sleep(3)  # let them import and start on their chunks (12.5 s each)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        killed_at = time.time()
        while time.time() - killed_at < 1.0 and any(_alive(w) for w in workers):
            time.sleep(0.1)
        survivors = [w for w in workers if _alive(w)]
        assert not survivors, f"workers still running 1 s after the parent's SIGKILL: {survivors}"
    finally:
        if parent.poll() is None:
            parent.kill()
        for worker in _children(parent.pid) + locals().get("workers", []):
            if _alive(worker):
                os.kill(worker, signal.SIGKILL)
