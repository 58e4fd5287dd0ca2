"""SSIM, FID and Inception Score on hand-made arrays."""

import numpy as np
import pytest

from seqgan_tf.evaluation.image_metrics import (
    fid_from_features,
    frechet_distance,
    inception_score,
    mean_head_inception_score,
    ssim,
)


def _images(seed=0, n=3, size=32):
    rng = np.random.default_rng(seed)
    smooth = rng.uniform(0.2, 0.8, size=(n, size // 8, size // 8, 3))
    return np.kron(smooth, np.ones((1, 8, 8, 1))).astype(np.float32)


def test_ssim_identical_is_one_and_noise_lowers_it():
    images = _images()
    np.testing.assert_allclose(ssim(images, images), 1.0, atol=1e-5)
    noisy = np.clip(images + np.random.default_rng(1).normal(0, 0.1, images.shape), 0, 1)
    noisier = np.clip(images + np.random.default_rng(1).normal(0, 0.3, images.shape), 0, 1)
    s1, s2 = ssim(images, noisy.astype(np.float32)), ssim(images, noisier.astype(np.float32))
    assert (s1 < 0.99).all() and (s2 < s1).all()


def test_ssim_uint8_with_max_val():
    images = (_images() * 255).astype(np.uint8)
    np.testing.assert_allclose(ssim(images, images, max_val=255), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match="shapes differ"):
        ssim(images, images[:2], max_val=255)


def test_fid_self_is_zero_and_grows_with_mean_shift():
    features = np.random.default_rng(0).normal(size=(500, 8))
    assert fid_from_features(features, features) == pytest.approx(0.0, abs=1e-6)
    fids = [fid_from_features(features, features + shift) for shift in (0.1, 0.5, 1.0, 2.0)]
    assert all(a < b for a, b in zip(fids, fids[1:]))
    # A pure mean shift of s in every one of D dims adds D * s^2.
    assert fids[-1] == pytest.approx(8 * 4.0, rel=1e-6)


def test_frechet_distance_singular_covariance_is_finite():
    mu = np.zeros(4)
    singular = np.diag([1.0, 1.0, 0.0, 0.0])
    value = frechet_distance(mu, singular, mu + 1.0, np.eye(4))
    assert np.isfinite(value) and value > 0
    with pytest.raises(ValueError):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))


def test_inception_score_uniform_and_confident():
    uniform = np.full((100, 10), 0.1)
    assert inception_score(uniform)[0] == pytest.approx(1.0)
    confident = np.eye(10)[np.arange(100) % 10]
    assert inception_score(confident)[0] == pytest.approx(10.0, rel=1e-6)
    mean, std = inception_score(confident, splits=5)
    assert mean == pytest.approx(10.0, rel=1e-6) and std == pytest.approx(0.0, abs=1e-9)
    # Confident but always the same class: no diversity, IS 1.
    assert inception_score(np.eye(10)[np.zeros(50, int)])[0] == pytest.approx(1.0)


def test_mean_head_inception_score():
    heads = [np.eye(4)[np.arange(40) % 4], np.full((40, 2), 0.5)]
    assert mean_head_inception_score(heads)[0] == pytest.approx((4.0 + 1.0) / 2)
