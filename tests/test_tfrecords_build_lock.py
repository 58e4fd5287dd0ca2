"""One build of a dataset directory at a time: a second build (two trainings started at once on a
fresh machine, build_dataset.py typed twice) waits for the first and reuses its complete build
instead of clearing its shards while they are written; a killed build leaves no lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from common.file_lock import FileLock, LockHeldError
from seqgan_tf.data.input_pipeline import make_dataset
from tfrecords.builders import BuildRequest, build, build_lock_path
from tfrecords.shard_writer import dataset_dir

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATASET = "synth_zap_seq"

# Builds like build_dataset.py, but says so and pauses before writing (inside the build's
# lock), so that the test can start a second build while this one holds the directory.
SLOW_BUILDER = """
import sys, time
import tfrecords.builders as builders
write = builders._write
def slow_write(request):
    print("building", flush=True)
    time.sleep(float(sys.argv[2]))
    return write(request)
builders._write = slow_write
builders.build(builders.BuildRequest(dataset="synth_zap_seq", data_dir=sys.argv[1],
                                     num_sessions=24, image_size=16, num_workers=1))
"""


def _request(data_dir: str) -> BuildRequest:
    return BuildRequest(
        dataset=DATASET, data_dir=data_dir, num_sessions=24, image_size=16, num_workers=1
    )


def _start_slow_builder(data_dir: str, pause: float) -> subprocess.Popen:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT)
    process = subprocess.Popen(
        [sys.executable, "-c", SLOW_BUILDER, data_dir, str(pause)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    line = process.stdout.readline()
    assert line.strip() == "building", process.stderr.read()
    return process


def _count_train_examples(data_dir: str) -> int:
    dataset = make_dataset(data_dir, DATASET, "train", 1, is_training=False)
    return sum(1 for _ in dataset)


def test_a_second_build_waits_for_the_first_and_reuses_it(tmp_path, capsys):
    data_dir = str(tmp_path)
    first = _start_slow_builder(data_dir, pause=2.0)
    try:
        info, built = build(_request(data_dir))
    finally:
        first.wait(timeout=120)
    assert first.returncode == 0, first.stderr.read()
    assert not built  # the first process's build, reused whole
    waited = capsys.readouterr().err
    assert f"being built by process {first.pid}" in waited and "waiting" in waited
    assert info["build_params"]["num_sessions"] == 24
    assert _count_train_examples(data_dir) == info["split_sizes"]["train"] > 0


def test_a_killed_build_leaves_no_lock_and_the_next_build_completes(tmp_path):
    data_dir = str(tmp_path)
    holder = _start_slow_builder(data_dir, pause=600)
    lock = build_lock_path(dataset_dir(data_dir, DATASET, "1.0.0"))
    with pytest.raises(LockHeldError, match=rf"held by process {holder.pid}\b"):
        with FileLock(lock):
            pass
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    info, built = build(_request(data_dir))
    assert built
    assert _count_train_examples(data_dir) == info["split_sizes"]["train"] > 0


def test_reusing_a_complete_build_takes_no_lock(tmp_path):
    # The reuse path writes nothing, so a data folder that only this build wrote (or a read-only
    # copy of it) is reused without a lock file.
    data_dir = str(tmp_path)
    info, built = build(_request(data_dir))
    assert built
    lock = build_lock_path(dataset_dir(data_dir, DATASET, "1.0.0"))
    os.remove(lock)
    again, built = build(_request(data_dir))
    assert not built and again == info
    assert not os.path.exists(lock)
