"""Serving benchmark: per-turn latency through gRPC vs in-process, and throughput.

Called by the benchmark dispatcher (scripts/benchmark.py) as
`benchmarks.serving.main(...)`; it reads no flags of its own.

It exports a model (a trained run via `seqgan_tf.training.runs.load_editor`, or
else the untrained TinyEditor, labelled as such in the output), serves it with
serving/server.py on a free loopback port in this process, and measures:

* per-turn `edit` latency p50/p99 through the gRPC client and calling the same
  signature of the same SavedModel in-process (the difference is the serving overhead:
  proto conversion, validation, gRPC transport);
* throughput in turns/s with 1 and 8 concurrent client threads.
"""

from __future__ import annotations

import dataclasses
import os
import shlex
import shutil
import sys
import tempfile
import threading
import time

import numpy as np


@dataclasses.dataclass
class ServingBenchmarkConfig:
    """What to measure.

    Attributes:
        run_dir: trained run to export; None uses the untrained TinyEditor.
        num_requests: timed requests per measurement (after warm-up).
        warmup_requests: untimed requests before each measurement.
        concurrency: client thread counts for the throughput measurement.
        image_side: side of the client's input image (resized in-graph to the model's).
        tiny_image_size: TinyEditor resolution (without run_dir).
        tiny_state_dim: TinyEditor state width (without run_dir).
        tiny_max_words: TinyEditor token length (without run_dir).
        work_dir: where to export; None uses a temporary folder removed afterwards.
    """

    run_dir: str | None = None
    num_requests: int = 200
    warmup_requests: int = 10
    concurrency: tuple[int, ...] = (1, 8)
    image_side: int = 64
    tiny_image_size: int = 64
    tiny_state_dim: int = 128
    tiny_max_words: int = 16
    work_dir: str | None = None


def _percentiles(seconds: list[float]) -> tuple[float, float]:
    ms = np.asarray(seconds) * 1000.0
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def _inputs(image_side: int, state_dim: int) -> dict[str, np.ndarray]:
    from serving import contract

    rng = np.random.default_rng(0)
    return {
        contract.IMAGE_INPUT: rng.integers(0, 256, [1, image_side, image_side, 3], np.uint8),
        contract.TEXT_INPUT: np.array([b"has a higher heel and is red"], dtype=object),
        contract.STATE_INPUT: np.zeros([1, state_dim], np.float32),
    }


def _throughput(call, threads: int, total: int) -> float:
    per_thread = max(1, total // threads)
    errors: list[BaseException] = []

    def worker():
        try:
            for _ in range(per_thread):
                call()
        except BaseException as error:  # reported after join
            errors.append(error)

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    return per_thread * threads / elapsed


def main(
    argv: list[str] | ServingBenchmarkConfig | None = None,
    config: ServingBenchmarkConfig | None = None,
    **overrides,
) -> dict[str, float]:
    """Runs the benchmark and prints a table with the command line that produced it.

    Args:
        argv: ignored (accepted so a dispatcher may call `main(argv)`); a
            ServingBenchmarkConfig passed here is used as `config`.
        config: what to measure (defaults: ServingBenchmarkConfig()).
        **overrides: ServingBenchmarkConfig fields to override, e.g. run_dir="runs/x".

    Returns:
        Measured figures keyed by name (milliseconds and turns/s).
    """
    import tensorflow as tf
    from tqdm import tqdm

    from seqgan_tf.export import export_editor
    from serving import client, contract
    from serving.model_manager import register_custom_ops
    from serving.server import ModelServer, ServerConfig

    if isinstance(argv, ServingBenchmarkConfig) and config is None:
        config = argv
    config = dataclasses.replace(config or ServingBenchmarkConfig(), **overrides)
    if config.run_dir:
        from seqgan_tf.training.runs import load_editor

        editor = load_editor(config.run_dir)
        label = f"run {config.run_dir}"
    else:
        from seqgan_tf.export.tiny_editor import TinyEditor

        editor = TinyEditor(
            image_size=config.tiny_image_size,
            state_dim=config.tiny_state_dim,
            max_words=config.tiny_max_words,
        )
        label = (
            "UNTRAINED TinyEditor stand-in (no run_dir given; measures the serving path, "
            "not the real model)"
        )
    work_dir = config.work_dir or tempfile.mkdtemp(prefix="serving_benchmark_")
    results: dict[str, float] = {}
    server = None
    try:
        path = export_editor(editor, work_dir, "benchmark")
        register_custom_ops()
        loaded = tf.saved_model.load(path)
        edit_fn = loaded.signatures[contract.EDIT_SIGNATURE]
        state_dim = int(getattr(editor, "serving_state_dim", editor.state_dim))
        inputs = _inputs(config.image_side, state_dim)

        def in_process():
            outputs = edit_fn(**{k: tf.constant(v) for k, v in inputs.items()})
            return {k: v.numpy() for k, v in outputs.items()}

        server = ModelServer(
            ServerConfig("benchmark", os.path.dirname(path), port=0, poll_interval_s=0.2)
        )
        port = server.start()
        deadline = time.monotonic() + 120
        while not server.manager.available_versions():
            if time.monotonic() > deadline:
                raise TimeoutError("the benchmark server did not load the model in 120 s")
            time.sleep(0.1)
        channel = client.make_channel(f"127.0.0.1:{port}")

        def through_grpc():
            return client.predict(channel, "benchmark", contract.EDIT_SIGNATURE, inputs, 30.0)

        for name, call in (("in_process", in_process), ("grpc", through_grpc)):
            for _ in range(config.warmup_requests):
                call()
            latencies = []
            for _ in tqdm(range(config.num_requests), desc=f"latency {name}", leave=False):
                start = time.perf_counter()
                call()
                latencies.append(time.perf_counter() - start)
            results[f"{name}_p50_ms"], results[f"{name}_p99_ms"] = _percentiles(latencies)
            for threads in config.concurrency:
                results[f"{name}_turns_per_s_{threads}_clients"] = _throughput(
                    call, threads, config.num_requests
                )
        channel.close()
    finally:
        if server is not None:
            server.stop(1.0)
        if config.work_dir is None:
            shutil.rmtree(work_dir, ignore_errors=True)

    command = " ".join(shlex.quote(a) for a in sys.argv)
    print(f"Serving benchmark: {label}")
    print(
        f"edit signature, batch 1, {config.image_side}x{config.image_side} input image, "
        f"{config.num_requests} timed requests per cell, server in this process "
        f"({os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end)"
    )
    columns = ["path", "p50 ms", "p99 ms"] + [f"turns/s {t} clients" for t in config.concurrency]
    rows = [
        [name, f"{results[f'{name}_p50_ms']:.2f}", f"{results[f'{name}_p99_ms']:.2f}"]
        + [f"{results[f'{name}_turns_per_s_{t}_clients']:.1f}" for t in config.concurrency]
        for name in ("in_process", "grpc")
    ]
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]

    def line(cells):
        return (
            "| "
            + " | ".join(
                c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))
            )
            + " |"
        )

    print(line(columns))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print(line(row))
    print(f"command: {command}")
    return results


def define_flags() -> None:
    """Flags for `python scripts/benchmark.py --target=serving` (see the dispatcher)."""
    from absl import flags

    flags.DEFINE_string(
        "run_dir",
        None,
        "Trained run to export and serve (default: the untrained TinyEditor, labelled as such).",
    )
    flags.DEFINE_integer("num_requests", 200, "Timed requests per measurement.")


def main_with_flags(argv: list[str]) -> dict[str, float]:
    from absl import flags

    del argv
    return main(run_dir=flags.FLAGS.run_dir, num_requests=flags.FLAGS.num_requests)


if __name__ == "__main__":
    main()
