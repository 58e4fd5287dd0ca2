"""scripts/benchmark.py dispatch and the pipeline benchmark's measurement."""

import pytest

from scripts import benchmark
from seqgan_tf.benchmarks import pipeline
from tfrecords.synthetic_builder import build_synthetic
from tfrecords.testing import FAKE_SCHEMA, fake_generate_sessions


def test_requested_target_is_found_before_flag_parsing():
    assert benchmark.requested_target(["--foo=1", "--target=pipeline"]) == "pipeline"
    assert benchmark.requested_target(["--target", "serving"]) == "serving"
    assert benchmark.requested_target(["--num_batches=3"]) is None


def test_missing_target_module_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(benchmark, "TARGETS", ("pipeline", "does_not_exist"))
    with pytest.raises(benchmark.MissingBenchmarkError, match="does_not_exist.*does not exist"):
        benchmark.load_target("does_not_exist")
    with pytest.raises(ValueError, match="unknown benchmark target"):
        benchmark.load_target("gpu")
    module = benchmark.load_target("pipeline")
    assert benchmark.entry_point(module) is module.main_with_flags


def test_pipeline_measure_counts_sessions_per_second(tmp_path):
    build_synthetic(
        pipeline.DATASET,
        str(tmp_path),
        24,
        num_shards=2,
        image_size=16,
        generate_fn=fake_generate_sessions,
        schema=FAKE_SCHEMA,
        generator_version="fake",
    )
    result = pipeline.measure(str(tmp_path), 4, 16, 4, warmup_batches=1, num_batches=3)
    assert result["sessions_per_second"] > 0
    assert result["sessions_per_second"] == pytest.approx(
        4 * result["batches_per_second"], rel=0.01
    )
