"""Which build an evaluation judges, and whether its classifier and runs were made from it.

`scripts/evaluate.py` refuses a classifier or a trained run whose recorded build fingerprint
(`<folder>/data_build.json`, tfrecords/build_fingerprint.py) differs from the build it
evaluates, or that records none (made before fingerprints existed), unless
--allow_other_build; the report then lists every mismatch.

Example:
    notes = check_builds(data_fp, {"classifier runs/clf": clf_fp, "run a": run_fp}, allow=False)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tfrecords.build_fingerprint import describe, same_build

ALLOW_FLAG = "--allow_other_build"


class BuildMismatchError(ValueError):
    """A classifier or run was made from another build than the one being evaluated."""


def check_builds(
    data: Mapping[str, Any],
    recorded: Mapping[str, Mapping[str, Any] | None],
    allow_other_build: bool = False,
) -> list[str]:
    """Compares each folder's recorded build with the evaluated one.

    Args:
      data: the fingerprint of the build being evaluated.
      recorded: label (e.g. "classifier runs/attr_clf") -> its recorded fingerprint, or None.
      allow_other_build: accept mismatches (they are returned as notes for the report).

    Returns:
      One note per mismatch ([] when every folder was made from `data`).

    Raises:
      BuildMismatchError: on a mismatch without `allow_other_build`, naming both fingerprints
        (or saying that none was recorded) and how to proceed.
    """
    notes = []
    for label, fingerprint in recorded.items():
        if same_build(data, fingerprint):
            continue
        if fingerprint is None:
            notes.append(
                f"{label} records no build (made before builds were fingerprinted); "
                f"evaluated build: {describe(data)}"
            )
        else:
            notes.append(
                f"{label} was made from build {describe(fingerprint)}; "
                f"evaluated build: {describe(data)}"
            )
    if notes and not allow_other_build:
        raise BuildMismatchError(
            "\n".join(notes)
            + f"\nretrain on the evaluated build, evaluate the build it was made from, or pass "
            f"{ALLOW_FLAG} to evaluate anyway (the report then says so)"
        )
    return notes
