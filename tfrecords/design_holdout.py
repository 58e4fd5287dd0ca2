"""Which designs never occur in training: a fixed rule, by hash.

A design is a full attribute combination (one value per attribute). Design d of a `seed` build
is held out when u = sha256("design_holdout/<seed>/<attr=value;...>"), the attributes in
schema order, read as a number in [0, 1), is below HOLDOUT_SHARE. The synthetic planner
(`tfrecords.synthetic.sessions.plan_session`) never puts a held-out design in a train or val
session (split by `tfrecords.split_rule.split_of_key`); test sessions draw freely, so some of
their turns target a design no training image shows (the evaluation's "unseen designs"). Raw
folders and downloads are not touched by the rule.

No TensorFlow import.

Example:
    is_held_out(0, {"category": "boot", "colour": "red", "heel": "low", ...})  # False or True
"""

from __future__ import annotations

from collections.abc import Mapping

from tfrecords.split_rule import hash_unit

# About 4% of the designs (247 of the 6,240 photo_zap_seq shoe designs for seed 0), so about 4%
# of the test turns target one: 215 of the 6,001 test turns of a 20,000-session photo_zap_seq
# build, 114 of them in its dev slice (155 edited attributes there), enough to read an edit
# accuracy near 0.85 on those turns to about +-0.06 in one slice and +-0.04 over the split (two
# standard errors), while training loses only 1 design in 25 and about 15% of train sessions
# need a redraw. A larger share would take more of the design space away from
# training and move the train walks further from the unconstrained ones; a smaller one would
# leave a slice with too few turns to read.
HOLDOUT_SHARE = 0.04
HOLDOUT_RULE = f"sha256(design_holdout/<seed>/<attr=value;...>) < {HOLDOUT_SHARE} only in test"


def design_key(design: Mapping[str, str]) -> str:
    """The design as "attr=value;attr=value;...", in the mapping's order (the generator's dicts
    follow the schema, so the caller's dict must too)."""
    return ";".join(f"{attribute}={value}" for attribute, value in design.items())


def holdout_unit(seed: int, design: Mapping[str, str]) -> float:
    """The number in [0, 1) that decides whether `design` is held out in a `seed` build."""
    return hash_unit(f"design_holdout/{seed}/{design_key(design)}")


def is_held_out(seed: int, design: Mapping[str, str]) -> bool:
    """Whether `design` (attribute -> value, in schema order) is kept out of train and val."""
    return holdout_unit(seed, design) < HOLDOUT_SHARE
