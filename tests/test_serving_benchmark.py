"""The serving benchmark runs end to end on the tiny editor and reports its figures."""

from seqgan_tf.benchmarks import serving as serving_benchmark


def test_benchmark_reports_latency_and_throughput(capsys):
    results = serving_benchmark.main(
        num_requests=6, warmup_requests=1, concurrency=(1, 2), tiny_image_size=16,
        tiny_state_dim=8, tiny_max_words=4, image_side=24,
    )  # fmt: skip
    for path in ("in_process", "grpc"):
        assert 0 < results[f"{path}_p50_ms"] <= results[f"{path}_p99_ms"]
        assert results[f"{path}_turns_per_s_1_clients"] > 0
        assert results[f"{path}_turns_per_s_2_clients"] > 0
    out = capsys.readouterr().out
    assert "UNTRAINED TinyEditor" in out
    assert "command:" in out
