"""Runs one benchmark: python scripts/benchmark.py --target=pipeline|training|serving [flags].

The target's module `seqgan_tf.benchmarks.<target>` is imported lazily, so its flags exist only
when it is chosen (`python scripts/benchmark.py --target=pipeline --helpfull` lists them).
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

from absl import app, flags

from seqgan_tf.benchmarks import TARGETS

flags.DEFINE_enum("target", None, list(TARGETS), "What to benchmark.")
flags.mark_flag_as_required("target")
FLAGS = flags.FLAGS


class MissingBenchmarkError(RuntimeError):
    """The chosen benchmark target has no module (yet)."""


def requested_target(argv: list[str]) -> str | None:
    """Finds --target=<name> (or --target <name>) in a command line before absl parses it."""
    for i, arg in enumerate(argv):
        if arg.startswith("--target="):
            return arg.split("=", 1)[1]
        if arg == "--target" and i + 1 < len(argv):
            return argv[i + 1]
    return None


def load_target(target: str) -> ModuleType:
    """Imports `seqgan_tf.benchmarks.<target>`.

    Raises:
      ValueError: unknown target.
      MissingBenchmarkError: the target's module does not exist.
    """
    if target not in TARGETS:
        raise ValueError(f"unknown benchmark target {target!r}; expected one of {TARGETS}")
    name = f"seqgan_tf.benchmarks.{target}"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name != name:
            raise  # The module exists but one of its imports is missing: show that error.
        raise MissingBenchmarkError(
            f"benchmark target {target!r} is not available: module {name} "
            f"(seqgan_tf/benchmarks/{target}.py) does not exist. Available: "
            f"{', '.join(available_targets()) or 'none'}"
        ) from e
    if entry_point(module) is None:
        raise MissingBenchmarkError(f"{name} has no main_with_flags(argv) (or main(argv)) function")
    return module


def entry_point(module: ModuleType):
    """The target's `main_with_flags(argv)`, else its `main(argv)`, else None."""
    return getattr(module, "main_with_flags", None) or getattr(module, "main", None)


def available_targets() -> list[str]:
    """The targets whose module exists."""
    import importlib.util

    return [t for t in TARGETS if importlib.util.find_spec(f"seqgan_tf.benchmarks.{t}")]


_MODULE: ModuleType | None = None


def main(argv: list[str]) -> None:
    module = _MODULE if _MODULE is not None else load_target(FLAGS.target)
    entry_point(module)(argv)


def run() -> None:
    global _MODULE
    target = requested_target(sys.argv[1:])
    if target is not None:
        try:
            _MODULE = load_target(target)
        except (ValueError, MissingBenchmarkError) as e:
            print(f"benchmark: error: {e}", file=sys.stderr)
            sys.exit(2)
        if hasattr(_MODULE, "define_flags"):
            _MODULE.define_flags()
    app.run(main)


if __name__ == "__main__":
    run()
