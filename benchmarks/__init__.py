"""Benchmarks run by `python scripts/benchmark.py --target=<name>`.

Each target is a module `benchmarks.<name>` (pipeline, training, serving) with:

- `define_flags() -> None`: defines the target's absl flags; scripts/benchmark.py calls it
  once, before parsing the command line, so only the chosen target's flags exist.
- `main_with_flags(argv: list[str]) -> None`: runs the benchmark with the parsed flags and
  prints its figures together with the exact command line that reproduces them.
"""
