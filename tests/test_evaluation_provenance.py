"""evaluate.py judges one build: it refuses a classifier or a run made from another build (or
recording none), accepts them with --allow_other_build and then says so in the report, and
reports the test slice it used."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from seqgan_tf.evaluation.attribute_classifier import AttributeClassifier
from seqgan_tf.evaluation.classifier_files import save_attribute_classifier
from seqgan_tf.evaluation.provenance import BuildMismatchError, check_builds
from tests.tfrecords_testlib import FAKE_SCHEMA, fake_generate_sessions
from tfrecords.build_fingerprint import BUILD_FILE, record_build
from tfrecords.synthetic_builder import build_synthetic

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATASET = "synth_zap_seq"
THIS = {"id": "aaaaaaaaaaaaaaaa", "name": DATASET, "version": "1.0.0", "seed": 0}
OTHER = {"id": "bbbbbbbbbbbbbbbb", "name": DATASET, "version": "1.0.0", "seed": 1}


def test_check_builds_names_both_fingerprints():
    assert check_builds(THIS, {"classifier c": dict(THIS), "run r": dict(THIS)}) == []
    with pytest.raises(BuildMismatchError) as error:
        check_builds(THIS, {"classifier c": dict(THIS), "run r": OTHER})
    message = str(error.value)
    assert "run r" in message and OTHER["id"] in message and THIS["id"] in message
    assert "--allow_other_build" in message
    with pytest.raises(BuildMismatchError, match="records no build"):
        check_builds(THIS, {"classifier old": None})
    notes = check_builds(THIS, {"classifier old": None, "run r": OTHER}, allow_other_build=True)
    assert len(notes) == 2 and OTHER["id"] in notes[1]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A 40-session build and an (untrained) classifier folder for its schema."""
    root = tmp_path_factory.mktemp("provenance")
    info = build_synthetic(
        DATASET,
        str(root / "data"),
        40,
        seed=3,
        image_size=16,
        generate_fn=fake_generate_sessions,
        schema=FAKE_SCHEMA,
        generator_version="fake-1",
    )
    classifier = str(root / "clf")
    schema = {k: list(v) for k, v in FAKE_SCHEMA.items()}
    model = AttributeClassifier(schema, image_size=16, widths=(4, 8), feature_dim=8)
    model(np.zeros([1, 16, 16, 3], np.float32))  # built, so that its weights are saved
    save_attribute_classifier(model, classifier)
    return {"root": root, "info": info, "classifier": classifier}


def _evaluate(setup, out: str, *extra: str) -> subprocess.CompletedProcess:
    command = [
        sys.executable,
        os.path.join(REPO, "scripts", "evaluate.py"),
        f"--dataset={DATASET}",
        f"--data_dir={setup['root'] / 'data'}",
        f"--classifier={setup['classifier']}",
        f"--out={out}",
        "--models=copy_previous,ground_truth",
        "--image_size=16",
        "--batch_size=4",
        "--num_examples=1",
        *extra,
    ]
    # PYTHONPATH: this checkout's code, not the installed one.
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=REPO)
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


def test_evaluate_refuses_and_allows_another_build(setup, tmp_path):
    this = setup["info"]["fingerprint"]
    # A classifier from before fingerprints: refused, with the way forward.
    recorded = os.path.join(setup["classifier"], BUILD_FILE)
    if os.path.exists(recorded):
        os.remove(recorded)
    done = _evaluate(setup, str(tmp_path / "old"))
    assert done.returncode != 0
    assert "records no build" in done.stderr and "--allow_other_build" in done.stderr
    # A classifier of another build: refused, naming both.
    record_build(setup["classifier"], {**this, "id": "0123456789abcdef"}, overwrite=True)
    done = _evaluate(setup, str(tmp_path / "other"))
    assert done.returncode != 0
    assert "0123456789abcdef" in done.stderr and this["id"] in done.stderr
    assert not os.path.exists(tmp_path / "other" / "report.md")
    # A run of another build: refused before anything is loaded (the folder holds no model).
    run_dir = tmp_path / "run"
    record_build(str(run_dir), {**this, "id": "fedcba9876543210"})
    record_build(setup["classifier"], this, overwrite=True)
    done = _evaluate(setup, str(tmp_path / "run_other"), f"--models=copy_previous,r={run_dir}")
    assert done.returncode != 0 and "fedcba9876543210" in done.stderr and "run r" in done.stderr

    # Accepted with --allow_other_build, and the report says so.
    record_build(setup["classifier"], {**this, "id": "0123456789abcdef"}, overwrite=True)
    out = tmp_path / "allowed"
    done = _evaluate(setup, str(out), "--allow_other_build", "--slice=final")
    assert done.returncode == 0, done.stderr[-3000:]
    report = open(out / "report.md").read()
    metrics = json.load(open(out / "metrics.json"))
    assert "0123456789abcdef" in report and "build check" in report
    assert metrics["other_build_notes"] and metrics["data_build"]["id"] == this["id"]
    assert metrics["test_slice"] == "final" and "final slice" in report


def test_evaluate_matching_build_reports_its_slice(setup, tmp_path):
    record_build(setup["classifier"], setup["info"]["fingerprint"], overwrite=True)
    sessions = {}
    for test_slice in ("dev", "final"):
        out = tmp_path / test_slice
        done = _evaluate(setup, str(out), f"--slice={test_slice}")
        assert done.returncode == 0, done.stderr[-3000:]
        metrics = json.load(open(out / "metrics.json"))
        assert metrics["test_slice"] == test_slice and not metrics["other_build_notes"]
        assert "made from this build" in open(out / "report.md").read()
        sessions[test_slice] = metrics["num_sessions"]
    assert sessions["dev"] + sessions["final"] == setup["info"]["split_sizes"]["test"]


def test_evaluate_with_terse_descriptions_says_so(setup, tmp_path):
    record_build(setup["classifier"], setup["info"]["fingerprint"], overwrite=True)
    done = _evaluate(setup, str(tmp_path / "terse"), "--descriptions=terse")
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.load(open(tmp_path / "terse" / "metrics.json"))
    assert metrics["info"]["descriptions"] == "terse"
    assert "terse descriptions" in open(tmp_path / "terse" / "report.md").read()
