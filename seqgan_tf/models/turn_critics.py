"""What the critics say of the drawn turns: D's logits (eq. 4-5) and the frozen DAMSM's matching
loss (eq. 6-8). SeqAttnGAN.training_outputs adds both to the unrolled turns for the loss."""

from __future__ import annotations

from typing import TYPE_CHECKING

import tensorflow as tf

from seqgan_tf.models.blocks import to_float32

if TYPE_CHECKING:
    from seqgan_tf.models.damsm import Damsm
    from seqgan_tf.models.discriminator import Discriminator


def judge(
    discriminator: Discriminator,
    real: tf.Tensor,
    fake: tf.Tensor,
    sentences: tf.Tensor,
    all_sentences: tf.Tensor,
    turn_mask: tf.Tensor,
    index: tf.Tensor,
    feature_match: bool = False,
) -> dict:
    """D's logits: real and fake images with their sentences, real with a mismatched one
    (the previous real turn's sentence of the same session; none for one-turn sessions).
    With feature_match, also "feature_match" [R]: pix2pixHD's feature matching, the L1 between
    D's feature maps of the drawn and the true image, averaged over the maps (the true maps
    held fixed)."""
    sentences = tf.stop_gradient(sentences)
    n_real = tf.cast(tf.reduce_sum(turn_mask, axis=1), tf.int64)  # [B]
    n = tf.gather(n_real, index[:, 0])
    wrong_turn = tf.math.floormod(index[:, 1] - 1, tf.maximum(n, 1))
    wrong = tf.stop_gradient(tf.gather_nd(all_sentences, tf.stack([index[:, 0], wrong_turn], 1)))
    d = discriminator
    real_maps, fake_maps = d.feature_maps(real), d.feature_maps(fake)
    real_features, fake_features = real_maps[-1], fake_maps[-1]
    real_u, real_c = d.heads(real_features, sentences)
    fake_u, fake_c = d.heads(fake_features, sentences)
    logits = {
        "real_u": real_u,
        "real_c": real_c,
        "fake_u": fake_u,
        "fake_c": fake_c,
        "wrong_c": d.conditional_logits(real_features, wrong),
        "wrong_weight": tf.cast(n > 1, tf.float32),
    }
    if feature_match:
        logits["feature_match"] = tf.add_n(
            [
                tf.reduce_mean(
                    tf.abs(tf.cast(f, tf.float32) - tf.stop_gradient(tf.cast(r, tf.float32))),
                    [1, 2, 3],
                )
                for r, f in zip(real_maps, fake_maps, strict=True)
            ]
        ) / len(real_maps)
    if d.attribute_sizes:  # AttGAN's classification constraint: the design read off both
        logits["attr_real"] = d.attribute_logits(real_features)
        logits["attr_fake"] = d.attribute_logits(fake_features)
    return to_float32(logits)


def damsm_matching(
    damsm: Damsm, fake: tf.Tensor, texts: tf.Tensor, weight: tf.Tensor, pool: int = 0
) -> tf.Tensor:
    """The frozen DAMSM's word + sentence matching loss per drawn turn [R] (eq. 6-8).
    pool > 0 scores the first `pool` drawn turns only (the cost grows with the pool's square);
    the others get 0."""
    if pool:
        n = tf.shape(fake)[0]
        scored = tf.minimum(n, pool)
        word, sentence = damsm.matching_loss(fake[:pool], texts[:pool], weight[:pool])
        return to_float32(tf.pad(word + sentence, [[0, n - scored]]))
    word, sentence = damsm.matching_loss(fake, texts, weight)
    return to_float32(word + sentence)
