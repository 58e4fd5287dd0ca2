"""Runs one benchmark: python scripts/benchmark.py --target=pipeline|training|serving [flags].

Each target is a module of benchmarks/ with `define_flags()` and
`main_with_flags(argv)`. Only the chosen target's flags are defined (the targets reuse names
such as --batch_size), so `--target` is read before absl parses the command line:
`python scripts/benchmark.py --target=pipeline --helpfull` lists the pipeline's flags.
"""

from __future__ import annotations

import os
import sys

# Before TensorFlow loads, as scripts/train.py does: time the kernels training runs with.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

from absl import app, flags  # noqa: E402

from benchmarks import pipeline, serving, training  # noqa: E402

TARGETS = {"pipeline": pipeline, "training": training, "serving": serving}

flags.DEFINE_enum("target", None, list(TARGETS), "What to benchmark.")
flags.mark_flag_as_required("target")
FLAGS = flags.FLAGS


def requested_target(argv: list[str]) -> str | None:
    """Finds --target=<name> (or --target <name>) in a command line before absl parses it."""
    for i, arg in enumerate(argv):
        if arg.startswith("--target="):
            return arg.split("=", 1)[1]
        if arg == "--target" and i + 1 < len(argv):
            return argv[i + 1]
    return None


def main(argv: list[str]) -> None:
    TARGETS[FLAGS.target].main_with_flags(argv)


def run() -> None:
    target = requested_target(sys.argv[1:])
    if target in TARGETS:  # an unknown name is refused by the enum flag
        TARGETS[target].define_flags()
    app.run(main)


if __name__ == "__main__":
    run()
