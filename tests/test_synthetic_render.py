"""Flat synthetic renders: every attribute value is visibly different, layout jitter stays small.

(The photographic sets have their own tests: tests/test_synthetic_photo.py.)
"""

import itertools

import numpy as np
import pytest

from tfrecords.datasets import FLAT, REGISTRY
from tfrecords.synthetic import SYNTHETIC_DATASETS, attribute_schema, layout_offset, render

FLAT_DATASETS = tuple(n for n in SYNTHETIC_DATASETS if REGISTRY[n].style == FLAT)

# A changed attribute must move at least this many pixels of a 64x64 render by > 40 levels.
MIN_CHANGED_PIXELS = 15


def _changed_pixels(a: np.ndarray, b: np.ndarray) -> int:
    return int((np.abs(a.astype(np.int16) - b.astype(np.int16)).max(-1) > 40).sum())


@pytest.mark.parametrize("name", FLAT_DATASETS)
def test_every_attribute_value_renders_distinctly(name):
    schema = attribute_schema(name)
    rng = np.random.default_rng(3)
    for _ in range(5):
        base = {k: v[int(rng.integers(len(v)))] for k, v in schema.items()}
        for attribute, values in schema.items():
            images = {v: render(name, {**base, attribute: v}) for v in values}
            for a, b in itertools.combinations(values, 2):
                changed = _changed_pixels(images[a], images[b])
                assert changed >= MIN_CHANGED_PIXELS, (attribute, a, b, base, changed)


@pytest.mark.parametrize("name", FLAT_DATASETS)
def test_patterns_are_visible_on_every_colour(name):
    schema = attribute_schema(name)
    base = {k: v[0] for k, v in schema.items()}
    for colour in schema["colour"]:
        solid = render(name, {**base, "colour": colour, "pattern": "solid"})
        for pattern in schema["pattern"][1:]:
            patterned = render(name, {**base, "colour": colour, "pattern": pattern})
            assert _changed_pixels(solid, patterned) >= 40, (colour, pattern)


def test_render_shape_dtype_and_resolution():
    attributes = {k: v[1] for k, v in attribute_schema("synth_zap_seq").items()}
    small = render("synth_zap_seq", attributes)
    assert small.shape == (64, 64, 3) and small.dtype == np.uint8
    big = render("synth_zap_seq", attributes, image_size=128)
    assert big.shape == (128, 128, 3)
    assert small.std() > 10  # not a blank canvas


@pytest.mark.parametrize("name", FLAT_DATASETS)
def test_layout_jitter_is_at_most_two_pixels(name):
    attributes = {k: v[0] for k, v in attribute_schema(name).items()}

    def centroid(image):
        ink = np.abs(image.astype(np.int16) - image[0, 0].astype(np.int16)).max(-1) > 30
        ys, xs = np.nonzero(ink)
        return np.array([xs.mean(), ys.mean()])

    centre = centroid(render(name, attributes))
    for seed in range(1, 12):
        dx, dy = layout_offset(seed)
        assert abs(dx) <= 8 and abs(dy) <= 8
        shift = centroid(render(name, attributes, layout_seed=seed)) - centre
        assert np.all(np.abs(shift) <= 2.5), (seed, shift)
    assert layout_offset(0) == (0, 0)
    assert len({layout_offset(s) for s in range(1, 30)}) > 5


def test_render_rejects_bad_attributes():
    good = {k: v[0] for k, v in attribute_schema("synth_deepfashion_seq").items()}
    with pytest.raises(ValueError, match="missing attributes"):
        render("synth_deepfashion_seq", {k: v for k, v in good.items() if k != "colour"})
    with pytest.raises(ValueError, match="no value 'teal'"):
        render("synth_deepfashion_seq", {**good, "colour": "teal"})
    with pytest.raises(ValueError, match="unknown synthetic dataset"):
        render("synth_cars", good)
