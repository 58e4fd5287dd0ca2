"""scripts/benchmark.py dispatch and the pipeline benchmark's measurement."""

import os
import subprocess
import sys

from benchmarks import pipeline
from scripts import benchmark
from tests.tfrecords_testlib import FAKE_SCHEMA, fake_generate_sessions
from tfrecords.synthetic import generator_version
from tfrecords.synthetic_builder import build_synthetic

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_requested_target_is_found_before_flag_parsing():
    assert benchmark.requested_target(["--foo=1", "--target=pipeline"]) == "pipeline"
    assert benchmark.requested_target(["--target", "serving"]) == "serving"
    assert benchmark.requested_target(["--num_batches=3"]) is None


def test_only_the_chosen_targets_flags_are_defined():
    result = subprocess.run(
        [sys.executable, "-m", "scripts.benchmark", "--target=pipeline", "--helpfull"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True,
        text=True,
        timeout=120,
    )  # absl's --helpfull prints the flags and exits with status 1
    assert "--num_batches" in result.stdout, result.stderr  # the pipeline's
    assert "--session_turns" not in result.stdout  # the training benchmark's


def _build(data_dir):
    build_synthetic(
        pipeline.DATASET,
        data_dir,
        24,
        num_shards=2,
        image_size=16,
        generate_fn=fake_generate_sessions,
        schema=FAKE_SCHEMA,
        generator_version="fake",
    )


def test_measure_times_only_the_batches_after_warm_up(tmp_path):
    _build(str(tmp_path))
    reads = iter([10.0, 12.0])  # the clock before and after the timed batches
    result = pipeline.measure(
        str(tmp_path), 4, 16, 4, warmup_batches=1, num_batches=3, clock=lambda: next(reads)
    )
    assert result["seconds"] == 2.0
    assert result["sessions_per_second"] == 6.0  # 3 batches of 4 sessions in 2 s
    assert result["batches_per_second"] == 1.5


def test_ensure_build_reuses_a_matching_build_and_replaces_another(tmp_path, monkeypatch):
    calls = []

    def fake_build(dataset, data_dir, num_sessions, seed=0, **kwargs):
        calls.append((num_sessions, seed))
        kwargs.pop("num_workers", None)
        return build_synthetic(
            dataset,
            data_dir,
            num_sessions,
            seed,
            generate_fn=fake_generate_sessions,
            schema=FAKE_SCHEMA,
            generator_version=generator_version(dataset),  # as the real build records it
            **kwargs,
        )

    monkeypatch.setattr("tfrecords.builders.build_synthetic", fake_build)
    assert pipeline.ensure_build(str(tmp_path), 12, 0, 16) is True
    assert pipeline.ensure_build(str(tmp_path), 12, 0, 16) is False
    assert pipeline.ensure_build(str(tmp_path), 12, 1, 16) is True
    assert calls == [(12, 0), (12, 1)]
