"""The training step's random draws, each from (session, step, turn): any replica layout draws
the same, and a step can be replayed.

Every draw is stateless, seeded by the session's hash and `step * 64 + offset`, one offset per
stream: the noise eps_t (turn), own-output turns (16 + turn), skipped turns (32 + turn), word
dropout (48) and terse turns (56).
"""

from __future__ import annotations

import tensorflow as tf

from seqgan_tf.text.text_tokenizer import OOV_ID, PAD_ID


def _turn_seeds(session_hash: tf.Tensor, real: tf.Tensor, step, offset: int) -> tf.Tensor:
    """[R, 2] seeds of the turns `real` ([R, 2] session, turn) for one stream."""
    hashes = tf.gather(session_hash, real[:, 0])
    return tf.stack([hashes, tf.cast(step, tf.int64) * 64 + real[:, 1] + offset], axis=1)


def _uniform_per_turn(seeds: tf.Tensor) -> tf.Tensor:
    return tf.map_fn(
        lambda seed: tf.random.stateless_uniform([], seed=seed),
        seeds,
        fn_output_signature=tf.float32,
    )


def _uniform_per_session(
    session_hash: tf.Tensor, step: tf.Tensor | int, offset: int, shape: tf.Tensor
) -> tf.Tensor:
    """[B, *shape] uniform draws, each session's from (its hash, step * 64 + offset)."""
    seeds = tf.stack(
        [session_hash, tf.fill(tf.shape(session_hash), tf.cast(step, tf.int64) * 64 + offset)], 1
    )
    return tf.map_fn(
        lambda seed: tf.random.stateless_uniform(shape, seed=seed),
        seeds,
        fn_output_signature=tf.float32,
    )


def session_noise(
    session_hash: tf.Tensor, real: tf.Tensor, step: tf.Tensor | int | None, noise_dim: int
) -> tf.Tensor:
    """eps per real turn from (session, step, turn): the same on any replica layout.
    Zero without a step (validation)."""
    n = tf.shape(real)[0]
    if step is None:
        return tf.zeros([n, noise_dim], tf.float32)
    return tf.map_fn(
        lambda seed: tf.random.stateless_normal([noise_dim], seed=seed),
        _turn_seeds(session_hash, real, step, 0),
        fn_output_signature=tf.float32,
    )


def own_output_turns(
    session_hash: tf.Tensor, real: tf.Tensor, step: tf.Tensor | int, rate: float
) -> tf.Tensor:
    """bool [R]: which real turns draw "edit the model's own drawing of the turn before"
    (probability `rate`; the caller keeps only turns t >= 2 that can)."""
    return _uniform_per_turn(_turn_seeds(session_hash, real, step, 16)) < rate


def skipped_sources(
    session_hash: tf.Tensor, real: tf.Tensor, step: tf.Tensor | int, rate: float
) -> tf.Tensor:
    """[R, 2] (session, image index) of the image each real turn edits: its own x_{t-1}, or
    x_{t-2} with probability `rate` for turns t >= 2, drawn from (session, step, turn) so that
    any replica layout draws the same."""
    draws = _uniform_per_turn(_turn_seeds(session_hash, real, step, 32))
    skip = tf.logical_and(real[:, 1] >= 1, draws < rate)
    return tf.stack([real[:, 0], real[:, 1] - tf.cast(skip, real.dtype)], axis=1)


def dropped_words(
    ids: tf.Tensor, session_hash: tf.Tensor, step: tf.Tensor | int, rate: float
) -> tf.Tensor:
    """Word ids [B,T,L] with each word replaced by the out-of-vocabulary id with probability
    `rate`, drawn from (session, step): training for the words a person uses that the data
    never did, which reach the model as that id."""
    draws = _uniform_per_session(session_hash, step, 48, tf.shape(ids)[1:])
    drop = tf.logical_and(ids > OOV_ID, draws < rate)
    return tf.where(drop, tf.constant(OOV_ID, ids.dtype), ids)


def terse_words(
    ids: tf.Tensor,
    function_ids: tf.Tensor,
    session_hash: tf.Tensor,
    step: tf.Tensor | int,
    rate: float,
) -> tf.Tensor:
    """Word ids [B,T,L] where each turn, with probability `rate` (drawn from (session, step)),
    loses its function words (`function_ids`) and closes up: "make it red please" -> "make red",
    training for the terse requests people type. A turn left with no word keeps its own."""
    draws = _uniform_per_session(session_hash, step, 56, tf.shape(ids)[1:2])  # [B, T]
    function = tf.reduce_any(ids[..., None] == tf.cast(function_ids, ids.dtype), axis=-1)
    keep = tf.logical_and(ids != PAD_ID, tf.logical_not(function))
    has_word = tf.reduce_any(keep, axis=-1, keepdims=True)
    keep = tf.where(tf.logical_and(draws[..., None] < rate, has_word), keep, ids != PAD_ID)
    # Close up (dense, so that XLA compiles it): kept words first, in their order, then padding.
    position = tf.broadcast_to(tf.range(tf.shape(ids)[-1]), tf.shape(ids))
    order = tf.argsort(tf.where(keep, position, position + tf.shape(ids)[-1]), axis=-1)
    closed = tf.gather(ids, order, batch_dims=2)
    count = tf.reduce_sum(tf.cast(keep, tf.int32), axis=-1, keepdims=True)
    return tf.where(position < count, closed, tf.constant(PAD_ID, ids.dtype))
