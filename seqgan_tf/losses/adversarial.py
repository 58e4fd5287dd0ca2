"""Per-sample GAN losses (non-saturating, eq. 4-5). Reduction over turns is the caller's."""

from __future__ import annotations

import tensorflow as tf


def real_loss(logits: tf.Tensor) -> tf.Tensor:
    """-log D(x): per-sample cross-entropy of logits against label 1."""
    return tf.nn.sigmoid_cross_entropy_with_logits(tf.ones_like(logits), logits)


def fake_loss(logits: tf.Tensor) -> tf.Tensor:
    """-log(1 - D(x)): per-sample cross-entropy of logits against label 0."""
    return tf.nn.sigmoid_cross_entropy_with_logits(tf.zeros_like(logits), logits)
