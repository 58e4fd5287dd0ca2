"""Unrolling a batch of sessions: teacher-forced for training (what SeqAttnGANLoss reads), and
on the model's own outputs for inference.

`teacher_forced_turns(model, batch, step)` is SeqAttnGAN.training_outputs: the GRU (and the
attribute editor) run turn by turn on the true history; then every REAL turn is drawn at once
from its true x_{t-1} (and true a_t, a_{t-1}), and judged by D and DAMSM. The per-turn noise,
D's logits and the DAMSM matching loss are the helpers below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import tensorflow as tf

from seqgan_tf.models import attribute_slots as slots
from seqgan_tf.models.blocks import to_float32
from seqgan_tf.text.text_tokenizer import OOV_ID

if TYPE_CHECKING:
    from seqgan_tf.models.damsm import Damsm
    from seqgan_tf.models.discriminator import Discriminator
    from seqgan_tf.models.seq_attn_gan import SeqAttnGAN


def teacher_forced_turns(
    model: SeqAttnGAN, batch: dict, step: tf.Tensor | int | None = None, training: bool = True
) -> dict:
    """Teacher-forced pass over a prepared batch (see SeqAttnGAN.training_outputs)."""
    images, turn_mask = batch["images"], batch["turn_mask"]
    ids = batch["description_ids"]
    b, n_turns, s = tf.shape(images)[0], ids.shape[1], model.image_size
    if model.word_dropout > 0 and step is not None and training:
        ids = dropped_words(ids, batch["session_hash"], step, model.word_dropout)
    words, sentence, mask = model.encode_text(tf.reshape(ids, [-1, model.max_words]))
    words = tf.reshape(words, [b, n_turns, model.max_words, model.text_dim])
    sentence = tf.reshape(sentence, [b, n_turns, model.text_dim])
    mask = tf.reshape(mask, [b, n_turns, model.max_words])
    designs = None
    if model.attribute_state:
        designs = slots.ids_to_one_hot(batch["attribute_ids"], model.attribute_sizes)
    _, v0 = model.image_encoder(images[:, 0])
    state = to_float32(model.state_tracker.initial_state(v0))
    if designs is not None:
        state = tf.concat([state, designs[:, 0]], axis=-1)
    per_turn = []
    for t in range(n_turns):
        tracked = model.track(
            state,
            words[:, t],
            sentence[:, t],
            mask[:, t],
            None if designs is None else designs[:, t + 1],
        )
        if designs is not None:  # the next turn starts from the true design
            tracked["state"] = tf.concat([tracked["h"], designs[:, t + 1]], axis=-1)
        state = tracked.pop("state")
        per_turn.append(tracked)
    # Gather the turns to draw: [B, T, ...] -> [R, ...]. Only the real ones, unless XLA
    # compiles the step: it needs static shapes, so every turn is drawn and padded ones
    # weigh 0 in every term.
    if getattr(model, "_jit_compile", None) is True:  # set by compile(jit_compile=True)
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
    # The image each turn edits: x_{t-1}, or with skip_turn_rate x_{t-2} for some turns t >= 2
    # of training steps (a compound edit: the design difference then spans two turns).
    source = real
    if model.skip_turn_rate > 0 and step is not None:
        source = skipped_sources(batch["session_hash"], real, step, model.skip_turn_rate)
    previous = tf.gather_nd(images[:, :-1], source)
    target = tf.gather_nd(images[:, 1:], real)
    read_logits = None
    if model.attribute_state:  # the reader on every true image: its own loss, and what it reads
        read_logits = to_float32(model.attribute_reader(tf.reshape(images, [-1, s, s, 3])))
    if model.read_previous:  # the generator edits from what the image shows
        read = tf.reshape(read_logits, [b, n_turns + 1, -1])
        tracked["previous_design"] = slots.segment_one_hot(
            tf.gather_nd(read, source), model.attribute_sizes
        )
    if model.own_output_rate > 0 and step is not None and training:
        previous = own_previous(
            model,
            tracked,
            (real_sentence, real_words, real_mask),
            previous,
            real,
            source,
            batch,
            step,
        )
        if model.read_previous:  # what the reader reads off the image each turn now edits
            tracked["previous_design"] = slots.segment_one_hot(
                to_float32(model.attribute_reader(previous)), model.attribute_sizes
            )
    noise = session_noise(batch["session_hash"], real, step, model.noise_dim)
    drawn = model.draw(
        tracked, real_sentence, real_words, real_mask, noise, previous, training=training
    )
    out = {
        "fake": drawn["image"],
        "real": target,
        "previous": previous,
        "drawn": drawn.get("drawn"),
        "mask": drawn.get("mask"),
        "weight": weight,
    }
    out["logits"] = judge(
        model.discriminator, target, drawn["image"], real_sentence, sentence, turn_mask, real
    )
    loss = model.seq_loss
    if model.get_damsm() is not None and loss.damsm_weight > 0:
        texts = tf.gather_nd(batch["damsm_ids"], real)
        out["damsm"] = damsm_matching(
            model.get_damsm(), drawn["image"], texts, weight, loss.damsm_pairs
        )
    else:
        out["damsm"] = None
    if model.attribute_state:
        attribute_ids = batch["attribute_ids"]
        out.update(
            attribute_sizes=model.attribute_sizes,
            change_logits=tracked["change_logits"],
            value_logits=tracked["value_logits"],
            target_ids=tf.gather_nd(attribute_ids[:, 1:], real),
            changed=tf.gather_nd(batch["changed_mask"], real),
            read_logits=read_logits,
            read_ids=tf.reshape(attribute_ids, [-1, len(model.attribute_sizes)]),
        )
    return out


def own_output_session(model: SeqAttnGAN, batch: dict) -> dict:
    """Inference over whole sessions: every turn edits the model's own previous output, with
    zero noise (SeqAttnGAN.generate_session). batch: "images" [B,T+1,S,S,3] (only x0 is used)
    and "descriptions" string [B,T] or "description_ids" [B,T,L]. Returns "images"
    [B,T,S,S,3], "attention" [B,T,h,w,L] and, for string input, "tokens" [B,T,L]."""
    images = batch["images"]
    texts = batch["descriptions"] if "descriptions" in batch else batch["description_ids"]
    n_turns = texts.shape[1]
    state, current = model.start(images[:, 0]), images[:, 0]
    outputs, attention, tokens = [], [], []
    for t in range(n_turns):
        out = model.edit(current, texts[:, t], state)
        state, current = out["state"], out["image"]
        outputs.append(current)
        attention.append(out["attention"])
        tokens.append(out["tokens"])
    result = {"images": tf.stack(outputs, 1), "attention": tf.stack(attention, 1)}
    if tokens[0] is not None:
        result["tokens"] = tf.stack(tokens, 1)
    return result


def skipped_sources(
    session_hash: tf.Tensor, real: tf.Tensor, step: tf.Tensor | int, rate: float
) -> tf.Tensor:
    """[R, 2] (session, image index) of the image each real turn edits: its own x_{t-1}, or
    x_{t-2} with probability `rate` for turns t >= 2, drawn from (session, step, turn) so that
    any replica layout draws the same."""
    hashes = tf.gather(session_hash, real[:, 0])
    seeds = tf.stack([hashes, tf.cast(step, tf.int64) * 64 + real[:, 1] + 32], axis=1)
    draws = tf.map_fn(
        lambda seed: tf.random.stateless_uniform([], seed=seed),
        seeds,
        fn_output_signature=tf.float32,
    )
    skip = tf.logical_and(real[:, 1] >= 1, draws < rate)
    return tf.stack([real[:, 0], real[:, 1] - tf.cast(skip, real.dtype)], axis=1)


def dropped_words(
    ids: tf.Tensor, session_hash: tf.Tensor, step: tf.Tensor | int, rate: float
) -> tf.Tensor:
    """Word ids [B,T,L] with each word replaced by the out-of-vocabulary id with probability
    `rate`, drawn from (session, step): training for the words a person uses that the data
    never did, which reach the model as that id."""
    seeds = tf.stack(
        [session_hash, tf.fill(tf.shape(session_hash), tf.cast(step, tf.int64) * 64 + 48)], 1
    )
    draws = tf.map_fn(
        lambda seed: tf.random.stateless_uniform(tf.shape(ids)[1:], seed=seed),
        seeds,
        fn_output_signature=tf.float32,
    )
    drop = tf.logical_and(ids > OOV_ID, draws < rate)
    return tf.where(drop, tf.constant(OOV_ID, ids.dtype), ids)


def own_previous(
    model: SeqAttnGAN,
    tracked: dict,
    text: tuple,
    previous: tf.Tensor,
    real: tf.Tensor,
    source: tf.Tensor,
    batch: dict,
    step: tf.Tensor | int,
) -> tf.Tensor:
    """The images the drawn turns edit, with a share `model.own_output_rate` of the turns
    t >= 2 that edit their true x_{t-1} given the model's own drawing of turn t-1 instead
    (one-step scheduled sampling, as at inference, where every turn edits the model's last
    output). That drawing is made from the true x_{t-2}, as inference draws it (zero noise,
    the inference mask), and passes no gradient. The target stays the true x_t, so the turn
    learns to correct what the turn before got wrong, where errors would otherwise compound.

    text: (sentences [R,E], words [R,L,E], word mask [R,L]) of the drawn turns; real and
    source: [R, 2] (session, turn) of each drawn turn and of the image it edits."""
    sentence, words, word_mask = text
    n = tf.shape(real)[0]
    drawn = model.draw(
        tracked, sentence, words, word_mask, tf.zeros([n, model.noise_dim]), previous
    )["image"]
    drawn = tf.stop_gradient(drawn)
    # Row of turn t - 1 of the same session among the drawn turns (-1: not drawn).
    shape = tf.cast(
        tf.stack([tf.shape(batch["images"])[0], batch["description_ids"].shape[1]]), tf.int64
    )
    row_of = tf.scatter_nd(real, tf.range(1, n + 1), shape) - 1
    before = tf.stack([real[:, 0], tf.maximum(real[:, 1] - 1, 0)], axis=1)
    row_before = tf.gather_nd(row_of, before)
    hashes = tf.gather(batch["session_hash"], real[:, 0])
    seeds = tf.stack([hashes, tf.cast(step, tf.int64) * 64 + real[:, 1] + 16], axis=1)
    draws = tf.map_fn(
        lambda seed: tf.random.stateless_uniform([], seed=seed),
        seeds,
        fn_output_signature=tf.float32,
    )
    own = (
        (real[:, 1] >= 1)
        & tf.reduce_all(tf.equal(source, real), axis=1)  # not a skipped turn
        & (row_before >= 0)
        & (draws < model.own_output_rate)
    )
    own_images = tf.gather(drawn, tf.maximum(row_before, 0))
    return tf.where(own[:, None, None, None], own_images, previous)


def session_noise(
    session_hash: tf.Tensor, real: tf.Tensor, step: tf.Tensor | int | None, noise_dim: int
) -> tf.Tensor:
    """eps per real turn from (session, step, turn): the same on any replica layout.
    Zero without a step (validation)."""
    n = tf.shape(real)[0]
    if step is None:
        return tf.zeros([n, noise_dim], tf.float32)
    hashes = tf.gather(session_hash, real[:, 0])
    seeds = tf.stack([hashes, tf.cast(step, tf.int64) * 64 + real[:, 1]], axis=1)
    return tf.map_fn(
        lambda seed: tf.random.stateless_normal([noise_dim], seed=seed),
        seeds,
        fn_output_signature=tf.float32,
    )


def judge(
    discriminator: Discriminator,
    real: tf.Tensor,
    fake: tf.Tensor,
    sentences: tf.Tensor,
    all_sentences: tf.Tensor,
    turn_mask: tf.Tensor,
    index: tf.Tensor,
) -> dict:
    """D's logits: real and fake images with their sentences, real with a mismatched one
    (the previous real turn's sentence of the same session; none for one-turn sessions)."""
    sentences = tf.stop_gradient(sentences)
    n_real = tf.cast(tf.reduce_sum(turn_mask, axis=1), tf.int64)  # [B]
    n = tf.gather(n_real, index[:, 0])
    wrong_turn = tf.math.floormod(index[:, 1] - 1, tf.maximum(n, 1))
    wrong = tf.stop_gradient(tf.gather_nd(all_sentences, tf.stack([index[:, 0], wrong_turn], 1)))
    d = discriminator
    real_features = d.features(real)
    real_u, real_c = d.heads(real_features, sentences)
    fake_features = d.features(fake)
    fake_u, fake_c = d.heads(fake_features, sentences)
    logits = {
        "real_u": real_u,
        "real_c": real_c,
        "fake_u": fake_u,
        "fake_c": fake_c,
        "wrong_c": d.conditional_logits(real_features, wrong),
        "wrong_weight": tf.cast(n > 1, tf.float32),
    }
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
