"""Whole training runs in subprocesses: SIGKILL + resume, and two-worker MultiWorkerMirrored."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    from tfrecords.synthetic_builder import build_synthetic

    root = tmp_path_factory.mktemp("data")
    build_synthetic("synth_zap_seq", str(root), 40, seed=0, image_size=16)
    return str(root)


def _train_cmd(data_dir, run_dir, epochs, steps, *extra, config="tiny"):
    return [
        sys.executable,
        os.path.join(ROOT, "scripts", "train.py"),
        f"--config={config}",
        "--dataset=synth_zap_seq",
        f"--data_dir={data_dir}",
        f"--run_dir={run_dir}",
        f"--epochs={epochs}",
        f"--steps_per_epoch={steps}",
        "--nodamsm",
        "--verbose=2",
        *extra,
    ]


def _env(**extra):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT, **extra)
    env.pop("TF_CONFIG", None)
    env.update(extra)
    return env


def _state(run_dir):
    path = os.path.join(run_dir, "train_state.json")
    if not os.path.exists(path):
        return None
    try:
        with open(path) as f:
            return json.load(f)
    except json.JSONDecodeError:
        return None


def test_killed_run_resumes_epoch_count_and_optimizer_state(data_dir, tmp_path):
    run_dir = str(tmp_path / "run")
    # The edit mode with attribute slots (the quick design), at the tests' size.
    cmd = _train_cmd(data_dir, run_dir, 4, 3, config="tiny_edit")
    proc = subprocess.Popen(cmd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.time() + 400
    while time.time() < deadline and proc.poll() is None:
        state = _state(run_dir)
        if state and state["epochs_completed"] >= 1:
            break
        time.sleep(0.1)
    assert proc.poll() is None, proc.stdout.read().decode()[-3000:]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_at = _state(run_dir)["epochs_completed"]
    assert 1 <= killed_at < 4
    assert os.path.isdir(os.path.join(run_dir, "backup"))

    second = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    out = second.stdout + second.stderr
    assert "Epoch 1/4" not in out  # it continued, it did not start over
    assert "Epoch 4/4" in out
    final = _state(run_dir)
    assert final["complete"] and final["epochs_completed"] == 4
    # 4 epochs x 3 steps: both optimizers' iteration counters came back from the backup.
    assert final["g_iterations"] == 12 and final["d_iterations"] == 12
    # tiny_edit decays the rates over the last half (6 of 12 updates): the last update of
    # epoch 2 is at the full rate, of epoch 3 at 4/6 of it, of epoch 4 at 1/6, whichever
    # process trained the epoch (the update count came back with the backup).
    for key in ("g_learning_rate", "d_learning_rate"):
        rates = [e[key] for e in final["epochs"][1:]]
        assert rates == pytest.approx([2e-4, 2e-4 * 4 / 6, 2e-4 / 6]), key

    third = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=300)
    assert third.returncode == 0 and "already trained" in third.stdout + third.stderr

    # More epochs continue the finished run from its last epoch, optimizer state included.
    longer = _train_cmd(data_dir, run_dir, 5, 3, config="tiny_edit")
    fourth = subprocess.run(longer, env=_env(), capture_output=True, text=True, timeout=600)
    out = fourth.stdout + fourth.stderr
    assert fourth.returncode == 0, out[-3000:]
    assert "Epoch 5/5" in out and "Epoch 1/5" not in out
    final = _state(run_dir)
    assert final["complete"] and final["epochs_completed"] == 5
    assert final["g_iterations"] == 15 and final["d_iterations"] == 15
    # ... on a new decay tail over the new total (8 of 15 updates): the last of 8 steps down.
    assert final["epochs"][-1]["g_learning_rate"] == pytest.approx(2e-4 / 8)
    fewer = _train_cmd(data_dir, run_dir, 3, 3, config="tiny_edit")
    fifth = subprocess.run(fewer, env=_env(), capture_output=True, text=True, timeout=300)
    assert fifth.returncode == 0 and "already trained (5 epochs)" in fifth.stdout + fifth.stderr

    # The finished run's validation strips can be drawn again from its final weights.
    png = str(tmp_path / "strip.png")
    drawn = subprocess.run(
        [
            sys.executable,
            os.path.join(ROOT, "scripts", "render_strips.py"),
            f"--run_dir={run_dir}",
            f"--data_dir={data_dir}",
            f"--out={png}",
        ],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert drawn.returncode == 0, drawn.stdout[-3000:] + drawn.stderr[-3000:]
    from PIL import Image

    with Image.open(png) as strip:
        assert strip.width > 100 and strip.height > 100

    # The run keeps its dataset's attribute schema, and its export carries it (issue 22.6).
    with open(os.path.join(data_dir, "synth_zap_seq", "1.0.0", "dataset_info.json")) as f:
        dataset_schema = json.load(f)["attribute_schema"]
    with open(os.path.join(run_dir, "attribute_schema.json")) as f:
        assert json.load(f) == dataset_schema
    exported = subprocess.run(
        [
            sys.executable,
            os.path.join(ROOT, "scripts", "export.py"),
            f"--run_dir={run_dir}",
            f"--export_dir={tmp_path / 'exports'}",
            "--model_name=editor",
        ],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert exported.returncode == 0, exported.stdout[-3000:] + exported.stderr[-3000:]
    with open(tmp_path / "exports" / "editor" / "1" / "assets" / "attribute_schema.json") as f:
        assert list(json.load(f).items()) == list(dataset_schema.items())


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_worker_multi_worker_mirrored_fit(data_dir, tmp_path):
    run_dir = str(tmp_path / "mw_run")
    workers = [f"127.0.0.1:{_free_port()}", f"127.0.0.1:{_free_port()}"]
    procs = []
    for index in range(2):
        tf_config = json.dumps(
            {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        )
        cmd = _train_cmd(data_dir, run_dir, 2, 2, "--strategy=multi_worker")
        procs.append(
            subprocess.Popen(
                cmd,
                env=_env(TF_CONFIG=tf_config),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    outputs = []
    try:
        for p in procs:
            outputs.append(p.communicate(timeout=600)[0])
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for p, out in zip(procs, outputs, strict=True):
        assert p.returncode == 0, out[-4000:]
    assert "2 replica(s) (CollectiveAllReduceStrategy)" in outputs[0]  # = MultiWorkerMirrored
    state = _state(run_dir)  # written by the chief (worker 0)
    assert state["complete"] and state["g_iterations"] == 4
    assert os.path.exists(os.path.join(run_dir, "final.weights.h5"))


def test_the_trained_model_is_the_generators_average_and_ds_last_weights(data_dir, tmp_path):
    """--g_average_momentum: final.weights.h5 (what evaluation and export load) holds the
    generator's average; the checkpoint holds the weights as trained, D the same in both."""
    run_dir = str(tmp_path / "averaged")
    cmd = _train_cmd(data_dir, run_dir, 2, 2, "--g_average_momentum=0.5", config="tiny_edit")
    done = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    from seqgan_tf.training.runs import load_model

    final, config = load_model(run_dir)
    assert config.train.g_average_momentum == 0.5
    trained, _ = load_model(
        run_dir, weights=os.path.join(run_dir, "checkpoints", "latest.weights.h5")
    )
    for ours, theirs in zip(
        final.discriminator.weights, trained.discriminator.weights, strict=True
    ):
        assert (ours.numpy() == theirs.numpy()).all(), ours.path
    moved = [
        ours.path
        for ours, theirs in zip(final.generator_variables, trained.generator_variables, strict=True)
        if not (ours.numpy() == theirs.numpy()).all()
    ]
    assert moved, "the final generator equals the last trained weights: no average was kept"
