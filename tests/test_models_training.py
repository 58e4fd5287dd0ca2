"""Training behaviour: the turn mask, DAMSM, and 2-replica MirroredStrategy equivalence."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqgan_tf.models.damsm import Damsm
from tests.model_testlib import S, fake_batch, tiny_damsm, tiny_model


@pytest.mark.parametrize("previous_image", [False, True])
def test_padded_turns_contribute_to_no_loss(previous_image):
    # edit_weight > 0 also brings in the edit mode's drawn-image L1 and edit-mask terms.
    model = tiny_model(damsm_weight=2.0, use_previous_image=previous_image, edit_weight=3.0,
                       own_output_prob=0.5 if previous_image else 0.0)
    model.attach_damsm(tiny_damsm())
    batch = fake_batch(4, turns=[2, 3, 2, 4])
    # training=True: teacher forcing feeds the true x_{t-1}, padded images included.
    base = {k: float(v) for k, v in model.compute_losses(batch, True, step=3).items()}
    changed = dict(batch)
    images = batch["images"].numpy()
    desc = batch["descriptions"].numpy().astype(object)
    prev = batch["prev_attribute_text"].numpy().astype(object)
    for i, n in enumerate([2, 3, 2, 4]):
        images[i, n + 1:] = np.random.default_rng(i).uniform(-1, 1, images[i, n + 1:].shape)
        desc[i, n:] = "make it blue boot has laces"
        prev[i, n:] = "red sneaker"
    changed.update(images=tf.constant(images), descriptions=tf.constant(desc.astype(bytes)),
                   prev_attribute_text=tf.constant(prev.astype(bytes)))
    after = {k: float(v) for k, v in model.compute_losses(changed, True, step=3).items()}
    for name, value in base.items():
        assert after[name] == pytest.approx(value, rel=1e-5, abs=1e-6), name
    # ... while a real turn's content does change the losses.
    images[0, 1] = -images[0, 1]
    changed["images"] = tf.constant(images)
    moved = {k: float(v) for k, v in model.compute_losses(changed, True, step=3).items()}
    assert moved["l1"] != pytest.approx(base["l1"], rel=1e-4)


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
    damsm = Damsm(vocab + ["it", "is"], max_words=4, image_size=S, embedding_dim=8,
                  feature_dim=16, base_channels=4)
    damsm.compile(optimizer=keras.optimizers.Adam(3e-3))
    mask = tf.ones([8])
    ds = tf.data.Dataset.from_tensors({"image": images, "text": texts, "mask": mask}).repeat(40)
    damsm.fit(ds, epochs=1, verbose=0)
    shuffled = tf.gather(texts, [1, 2, 3, 4, 5, 6, 7, 0])
    match = sum(float(tf.reduce_mean(x)) for x in damsm.matching_loss(images, texts, mask))
    mismatch = sum(float(tf.reduce_mean(x)) for x in damsm.matching_loss(images, shuffled, mask))
    assert match < mismatch - 0.5, (match, mismatch)
    assert float(damsm.retrieval_r1(images, texts, mask)) >= 0.5


def _fit_one_step(strategy, batch, weights):
    with strategy.scope():
        model = tiny_model()
        model.set_weights(weights)
        model.compile(d_optimizer=keras.optimizers.Adam(1e-2), g_optimizer=keras.optimizers.Adam(1e-2))
        model.build_optimizers()
    ds = tf.data.Dataset.from_tensors(batch).repeat(2)
    history = model.fit(ds, epochs=2, steps_per_epoch=1, verbose=0)
    logs = {k: float(np.reshape(v[-1], [-1])[0]) for k, v in history.history.items()}
    return logs, [np.asarray(w) for w in model.get_weights()]


def test_two_replica_mirrored_step_matches_one_replica():
    devices = tf.config.list_logical_devices("CPU")
    if len(devices) < 2:
        pytest.skip("needs the CPU split into 2 logical devices (tests/conftest.py)")
    batch = fake_batch(4, seed=3, turns=[2, 4, 3, 2])
    keras.utils.set_random_seed(0)
    weights = tiny_model().get_weights()
    one_logs, one_weights = _fit_one_step(tf.distribute.OneDeviceStrategy("CPU:0"), batch, weights)
    two = tf.distribute.MirroredStrategy(["CPU:0", "CPU:1"])
    two_logs, two_weights = _fit_one_step(two, batch, weights)
    # Second-step losses depend on the first update, so they check gradient aggregation too.
    for name, value in one_logs.items():
        assert two_logs[name] == pytest.approx(value, rel=2e-3, abs=2e-4), name
    for a, b in zip(one_weights, two_weights, strict=True):
        np.testing.assert_allclose(a, b, rtol=2e-3, atol=2e-4)
    assert set(one_logs) >= {"d_loss", "d_real", "d_fake", "d_cond", "g_loss", "g_adv", "l1"}


def test_text_encoder_starts_from_the_pretrained_damsm_and_checks_widths():
    from seqgan_tf.training.runs import init_text_encoder_from_damsm

    model, damsm = tiny_model(), tiny_damsm()
    texts = tf.constant(["make it red", "has laces"])
    init_text_encoder_from_damsm(model, damsm)
    ours, theirs = model.encode_text(texts), damsm.encode_text(texts)
    np.testing.assert_allclose(ours[0], theirs[0], atol=1e-6)  # word features
    np.testing.assert_allclose(ours[1], theirs[1], atol=1e-6)  # sentence features
    wide = Damsm(damsm.vocabulary, max_words=8, image_size=S, embedding_dim=8, feature_dim=16,
                 base_channels=4)
    wide({"image": tf.zeros([1, S, S, 3]), "text": tf.constant([""])})
    with pytest.raises(ValueError, match="init_text_encoder needs"):
        init_text_encoder_from_damsm(model, wide)


@pytest.mark.parametrize("prob", [0.0, 1.0])
def test_scheduled_sampling_feeds_the_models_own_output(prob):
    model = tiny_model(use_previous_image=True, own_output_prob=prob)
    batch = fake_batch(3)
    out = model.generate_session(batch, training=True, step=5, teacher_forcing=True)
    fed = out["inputs"][:, 1:].numpy()
    expected = out["images"][:, :-1] if prob == 1.0 else batch["images"][:, 1:-1]
    np.testing.assert_allclose(fed, expected, atol=1e-6)


def test_prepared_batches_give_the_same_losses_without_strings():
    model = tiny_model(damsm_weight=2.0, use_previous_image=True, edit_weight=3.0,
                       own_output_prob=0.5)
    model.attach_damsm(tiny_damsm())
    batch = fake_batch(4, turns=[2, 3, 2, 4])
    prepared = model.prepare_batch(batch)
    assert not [k for k, v in prepared.items() if v.dtype == tf.string]
    assert prepared["description_ids"].shape == (4, 4, model.max_words)
    assert prepared["damsm_ids"].shape[:2] == (4, 4)
    raw = model.compute_losses(batch, True, step=3)
    ready = model.compute_losses(prepared, True, step=3)
    for name, value in raw.items():
        assert float(ready[name]) == pytest.approx(float(value), rel=1e-5, abs=1e-6), name


def _fit_steps(jit, batch, weights, steps=2):
    model = tiny_model(use_previous_image=True, edit_weight=3.0)
    model.set_weights(weights)
    # XLA's stateless RNG gives other numbers than TF's kernels for the same seed (both are
    # deterministic): draw zero noise in both so that only the computation is compared.
    model._turn_noise = lambda session_hash, step, t: tf.zeros(
        [tf.shape(session_hash)[0], model.noise_dim])
    # A small learning rate: Adam's first step moves every weight by about lr whatever the
    # gradient's size, so XLA's rounding on near-zero gradients costs at most ~2 lr per weight.
    model.compile(d_optimizer=keras.optimizers.Adam(1e-4),
                  g_optimizer=keras.optimizers.Adam(1e-4), jit_compile=jit)
    model.build_optimizers()
    ds = tf.data.Dataset.from_tensors(batch).repeat().map(model.prepare_batch)
    history = model.fit(ds, epochs=steps, steps_per_epoch=1, verbose=0)
    return model, {k: float(np.reshape(v[-1], [-1])[0]) for k, v in history.history.items()}


def test_xla_compiled_step_matches_the_plain_step():
    batch = fake_batch(3, seed=2, turns=[2, 4, 3])
    keras.utils.set_random_seed(0)
    weights = tiny_model(use_previous_image=True, edit_weight=3.0).get_weights()
    plain, plain_logs = _fit_steps(False, batch, weights)
    xla, xla_logs = _fit_steps(True, batch, weights)
    assert xla.jit_compile and not plain.jit_compile
    # Second-step losses: the first update went through XLA's gradients and optimizer too.
    for name, value in plain_logs.items():
        assert xla_logs[name] == pytest.approx(value, rel=2e-3, abs=2e-4), name
    for a, b in zip(plain.get_weights(), xla.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=3e-4)


def test_xla_step_refuses_string_batches_with_a_clear_error():
    model = tiny_model()
    model.compile(d_optimizer=keras.optimizers.Adam(1e-3),
                  g_optimizer=keras.optimizers.Adam(1e-3), jit_compile=True)
    model.build_optimizers()
    ds = tf.data.Dataset.from_tensors(fake_batch(2)).repeat()
    with pytest.raises(ValueError, match="prepare_batch"):
        model.fit(ds, epochs=1, steps_per_epoch=1, verbose=0)
