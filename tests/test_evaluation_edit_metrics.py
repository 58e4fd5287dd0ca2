"""Edit metrics on hand-made attribute arrays."""

import numpy as np
import pytest

from seqgan_tf.evaluation.edit_metrics import compute_edit_metrics, macro_f1

NAMES = ["color", "heel", "toe"]
NUM_VALUES = [5, 3, 4]


def _sessions(seed=0, n=40, turns=4):
    """Random sessions: each turn changes 1-2 attributes; some sessions are padded."""
    rng = np.random.default_rng(seed)
    ids = np.zeros((n, turns + 1, 3), np.int32)
    changed = np.zeros((n, turns, 3), np.float32)
    ids[:, 0] = rng.integers(0, NUM_VALUES, size=(n, 3))
    for t in range(turns):
        ids[:, t + 1] = ids[:, t]
        for i in range(n):
            for a in rng.choice(3, size=rng.integers(1, 3), replace=False):
                ids[i, t + 1, a] = (ids[i, t, a] + rng.integers(1, NUM_VALUES[a])) % NUM_VALUES[a]
                changed[i, t, a] = 1.0
    num_turns = rng.integers(2, turns + 1, size=n)
    turn_mask = (np.arange(turns)[None] < num_turns[:, None]).astype(np.float32)
    phrase = rng.integers(0, 3, size=(n, turns)).astype(np.int32)
    # Padded turns carry garbage that must be ignored.
    phrase[turn_mask == 0] = -1
    ids[:, 1:][turn_mask == 0] = -1
    return ids, changed, turn_mask, phrase


def _metrics(pred, ids, changed, turn_mask, phrase):
    return compute_edit_metrics(
        pred, ids[:, 1:], ids[:, :-1], changed, turn_mask, phrase, NAMES, NUM_VALUES
    )


def test_ground_truth_is_perfect():
    ids, changed, turn_mask, phrase = _sessions()
    m = _metrics(ids[:, 1:], ids, changed, turn_mask, phrase)
    for group in [m["overall"], m["last_turn"], *m["per_turn"].values()]:
        assert group["edit_accuracy"] == 1.0
        assert group["preservation"] == 1.0
        assert group["exact_match"] == 1.0
    assert all(v["f1"] == 1.0 for v in m["per_attribute"].values())


def test_copy_baseline_preserves_but_never_edits():
    ids, changed, turn_mask, phrase = _sessions()
    m = _metrics(ids[:, :-1], ids, changed, turn_mask, phrase)
    assert m["overall"]["edit_accuracy"] == 0.0
    assert m["overall"]["preservation"] == 1.0
    assert m["overall"]["exact_match"] == 0.0
    assert m["overall"]["ignored_edit_rate"] == 1.0


def test_phrase_type_split_sums_to_overall():
    ids, changed, turn_mask, phrase = _sessions(seed=3)
    pred = ids[:, 1:].copy()
    rng = np.random.default_rng(0)
    flip = rng.random(pred.shape) < 0.3
    pred[flip] = 0
    m = _metrics(pred, ids, changed, turn_mask, phrase)
    groups = m["per_phrase_type"].values()
    for key in ("num_images", "num_changed", "num_edit_correct", "num_preserved", "num_exact"):
        assert sum(g[key] for g in groups) == m["overall"][key]
        assert sum(g[key] for g in m["per_turn"].values()) == m["overall"][key]
    weighted = sum(g["edit_accuracy"] * g["num_changed"] for g in groups)
    assert weighted / m["overall"]["num_changed"] == pytest.approx(m["overall"]["edit_accuracy"])
    assert 0.0 < m["overall"]["edit_accuracy"] < 1.0


def test_padded_turns_are_excluded():
    ids, changed, turn_mask, phrase = _sessions(seed=1)
    pred = ids[:, 1:].copy()
    pred[turn_mask == 0] = 0  # wrong values in padded turns must not count
    m = _metrics(pred, ids, changed, turn_mask, phrase)
    assert m["overall"]["exact_match"] == 1.0
    assert m["overall"]["num_images"] == int(turn_mask.sum())
    assert m["last_turn"]["num_images"] == ids.shape[0]


def test_macro_f1():
    assert macro_f1(np.array([0, 1, 2]), np.array([0, 1, 2]), 3) == 1.0
    # value 0: tp1 fp1 fn0 -> 2/3; value 1: tp0 fp0 fn1 -> 0
    assert macro_f1(np.array([0, 0]), np.array([0, 1]), 2) == pytest.approx((2 / 3 + 0) / 2)


def test_shape_errors():
    ids, changed, turn_mask, phrase = _sessions()
    with pytest.raises(ValueError, match="share shape"):
        _metrics(ids[:, 1:, :2], ids, changed, turn_mask, phrase)


def test_per_asked_value_says_what_is_read_instead():
    # One attribute, 5 sessions of 1 turn: four ask for value 2, one for value 1 (kept: 0 -> 0
    # is no edit). The "model" draws 2 twice, 3 once and 4 once when asked for 2.
    prev = np.array([[[0]], [[0]], [[0]], [[0]], [[0]]])
    target = np.array([[[2]], [[2]], [[2]], [[2]], [[1]]])
    pred = np.array([[[2]], [[2]], [[3]], [[4]], [[1]]])
    changed = np.ones((5, 1, 1), np.float32)
    m = compute_edit_metrics(
        pred, target, prev, changed, np.ones((5, 1)), np.zeros((5, 1), np.int32), ["c"], [5]
    )
    per = m["per_attribute"]["c"]["per_asked_value"]
    assert per["2"] == {
        "num_asked": 4,
        "num_correct": 2,
        "edit_accuracy": 0.5,
        "read_instead": {"3": 1, "4": 1},
    }
    assert per["1"]["edit_accuracy"] == 1.0 and per["1"]["read_instead"] == {}
    # Unchanged attributes are no asked-for value.
    m = compute_edit_metrics(
        pred,
        target,
        prev,
        np.zeros_like(changed),
        np.ones((5, 1)),
        np.zeros((5, 1), np.int32),
        ["c"],
        [5],
    )
    assert m["per_attribute"]["c"]["per_asked_value"] == {}
