"""Figures against training time: evaluations of a run's snapshots become one curve per run,
at the GAN epochs behind each model's weights, drawn by scripts/plot_training_curve.py; the
report names the weights of every trained row."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from PIL import Image

from seqgan_tf.configs import get_experiment
from seqgan_tf.evaluation.report import write_report
from seqgan_tf.evaluation.training_curve import PANELS, curve_points, draw_training_curve
from seqgan_tf.training.run_folder import (
    CONFIG_FILE,
    SNAPSHOTS_DIR,
    TRAIN_STATE,
    describe_model_entries,
    describe_weights,
    epochs_of_weights,
)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _model(edit: float, ssim: float = 0.8, region: float = 0.5) -> dict:
    overall = {"edit_accuracy": edit, "preservation": 0.9, "exact_match": edit / 2}
    return {
        "edit": {"overall": overall, "unseen_designs": {"edit_accuracy": edit - 0.1}},
        "image": {"all": {"SSIM": ssim}},
        "pixel": {"all": {"edit_region_error": region}},
    }


def _evaluation(models: dict, command: str = "", trained: dict | None = None, **where) -> dict:
    metrics = {
        "num_sessions": where.get("sessions", 10),
        "test_slice": where.get("slice", "final"),
        "data_build": {"id": "aaaaaaaaaaaaaaaa"},
        "info": {"command": command, "descriptions": "dataset"},
        "models": models,
    }
    if trained is not None:
        metrics["trained_models"] = trained
    return metrics


@pytest.fixture
def run_dir(tmp_path):
    """A run folder that finished 12 epochs and kept snapshots of epochs 4 and 8."""
    run = tmp_path / "longer_run"
    (run / SNAPSHOTS_DIR).mkdir(parents=True)
    (run / TRAIN_STATE).write_text(json.dumps({"epochs_completed": 12, "complete": True}))
    return str(run)


def test_the_epochs_behind_weights_come_from_the_snapshot_or_the_train_state(run_dir, tmp_path):
    assert epochs_of_weights(run_dir, "snapshots/epoch_004.weights.h5") == 4
    assert epochs_of_weights(run_dir, os.path.join(run_dir, "snapshots/epoch_016.weights.h5")) == 16
    assert epochs_of_weights(run_dir) == 12
    assert epochs_of_weights(run_dir, "checkpoints/latest.weights.h5") == 12
    assert epochs_of_weights(run_dir, "final.weights.h5") == 12
    # Any other file, even one named like a snapshot, says nothing about its epochs.
    assert epochs_of_weights(run_dir, "other/epoch_004.weights.h5") is None
    assert epochs_of_weights(run_dir, "copied.weights.h5") is None
    assert epochs_of_weights(str(tmp_path / "not_a_run")) is None
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / TRAIN_STATE).write_text("{not json")
    assert epochs_of_weights(str(tmp_path / "broken")) is None


def test_an_evaluation_records_the_run_config_and_epochs_of_its_weights(run_dir):
    assert describe_weights(run_dir, "snapshots/epoch_008.weights.h5") == {
        "run_dir": run_dir,
        "weights": "snapshots/epoch_008.weights.h5",
        "config": None,  # no config.json in this folder
        "epochs": 8,
    }
    get_experiment("longer", "synth_zap_seq").save(os.path.join(run_dir, CONFIG_FILE))
    assert describe_weights(run_dir) == {
        "run_dir": run_dir,
        "weights": None,
        "config": "longer",
        "epochs": 12,
    }
    # evaluate.py's --models entries: the trained rows only.
    described = describe_model_entries(
        ["copy_previous", f"e8={run_dir}@snapshots/epoch_008.weights.h5", f"last={run_dir}"]
    )
    assert list(described) == ["e8", "last"]
    assert described["e8"]["epochs"] == 8 and described["last"]["epochs"] == 12


def test_evaluations_in_parts_make_one_curve_per_run(run_dir):
    # An early evaluation from before trained_models was recorded (the command says which
    # snapshot each row is) and a later one that records it.
    early = _evaluation(
        {"copy_previous": _model(0.0, ssim=0.81, region=1.0), "e4": _model(0.3), "e8": _model(0.6)},
        command=f"evaluate.py --slice=final --models=copy_previous,"
        f"e4={run_dir}@snapshots/epoch_004.weights.h5,e8={run_dir}@snapshots/epoch_008.weights.h5",
    )
    late = _evaluation(
        {"final": _model(0.9, region=0.3), "other": _model(0.5)},
        trained={
            "final": {"run_dir": run_dir, "weights": None, "epochs": 12},
            "other": {"run_dir": "/elsewhere/quick_run", "weights": None, "epochs": 12},
        },
    )
    curves, baseline = curve_points([late, early])
    assert [(p.model, p.epochs) for p in curves["longer_run"]] == [
        ("e4", 4),
        ("e8", 8),
        ("final", 12),
    ]
    assert [p.model for p in curves["quick_run"]] == ["other"]
    titles = [title for title, _, _ in PANELS]
    final = curves["longer_run"][-1].figures
    assert final[titles.index("edit accuracy")] == pytest.approx(0.9)
    assert final[titles.index("edit-region error (of not editing)")] == pytest.approx(0.3)
    assert final[titles.index("unseen designs: edit accuracy")] == pytest.approx(0.8)
    assert baseline["SSIM"] == pytest.approx(0.81)


def test_what_cannot_be_one_curve_is_refused_by_name(run_dir):
    one = _evaluation(
        {"a": _model(0.5)}, trained={"a": {"run_dir": run_dir, "weights": None, "epochs": 12}}
    )
    other_slice = _evaluation({"b": _model(0.5)}, trained={}, slice="dev")
    with pytest.raises(ValueError, match="different sessions"):
        curve_points([one, other_slice])
    twice = _evaluation(
        {"b": _model(0.6)}, trained={"b": {"run_dir": run_dir, "weights": None, "epochs": 12}}
    )
    with pytest.raises(ValueError, match="two models at epoch 12: 'a' and 'b'"):
        curve_points([one, twice])
    curves, _ = curve_points([one, twice], skip=["a"])
    assert [p.model for p in curves["longer_run"]] == ["b"]
    unknown = _evaluation(
        {"c": _model(0.6)},
        trained={"c": {"run_dir": "/gone/run", "weights": "x.h5", "epochs": None}},
    )
    with pytest.raises(ValueError, match="--epochs=c:N"):
        curve_points([unknown])
    curves, _ = curve_points([unknown], epochs={"c": 20})
    assert curves["run"][0].epochs == 20
    with pytest.raises(ValueError, match="nothing to draw"):
        draw_training_curve({}, {}, "unused.png")


def test_the_script_draws_the_curves_and_prints_the_points(run_dir, tmp_path):
    metrics = tmp_path / "eval" / "metrics.json"
    metrics.parent.mkdir()
    metrics.write_text(
        json.dumps(
            _evaluation(
                {"copy_previous": _model(0.0), "e4": _model(0.3), "final": _model(0.9)},
                trained={
                    "e4": {
                        "run_dir": run_dir,
                        "weights": "snapshots/epoch_004.weights.h5",
                        "epochs": 4,
                    },
                    "final": {"run_dir": run_dir, "weights": None, "epochs": 12},
                },
            )
        )
    )

    def plot(*flags: str) -> subprocess.CompletedProcess:
        script = os.path.join(REPO, "scripts", "plot_training_curve.py")
        env = dict(os.environ, PYTHONPATH=REPO, MPLBACKEND="Agg")
        return subprocess.run(
            [sys.executable, script, *flags], env=env, capture_output=True, text=True, timeout=300
        )

    done = plot(f"--metrics={metrics}", "--seconds_per_epoch=190", "--caption=a test")
    assert done.returncode == 0, done.stderr[-3000:]
    png = tmp_path / "eval" / "training_curve.png"
    with Image.open(png) as image:
        assert image.format == "PNG" and image.width > 600
    assert "| longer_run | 4 | e4 | 0.300 |" in done.stdout
    assert "| longer_run | 12 | final | 0.900 |" in done.stdout
    done = plot(f"--metrics={metrics}", "--labels=longer_run:longer (seed 1)", "--skip=e4")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| longer (seed 1) | 12 | final |" in done.stdout and "| e4 |" not in done.stdout
    assert not [name for name in os.listdir(png.parent) if name.startswith(".tmp-")]
    done = plot(f"--metrics={metrics}", "--labels=longer_run")
    assert done.returncode != 0 and "'longer_run' is not run_folder_name:label" in done.stderr
    done = plot(f"--metrics={metrics}", "--epochs=final")
    assert done.returncode != 0 and "'final' is not name:N" in done.stderr
    done = plot(f"--metrics={tmp_path / 'missing.json'}")
    assert done.returncode != 0 and "missing.json" in done.stderr


def test_the_report_names_the_weights_of_each_trained_row(tmp_path):
    group = {"num_images": 2, "SSIM": 0.5}
    edit = {"num_images": 2, "edit_accuracy": 0.5, "preservation": 1.0, "exact_match": 0.5}
    model = {
        "image": {"all": group, "last_turn": group, "per_turn": {"1": group}},
        "edit": {
            "overall": edit,
            "last_turn": edit,
            "per_turn": {"1": edit},
            "per_phrase_type": {},
            "per_attribute": {"color": {"f1": 0.5}},
        },
    }
    metrics = {
        "feature_sources": [],
        "num_sessions": 1,
        "num_images": 2,
        "attribute_names": ["color"],
        "models": {"e8": model},
        "trained_models": {
            "e8": {
                "run_dir": "runs/r",
                "weights": "snapshots/epoch_008.weights.h5",
                "config": "longer",
                "epochs": 8,
            }
        },
    }
    text = open(write_report({"metrics": metrics}, str(tmp_path))["report"]).read()
    assert "| e8 | `runs/r` | `snapshots/epoch_008.weights.h5` | longer | 8 |" in text
