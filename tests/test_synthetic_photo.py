"""Photographic synthetic sets: determinism, a look fixed within a session and varied between
sessions, shading that a recolour keeps, every attribute value renders, a build through the
build_dataset entry point."""

import numpy as np
import pytest
from scipy import ndimage

from scripts import build_dataset
from tfrecords import builders
from tfrecords.build.request import BuildRequest
from tfrecords.datasets import PHOTO, REGISTRY
from tfrecords.synthetic import (
    SYNTHETIC_DATASETS,
    attribute_schema,
    generator_version,
    make_session,
    plan_session,
    render,
)

PHOTO_DATASETS = tuple(n for n in SYNTHETIC_DATASETS if REGISTRY[n].style == PHOTO)


def _item_mask(image: np.ndarray, threshold: float = 28) -> np.ndarray:
    """Pixels that differ clearly from the backdrop (estimated from the top corners)."""
    backdrop = np.concatenate([image[:4, :4], image[:4, -4:]]).reshape(-1, 3).mean(0)
    return np.abs(image.astype(np.float32) - backdrop).max(-1) > threshold


def _corners(image: np.ndarray, size: int = 8) -> np.ndarray:
    s = size
    return np.stack([image[:s, :s], image[:s, -s:], image[-s:, :s], image[-s:, -s:]]).astype(
        np.float32
    )


def _luma(image: np.ndarray) -> np.ndarray:
    return image.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)


def test_photo_sets_are_registered():
    assert "photo_zap_seq" in PHOTO_DATASETS
    for name in PHOTO_DATASETS:
        assert generator_version(name).startswith("photo-")
        assert len(attribute_schema(name)) >= 5


@pytest.mark.parametrize("name", PHOTO_DATASETS)
def test_sessions_are_deterministic_by_seed_and_index(name):
    a = make_session(name, seed=4, index=7)
    b = make_session(name, seed=4, index=7)
    c = make_session(name, seed=5, index=7)
    assert a.descriptions == b.descriptions
    assert all(np.array_equal(x, y) for x, y in zip(a.images, b.images))
    assert not np.array_equal(a.images[0], c.images[0])


@pytest.mark.parametrize("name", PHOTO_DATASETS)
def test_untouched_pixels_stay_within_a_session(name):
    checked = far_pixels = 0
    for index in range(16):
        session = make_session(name, seed=0, index=index)
        for t, changed in enumerate(session.changed_attributes):
            if "category" in changed:  # a new item: its shape and its shadow change everywhere
                continue
            before, after = session.images[t], session.images[t + 1]
            # Pixels away from what the edit changed (sensor noise and JPEG included) stay:
            # more than 16 px (two JPEG colour blocks) from any pixel that moved by > 20.
            edited = np.abs(before.astype(int) - after.astype(int)).max(-1) > 20
            far = ndimage.distance_transform_edt(~edited) > 16
            moved = np.abs(before.astype(np.float32) - after.astype(np.float32)).max(-1)
            if far.any():
                assert moved[far].mean() < 1.0, (index, changed, moved[far].mean())
            far_pixels += int(far.sum())
            a, b = _item_mask(before), _item_mask(after)
            # Size and position are kept: the items overlap (a heel change lifts the back).
            assert (a & b).sum() > 0.6 * min(a.sum(), b.sum()), (index, changed)
            checked += 1
    assert checked > 15 and far_pixels > 0.2 * checked * 64 * 64


@pytest.mark.parametrize("name", PHOTO_DATASETS)
def test_size_position_light_and_backdrop_vary_between_sessions(name):
    attributes = {k: v[0] for k, v in attribute_schema(name).items()}
    areas, centres, backdrops, spreads = [], [], [], []
    for seed in range(1, 13):
        image = render(name, attributes, layout_seed=seed)
        mask = _item_mask(image)
        ys, xs = np.nonzero(mask)
        areas.append(mask.sum())
        centres.append((xs.mean(), ys.mean()))
        backdrops.append(_corners(image)[:2].mean())
        spreads.append(
            np.percentile(_luma(image)[mask], 90) - np.percentile(_luma(image)[mask], 10)
        )
    assert np.std(areas) / np.mean(areas) > 0.1
    assert np.std(np.asarray(centres), axis=0).min() > 1.0
    assert np.std(backdrops) > 1.5
    assert np.std(spreads) > 2.0  # the light's strength and direction change the shading


@pytest.mark.parametrize("name", PHOTO_DATASETS)
def test_a_recolour_keeps_the_shading(name):
    schema = attribute_schema(name)
    rng = np.random.default_rng(0)
    for seed in range(1, 7):
        base = {k: v[int(rng.integers(len(v)))] for k, v in schema.items()}
        if "pattern" in schema:  # a print's ink and a collar's trim are dark on light colours
            base.update(pattern="solid", neckline="round")  # and light on dark ones
        grey = render(name, {**base, "colour": "grey"}, layout_seed=seed)
        for colour in ("green", "tan", "blue"):
            other = render(name, {**base, "colour": colour}, layout_seed=seed)
            inside = _item_mask(grey) & _item_mask(other)
            corr = np.corrcoef(_luma(grey)[inside], _luma(other)[inside])[0, 1]
            assert corr > 0.7, (seed, base, colour, corr)
            hue_moved = np.abs(grey.astype(int) - other.astype(int))[inside].max(-1).mean()
            assert hue_moved > 20, (seed, colour, hue_moved)


@pytest.mark.parametrize("name", PHOTO_DATASETS)
def test_every_attribute_value_renders_and_changes_the_image(name):
    schema = attribute_schema(name)
    rng = np.random.default_rng(1)
    for attribute, values in schema.items():
        base = {k: v[int(rng.integers(len(v)))] for k, v in schema.items()}
        seed = int(rng.integers(1, 1000))
        images = [render(name, {**base, attribute: v}, layout_seed=seed) for v in values]
        for value, image in zip(values, images):
            assert image.shape == (64, 64, 3) and image.dtype == np.uint8
            assert _item_mask(image).sum() > 150, (attribute, value)
        for i in range(len(values)):
            for j in range(i + 1, len(values)):
                moved = (np.abs(images[i].astype(int) - images[j].astype(int)).max(-1) > 30).sum()
                assert moved >= 8, (attribute, values[i], values[j], moved)


@pytest.mark.parametrize("name", PHOTO_DATASETS)
def test_descriptions_and_walks_reuse_the_planner(name):
    schema = attribute_schema(name)
    for index in range(20):
        plan = plan_session(name, 0, index)
        assert 3 <= len(plan.states) <= 5
        for t, changed in enumerate(plan.changed_attributes):
            assert [k for k in schema if plan.states[t][k] != plan.states[t + 1][k]] == changed


def test_a_tiny_build_through_build_dataset(tmp_path):
    info, built = builders.build(
        BuildRequest("photo_zap_seq", str(tmp_path), num_sessions=6, image_size=32)
    )
    assert built and info["num_sessions"] == 6
    assert info["generator"]["version"] == generator_version("photo_zap_seq")
    assert "photo_zap_seq" in build_dataset.FLAGS["dataset"].parser.enum_values


@pytest.mark.parametrize("name", PHOTO_DATASETS)
def test_retrieved_sessions_chain_different_items_with_the_same_walk(name):
    for index in range(4):
        edited = make_session(name, seed=0, index=index)
        retrieved = make_session(name, seed=0, index=index, retrieved=True)
        assert retrieved.attributes == edited.attributes
        assert retrieved.descriptions == edited.descriptions
        assert np.array_equal(retrieved.images[0], edited.images[0])
        for t in range(1, len(edited.images)):
            # Another item: another backdrop, noise and framing even where no attribute acts.
            moved = np.abs(_corners(retrieved.images[t]) - _corners(retrieved.images[t - 1]))
            assert moved.mean() > 1.0, (index, t)


def test_a_tiny_retrieved_build_records_its_kind(tmp_path):
    info, built = builders.build(
        BuildRequest(
            "photo_deepfashion_seq", str(tmp_path), num_sessions=3, image_size=16, retrieved=True
        )
    )
    assert built and info["build_params"]["sessions"] == "retrieved"
    assert info["generator"]["sessions"] == "retrieved"
    plain, _ = builders.build(
        BuildRequest(
            "photo_deepfashion_seq", str(tmp_path / "plain"), num_sessions=3, image_size=16
        )
    )
    assert "sessions" not in plain["build_params"]
    with pytest.raises(ValueError, match="not synthetic"):
        builders.build(BuildRequest("zap_seq", str(tmp_path), retrieved=True))


@pytest.mark.parametrize("category", ["sneaker", "pump", "loafer", "sandal"])
def test_a_zip_shows_at_64_px_on_a_low_shoe(category):
    # photo-1.4.0: on low shoes the 1.3.0 zip changed as few as 9 pixels of a 64x64 image
    # (the judge read it as slip-on); the back-seam zip with a contrasting tape and a pull over
    # the collar changes at least 23 in every one of these looks, sizes, colours and heels.
    from tfrecords.synthetic.photo_look import draw_look
    from tfrecords.synthetic.photo_shoes import SHOE_SHAPE, render_photo_shoe

    counts = []
    for seed in range(12):
        look = draw_look(seed, SHOE_SHAPE)
        design = {
            "category": category,
            "colour": ("navy", "white", "black", "tan")[seed % 4],
            "heel": ("flat", "high")[seed % 2],
            "material": "leather",
        }
        zip_ = render_photo_shoe({**design, "closure": "zipper"}, look) / 255.0
        none = render_photo_shoe({**design, "closure": "slip_on"}, look) / 255.0
        counts.append(int((np.abs(zip_ - none).max(-1) > 0.15).sum()))
    assert min(counts) >= 20, counts
