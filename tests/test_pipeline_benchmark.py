"""scripts/benchmark.py dispatch and the pipeline benchmark's measurement."""

import pytest

from scripts import benchmark
from seqgan_tf.benchmarks import pipeline
from tests.tfrecords_testlib import FAKE_SCHEMA, fake_generate_sessions
from tfrecords.synthetic_builder import build_synthetic


def test_requested_target_is_found_before_flag_parsing():
    assert benchmark.requested_target(["--foo=1", "--target=pipeline"]) == "pipeline"
    assert benchmark.requested_target(["--target", "serving"]) == "serving"
    assert benchmark.requested_target(["--num_batches=3"]) is None


def test_every_target_has_flags_and_an_entry_point():
    assert set(benchmark.TARGETS) == {"pipeline", "training", "serving"}
    for module in benchmark.TARGETS.values():
        assert callable(module.define_flags) and callable(module.main_with_flags)


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
