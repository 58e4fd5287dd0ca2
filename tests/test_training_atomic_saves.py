"""A run killed (SIGKILL) in the middle of any weights save resumes: the DAMSM, the backup, the
latest checkpoint, a snapshot and the final weights are written to a temporary file and renamed,
so the kill leaves the previous file (or none), never a truncated one (issue 21, item 5).

Each case runs scripts/train.py in a subprocess whose Keras `save_weights` writes the file, cuts
it to half its size and SIGKILLs its own process when it saves the named file for the N-th time
(the state a kill during the write leaves). The next, normal run must load what is on disk and
finish.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import h5py
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# save_weights writes its file, truncates it and SIGKILLs the process on the N-th save of a file
# whose name contains KILL_NAME (temporary names keep the target's name inside).
KILLING_TRAIN = """
import os, runpy, signal, sys
import keras

name, nth = os.environ["KILL_NAME"], int(os.environ["KILL_NTH"])
seen = {"n": 0}
original = keras.Model.save_weights

def save_weights(self, filepath, *args, **kwargs):
    original(self, filepath, *args, **kwargs)
    if name in os.path.basename(str(filepath)):
        seen["n"] += 1
        if seen["n"] == nth:
            size = os.path.getsize(filepath)
            with open(filepath, "r+b") as f:
                f.truncate(size // 2)
            os.kill(os.getpid(), signal.SIGKILL)

keras.Model.save_weights = save_weights
sys.argv = [sys.argv[1]] + sys.argv[2:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    from tfrecords.synthetic_builder import build_synthetic

    root = tmp_path_factory.mktemp("data")
    build_synthetic("synth_zap_seq", str(root), 60, seed=0, image_size=16)
    return str(root)


def _train(data_dir, run_dir, *extra, kill=None):
    args = [
        os.path.join(ROOT, "scripts", "train.py"),
        "--config=tiny",
        "--dataset=synth_zap_seq",
        f"--data_dir={data_dir}",
        f"--run_dir={run_dir}",
        "--epochs=2",
        "--steps_per_epoch=2",
        "--verbose=2",
        *extra,
    ]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT)
    env.pop("TF_CONFIG", None)
    if kill is None:
        command = [sys.executable, *args]
    else:
        command = [sys.executable, "-c", KILLING_TRAIN, *args]
        env.update(KILL_NAME=kill[0], KILL_NTH=str(kill[1]))
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)


def _loads(path: str) -> bool:
    with h5py.File(path, "r"):
        return True


@pytest.mark.parametrize(
    "name, nth, extra",
    [
        ("damsm.weights.h5", 1, ()),  # the first save of the DAMSM (no file before)
        ("latest.weights.h5", 3, ("--nodamsm",)),  # epoch 2's backup (epoch 1's is on disk)
        ("epoch_002.weights.h5", 1, ("--nodamsm", "--snapshot_every=1")),
        ("final.weights.h5", 1, ("--nodamsm",)),
    ],
)
def test_a_kill_during_a_save_leaves_a_run_that_resumes(data_dir, tmp_path, name, nth, extra):
    run_dir = str(tmp_path / "run")
    killed = _train(data_dir, run_dir, *extra, kill=(name, nth))
    assert killed.returncode == -9, killed.stdout[-2000:] + killed.stderr[-2000:]
    # Nothing truncated under a real name: every weights file on disk loads.
    leftovers = []
    for folder, _, files in os.walk(run_dir):
        for file in files:
            if file.endswith(".weights.h5"):
                if file.startswith(".tmp-"):
                    leftovers.append(file)
                else:
                    assert _loads(os.path.join(folder, file)), file
    assert leftovers and all(name in f for f in leftovers)  # the killed write's temporary
    if name in ("damsm.weights.h5", "final.weights.h5"):
        assert not os.path.exists(os.path.join(run_dir, name))

    resumed = _train(data_dir, run_dir, *extra)
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    with open(os.path.join(run_dir, "train_state.json")) as f:
        state = json.load(f)
    assert state["complete"] and state["epochs_completed"] == 2
    assert _loads(os.path.join(run_dir, "final.weights.h5"))
    if name == "damsm.weights.h5":
        assert "pretraining DAMSM" in resumed.stderr  # redone, not loaded half-written
        assert _loads(os.path.join(run_dir, name))
    # The resumed run cleared the killed write's temporary from the run folder.
    assert not [f for f in os.listdir(run_dir) if f.startswith(".tmp-")]
