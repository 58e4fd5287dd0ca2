"""The serving benchmark: its statistics, and a run end to end on the tiny editor."""

import time

import pytest

from benchmarks import serving as serving_benchmark


def test_percentiles_are_in_milliseconds():
    p50, p99 = serving_benchmark._percentiles([0.001] * 99 + [0.1])
    assert p50 == pytest.approx(1.0)
    assert p99 == pytest.approx(1.99)  # numpy's linear interpolation between 1 ms and 100 ms


def test_throughput_counts_every_call_of_every_thread():
    calls = []

    def call():
        calls.append(1)
        time.sleep(0.05)

    rate = serving_benchmark._throughput(call, threads=2, total=4)
    assert len(calls) == 4
    assert 20 < rate <= 40.5  # 4 calls of 50 ms on 2 threads: at most 40 per second


def test_throughput_raises_a_failed_call():
    def call():
        raise RuntimeError("the server refused")

    with pytest.raises(RuntimeError, match="refused"):
        serving_benchmark._throughput(call, threads=2, total=2)


def test_benchmark_prints_the_figures_it_returns(capsys):
    results = serving_benchmark.main(
        num_requests=6, warmup_requests=1, concurrency=(1, 2), tiny_image_size=16,
        tiny_state_dim=8, tiny_max_words=4, image_side=24,
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "UNTRAINED TinyEditor" in out
    assert "command:" in out
    for path in ("in_process", "grpc"):
        assert 0 < results[f"{path}_p50_ms"] <= results[f"{path}_p99_ms"]
        row = next(line for line in out.splitlines() if line.startswith(f"| {path} "))
        assert f"{results[f'{path}_p50_ms']:.2f}" in row
        assert f"{results[f'{path}_turns_per_s_2_clients']:.1f}" in row
