"""One trainer per run folder: a second scripts/train.py on a folder that a live process trains is
refused before it touches anything, and a killed trainer leaves no lock behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from seqgan_tf.training.run_lock import RunFolderBusyError, RunLock, lock_file_name

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Takes the run folder's lock as a trainer would, says so, and sleeps until killed.
HOLDER = """
import sys, time
from seqgan_tf.training.run_lock import RunLock
with RunLock(sys.argv[1]):
    print("holding", flush=True)
    time.sleep(600)
"""


def _env():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT)
    env.pop("TF_CONFIG", None)
    return env


def test_a_second_lock_on_a_held_folder_is_refused_naming_the_holder(tmp_path):
    run_dir = str(tmp_path / "run")
    with RunLock(run_dir):
        with pytest.raises(RunFolderBusyError, match=rf"process {os.getpid()}\b.*--run_dir"):
            with RunLock(run_dir):
                pass
    with RunLock(run_dir):  # released when the block ended
        pass


def test_the_tasks_of_one_cluster_hold_separate_locks(tmp_path):
    names = {lock_file_name(0, chief=True), lock_file_name(1, chief=False)}
    names.add(lock_file_name(2, chief=False))
    assert len(names) == 3
    with RunLock(str(tmp_path), lock_file_name(0, chief=True)):
        with RunLock(str(tmp_path), lock_file_name(1, chief=False)):
            pass


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    from tfrecords.synthetic_builder import build_synthetic

    root = tmp_path_factory.mktemp("data")
    build_synthetic("synth_zap_seq", str(root), 40, seed=0, image_size=16)
    return str(root)


def _train(data_dir, run_dir, *extra):
    command = [
        sys.executable,
        os.path.join(ROOT, "scripts", "train.py"),
        "--config=tiny",
        "--dataset=synth_zap_seq",
        f"--data_dir={data_dir}",
        f"--run_dir={run_dir}",
        "--epochs=1",
        "--steps_per_epoch=2",
        "--nodamsm",
        "--verbose=2",
        *extra,
    ]
    return subprocess.run(command, env=_env(), capture_output=True, text=True, timeout=900)


def test_train_py_refuses_a_folder_another_process_trains_and_resumes_once_it_is_killed(
    data_dir, tmp_path
):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    kept = run_dir / "final.weights.h5"
    kept.write_bytes(b"the other process's work")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(run_dir)], env=_env(), stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        # --overwrite too: it would delete the other process's files.
        refused = _train(data_dir, str(run_dir), "--overwrite")
        assert refused.returncode != 0
        assert f"is being trained by process {holder.pid}" in refused.stderr, refused.stderr[-2000:]
        assert f"kill {holder.pid}" in refused.stderr
        assert "Traceback" not in refused.stderr
        assert kept.read_bytes() == b"the other process's work"
        assert sorted(os.listdir(run_dir)) == ["final.weights.h5", "train.lock"]
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=60)
    time.sleep(0.1)
    # The kernel dropped the killed holder's lock: the next run takes the folder.
    trained = _train(data_dir, str(run_dir), "--overwrite")
    assert trained.returncode == 0, trained.stdout[-2000:] + trained.stderr[-3000:]
    assert (run_dir / "train_state.json").exists()
    assert kept.read_bytes() != b"the other process's work"
