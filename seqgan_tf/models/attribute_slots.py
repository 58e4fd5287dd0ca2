"""Attribute slots: a design as one categorical value per schema attribute (beyond the paper).

A design with attributes of sizes (V_1, ..., V_K) is held as one vector of width sum(V_k): the
concatenated one-hot (or probability) segments, one per attribute. These helpers convert between
value ids [N, K] and that layout, and apply a per-segment softmax or argmax.
"""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow as tf


def ids_to_one_hot(ids: tf.Tensor, sizes: Sequence[int]) -> tf.Tensor:
    """int ids [..., K] (-1 = unknown: an all-zero segment) -> float32 [..., sum(sizes)]."""
    return tf.concat([tf.one_hot(ids[..., k], size) for k, size in enumerate(sizes)], axis=-1)


def split_segments(vector: tf.Tensor, sizes: Sequence[int]) -> list[tf.Tensor]:
    """[..., sum(sizes)] -> K tensors [..., V_k]."""
    return tf.split(vector, list(sizes), axis=-1)


def segment_softmax(logits: tf.Tensor, sizes: Sequence[int]) -> tf.Tensor:
    """Softmax within each attribute's segment of [..., sum(sizes)]."""
    return tf.concat([tf.nn.softmax(s, axis=-1) for s in split_segments(logits, sizes)], axis=-1)


def segment_argmax(vector: tf.Tensor, sizes: Sequence[int]) -> tf.Tensor:
    """int32 ids [..., K]: the largest entry of each segment."""
    return tf.stack(
        [tf.argmax(s, axis=-1, output_type=tf.int32) for s in split_segments(vector, sizes)],
        axis=-1,
    )


def segment_one_hot(vector: tf.Tensor, sizes: Sequence[int]) -> tf.Tensor:
    """One-hot of each segment's largest entry: a hard decision per attribute."""
    return ids_to_one_hot(segment_argmax(vector, sizes), sizes)


def expand_per_slot(per_slot: tf.Tensor, sizes: Sequence[int]) -> tf.Tensor:
    """[..., K] -> [..., sum(sizes)]: each attribute's value repeated over its segment."""
    return tf.repeat(per_slot, list(sizes), axis=-1)


def apply_changes(
    change_logits: tf.Tensor, value_logits: tf.Tensor, previous: tf.Tensor, sizes: Sequence[int]
) -> tf.Tensor:
    """The next design: each slot takes the value of value_logits where its change logit is
    positive, and keeps its previous value elsewhere (hard decisions)."""
    changed = expand_per_slot(tf.cast(change_logits > 0.0, tf.float32), sizes)
    return changed * segment_one_hot(value_logits, sizes) + (1.0 - changed) * previous


def design_probabilities(
    change_logits: tf.Tensor, value_logits: tf.Tensor, previous: tf.Tensor, sizes: Sequence[int]
) -> tf.Tensor:
    """The design `apply_changes` decides, as value probabilities [..., sum(sizes)].

    A slot whose change logit is positive holds the softmax of its value logits (how sure the
    editor is of the value the words asked for); any other slot keeps its previous segment (a
    one-hot: the value it held, probability 1). Each segment's largest entry is the value
    `apply_changes` puts in the state.

    Example:
        >>> design_probabilities([[1.0, -1.0]], [[0.0, 2.0, 5.0, 0.0]], [[1.0, 0.0, 1.0, 0.0]],
        ...                      [2, 2])  # slot 0 changes (to value 1, p 0.88), slot 1 keeps 0
    """
    changed = expand_per_slot(tf.cast(change_logits > 0.0, tf.float32), sizes)
    return changed * segment_softmax(value_logits, sizes) + (1.0 - changed) * previous
