"""Per-sample GAN losses (non-saturating, eq. 4-5). Reduction over turns is the caller's."""

from __future__ import annotations

import tensorflow as tf


def real_loss(logits: tf.Tensor) -> tf.Tensor:
    """-log D(x): per-sample cross-entropy of logits against label 1."""
    return tf.nn.sigmoid_cross_entropy_with_logits(tf.ones_like(logits), logits)


def fake_loss(logits: tf.Tensor) -> tf.Tensor:
    """-log(1 - D(x)): per-sample cross-entropy of logits against label 0."""
    return tf.nn.sigmoid_cross_entropy_with_logits(tf.zeros_like(logits), logits)


def masked_sum_over_global_batch(per_sample: tf.Tensor, mask: tf.Tensor, global_batch) -> tf.Tensor:
    """Sums a per-(session, turn) loss over real turns and divides by the GLOBAL session count.

    Each replica divides by the global batch, and the optimizer sums gradients over replicas,
    so the update equals a single device's on the whole batch: the loss is summed over turns
    (as the paper does) and averaged over sessions.
    """
    return tf.reduce_sum(per_sample * mask) / tf.cast(global_batch, per_sample.dtype)
