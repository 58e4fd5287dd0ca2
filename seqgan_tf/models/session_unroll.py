"""Unrolling a batch of sessions through a SessionBackbone: teacher-forced for training, and on
the backbone's own outputs for inference.

`teacher_forced_turns` is the generator side of SeqAttnGAN.training_outputs: the GRU (and the
attribute editor) run turn by turn on the true history; then every REAL turn is drawn at once
from its true x_{t-1} (and true a_t, a_{t-1}). The task adds what D and DAMSM say of the
drawings (turn_critics). `own_output_session` is SeqAttnGAN.generate_session on word ids
(`true_previous_session` its teacher-forced diagnostic).
All use only the backbone's public methods and settings; the training switches come as
arguments, and the random draws from turn_sampling.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import tensorflow as tf

from seqgan_tf.models import attribute_slots as slots
from seqgan_tf.models.turn_sampling import (
    dropped_words,
    own_output_turns,
    session_noise,
    skipped_sources,
    terse_words,
)

if TYPE_CHECKING:
    from seqgan_tf.models.session_backbone import SessionBackbone


def teacher_forced_turns(
    backbone: SessionBackbone,
    batch: dict,
    step: tf.Tensor | int | None = None,
    training: bool = True,
    *,
    word_dropout: float = 0.0,
    terse_rate: float = 0.0,
    function_word_ids: tuple | list = (),
    skip_turn_rate: float = 0.0,
    own_output_rate: float = 0.0,
    draw_every_turn: bool = False,
) -> dict:
    """Teacher-forced pass over a prepared batch (see SeqAttnGAN.training_outputs).

    step seeds the per-turn noise and the draws of the training switches (None = zero noise
    and none of them, for validation); word_dropout, terse_rate (with the vocabulary's
    function_word_ids), skip_turn_rate and own_output_rate apply in training only (SeqAttnGAN's
    arguments of those names). draw_every_turn draws padded
    turns too, with weight 0: XLA needs static shapes.

    Returns per drawn turn "fake", "real" (x_t), "previous" (the image edited), "drawn" and
    "mask" (edit mode, else None), "weight" (0 for a padded turn); "turn_index" [R, 2]
    (session, turn), "turn_sentences" [R, E] and "session_sentences" [B, T, E] for the
    critics; with attribute slots the editor's and reader's logits and their targets.
    """
    images, turn_mask = batch["images"], batch["turn_mask"]
    ids = batch["description_ids"]
    b, n_turns, s = tf.shape(images)[0], ids.shape[1], backbone.image_size
    n_words, text_dim = backbone.max_words, backbone.text_dim
    if terse_rate > 0 and function_word_ids and step is not None and training:
        ids = terse_words(
            ids, tf.constant(function_word_ids, ids.dtype), batch["session_hash"], step, terse_rate
        )
    if word_dropout > 0 and step is not None and training:
        ids = dropped_words(ids, batch["session_hash"], step, word_dropout)
    words, sentence, mask = backbone.encode_text(tf.reshape(ids, [-1, n_words]))
    words = tf.reshape(words, [b, n_turns, n_words, text_dim])
    sentence = tf.reshape(sentence, [b, n_turns, text_dim])
    mask = tf.reshape(mask, [b, n_turns, n_words])
    designs = None
    if backbone.attribute_state:
        designs = slots.ids_to_one_hot(batch["attribute_ids"], backbone.attribute_sizes)
    first = None if designs is None else designs[:, 0]
    state = backbone.start_outputs(images[:, 0], design=first)["state"]
    per_turn = []
    for t in range(n_turns):
        tracked = backbone.track(
            state,
            words[:, t],
            sentence[:, t],
            mask[:, t],
            None if designs is None else designs[:, t + 1],
        )
        if designs is not None:  # the next turn starts from the true design
            tracked["state"] = backbone.with_design(tracked["state"], designs[:, t + 1])
        state = tracked.pop("state")
        per_turn.append(tracked)
    # Gather the turns to draw: [B, T, ...] -> [R, ...]. Only the real ones, unless XLA
    # compiles the step: it needs static shapes, so every turn is drawn and padded ones
    # weigh 0 in every term.
    if draw_every_turn:
        real = tf.cast(
            tf.stack([tf.repeat(tf.range(b), n_turns), tf.tile(tf.range(n_turns), [b])], axis=1),
            tf.int64,
        )
        weight = tf.reshape(turn_mask, [-1])
    else:
        real = tf.where(turn_mask > 0)
        weight = tf.ones([tf.shape(real)[0]])
    tracked = {
        k: tf.gather_nd(tf.stack([p[k] for p in per_turn], 1), real)
        for k in per_turn[0]
        if per_turn[0][k] is not None
    }
    real_words, real_sentence = tf.gather_nd(words, real), tf.gather_nd(sentence, real)
    real_mask = tf.gather_nd(mask, real)
    # The image each turn edits: x_0 with anchor "first" (from the true a_0); else x_{t-1}, or
    # with skip_turn_rate x_{t-2} for some turns t >= 2 of training steps (a compound edit:
    # the design difference then spans two turns).
    source = real
    if backbone.anchor == "first":  # every turn redraws x_0 (image index 0 of its session)
        source = tf.stack([real[:, 0], tf.zeros_like(real[:, 1])], axis=1)
        tracked["previous_design"] = tf.gather_nd(designs, source)
    elif skip_turn_rate > 0 and step is not None:
        source = skipped_sources(batch["session_hash"], real, step, skip_turn_rate)
    previous = tf.gather_nd(images[:, :-1], source)
    target = tf.gather_nd(images[:, 1:], real)
    read_logits = None
    if backbone.attribute_state:  # the reader on every true image: its own loss, and its reading
        read_logits = backbone.read(tf.reshape(images, [-1, s, s, 3]))
    if backbone.read_previous:  # the generator edits from what the image shows
        read = tf.reshape(read_logits, [b, n_turns + 1, -1])
        tracked["previous_design"] = slots.segment_one_hot(
            tf.gather_nd(read, source), backbone.attribute_sizes
        )
    if own_output_rate > 0 and step is not None and training:
        previous = own_previous(
            backbone,
            tracked,
            (real_sentence, real_words, real_mask),
            previous,
            real,
            source,
            batch,
            step,
            own_output_rate,
        )
        if backbone.read_previous:  # what the reader reads off the image each turn now edits
            tracked["previous_design"] = slots.segment_one_hot(
                backbone.read(previous), backbone.attribute_sizes
            )
    noise = session_noise(batch["session_hash"], real, step, backbone.noise_dim)
    drawn = backbone.draw(
        tracked, real_sentence, real_words, real_mask, noise, previous, training=training
    )
    out = {
        "fake": drawn["image"],
        "real": target,
        "previous": previous,
        "drawn": drawn.get("drawn"),
        "mask": drawn.get("mask"),
        "weight": weight,
        "turn_index": real,
        "turn_sentences": real_sentence,
        "session_sentences": sentence,
    }
    if backbone.attribute_state:
        attribute_ids = batch["attribute_ids"]
        out.update(
            attribute_sizes=backbone.attribute_sizes,
            change_logits=tracked["change_logits"],
            value_logits=tracked["value_logits"],
            target_ids=tf.gather_nd(attribute_ids[:, 1:], real),
            changed=tf.gather_nd(batch["changed_mask"], real),
            read_logits=read_logits,
            read_ids=tf.reshape(attribute_ids, [-1, len(backbone.attribute_sizes)]),
        )
    return out


def own_output_session(backbone: SessionBackbone, first_images: tf.Tensor, ids: tf.Tensor) -> dict:
    """Inference over whole sessions: every turn edits the backbone's own previous output,
    with zero noise. first_images: x0 [B,S,S,3]; ids: word ids [B,T,L]. Returns "images"
    [B,T,S,S,3] and "attention" [B,T,h,w,L]."""
    return _unroll(backbone, first_images, ids, true_images=None)


def true_previous_session(backbone: SessionBackbone, images: tf.Tensor, ids: tf.Tensor) -> dict:
    """A diagnostic, not how the model is served: every turn edits the TRUE previous image
    x_{t-1} (teacher forcing at inference), the dialogue state carried from turn to turn as in
    own_output_session, zero noise. It measures one turn's drawing without what earlier turns
    got wrong. images: x0..x_T [B,T+1,S,S,3]; ids: word ids [B,T,L]. Returns "images"
    [B,T,S,S,3] and "attention" [B,T,h,w,L]."""
    return _unroll(backbone, images[:, 0], ids, true_images=images)


def _unroll(backbone: SessionBackbone, first_images, ids, true_images) -> dict:
    """The serving loop over T turns from x0, the state carried; turn t edits the previous
    output, or true_images[:, t] when true_images is given."""
    state, current = backbone.start(first_images), first_images
    outputs, attention = [], []
    for t in range(ids.shape[1]):
        given = current if true_images is None else true_images[:, t]
        out = backbone.edit(given, ids[:, t], state)
        state, current = out["state"], out["image"]
        outputs.append(current)
        attention.append(out["attention"])
    return {"images": tf.stack(outputs, 1), "attention": tf.stack(attention, 1)}


def own_previous(
    backbone: SessionBackbone,
    tracked: dict,
    text: tuple,
    previous: tf.Tensor,
    real: tf.Tensor,
    source: tf.Tensor,
    batch: dict,
    step: tf.Tensor | int,
    rate: float,
) -> tf.Tensor:
    """The images the drawn turns edit, with a share `rate` of the turns t >= 2 that edit their
    true x_{t-1} given the model's own drawing of turn t-1 instead (one-step scheduled
    sampling, as at inference, where every turn edits the model's last output). That drawing
    is made from the true x_{t-2}, as inference draws it (zero noise, the inference mask), and
    passes no gradient. The target stays the true x_t, so the turn learns to correct what the
    turn before got wrong, where errors would otherwise compound.

    text: (sentences [R,E], words [R,L,E], word mask [R,L]) of the drawn turns; real and
    source: [R, 2] (session, turn) of each drawn turn and of the image it edits."""
    sentence, words, word_mask = text
    n = tf.shape(real)[0]
    drawn = backbone.draw(
        tracked, sentence, words, word_mask, tf.zeros([n, backbone.noise_dim]), previous
    )["image"]
    drawn = tf.stop_gradient(drawn)
    # Row of turn t - 1 of the same session among the drawn turns (-1: not drawn).
    shape = tf.cast(
        tf.stack([tf.shape(batch["images"])[0], batch["description_ids"].shape[1]]), tf.int64
    )
    row_of = tf.scatter_nd(real, tf.range(1, n + 1), shape) - 1
    before = tf.stack([real[:, 0], tf.maximum(real[:, 1] - 1, 0)], axis=1)
    row_before = tf.gather_nd(row_of, before)
    own = (
        (real[:, 1] >= 1)
        & tf.reduce_all(tf.equal(source, real), axis=1)  # not a skipped turn
        & (row_before >= 0)
        & own_output_turns(batch["session_hash"], real, step, rate)
    )
    own_images = tf.gather(drawn, tf.maximum(row_before, 0))
    return tf.where(own[:, None, None, None], own_images, previous)
