"""The texture-energy term: a weave shifted by any phase costs nothing, a flat patch where the
truth has a weave costs its contrast, while L1 and the gradient difference loss prefer the flat
patch to a shifted weave."""

import numpy as np
import pytest
import tensorflow as tf

from seqgan_tf.losses.seq_attn_gan_loss import gradient_difference
from seqgan_tf.losses.texture_energy import local_contrast, texture_energy_difference


def _weave(phase: int, size: int = 32, period: int = 4) -> tf.Tensor:
    """A plain weave of 0.4 / 0.6 checks `period` pixels across, shifted by `phase` pixels."""
    y, x = np.mgrid[:size, :size]
    checks = ((y + phase) // (period // 2) + (x + phase) // (period // 2)) % 2
    return tf.constant((0.4 + 0.2 * checks)[None, :, :, None], tf.float32)


def test_a_shifted_weave_costs_nothing_and_a_flat_patch_costs_its_contrast():
    truth, shifted = _weave(0), _weave(1)
    flat = tf.fill(truth.shape, 0.5)
    ones = tf.ones_like(truth)
    assert float(texture_energy_difference(shifted, truth, ones)[0]) == pytest.approx(0, abs=1e-6)
    # The weave's local contrast: every other neighbouring pair differs by 0.2, in y and in x.
    assert float(tf.reduce_mean(local_contrast(truth, 4, 2))) == pytest.approx(0.2, abs=1e-6)
    assert float(texture_energy_difference(flat, truth, ones)[0]) == pytest.approx(0.2, abs=1e-6)
    # Pixel by pixel, the flat patch is what L1 and the gradient difference loss prefer.
    l1 = lambda fake: float(tf.reduce_mean(tf.abs(fake - truth)))  # noqa: E731
    assert l1(flat) < l1(shifted)
    assert float(gradient_difference(flat, truth, ones)[0]) < float(
        gradient_difference(shifted, truth, ones)[0]
    )


def test_windows_count_with_the_largest_weight_inside_them():
    truth = _weave(0)
    flat = tf.fill(truth.shape, 0.5)
    heavy = tf.ones_like(truth) * 3.0
    ones = tf.ones_like(truth)
    assert float(texture_energy_difference(flat, truth, heavy)[0]) == pytest.approx(
        3 * float(texture_energy_difference(flat, truth, ones)[0])
    )
    one_pixel = np.ones(truth.shape, np.float32)
    one_pixel[0, 16, 16, 0] = 3.0
    lifted = float(texture_energy_difference(flat, truth, tf.constant(one_pixel))[0])
    assert float(texture_energy_difference(flat, truth, ones)[0]) < lifted


def test_texture_weight_needs_the_reconstruction():
    from seqgan_tf.configs import get_experiment
    from seqgan_tf.configs.overrides import override

    quick = get_experiment("quick", "synth_zap_seq")
    assert quick.train.texture_weight == 0.0
    with pytest.raises(ValueError, match="train.texture_weight must be >= 0"):
        override(quick, {"train.texture_weight": -1.0})
    with pytest.raises(ValueError, match="texture_weight is part of the reconstruction"):
        override(quick, {"train.texture_weight": 1.0, "train.recon_weight": 0.0})
