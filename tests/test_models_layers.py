"""Every model part builds, runs eagerly and in a graph, and round-trips its config."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqgan_tf.models.attribute_editor import AttributeEditor
from seqgan_tf.models.attribute_reader import AttributeReader
from seqgan_tf.models.damsm import Damsm
from seqgan_tf.models.discriminator import Discriminator
from seqgan_tf.models.edit_generator import EditGenerator
from seqgan_tf.models.generator import Generator
from seqgan_tf.models.image_encoder import ImageEncoder
from seqgan_tf.models.seq_attn_gan import SeqAttnGAN
from seqgan_tf.models.state_tracker import StateTracker
from seqgan_tf.models.text_encoder import TextEncoder
from seqgan_tf.models.upsampler import Upsampler
from seqgan_tf.models.word_attention import WordAttention
from seqgan_tf.text.text_tokenizer import TextTokenizer
from tests.model_testlib import (
    ATTRIBUTE_SIZES,
    TINY,
    VOCAB,
    S,
    compiled,
    fake_batch,
    tiny_edit_model,
    tiny_model,
)

rng = np.random.default_rng(0)


def _f(*shape):
    return tf.constant(rng.normal(size=shape).astype(np.float32))


IDS = tf.constant([[2, 3, 4, 0, 0], [5, 0, 0, 0, 0]], tf.int32)

CASES = {
    "text_encoder": (lambda: TextEncoder(20, 6, 8), (IDS,)),
    "image_encoder": (lambda: ImageEncoder(8, 4, S), (_f(2, S, S, 3),)),
    "state_tracker": (lambda: StateTracker(8), (_f(2, 8), _f(2, 3, 6))),
    "upsampler": (lambda: Upsampler(4, S), (_f(2, 12),)),
    "attention": (
        lambda: WordAttention(8),
        (_f(2, 4, 4, 8), _f(2, 5, 6), tf.constant([[True, True, False, False, False], [True] * 5])),
    ),
    "generator": (lambda: Generator(4, S), (_f(2, 4, 4, 8), _f(2, 4, 4, 8), _f(2, 8))),
    "edit_generator": (
        lambda: EditGenerator([3, 4], 4, S, max_shift=1),
        (
            _f(2, S, S, 3),
            _f(2, 7),
            _f(2, 7),
            _f(2, 6),
            _f(2, 5, 6),
            tf.constant([[True, True, False, False, False], [True] * 5]),
        ),
    ),
    "edit_generator_hard_mask": (
        lambda: EditGenerator([3, 4], 4, S, mask_threshold=0.5),
        (
            _f(2, S, S, 3),
            _f(2, 7),
            _f(2, 7),
            _f(2, 6),
            _f(2, 5, 6),
            tf.constant([[True] * 5, [True] * 5]),
        ),
    ),
    "attribute_reader": (lambda: AttributeReader([3, 4], 4, S), (_f(2, S, S, 3),)),
    "attribute_editor": (
        lambda: AttributeEditor([3, 4], 8),
        (
            _f(2, 5, 6),
            tf.constant([[True, True, False, False, False], [True] * 5]),
            _f(2, 8),
            _f(2, 7),
        ),
    ),
    "discriminator": (lambda: Discriminator(4, S), (_f(2, S, S, 3), _f(2, 8))),
}


def _flat(out):
    return [np.asarray(x) for x in tf.nest.flatten(out) if x is not None]


@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_eager_graph_and_config_round_trip(name):
    make, args = CASES[name]
    layer = make()
    eager = _flat(layer(*args))
    graph = _flat(tf.function(lambda *a: layer(*a))(*args))
    for e, g in zip(eager, graph, strict=True):
        np.testing.assert_allclose(e, g, rtol=1e-4, atol=1e-5)
    clone = type(layer).from_config(layer.get_config())
    clone(*args)
    clone.set_weights(layer.get_weights())
    for e, c in zip(eager, _flat(clone(*args)), strict=True):
        np.testing.assert_allclose(e, c, rtol=1e-4, atol=1e-5)
    assert clone.get_config() == layer.get_config()


def test_tokenizer_round_trips_and_normalises():
    tok = TextTokenizer(VOCAB, max_words=4)
    ids, tokens = tok(tf.constant(["Make it RED!", "", "ｒｅｄ zebra heel laces boot"]))
    assert ids.numpy().tolist()[0] == [2, 3, 4, 0]
    assert ids.numpy()[1, 0] == 1 and ids.numpy()[1, 1:].sum() == 0  # empty -> one OOV token
    assert ids.numpy()[2].tolist() == [4, 1, 7, 9]  # NFKC + case fold, OOV bucket, truncation
    assert tokens.numpy()[0, 2] == b"red"
    clone = TextTokenizer.from_config(tok.get_config())
    np.testing.assert_array_equal(
        clone(tf.constant(["make it red"]))[0], tok(tf.constant(["make it red"]))[0]
    )


def test_tokenizer_reads_plurals_and_british_spellings_as_the_words_it_knows():
    """A word outside the vocabulary is looked up as its singular or American spelling before
    it counts as unknown; a word the vocabulary has is never rewritten."""
    tok = TextTokenizer(["boot", "strap", "color", "party", "grass", "heels"], max_words=8)
    ids, tokens = tok(tf.constant(["boots straps colour parties grass heels glass shoes"]))
    assert ids.numpy()[0].tolist() == [2, 3, 4, 5, 6, 7, 1, 1]
    assert tokens.numpy()[0, 0] == b"boots"  # the tokens stay what the person wrote


def test_attention_sums_to_one_over_words_and_ignores_padding():
    attn = WordAttention(8)
    mask = tf.constant([[True, True, True, False, False], [True, False, False, False, False]])
    words = _f(2, 5, 6)
    _, weights = attn(_f(2, 4, 4, 8), words, mask)
    w = weights.numpy()
    np.testing.assert_allclose(w.sum(-1), 1.0, atol=1e-5)
    assert np.all(w[0, ..., 3:] == 0) and np.all(w[1, ..., 1:] == 0)
    # Padded words' content cannot change the context.
    regions = _f(2, 4, 4, 8)
    c1, _ = attn(regions, words, mask)
    words2 = words.numpy()
    words2[0, 3:] = 100.0
    c2, _ = attn(regions, tf.constant(words2), mask)
    np.testing.assert_allclose(c1, c2, atol=1e-5)


@pytest.mark.parametrize("edit", [False, True])
def test_seq_attn_gan_config_round_trip_and_weights_load(tmp_path, edit):
    model = tiny_edit_model() if edit else tiny_model()
    clone = SeqAttnGAN.from_config(model.get_config())
    clone(clone.preprocessor(fake_batch(1)))
    path = str(tmp_path / "m.weights.h5")
    model.save_weights(path)
    clone.load_weights(path)
    batch = fake_batch(2)
    np.testing.assert_allclose(
        model.generate_session(batch)["images"], clone.generate_session(batch)["images"], atol=1e-5
    )
    assert clone.get_config() == model.get_config()


def test_damsm_config_round_trip():
    damsm = Damsm(VOCAB, max_words=8, image_size=S, embedding_dim=8, feature_dim=8, base_channels=4)
    clone = Damsm.from_config(damsm.get_config())
    assert clone.get_config() == damsm.get_config()


@pytest.mark.parametrize("edit", [False, True])
def test_serving_methods_shapes_and_determinism(edit):
    model = tiny_edit_model() if edit else tiny_model()
    width = TINY["state_dim"] + (sum(ATTRIBUTE_SIZES) if edit else 0)
    assert model.serving_state_dim == width
    state = model.start(tf.zeros([2, S, S, 3]))
    assert state.shape == (2, width)
    out = tf.function(model.edit)(tf.zeros([2, S, S, 3]), tf.constant(["make it red", "x"]), state)
    assert out["image"].shape == (2, S, S, 3)
    assert out["state"].shape == (2, width)
    assert out["attention"].shape == (2, S // 4, S // 4, TINY["max_words"])
    assert out["tokens"].shape == (2, TINY["max_words"])
    again = model.edit(tf.zeros([2, S, S, 3]), tf.constant(["make it red", "x"]), state)
    np.testing.assert_allclose(out["image"], again["image"], atol=1e-5)


def test_attribute_slots_in_the_state_are_one_hot_designs():
    model = tiny_edit_model()
    state = model.start(tf.random.uniform([3, S, S, 3], -1, 1))
    design = state[:, TINY["state_dim"] :].numpy()
    for k, part in enumerate(np.split(design, np.cumsum(ATTRIBUTE_SIZES)[:-1], axis=1)):
        np.testing.assert_array_equal(part.sum(1), 1.0, err_msg=f"attribute {k}")
    out = model.edit(tf.zeros([3, S, S, 3]), tf.constant(["make it red"] * 3), state)
    new = out["state"][:, TINY["state_dim"] :].numpy()
    assert set(np.unique(new)) <= {0.0, 1.0}


def test_resnet101_weights_must_exist():
    with pytest.raises(FileNotFoundError, match="ResNet-101 weights file"):
        ImageEncoder(8, 4, S, resnet101_weights="/nonexistent/resnet101.h5")


@pytest.mark.parametrize("edit", [False, True])
def test_ablation_switches_change_the_model(edit):
    batch = fake_batch(2)
    make = tiny_edit_model if edit else tiny_model
    keras.utils.set_random_seed(1)
    full = make()
    if edit:  # EditUNet's colour transform starts at the identity (it copies): open it
        kernel = full.generator.to_transform.kernel
        kernel.assign(tf.random.normal(kernel.shape, stddev=0.1, seed=1))
    keras.utils.set_random_seed(1)
    no_attn = make(use_attention=False)
    no_attn.set_weights(full.get_weights())
    a = full.generate_session(batch)["images"].numpy()
    b = no_attn.generate_session(batch)["images"].numpy()
    assert np.abs(a - b).max() > 1e-4


def test_single_turn_baseline_sees_no_image_and_no_history():
    model = tiny_edit_model(use_history=False)
    batch = fake_batch(2)
    other = dict(batch, images=tf.random.uniform(batch["images"].shape, -1, 1, seed=3))
    a = model.generate_session(batch)["images"].numpy()
    b = model.generate_session(other)["images"].numpy()
    np.testing.assert_allclose(a, b, atol=1e-6)  # x0 (and so every earlier turn) is ignored


def _generator_args():
    previous = tf.clip_by_value(_f(2, S, S, 3), -1.0, 1.0)
    design = tf.one_hot([[0, 3 + 1], [2, 3 + 3]], 7)
    design = tf.reduce_sum(design, axis=1)
    mask = tf.constant([[True] * 5, [True] * 5])
    return previous, (previous, design, design, _f(2, 6), _f(2, 5, 6), mask)


def test_edit_generator_copies_where_its_mask_is_closed():
    """The output is m * x_new + (1 - m) * x_{t-1}: with the mask shut it is x_{t-1}."""
    g = EditGenerator([3, 4], 4, S)
    previous, args = _generator_args()
    assert np.abs(g(*args)["image"] - previous).max() > 1e-3  # an open mask edits
    kernel, _ = g.to_mask.get_weights()
    g.to_mask.set_weights([np.zeros_like(kernel), np.full([1], -50.0, np.float32)])
    np.testing.assert_allclose(g(*args)["image"], previous, atol=1e-6)


def test_hard_mask_copies_or_redraws_each_pixel_at_inference_only():
    g = EditGenerator([3, 4], 4, S, mask_threshold=0.5)
    previous, args = _generator_args()
    out = {k: np.asarray(v) for k, v in g(*args).items()}
    hard = out["mask"] > 0.5
    assert 0 < hard.mean() < 1  # both kinds of pixel occur
    np.testing.assert_allclose(out["image"], np.where(hard, out["drawn"], previous), atol=1e-6)
    # Training composes with the soft mask (its gradient trains the mask).
    soft = np.asarray(g(*args, training=True)["image"])
    expected = out["mask"] * out["drawn"] + (1 - out["mask"]) * np.asarray(previous)
    np.testing.assert_allclose(soft, expected, atol=1e-5)
    with pytest.raises(ValueError, match="mask_threshold"):
        EditGenerator([3, 4], 4, S, mask_threshold=1.0)


def test_templates_follow_the_shift_read_off_the_image():
    g = EditGenerator([2], 2, S, max_shift=1)
    g(
        *_generator_args()[1][:1],
        tf.ones([2, 2]) / 2,
        tf.ones([2, 2]) / 2,
        _f(2, 6),
        _f(2, 5, 6),
        tf.constant([[True] * 5] * 2),
    )
    design = tf.constant([[1.0, 0.0]])
    left = tf.constant([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])  # x: -1, y: 0
    centre = tf.constant([[[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]]])
    a = g.place(design, left).numpy()
    b = g.place(design, centre).numpy()
    np.testing.assert_allclose(a[:, :, 1:], b[:, :, :-1], atol=1e-6)


def test_the_matrix_colour_transform_mixes_channels_and_starts_at_the_identity():
    """colour_transform="matrix": each pixel's drawing is (I + M) x + b with a 3x3 M, so an
    output channel can take its light from another channel; untrained, it copies."""
    from seqgan_tf.models.edit_unet import EditUNet

    previous, args = _generator_args()
    unet = EditUNet(gf_dim=4, image_size=S, colour_transform="matrix")
    out = unet(*args, compose=False)
    np.testing.assert_allclose(out["image"].numpy(), previous.numpy(), atol=1e-6)
    # A bias on the transform's 12 channels that swaps red and blue everywhere: M = P - I.
    swap = np.array([[0, 0, 1], [0, 1, 0], [1, 0, 0]], np.float32) - np.eye(3, dtype=np.float32)
    unet.to_transform.bias.assign(np.concatenate([swap.reshape(-1), np.zeros(3, np.float32)]))
    out = unet(*args, compose=False)
    np.testing.assert_allclose(out["image"].numpy(), previous.numpy()[..., ::-1], atol=1e-5)
    with pytest.raises(ValueError, match="colour_transform"):
        EditUNet(gf_dim=4, image_size=S, colour_transform="hsv")
    model = compiled(tiny_edit_model(colour_transform="matrix"))
    logs = model.train_step(model.preprocessor(fake_batch(4)))
    assert np.isfinite(np.asarray(logs["g_loss"])).all()


def test_backward_warp_moves_pixels_by_the_flow_and_passes_its_gradient():
    from seqgan_tf.models.image_warp import backward_warp

    images = _f(2, 6, 5, 3)
    still = backward_warp(images, tf.zeros([2, 6, 5, 2]))
    np.testing.assert_allclose(still.numpy(), images.numpy(), atol=1e-6)
    # dx = +1: each pixel takes its right neighbour's value; the last column keeps the border.
    right = backward_warp(images, tf.constant([0.0, 1.0]) * tf.ones([2, 6, 5, 2]))
    np.testing.assert_allclose(right.numpy()[:, :, :-1], images.numpy()[:, :, 1:], atol=1e-6)
    np.testing.assert_allclose(right.numpy()[:, :, -1], images.numpy()[:, :, -1], atol=1e-6)
    # dy = 0.5: halfway between a row and the next.
    half = backward_warp(images, tf.constant([0.5, 0.0]) * tf.ones([2, 6, 5, 2]))
    expected = 0.5 * (images.numpy()[:, :-1] + images.numpy()[:, 1:])
    np.testing.assert_allclose(half.numpy()[:, :-1], expected, atol=1e-6)
    flow = tf.Variable(tf.fill([2, 6, 5, 2], 0.3))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(backward_warp(images, flow) * images)
    assert float(tf.reduce_sum(tf.abs(tape.gradient(loss, flow)))) > 0


def test_the_appearance_flow_moves_the_item_and_starts_at_a_copy():
    """appearance_flow=True: the colour transform applies to x_{t-1} sampled at flowed
    positions; untrained, the flow is 0 and the drawing copies x_{t-1}."""
    from seqgan_tf.models.edit_unet import FLOW_UNIT, EditUNet

    previous, args = _generator_args()
    unet = EditUNet(gf_dim=4, image_size=S, appearance_flow=True)
    out = unet(*args, compose=False)
    np.testing.assert_allclose(out["image"].numpy(), previous.numpy(), atol=1e-6)
    # A bias on the flow's dx channel that moves every pixel one pixel: x_new(y, x) = x(y, x+1).
    bias = np.zeros(8, np.float32)
    bias[-1] = FLOW_UNIT / S
    unet.to_transform.bias.assign(bias)
    moved = unet(*args, compose=False)["image"].numpy()
    np.testing.assert_allclose(moved[:, :, :-1], previous.numpy()[:, :, 1:], atol=1e-5)
    again = EditUNet.from_config(unet.get_config())
    assert again.appearance_flow and again.colour_transform == "gain"
    model = compiled(tiny_edit_model(appearance_flow=True))
    logs = model.train_step(model.preprocessor(fake_batch(4)))
    assert np.isfinite(np.asarray(logs["g_loss"])).all()
