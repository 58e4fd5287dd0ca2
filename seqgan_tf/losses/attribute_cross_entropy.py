"""Cross-entropy of a design's attribute segments against value ids (the attribute terms)."""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow as tf


def segment_cross_entropy(logits: tf.Tensor, ids: tf.Tensor, sizes: Sequence[int]) -> tf.Tensor:
    """Per-attribute cross-entropy [..., K] of logits [..., sum(sizes)] against value ids
    [..., K] (-1, unknown, gives 0). Attribute k's logits are the k-th segment of `sizes`
    (the layout of models/attribute_slots)."""
    losses = []
    for k, s in enumerate(tf.split(logits, list(sizes), axis=-1)):
        target = ids[..., k]
        ce = tf.nn.sparse_softmax_cross_entropy_with_logits(tf.maximum(target, 0), s)
        losses.append(tf.where(target >= 0, ce, tf.zeros_like(ce)))
    return tf.stack(losses, axis=-1)
