"""The colour-transform oracle: exact where the edit is one transform, not where it is not."""

import numpy as np
import pytest

from seqgan_tf.evaluation.colour_transform_oracle import oracle_errors


def _shaded_item(seed=0):
    rng = np.random.default_rng(seed)
    image = np.full((16, 16, 3), 0.95)
    shading = rng.uniform(0.4, 1.0, (8, 8, 1))
    image[4:12, 4:12] = shading * np.array([0.8, 0.3, 0.2])  # a red item under shading
    return image


def test_a_recolour_under_shading_is_one_gain_and_a_mapped_colour_one_affine():
    previous = _shaded_item()
    recoloured = previous.copy()
    recoloured[4:12, 4:12] = previous[4:12, 4:12] * np.array([0.25, 2.5, 3.0])  # blue, same light
    errors = oracle_errors(previous, recoloured)
    for kind in ("gain", "gain_bias", "affine"):
        error, previous_error = errors[kind]
        assert previous_error > 1.0 and error == pytest.approx(0.0, abs=1e-6)
    mixed = previous.copy()
    mixed[4:12, 4:12] = previous[4:12, 4:12][..., ::-1] * 0.5 + 0.2  # channels swapped, lifted
    assert oracle_errors(previous, mixed)["gain"][0] > 0.1
    assert oracle_errors(previous, mixed)["affine"][0] == pytest.approx(0.0, abs=1e-6)


def test_a_new_shape_is_not_a_colour_transform_and_no_edit_counts_nothing():
    previous = _shaded_item()
    longer = previous.copy()
    longer[0:4, 4:12] = np.random.default_rng(1).uniform(0.0, 0.5, (4, 8, 3))  # a new shaft
    error, previous_error = oracle_errors(previous, longer)["affine"]
    assert 0.1 < error / previous_error < 1.0  # a flat background cannot map to a texture
    assert oracle_errors(previous, previous) == {
        k: (0.0, 0.0) for k in ("gain", "gain_bias", "affine")
    }
    with pytest.raises(ValueError, match="must both be"):
        oracle_errors(previous, previous[..., :2])
