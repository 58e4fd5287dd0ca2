"""Training behaviour: the turn mask, the attribute slots, DAMSM, 2-replica and XLA equivalence."""

import dataclasses
from unittest import mock

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqgan_tf.losses.seq_attn_gan_loss import SeqAttnGANLoss
from seqgan_tf.models import attribute_slots as slots
from seqgan_tf.models import session_unroll
from seqgan_tf.models.damsm import Damsm
from seqgan_tf.models.turn_critics import judge
from tests.model_testlib import (
    ATTRIBUTE_SIZES,
    EDIT_LOSS,
    TINY,
    S,
    compiled,
    fake_batch,
    tiny_damsm,
    tiny_edit_model,
    tiny_model,
)

PAPER_LOSS = SeqAttnGANLoss(damsm_weight=2.0, recon_weight=1.0)
EDIT_DAMSM_LOSS = SeqAttnGANLoss(
    damsm_weight=2.0, recon_weight=1.0, edit_weight=3.0, attribute_weight=1.0
)


def _terms(model, batch, step=3):
    out = model.training_outputs(model.preprocessor(batch), step=step)
    return {k: float(v) for k, v in model.seq_loss(out, tf.shape(batch["images"])[0]).items()}


def test_gradient_difference_costs_blurred_outlines_not_a_flat_colour_error():
    """Mathieu et al.'s term: a colour off by a constant has the truth's pixel differences
    (cost 0); a blurred step edge has not. By hand on one row: the truth steps 0 -> 1 between
    pixels 1 and 2 of 4; the blur goes 0, 0.25, 0.75, 1: differences (0.25, 0.5, 0.25) against
    (0, 1, 0), |error| 0.25 + 0.5 + 0.25 = 1 over the 3 x-differences of a row (the image is
    that row twice: its y-differences are 0 in both)."""
    from seqgan_tf.losses.seq_attn_gan_loss import gradient_difference

    real = tf.constant([[0.0, 0.0, 1.0, 1.0]] * 2)[None, :, :, None]
    blurred = tf.constant([[0.0, 0.25, 0.75, 1.0]] * 2)[None, :, :, None]
    ones = tf.ones_like(real)
    assert float(gradient_difference(real + 0.3, real, ones)[0]) == pytest.approx(0.0, abs=1e-6)
    assert float(gradient_difference(blurred, real, ones)[0]) == pytest.approx(1.0 / 3)
    # A difference counts with the larger weight of its two pixels.
    weight = tf.constant([[1.0, 1.0, 3.0, 1.0]] * 2)[None, :, :, None]
    assert float(gradient_difference(blurred, real, weight)[0]) == pytest.approx(
        (0.25 + 3 * 0.5 + 3 * 0.25) / 3
    )


def test_gradient_weight_adds_the_gradient_difference_to_recon():
    keras.utils.set_random_seed(0)
    model = tiny_edit_model()
    batch = fake_batch(2, turns=[2, 3])
    base = compiled(model, loss=EDIT_LOSS)
    without = _terms(base, batch)
    with_gradient = _terms(
        compiled(model, loss=dataclasses.replace(EDIT_LOSS, gradient_weight=2.0)), batch
    )
    assert with_gradient["recon"] > without["recon"]
    assert with_gradient["edit_mask"] == pytest.approx(without["edit_mask"])


def test_texture_weight_adds_the_texture_energy_to_recon():
    keras.utils.set_random_seed(0)
    model = tiny_edit_model()
    batch = fake_batch(2, turns=[2, 3])
    without = _terms(compiled(model, loss=EDIT_LOSS), batch)
    with_texture = _terms(
        compiled(model, loss=dataclasses.replace(EDIT_LOSS, texture_weight=2.0)), batch
    )
    assert with_texture["recon"] > without["recon"]
    assert with_texture["edit_mask"] == pytest.approx(without["edit_mask"])


@pytest.mark.parametrize("edit", [False, True])
def test_padded_turns_contribute_to_no_loss(edit):
    model = tiny_edit_model() if edit else tiny_model()
    compiled(model, EDIT_DAMSM_LOSS if edit else PAPER_LOSS)
    model.attach_damsm(tiny_damsm())
    turns = [2, 3, 2, 4]
    batch = fake_batch(4, turns=turns)
    base = _terms(model, batch)
    changed = dict(batch)
    images = batch["images"].numpy()
    desc = batch["descriptions"].numpy().astype(object)
    prev = batch["prev_attribute_text"].numpy().astype(object)
    for i, n in enumerate(turns):
        images[i, n + 1 :] = np.random.default_rng(i).uniform(-1, 1, images[i, n + 1 :].shape)
        desc[i, n:] = "make it blue boot has laces"
        prev[i, n:] = "red sneaker"
    changed.update(
        images=tf.constant(images),
        descriptions=tf.constant(desc.astype(bytes)),
        prev_attribute_text=tf.constant(prev.astype(bytes)),
    )
    after = _terms(model, changed)
    for name, value in base.items():
        assert after[name] == pytest.approx(value, rel=1e-5, abs=1e-6), name
    # ... while a real turn's content does change the losses.
    images[0, 1] = -images[0, 1]
    changed["images"] = tf.constant(images)
    assert _terms(model, changed)["recon"] != pytest.approx(base["recon"], rel=1e-4)


def test_every_optimised_term_is_tracked_and_g_loss_is_their_weighted_sum():
    model = compiled(tiny_edit_model(), EDIT_DAMSM_LOSS)
    model.attach_damsm(tiny_damsm())
    terms = _terms(model, fake_batch(4))
    w = EDIT_DAMSM_LOSS
    expected = (
        terms["g_adv"]
        + w.damsm_weight * terms["g_damsm"]
        + w.recon_weight * terms["recon"]
        + w.attribute_weight * terms["attributes"]
    )
    assert terms["g_loss"] == pytest.approx(expected, rel=1e-5)
    assert terms["attributes"] == pytest.approx(
        terms["attr_read"] + terms["attr_change"] + terms["attr_value"], rel=1e-5
    )
    assert terms["d_loss"] == pytest.approx(
        terms["d_real"] + terms["d_fake"] + terms["d_cond"], rel=1e-5
    )
    logs = model.train_step(model.preprocessor(fake_batch(4)))
    assert set(logs) == set(SeqAttnGANLoss.TERMS)


def test_generator_and_discriminator_weigh_the_attribute_classification_apart():
    # AttGAN weighs G's classification term 10 and D's 1: the two weights act separately.
    loss = SeqAttnGANLoss(
        recon_weight=1.0,
        edit_weight=3.0,
        attribute_weight=1.0,
        classify_weight=1.0,
        g_classify_weight=10.0,
    )
    model = compiled(tiny_edit_model(classify_attributes=True), loss)
    terms = _terms(model, fake_batch(4))
    assert terms["g_attr"] > 0 and terms["d_attr"] > 0
    expected_g = terms["g_adv"] + terms["recon"] + terms["attributes"] + 10.0 * terms["g_attr"]
    assert terms["g_loss"] == pytest.approx(expected_g, rel=1e-5)
    assert terms["d_loss"] == pytest.approx(
        terms["d_real"] + terms["d_fake"] + terms["d_cond"] + terms["d_attr"], rel=1e-5
    )


def test_feature_matching_trains_the_generator_toward_the_true_images_features():
    # pix2pixHD's feature matching: in G's loss only (D's loss is unchanged), its gradient
    # reaches G through D's feature maps, and it is zero for a drawing equal to the truth.
    loss = SeqAttnGANLoss(recon_weight=1.0, edit_weight=3.0, attribute_weight=1.0)
    weighted = SeqAttnGANLoss(
        recon_weight=1.0, edit_weight=3.0, attribute_weight=1.0, feature_match_weight=10.0
    )
    model = compiled(tiny_edit_model(), weighted)
    batch = model.preprocessor(fake_batch(4))
    with tf.GradientTape(persistent=True) as tape:
        out = model.training_outputs(batch, step=3)
        terms = weighted(out, 4)
        fm = terms["feature_match"]
    plain = loss(out, 4)
    assert float(fm) > 0
    assert float(terms["g_loss"]) == pytest.approx(
        float(plain["g_loss"]) + 10.0 * float(fm), rel=1e-5
    )
    assert float(terms["d_loss"]) == pytest.approx(float(plain["d_loss"]), rel=1e-6)
    g_grads = tape.gradient(fm, model.backbone.generator.trainable_variables)
    assert any(g is not None and float(tf.reduce_sum(tf.abs(g))) > 0 for g in g_grads)
    judged_truth = judge(
        model.discriminator,
        out["real"],
        out["real"],
        out["turn_sentences"],
        out["session_sentences"],
        batch["turn_mask"],
        out["turn_index"],
        feature_match=True,
    )
    assert float(tf.reduce_max(judged_truth["feature_match"])) == pytest.approx(0.0, abs=1e-7)


def test_attribute_slots_learn_which_attribute_the_words_change():
    """The editor alone, on a toy language: "make it red|blue|black" sets slot 0. (G's
    adversarial term also reaches the text encoder; the lightest generator keeps it small.)"""
    keras.utils.set_random_seed(0)
    model = compiled(
        tiny_edit_model(edit_generator="templates"), SeqAttnGANLoss(attribute_weight=1.0), lr=1e-2
    )
    colours = ["red", "blue", "black"]
    rng = np.random.default_rng(0)
    b = 16
    ids = np.stack([rng.integers(0, s, (b, 5)) for s in ATTRIBUTE_SIZES], -1).astype(np.int32)
    ids[:, 1:, 1] = ids[:, :1, 1]  # slot 1 never changes
    texts = np.array([[f"make it {colours[ids[i, t + 1, 0]]}" for t in range(4)] for i in range(b)])
    batch = fake_batch(b)
    batch.update(
        attribute_ids=tf.constant(ids),
        descriptions=tf.constant(texts),
        turn_mask=tf.ones([b, 4]),
        changed_mask=tf.constant((ids[:, 1:] != ids[:, :-1]).astype(np.float32)),
    )
    prepared = model.preprocessor(batch)
    for _ in range(60):
        model.train_step(prepared)
    state = tf.concat(
        [tf.zeros([b, model.state_dim]), slots.ids_to_one_hot(ids[:, 0], ATTRIBUTE_SIZES)], -1
    )
    words, sentence, mask = model.encode_text(prepared["description_ids"][:, 0])
    design = model.track(state, words, sentence, mask)["design"]
    predicted = slots.segment_argmax(design, ATTRIBUTE_SIZES).numpy()
    assert (predicted == ids[:, 1]).mean() >= 0.9, predicted


def _pairs(n=8):
    """n distinct flat-colour images, each with its own colour word."""
    colours = np.random.default_rng(0).uniform(-1, 1, (n, 3)).astype(np.float32)
    images = np.broadcast_to(colours[:, None, None, :], (n, S, S, 3)).copy()
    vocab = [f"colour{i}" for i in range(n)]
    texts = [f"it is {vocab[i]}" for i in range(n)]
    return tf.constant(images), tf.constant(texts), vocab


def test_damsm_prefers_matching_pairs_after_a_few_steps():
    images, texts, vocab = _pairs()
    keras.utils.set_random_seed(0)
    damsm = Damsm(
        vocab + ["it", "is"],
        max_words=4,
        image_size=S,
        embedding_dim=8,
        feature_dim=16,
        base_channels=4,
    )
    damsm.compile(optimizer=keras.optimizers.Adam(3e-3))
    mask = tf.ones([8])
    ds = tf.data.Dataset.from_tensors({"image": images, "text": texts, "mask": mask}).repeat(40)
    damsm.fit(ds, epochs=1, verbose=0)
    shuffled = tf.gather(texts, [1, 2, 3, 4, 5, 6, 7, 0])
    match = sum(float(tf.reduce_mean(x)) for x in damsm.matching_loss(images, texts, mask))
    mismatch = sum(float(tf.reduce_mean(x)) for x in damsm.matching_loss(images, shuffled, mask))
    assert match < mismatch - 0.5, (match, mismatch)
    assert float(damsm.retrieval_r1(images, texts, mask)) >= 0.5


def _zero_noise(session_hash, real, step, noise_dim):
    return tf.zeros([tf.shape(real)[0], noise_dim])


def _fit_steps(strategy, batch, weights, steps=2, jit=False, lr=1e-2):
    with strategy.scope():
        model = tiny_edit_model()
        model.set_weights(weights)
        compiled(model, EDIT_LOSS, lr=lr, jit_compile=jit)
    # XLA's stateless RNG gives other numbers than TF's kernels for the same seed (both are
    # deterministic): draw zero noise so that only the computation is compared.
    ds = tf.data.Dataset.from_tensors(batch).repeat().map(model.preprocessor)
    with mock.patch.object(session_unroll, "session_noise", _zero_noise):
        history = model.fit(ds, epochs=steps, steps_per_epoch=1, verbose=0)
    logs = {k: float(np.reshape(v[-1], [-1])[0]) for k, v in history.history.items()}
    return model, logs


def test_two_replica_mirrored_step_matches_one_replica(two_cpu_devices):
    batch = fake_batch(4, seed=3, turns=[2, 4, 3, 2])
    keras.utils.set_random_seed(0)
    weights = tiny_edit_model().get_weights()
    one, one_logs = _fit_steps(tf.distribute.OneDeviceStrategy("CPU:0"), batch, weights)
    two, two_logs = _fit_steps(tf.distribute.MirroredStrategy(two_cpu_devices), batch, weights)
    # Second-step losses depend on the first update, so they check gradient aggregation too.
    for name, value in one_logs.items():
        assert two_logs[name] == pytest.approx(value, rel=2e-3, abs=2e-4), name
    for a, b in zip(one.get_weights(), two.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=2e-3, atol=2e-4)
    assert set(one_logs) == set(SeqAttnGANLoss.TERMS)


def test_xla_compiled_step_matches_the_plain_step():
    batch = fake_batch(3, seed=2, turns=[2, 4, 3])
    keras.utils.set_random_seed(0)
    weights = tiny_edit_model().get_weights()
    one = tf.distribute.get_strategy()
    # A small learning rate: Adam's first step moves every weight by about lr whatever the
    # gradient's size, so XLA's rounding on near-zero gradients costs at most ~2 lr per weight.
    plain, plain_logs = _fit_steps(one, batch, weights, jit=False, lr=1e-4)
    xla, xla_logs = _fit_steps(one, batch, weights, jit=True, lr=1e-4)
    assert xla.jit_compile and not plain.jit_compile
    for name, value in plain_logs.items():
        assert xla_logs[name] == pytest.approx(value, rel=2e-3, abs=2e-4), name
    for a, b in zip(plain.get_weights(), xla.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=3e-4)


def test_text_encoder_starts_from_the_pretrained_damsm_and_checks_widths():
    from seqgan_tf.training.runs import init_text_encoder_from_damsm

    model, damsm = tiny_model(), tiny_damsm()
    texts = tf.constant(["make it red", "has laces"])
    init_text_encoder_from_damsm(model, damsm)
    ours = model.encode_text(model.preprocessor.tokenize(texts)[0])
    theirs = damsm.encode_text(texts)
    np.testing.assert_allclose(ours[0], theirs[0], atol=1e-6)  # word features
    np.testing.assert_allclose(ours[1], theirs[1], atol=1e-6)  # sentence features
    wide = Damsm(
        damsm.vocabulary,
        max_words=8,
        image_size=S,
        embedding_dim=8,
        feature_dim=16,
        base_channels=4,
    )
    wide({"image": tf.zeros([1, S, S, 3]), "text": tf.constant([""])})
    with pytest.raises(ValueError, match="init_text_encoder needs"):
        init_text_encoder_from_damsm(model, wide)


def test_steps_refuse_unprepared_batches_with_a_clear_error():
    model = compiled(tiny_edit_model())
    ds = tf.data.Dataset.from_tensors(fake_batch(2)).repeat()
    with pytest.raises(ValueError, match="preprocessor"):
        model.fit(ds, epochs=1, steps_per_epoch=1, verbose=0)


def test_read_previous_edits_from_what_the_image_shows():
    """With read_previous the generator's previous design is the reader's reading of the image
    it edits (at inference the model's own output), not the state's a_{t-1}; skipped turns in
    training edit x_{t-2}."""
    keras.utils.set_random_seed(0)
    model = compiled(tiny_edit_model(read_previous=True, skip_turn_rate=0.5))
    batch = fake_batch(4, turns=[4, 4, 4, 4])
    prepared = model.preprocessor(batch)
    out = model.training_outputs(prepared, step=5)
    images = prepared["images"]
    # Some turns t >= 2 edit x_{t-2}: their "previous" is not x_{t-1}.
    x_prev = tf.reshape(images[:, :-1], [-1, S, S, 3])
    differs = tf.reduce_any(tf.abs(out["previous"] - x_prev) > 0, axis=[1, 2, 3]).numpy()
    assert 0 < differs.sum() < len(differs)
    assert not differs.reshape(4, 4)[:, 0].any()  # the first turn has nothing to skip
    # Validation (no step) never skips.
    out = model.training_outputs(prepared, step=None, training=False)
    assert np.array_equal(out["previous"].numpy(), x_prev.numpy())
    # Serving: the generator's previous design is read off the image, whatever the state says.
    seen = {}
    draw = model.backbone.draw

    def spy(tracked, *args, **kwargs):
        seen["previous_design"] = tracked["previous_design"]
        return draw(tracked, *args, **kwargs)

    model.backbone.draw = spy
    state = model.start(images[:, 1])  # the state read x_1; the image edited is x_0
    model.edit(images[:, 0], batch["descriptions"][:, 0], state)
    read = slots.segment_one_hot(model.attribute_reader(images[:, 0]), ATTRIBUTE_SIZES)
    np.testing.assert_array_equal(seen["previous_design"].numpy(), read.numpy())


def test_own_output_turns_edit_the_models_own_drawing_of_the_turn_before():
    """With own_output_rate some training turns t >= 2 edit the model's own (inference-mode)
    drawing of turn t-1 instead of the true x_{t-1}; the first turn and validation never do,
    and with the rate at 1 every turn t >= 2 does."""
    keras.utils.set_random_seed(0)
    model = compiled(tiny_edit_model(own_output_rate=1.0, read_previous=True))
    batch = fake_batch(4, turns=[4, 4, 4, 4])
    prepared = model.preprocessor(batch)
    images = prepared["images"]
    x_prev = tf.reshape(images[:, :-1], [-1, S, S, 3]).numpy()
    out = model.training_outputs(prepared, step=5)
    previous = out["previous"].numpy().reshape(4, 4, S, S, 3)
    np.testing.assert_array_equal(previous[:, 0], x_prev.reshape(4, 4, S, S, 3)[:, 0])
    # Turn t >= 2 edits exactly the drawing inference makes of turn t-1 from the true x_{t-2}.
    tracked_images = model.generate_session(
        {"images": images[:, :2], "descriptions": batch["descriptions"][:, :1]}
    )
    np.testing.assert_allclose(previous[:, 1], tracked_images["images"][:, 0].numpy(), atol=1e-5)
    assert not np.allclose(previous[:, 1], x_prev.reshape(4, 4, S, S, 3)[:, 1])
    out = model.training_outputs(prepared, step=None, training=False)
    np.testing.assert_array_equal(out["previous"].numpy(), x_prev)
    # The gradient of the turn's loss does not flow into the drawing it edits.
    with tf.GradientTape() as tape:
        out = model.training_outputs(prepared, step=5)
        loss = tf.reduce_sum(out["previous"])
    grads = tape.gradient(loss, model.generator.trainable_variables)
    assert all(g is None for g in grads)


def test_true_previous_diagnostic_edits_the_true_image_with_the_carried_state():
    """generate_session(previous="true") is the serving loop with the TRUE x_{t-1} as each
    turn's image and the state carried from the turn before; turn 1 is the served turn 1, and
    later turns differ from the served session (which edits its own drawings)."""
    keras.utils.set_random_seed(0)
    model = compiled(tiny_edit_model(read_previous=True))
    batch = fake_batch(4, turns=[3, 3, 3, 3])
    images = model.preprocessor(batch)["images"][:, :4]
    texts = batch["descriptions"][:, :3]
    forced = model.generate_session({"images": images, "descriptions": texts}, previous="true")
    served = model.generate_session({"images": images, "descriptions": texts})
    state = model.start(images[:, 0])
    for t in range(3):
        out = model.edit(images[:, t], texts[:, t], state)
        np.testing.assert_allclose(forced["images"][:, t].numpy(), out["image"].numpy(), atol=1e-5)
        state = out["state"]
    np.testing.assert_allclose(forced["images"][:, 0], served["images"][:, 0], atol=1e-5)
    assert not np.allclose(forced["images"][:, 2], served["images"][:, 2], atol=1e-3)
    with pytest.raises(ValueError, match="previous must be 'own' or 'true'"):
        model.generate_session({"images": images, "descriptions": texts}, previous="truth")


def _words_read_in_training(model):
    """The word ids the text encoder gets for one batch: (in validation, in a training step).
    Validation must read the batch's own words."""
    prepared = model.preprocessor(fake_batch(4))
    seen = []
    encode = model.backbone.encode_text

    def spy(ids):
        seen.append(ids)
        return encode(ids)

    model.backbone.encode_text = spy
    model.training_outputs(prepared, step=None, training=False)
    model.training_outputs(prepared, step=2)
    full = tf.reshape(prepared["description_ids"], [-1, model.max_words]).numpy()
    np.testing.assert_array_equal(seen[0].numpy(), full)
    return full, seen[1].numpy()


def test_word_dropout_replaces_words_by_the_unknown_id_in_training_only():
    """dropped_words turns about `rate` of the real words into the out-of-vocabulary id,
    never padding, the same for the same (session, step); a model with word_dropout reads the
    full text when it validates or edits."""
    from seqgan_tf.models.turn_sampling import dropped_words
    from seqgan_tf.text.text_tokenizer import OOV_ID, PAD_ID

    rng = np.random.default_rng(0)
    ids = tf.constant(rng.integers(2, 50, size=(64, 4, 16)), tf.int32)
    ids = tf.concat([ids[..., :12], tf.fill([64, 4, 4], PAD_ID)], axis=-1)
    hashes = tf.range(64, dtype=tf.int64)
    dropped = dropped_words(ids, hashes, 3, 0.25).numpy()
    words = ids.numpy() > OOV_ID
    share = (dropped[words] == OOV_ID).mean()
    assert 0.2 < share < 0.3
    assert (dropped[~words] == PAD_ID).all()
    np.testing.assert_array_equal(dropped, dropped_words(ids, hashes, 3, 0.25).numpy())
    assert not np.array_equal(dropped, dropped_words(ids, hashes, 4, 0.25).numpy())
    full, trained = _words_read_in_training(compiled(tiny_edit_model(word_dropout=0.5)))
    assert (trained == OOV_ID).sum() > (full == OOV_ID).sum()


def test_terse_turns_lose_their_function_words_in_training_only():
    """terse_words drops the function words of about `rate` of the turns and closes the row up,
    keeps a turn that would be left empty, and draws the same for the same (session, step); a
    model with terse_rate reads the full text when it validates or edits."""
    from seqgan_tf.models.turn_sampling import terse_words
    from seqgan_tf.text.function_words import function_word_ids
    from seqgan_tf.text.text_tokenizer import PAD_ID

    vocabulary = ["make", "it", "red", "please", "a", "boot", "the"]
    function = function_word_ids(vocabulary)
    assert function == [3, 5, 6, 8]  # it, please, a, the
    make_it_red_please = [2, 3, 4, 5, 0, 0]
    only_function_words = [6, 8, 0, 0, 0, 0]
    ids = tf.constant([[make_it_red_please, only_function_words]] * 200, tf.int32)
    hashes = tf.range(200, dtype=tf.int64)
    terse = terse_words(ids, tf.constant(function), hashes, 3, 0.5).numpy()
    shortened = (terse[:, 0] == [2, 4, PAD_ID, PAD_ID, PAD_ID, PAD_ID]).all(axis=-1)
    unchanged = (terse[:, 0] == make_it_red_please).all(axis=-1)
    assert (shortened | unchanged).all() and 0.4 < shortened.mean() < 0.6
    np.testing.assert_array_equal(terse[:, 1], ids.numpy()[:, 1])  # nothing would be left
    np.testing.assert_array_equal(terse, terse_words(ids, tf.constant(function), hashes, 3, 0.5))
    all_turns = terse_words(ids, tf.constant(function), hashes, 3, 1.0).numpy()
    assert (all_turns[:, 0, :2] == [2, 4]).all()

    model = compiled(tiny_edit_model(terse_rate=1.0))
    assert model.get_config()["terse_rate"] == 1.0
    full, trained = _words_read_in_training(model)
    is_function = np.isin(full, model.function_word_ids)
    assert is_function.any() and not np.isin(trained, model.function_word_ids).any()
    assert (trained != PAD_ID).sum() == (full != PAD_ID).sum() - is_function.sum()
    with pytest.raises(ValueError, match="terse_rate"):
        tiny_edit_model(terse_rate=1.5)


def test_anchor_first_redraws_the_first_image_at_every_turn():
    """With anchor="first" every training turn edits x_0 from the true a_0, and served turns
    redraw the first image that the state carries, whatever image they are given: a session
    run on the model's own outputs is the session run on x_0 alone."""
    keras.utils.set_random_seed(0)
    model = compiled(tiny_edit_model(anchor="first", read_previous=True))
    assert model.serving_state_dim == TINY["state_dim"] + sum(ATTRIBUTE_SIZES) + S * S * 3
    batch = fake_batch(4, turns=[4, 4, 4, 4])
    prepared = model.preprocessor(batch)
    images = prepared["images"]
    out = model.training_outputs(prepared, step=5)
    x0 = tf.repeat(images[:, 0], 4, axis=0).numpy()
    np.testing.assert_array_equal(out["previous"].numpy(), x0)
    np.testing.assert_array_equal(out["real"].numpy(), tf.reshape(images[:, 1:], [-1, S, S, 3]))
    logs = model.train_step(prepared)  # a training step runs on it
    assert np.isfinite(np.asarray(logs["g_loss"])).all()
    # Serving: the state carries x_0 and every turn redraws it.
    state = model.start(images[:, 0])
    np.testing.assert_array_equal(model.backbone.first_image(state).numpy(), images[:, 0])
    texts = batch["descriptions"]
    first = model.edit(images[:, 0], texts[:, 0], state)
    second = model.edit(first["image"], texts[:, 1], first["state"])
    other = model.edit(tf.zeros_like(images[:, 0]), texts[:, 1], first["state"])
    np.testing.assert_allclose(second["image"].numpy(), other["image"].numpy(), atol=1e-6)
    np.testing.assert_array_equal(model.backbone.first_image(second["state"]), images[:, 0])
    session = model.generate_session({"images": images[:, :3], "descriptions": texts[:, :2]})
    np.testing.assert_allclose(session["images"][:, 1].numpy(), second["image"].numpy(), atol=1e-5)


def test_anchor_first_refuses_the_switches_that_edit_another_image():
    for switch in ({"skip_turn_rate": 0.25}, {"own_output_rate": 0.5}):
        with pytest.raises(ValueError, match="anchor"):
            tiny_edit_model(anchor="first", **switch)
    with pytest.raises(ValueError, match="attribute_state"):
        tiny_model(edit_mode=True, anchor="first")
