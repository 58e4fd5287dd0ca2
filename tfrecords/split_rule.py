"""Which split a session belongs to, and which half of the test split: fixed rules, by hash.

Split: a session's split depends only on (seed, its key), never on the build's size or on the
other sessions. For the synthetic sets the key is the session index i, so session i of a
3,000-session build and of a 20,000-session build with the same seed land in the same split;
for raw folders the key is the session id. u = sha256("split/<seed>/<key>") read as a number in
[0, 1): train below 0.85, val below 0.90, test above (SPLIT_FRACTIONS).

Small builds: when a build of >= 3 sessions would leave val or test empty, the train sessions
with the highest u move there (one each). This is the only way the build's size enters, and it
only happens to builds of a few dozen sessions (an empty test split has probability 0.9**n).

Test slices: the test split is cut in two by the session id alone, u = sha256("test_slice/<id>"):
below 0.5 the `dev` slice (look at results while designing: epochs, thresholds, variants),
otherwise the `final` slice (only for the figures docs/results.md quotes). The slices never overlap,
cover the test split, and a session keeps its slice whatever the build's size.

No TensorFlow import.

Example:
    split_of_key(0, "17")                            # "train"
    slice_of("synth_zap_seq-0-0000017")         # "dev" or "final"
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

SPLITS = ("train", "val", "test")
SPLIT_FRACTIONS = {"train": 0.85, "val": 0.05, "test": 0.10}
SPLIT_RULE = "sha256(split/<seed>/<key>) 85/5/10"
TEST_SLICES = ("dev", "final")


def hash_unit(text: str) -> float:
    """sha256(text) as a number in [0, 1): the fixed rules by hash (splits, test slices, held-out
    designs) all read it."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big") / 2**64


def split_unit(seed: int, key: str) -> float:
    """The number in [0, 1) that places session `key` of a `seed` build in its split."""
    return hash_unit(f"split/{seed}/{key}")


def split_of_key(seed: int, key: str) -> str:
    """The split ("train", "val", "test") of session `key` in a build with `seed`."""
    u = split_unit(seed, key)
    if u < SPLIT_FRACTIONS["train"]:
        return "train"
    return "val" if u < SPLIT_FRACTIONS["train"] + SPLIT_FRACTIONS["val"] else "test"


def assign_splits(keys: Sequence[str], seed: int) -> tuple[list[str], dict[str, int]]:
    """The split of every session, by `split_of_key` (see the module docstring).

    Args:
      keys: one key per session in index order (synthetic: str(i); raw: the session id).
      seed: the build's seed.

    Returns:
      (split name per session, sessions per split).
    """
    units = [split_unit(seed, str(key)) for key in keys]
    assignment = [split_of_key(seed, str(key)) for key in keys]
    if len(keys) >= 3:
        for split in ("test", "val", "train"):
            if split not in assignment:
                donors = [i for i, s in enumerate(assignment) if s == "train"] or [
                    i for i, s in enumerate(assignment) if assignment.count(s) > 1
                ]
                pick = min if split == "train" else max
                assignment[pick(donors, key=lambda i: units[i])] = split
    sizes = {split: assignment.count(split) for split in SPLITS}
    return assignment, sizes


def slice_of(session_id: str) -> str:
    """The test slice ("dev" or "final") of a session, by its id alone."""
    return "dev" if hash_unit(f"test_slice/{session_id}") < 0.5 else "final"
