"""Edit metrics from attribute ids read off generated images by the attribute classifier.

For each real turn t of each session the classifier's prediction for the generated image is
compared with the target image's attributes:

- edit accuracy: over attributes the description changed, the fraction showing the target value;
- preservation: over attributes it did not change (target == previous there), the fraction kept;
- exact match: the fraction of generated images whose attributes all equal the target's;
- ignored edits: over changed attributes, the fraction still showing the previous value;
- per-attribute F1 (macro over values) and accuracy;
- per asked-for value: of the edits asking an attribute for that value, the share read with it,
  and what the classifier reads instead on the others (which colours turn into which).

Every group (all turns, each turn, the last turn of each session, each phrase type) carries its
counts, so group figures can be recombined exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tfrecords.session import PHRASE_TYPES


def _counts(pred, target, prev, changed, valid_turns) -> dict[str, float]:
    """Counts and rates over the (n, t) cells selected by `valid_turns` [N, T] bool."""
    known = (target >= 0) & valid_turns[..., None]
    is_changed = changed > 0.5
    kept = ~is_changed & known
    changed = is_changed & known
    correct = pred == target
    exact = np.where(known, correct, True).all(axis=-1) & valid_turns
    out = {
        "num_images": int(valid_turns.sum()),
        "num_changed": int(changed.sum()),
        "num_unchanged": int(kept.sum()),
        "num_edit_correct": int((correct & changed).sum()),
        "num_preserved": int((correct & kept).sum()),
        "num_exact": int(exact.sum()),
        "num_ignored": int(((pred == prev) & changed).sum()),
    }
    out["edit_accuracy"] = _rate(out["num_edit_correct"], out["num_changed"])
    out["preservation"] = _rate(out["num_preserved"], out["num_unchanged"])
    out["exact_match"] = _rate(out["num_exact"], out["num_images"])
    out["ignored_edit_rate"] = _rate(out["num_ignored"], out["num_changed"])
    return out


def _rate(numerator: int, denominator: int) -> float | None:
    return float(numerator) / denominator if denominator else None


def macro_f1(pred: np.ndarray, target: np.ndarray, num_values: int) -> float | None:
    """Macro F1 over the values that occur in `target` or `pred` (1-D arrays of ids).

    Returns None if there is nothing to score.
    """
    scores = []
    for value in range(num_values):
        tp = int(((pred == value) & (target == value)).sum())
        fp = int(((pred == value) & (target != value)).sum())
        fn = int(((pred != value) & (target == value)).sum())
        if tp + fp + fn == 0:
            continue
        scores.append(2.0 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores)) if scores else None


def compute_edit_metrics(
    predicted_ids: np.ndarray,
    target_ids: np.ndarray,
    previous_ids: np.ndarray,
    changed_mask: np.ndarray,
    turn_mask: np.ndarray,
    phrase_type_id: np.ndarray,
    attribute_names: Sequence[str],
    num_values: Sequence[int],
    phrase_types: Sequence[str] = PHRASE_TYPES,
) -> dict:
    """Edit accuracy, preservation, exact match and per-attribute F1 of generated images.

    Args:
      predicted_ids: int [N, T, A] classifier reading of the generated image of each turn.
      target_ids: int [N, T, A] ground-truth attributes of the turn's target image
        (attribute_ids[:, 1:] of the batch); -1 = unknown, excluded.
      previous_ids: int [N, T, A] attributes of the turn's input image (attribute_ids[:, :-1]).
      changed_mask: float [N, T, A], 1.0 where the turn's description changed the attribute.
      turn_mask: float [N, T], 1.0 for real turns; padded turns are excluded everywhere.
      phrase_type_id: int [N, T] index into `phrase_types`, -1 unknown.
      attribute_names: the A schema attribute names.
      num_values: number of values of each attribute.
      phrase_types: names of the phrase-type ids.

    Returns:
      {"overall": group, "per_turn": {"1": group, ...}, "last_turn": group,
       "per_phrase_type": {"single": group, ...}, "per_attribute": {name: {"f1", "accuracy",
       "edit_accuracy", "preservation", "per_asked_value"}}}; a group holds counts and the
      rates edit_accuracy, preservation, exact_match, ignored_edit_rate (None where the count
      is 0); per_asked_value is {value id (str): {"num_asked", "num_correct", "edit_accuracy",
      "read_instead": {value id (str): count}}} over the changed attribute's edits.

    Raises:
      ValueError: on inconsistent shapes.
    """
    pred = np.asarray(predicted_ids)
    target = np.asarray(target_ids)
    prev = np.asarray(previous_ids)
    changed = np.asarray(changed_mask, np.float32)
    turns = np.asarray(turn_mask) > 0.5
    phrase = np.asarray(phrase_type_id)
    if not (pred.shape == target.shape == prev.shape == changed.shape) or pred.ndim != 3:
        raise ValueError(
            "compute_edit_metrics: predicted/target/previous/changed must share shape [N, T, A]; "
            f"got {pred.shape}, {target.shape}, {prev.shape}, {changed.shape}"
        )
    if turns.shape != pred.shape[:2] or phrase.shape != pred.shape[:2]:
        raise ValueError(
            f"compute_edit_metrics: turn_mask {turns.shape} / phrase_type_id {phrase.shape} "
            f"must be {pred.shape[:2]}"
        )
    if len(attribute_names) != pred.shape[2] or len(num_values) != pred.shape[2]:
        raise ValueError(
            f"compute_edit_metrics: {len(attribute_names)} names / {len(num_values)} value counts "
            f"for {pred.shape[2]} attributes"
        )
    args = (pred, target, prev, changed)
    result = {"overall": _counts(*args, turns)}
    result["per_turn"] = {
        str(t + 1): _counts(*args, turns & (np.arange(turns.shape[1]) == t)[None, :])
        for t in range(turns.shape[1])
        if turns[:, t].any()
    }
    num_turns = turns.sum(axis=1)
    last = (np.arange(turns.shape[1])[None, :] == (num_turns - 1)[:, None]) & turns
    result["last_turn"] = _counts(*args, last)
    result["per_phrase_type"] = {
        name: _counts(*args, turns & (phrase == i)) for i, name in enumerate(phrase_types)
    }
    if (turns & (phrase < 0)).any():
        result["per_phrase_type"]["unknown"] = _counts(*args, turns & (phrase < 0))

    per_attribute = {}
    for a, name in enumerate(attribute_names):
        sel = turns & (target[..., a] >= 0)
        p, g = pred[..., a][sel], target[..., a][sel]
        ch = (changed[..., a] > 0.5)[sel]
        per_attribute[name] = {
            "f1": macro_f1(p, g, int(num_values[a])),
            "accuracy": _rate(int((p == g).sum()), int(sel.sum())),
            "edit_accuracy": _rate(int((p == g)[ch].sum()), int(ch.sum())),
            "preservation": _rate(int((p == g)[~ch].sum()), int((~ch).sum())),
            "per_asked_value": _per_asked_value(p[ch], g[ch]),
        }
    result["per_attribute"] = per_attribute
    return result


def _per_asked_value(pred: np.ndarray, asked: np.ndarray) -> dict[str, dict]:
    """For each value the edits ask for (1-D ids of the changed cells): how many asked, how many
    were read with it, and the values read instead, most frequent first."""
    out = {}
    for value in np.unique(asked):
        read = pred[asked == value]
        wrong = read[read != value]
        instead, counts = np.unique(wrong, return_counts=True)
        order = np.argsort(-counts, kind="stable")
        out[str(int(value))] = {
            "num_asked": int(len(read)),
            "num_correct": int(len(read) - len(wrong)),
            "edit_accuracy": _rate(int(len(read) - len(wrong)), int(len(read))),
            "read_instead": {str(int(instead[i])): int(counts[i]) for i in order},
        }
    return out
