"""DAMSM matching loss (AttnGAN, used by the paper as eq. 6-8).

Word level: every word attends over image regions (gamma1), the word-context cosine similarities
are pooled over words (gamma2), and the pooled score is a logit (gamma3) in a softmax over the
images of the batch (and, symmetrically, over its texts). Sentence level: cosine of the sentence
and global image features in the same softmax. Padded samples (masked turns) take no part in
either softmax and get zero loss.
"""

from __future__ import annotations

import tensorflow as tf

from seqgan_tf.masked_scores import MASKED_SCORE


def _cosine(a: tf.Tensor, b: tf.Tensor, axis: int = -1) -> tf.Tensor:
    a = tf.math.l2_normalize(a, axis=axis, epsilon=1e-8)
    b = tf.math.l2_normalize(b, axis=axis, epsilon=1e-8)
    return tf.reduce_sum(a * b, axis=axis)


def word_level_scores(
    words: tf.Tensor, word_mask: tf.Tensor, regions: tf.Tensor, gamma1: float, gamma2: float
) -> tf.Tensor:
    """R(Q_i, D_j) for every text i and image j.

    Args:
      words: [N, L, D] word features; word_mask: [N, L] bool.
      regions: [M, h, w, D] image region features.
      gamma1, gamma2: attention sharpness and word pooling factor.

    Returns:
      [N, M] scores (before gamma3).
    """
    m = tf.shape(regions)[0]
    regions = tf.reshape(regions, [m, -1, tf.shape(regions)[-1]])  # [M, R, D]
    attn = tf.einsum("nld,mrd->nmlr", words, regions)
    wmask = tf.cast(word_mask, tf.bool)[:, None, :, None]
    # Normalise over words for each region (AttnGAN), then over regions with gamma1.
    attn = tf.where(wmask, attn, MASKED_SCORE)
    attn = tf.nn.softmax(attn, axis=2)
    attn = tf.nn.softmax(gamma1 * attn, axis=3)
    context = tf.einsum("nmlr,mrd->nmld", attn, regions)
    sim = _cosine(context, words[:, None, :, :])  # [N, M, L]
    sim = tf.where(tf.cast(word_mask, tf.bool)[:, None, :], tf.exp(gamma2 * sim), 0.0)
    return tf.math.log(tf.reduce_sum(sim, axis=2) + 1e-8) / gamma2


def sentence_level_scores(sentence: tf.Tensor, image_global: tf.Tensor) -> tf.Tensor:
    """Cosine similarity of every sentence i with every image j: [N, M]."""
    s = tf.math.l2_normalize(sentence, axis=-1, epsilon=1e-8)
    v = tf.math.l2_normalize(image_global, axis=-1, epsilon=1e-8)
    return tf.matmul(s, v, transpose_b=True)


def symmetric_matching_loss(scores: tf.Tensor, gamma3: float, sample_mask: tf.Tensor) -> tf.Tensor:
    """Per-sample -log P(D_i|Q_i) - log P(Q_i|D_i) over valid samples; zero for invalid ones.

    Args:
      scores: [N, N] similarity of text i with image j (matching pairs on the diagonal).
      gamma3: softmax smoothing factor.
      sample_mask: [N] 1.0 for valid samples.

    Returns:
      [N] per-sample loss.
    """
    valid = tf.cast(sample_mask, tf.bool)
    logits = gamma3 * scores
    col_ok = valid[None, :]
    t2i = tf.where(col_ok, logits, MASKED_SCORE)
    i2t = tf.where(col_ok, tf.transpose(logits), MASKED_SCORE)
    labels = tf.range(tf.shape(scores)[0])
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, t2i)
    loss += tf.nn.sparse_softmax_cross_entropy_with_logits(labels, i2t)
    return tf.where(valid, loss, 0.0)


def damsm_loss_per_sample(
    words, word_mask, sentence, regions, image_global, sample_mask, gamma1, gamma2, gamma3
) -> tuple[tf.Tensor, tf.Tensor]:
    """Returns (word-level loss [N], sentence-level loss [N]); text i matches image i."""
    w = word_level_scores(words, word_mask, regions, gamma1, gamma2)
    s = sentence_level_scores(sentence, image_global)
    return (
        symmetric_matching_loss(w, gamma3, sample_mask),
        symmetric_matching_loss(s, gamma3, sample_mask),
    )
