"""Input-pipeline throughput: training sessions per second out of `make_dataset`.

    python scripts/benchmark.py --target=pipeline

Builds (or reuses) a synth_zap_seq build of --num_sessions sessions under --data_dir (default:
a fixed folder in the temp dir, so later runs reuse it), then times --num_batches training
batches of --batch_size sessions after --warmup_batches, and prints sessions/s with the command
line that produced it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from absl import flags

from seqgan_tf.data.input_pipeline import load_dataset_info, make_dataset
from tfrecords import builders
from tfrecords.build.request import BuildRequest
from tfrecords.datasets import DEFAULT_DATASET

FLAGS = flags.FLAGS
DATASET = DEFAULT_DATASET


def define_flags() -> None:
    """Defines the pipeline benchmark's flags (called once by scripts/benchmark.py)."""
    flags.DEFINE_string(
        "data_dir",
        os.path.join(tempfile.gettempdir(), "seqgan_tf_benchmark_data"),
        "Where the synth_zap_seq benchmark build lives (reused when its parameters match).",
    )
    flags.DEFINE_integer("num_sessions", 2000, "Sessions in the benchmark build.")
    flags.DEFINE_integer("seed", 0, "Build seed.")
    flags.DEFINE_integer("batch_size", 50, "Global batch size (the paper's 50).")
    flags.DEFINE_integer("image_size", 64, "Image side.")
    flags.DEFINE_integer("max_turns", 4, "Padded turns per session.")
    flags.DEFINE_integer("warmup_batches", 5, "Batches read before timing.")
    flags.DEFINE_integer("num_batches", 100, "Timed batches.")
    flags.DEFINE_string("output_json", None, "Also write the result to this JSON file.")


def ensure_build(data_dir: str, num_sessions: int, seed: int, image_size: int) -> bool:
    """Builds the benchmark dataset unless a matching complete build exists; True if built.

    `data_dir` is the benchmark's own folder: a build there with other parameters is replaced.
    """
    request = BuildRequest(
        DATASET, data_dir, num_sessions=num_sessions, seed=seed, image_size=image_size
    )
    try:
        _, built = builders.build(request)
    except ValueError:  # a complete build with other parameters (builders.build names them)
        _, built = builders.build(dataclasses.replace(request, overwrite=True))
    return built


def measure(
    data_dir: str,
    batch_size: int,
    image_size: int,
    max_turns: int,
    warmup_batches: int,
    num_batches: int,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, Any]:
    """Times the training pipeline of the benchmark build: `num_batches` batches read after
    `warmup_batches` untimed ones (`clock` is read just before and just after them).

    Returns:
      {"sessions_per_second", "batches_per_second", "seconds", ...}.
    """
    ds = make_dataset(
        data_dir,
        DATASET,
        "train",
        batch_size,
        is_training=True,
        max_turns=max_turns,
        image_size=image_size,
    )
    iterator = iter(ds)
    for _ in range(warmup_batches):
        next(iterator)
    start = clock()
    for _ in range(num_batches):
        batch = next(iterator)
    seconds = clock() - start
    assert batch["images"].shape[0] == batch_size
    return {
        "sessions_per_second": round(num_batches * batch_size / seconds, 1),
        "batches_per_second": round(num_batches / seconds, 3),
        "seconds": round(seconds, 3),
        "batch_size": batch_size,
        "num_batches": num_batches,
        "warmup_batches": warmup_batches,
        "image_size": image_size,
        "max_turns": max_turns,
        "cpu_count": os.cpu_count(),
    }


def main_with_flags(argv: list[str]) -> None:
    """Runs the benchmark with the parsed flags and prints the figure and its command."""
    del argv
    built = ensure_build(FLAGS.data_dir, FLAGS.num_sessions, FLAGS.seed, FLAGS.image_size)
    info = load_dataset_info(FLAGS.data_dir, DATASET)
    result = measure(
        FLAGS.data_dir,
        FLAGS.batch_size,
        FLAGS.image_size,
        FLAGS.max_turns,
        FLAGS.warmup_batches,
        FLAGS.num_batches,
    )
    command = " ".join(["python", "scripts/benchmark.py", *sys.argv[1:]])
    result.update(
        dataset=DATASET,
        train_sessions=info["split_sizes"]["train"],
        train_shards=info["splits"]["train"]["num_shards"],
        build=("built now" if built else "reused") + f" at {info['build_dir']}",
        command=command,
    )
    print(
        f"pipeline: {result['sessions_per_second']} sessions/s "
        f"({result['batches_per_second']} batches/s of {result['batch_size']}, "
        f"{DATASET} train: {result['train_sessions']} sessions in {result['train_shards']} shards, "
        f"{result['image_size']}x{result['image_size']}, max_turns={result['max_turns']}, "
        f"{result['num_batches']} batches after {result['warmup_batches']} warm-up, "
        f"{result['cpu_count']} CPUs; build {result['build']})"
    )
    print(f"command: {command}")
    if FLAGS.output_json:
        with open(FLAGS.output_json, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)
