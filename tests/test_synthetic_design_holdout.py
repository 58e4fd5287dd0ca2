"""Designs that never occur in training (tfrecords/design_holdout.py): the rule, the planner that
keeps train and val sessions off the held-out designs, and what builds record of it."""

import hashlib
import itertools
import json

import pytest

from tfrecords import design_holdout
from tfrecords.build_fingerprint import make_fingerprint
from tfrecords.design_holdout import HOLDOUT_RULE, HOLDOUT_SHARE, holdout_unit, is_held_out
from tfrecords.split_rule import SPLIT_RULE, assign_splits, split_of_key
from tfrecords.synthetic import (
    SYNTHETIC_DATASETS,
    attribute_schema,
    generate_sessions,
    generator_version,
    plan_session,
)
from tfrecords.synthetic_builder import synthetic_build_params

NUM_PLANS = 2000


def _designs(name):
    schema = attribute_schema(name)
    return [dict(zip(schema, values)) for values in itertools.product(*schema.values())]


def test_the_rule_is_fixed_and_depends_on_the_seed():
    designs = _designs("photo_zap_seq")
    held = [is_held_out(0, d) for d in designs]
    assert held == [is_held_out(0, d) for d in designs]
    assert held != [is_held_out(1, d) for d in designs]
    # The rule as written: sha256 of the design in schema order, as a number in [0, 1).
    design = designs[1234]
    assert list(design) == list(attribute_schema("photo_zap_seq"))
    text = "design_holdout/0/" + ";".join(f"{k}={v}" for k, v in design.items())
    u = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") / 2**64
    assert holdout_unit(0, design) == u and is_held_out(0, design) == (u < HOLDOUT_SHARE)
    assert HOLDOUT_RULE.startswith("sha256(design_holdout/<seed>/")
    assert str(HOLDOUT_SHARE) in HOLDOUT_RULE


@pytest.mark.parametrize("name", SYNTHETIC_DATASETS)
def test_the_held_out_share_of_the_design_space_is_near_holdout_share(name):
    designs = _designs(name)  # 6,240 (photo shoes) to 168,480 (flat shoes)
    for seed in (0, 1):
        share = sum(is_held_out(seed, d) for d in designs) / len(designs)
        assert abs(share - HOLDOUT_SHARE) < 0.01, (seed, share)


@pytest.mark.parametrize("name", SYNTHETIC_DATASETS)
def test_train_and_val_plans_never_show_a_held_out_design_and_test_plans_do(name):
    test_targets = held_targets = 0
    for index in range(NUM_PLANS):
        plan = plan_session(name, 0, index)
        if split_of_key(0, str(index)) != "test":
            assert not any(is_held_out(0, state) for state in plan.states), index
        else:
            test_targets += len(plan.states) - 1
            held_targets += sum(is_held_out(0, state) for state in plan.states[1:])
    # About 200 test sessions, 600 turns: some target a held-out design, at about the share.
    assert held_targets >= 5
    assert 0.01 < held_targets / test_targets < 0.1


def test_the_rule_changes_only_train_and_val_sessions_that_would_show_a_held_out_design(
    monkeypatch,
):
    name = "photo_zap_seq"
    planned = [plan_session(name, 0, i) for i in range(300)]
    monkeypatch.setattr(design_holdout, "HOLDOUT_SHARE", 0.0)  # nothing held out: free draws
    free = [plan_session(name, 0, i) for i in range(300)]
    redrawn = 0
    for index, (a, b) in enumerate(zip(planned, free)):
        would_show = any(holdout_unit(0, s) < HOLDOUT_SHARE for s in b.states)
        if split_of_key(0, str(index)) == "test" or not would_show:
            assert a == b, index  # same draws, same plan (test sessions as before the rule)
        else:
            redrawn += 1
            assert a.layout_seed == b.layout_seed and len(a.states) == len(b.states)
            assert a != b
    assert 20 < redrawn < 80  # about 15% of the train/val sessions


def test_a_session_s_plan_does_not_depend_on_the_build_size():
    name = "synth_zap_seq"
    # A build of 8 sessions moves session 6 (train by its hash) into its empty test split; its
    # plan stays the train plan (so a tiny build's test split may hold no held-out design).
    assignment, _ = assign_splits([str(i) for i in range(8)], 0)
    assert split_of_key(0, "6") == "train" and assignment[6] == "test"
    plans = [plan_session(name, 0, i) for i in range(40)]
    for n in (8, 40):
        sessions = list(generate_sessions(name, n, 0, image_size=8))
        for session, plan in zip(sessions, plans):
            assert session.descriptions == plan.descriptions
            assert session.attributes == [[f"{k}={v}" for k, v in s.items()] for s in plan.states]
    tail = list(generate_sessions(name, 2, 0, image_size=8, start=5))
    assert [s.descriptions for s in tail] == [p.descriptions for p in plans[5:7]]


def test_a_draw_that_keeps_landing_on_held_out_designs_is_an_error(monkeypatch):
    monkeypatch.setattr(design_holdout, "HOLDOUT_SHARE", 1.0)  # every design held out
    train = next(i for i in range(100) if split_of_key(0, str(i)) == "train")
    test = next(i for i in range(100) if split_of_key(0, str(i)) == "test")
    with pytest.raises(RuntimeError, match=rf"session {train}, start design: 200 draws"):
        plan_session("photo_zap_seq", 0, train)
    assert len(plan_session("photo_zap_seq", 0, test).states) >= 3


def test_builds_record_the_rule_and_older_builds_keep_their_fingerprint(tmp_path):
    params = synthetic_build_params("photo_zap_seq", 100, 0, 64, None)
    assert params["generator_version"] == generator_version("photo_zap_seq") == "photo-1.4.0"
    assert params["split_rule"] == SPLIT_RULE and params["design_holdout"] == HOLDOUT_RULE
    assert generator_version("synth_zap_seq") == "1.3.0"
    # Another generator (a test's generate_fn) records no held-out rule.
    assert "design_holdout" not in synthetic_build_params("photo_zap_seq", 100, 0, 64, None, "x")

    # An older build (no rule recorded) keeps the fingerprint it always had.
    old = {
        "name": "photo_zap_seq",
        "version": "1.0.0",
        "splits": {},
        "split_sizes": {"train": 85, "val": 5, "test": 10},
        "build_params": {"seed": 0, "generator_version": "photo-1.2.0"},
    }
    fields = {
        "name": "photo_zap_seq",
        "version": "1.0.0",
        "seed": 0,
        "num_sessions": 100,
        "split_sizes": {"test": 10, "train": 85, "val": 5},
        "shards_sha256": hashlib.sha256().hexdigest(),  # no shard files
    }
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    expected_id = hashlib.sha256(canonical.encode()).hexdigest()[:16]
    assert make_fingerprint(old, str(tmp_path)) == {"id": expected_id, **fields}
    # A build with the rule carries it in its fingerprint, whose id then differs.
    new = {**old, "build_params": {**old["build_params"], "design_holdout": HOLDOUT_RULE}}
    fingerprint = make_fingerprint(new, str(tmp_path))
    assert fingerprint["design_holdout"] == HOLDOUT_RULE and fingerprint["id"] != expected_id
