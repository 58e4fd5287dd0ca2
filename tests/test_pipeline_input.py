"""The tf.data input pipeline over tiny synthetic shards."""

import os

import numpy as np
import pytest
import tensorflow as tf

from seqgan_tf.data.input_pipeline import (
    count_turns,
    held_batches,
    load_dataset_info,
    make_dataset,
    make_distributed_dataset,
)
from tests.tfrecords_testlib import FAKE_SCHEMA, fake_generate_sessions
from tfrecords.session import PHRASE_TYPES, Session
from tfrecords.synthetic_builder import build_synthetic

DATASET = "synth_zap_seq"
SIZE = 16
NUM_SESSIONS = 50  # the val split (1 shard) needs >= 2 sessions for two pipelines
SHARDS = {"train": 4, "val": 1, "test": 2}


def _build(data_dir, generate_fn=fake_generate_sessions, num_sessions=NUM_SESSIONS):
    build_synthetic(
        DATASET,
        str(data_dir),
        num_sessions,
        seed=0,
        num_shards=SHARDS,
        image_size=SIZE,
        generate_fn=generate_fn,
        schema=FAKE_SCHEMA,
        generator_version="fake-1",
    )
    return str(data_dir)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return _build(tmp_path_factory.mktemp("data"))


def _eval_batches(data_dir, split, max_turns=4, **kwargs):
    ds = make_dataset(
        data_dir,
        DATASET,
        split,
        8,
        is_training=False,
        max_turns=max_turns,
        image_size=SIZE,
        **kwargs,
    )
    return list(ds.as_numpy_iterator())


def _sessions():
    return {
        s.session_id: s for s in fake_generate_sessions(DATASET, NUM_SESSIONS, 0, image_size=SIZE)
    }


def test_eval_pipeline_returns_every_pixel_and_field(data_dir):
    expected = _sessions()
    names = list(FAKE_SCHEMA)
    seen = []
    for split in ("train", "val", "test"):
        for batch in _eval_batches(data_dir, split):
            for b, session_id in enumerate(batch["session_id"]):
                s: Session = expected[session_id.decode()]
                seen.append(s.session_id)
                t = s.num_turns
                assert batch["num_turns"][b] == t
                pixels = np.round((batch["images"][b, : t + 1] + 1.0) * 127.5).astype(np.uint8)
                np.testing.assert_array_equal(pixels, np.stack(s.images))
                assert [d.decode() for d in batch["descriptions"][b, :t]] == s.descriptions
                prev = [
                    " ".join(a.split("=")[1].replace("_", " ") for a in attrs)
                    for attrs in s.attributes[:t]
                ]
                assert [p.decode() for p in batch["prev_attribute_text"][b, :t]] == prev
                ids = [
                    [list(FAKE_SCHEMA[n]).index(a.split("=")[1]) for n, a in zip(names, x)]
                    for x in s.attributes
                ]
                np.testing.assert_array_equal(batch["attribute_ids"][b, : t + 1], ids)
                changed = np.zeros((t, len(names)), np.float32)
                for turn, c in enumerate(s.changed_attributes):
                    changed[turn, [names.index(n) for n in c]] = 1.0
                np.testing.assert_array_equal(batch["changed_mask"][b, :t], changed)
                np.testing.assert_array_equal(
                    batch["phrase_type_id"][b, :t], [PHRASE_TYPES.index(p) for p in s.phrase_types]
                )
    assert sorted(seen) == sorted(expected)


def test_turn_mask_and_zero_padding(data_dir):
    for batch in _eval_batches(data_dir, "train"):
        for b, t in enumerate(batch["num_turns"]):
            assert t in (2, 3, 4)
            np.testing.assert_array_equal(batch["turn_mask"][b], [1.0] * t + [0.0] * (4 - t))
            assert (batch["images"][b, t + 1 :] == 0).all()
            assert (batch["descriptions"][b, t:] == b"").all()
            assert (batch["prev_attribute_text"][b, t:] == b"").all()
            assert (batch["attribute_ids"][b, t + 1 :] == -1).all()
            assert (batch["changed_mask"][b, t:] == 0).all()
            assert (batch["phrase_type_id"][b, t:] == -1).all()
            assert (batch["attribute_ids"][b, : t + 1] >= 0).all()


def test_long_sessions_are_truncated_to_max_turns(data_dir):
    expected = _sessions()
    for batch in _eval_batches(data_dir, "train", max_turns=2):
        assert batch["images"].shape[1:] == (3, SIZE, SIZE, 3)
        assert (batch["num_turns"] == 2).all() and (batch["turn_mask"] == 1).all()
        s = expected[batch["session_id"][0].decode()]
        assert [d.decode() for d in batch["descriptions"][0]] == s.descriptions[:2]


def test_eval_resizes_to_the_requested_image_size(data_dir):
    ds = make_dataset(data_dir, DATASET, "val", 2, is_training=False, image_size=8)
    batch = next(iter(ds))
    assert batch["images"].shape[2:] == (8, 8, 3)
    assert float(tf.reduce_min(batch["images"])) >= -1.0
    assert float(tf.reduce_max(batch["images"])) <= 1.0


def _pattern_sessions(name, num_sessions, seed, image_size=SIZE, start=0):
    # Every turn is the same asymmetric image: red grows with x, green grows with y.
    y, x = np.mgrid[0:image_size, 0:image_size]
    image = np.stack([x * 15, y * 15, np.zeros_like(x)], axis=-1).astype(np.uint8)
    for i in range(start, start + num_sessions):
        turns = 2 + i % 3
        yield Session(
            session_id=f"{name}-{seed}-{i:07d}",
            images=[image.copy() for _ in range(turns + 1)],
            descriptions=["same"] * turns,
            attributes=[["color=red"]] * (turns + 1),
        )


def test_training_flip_and_crop_are_the_same_for_every_turn(tmp_path):
    data_dir = _build(tmp_path, generate_fn=_pattern_sessions, num_sessions=20)
    ds = make_dataset(data_dir, DATASET, "train", 4, is_training=True, image_size=SIZE)
    flipped, offsets = set(), set()
    for batch in ds.take(8).as_numpy_iterator():
        assert batch["images"].shape == (4, 5, SIZE, SIZE, 3)
        for b, t in enumerate(batch["num_turns"]):
            images = batch["images"][b]
            for turn in range(1, t + 1):
                np.testing.assert_array_equal(images[turn], images[0])
            assert (images[t + 1 :] == 0).all()
            red = images[0, :, :, 0]
            flipped.add(bool(red[:, 0].mean() > red[:, -1].mean()))
            offsets.add(round(float(images[0, 0, :, 1].mean()), 3))
    assert flipped == {True, False}
    assert len(offsets) > 1  # Several vertical crop offsets occurred.


def test_input_context_shards_files_between_pipelines(data_dir):
    def ids(split, pipeline):
        context = tf.distribute.InputContext(
            num_input_pipelines=2, input_pipeline_id=pipeline, num_replicas_in_sync=2
        )
        ds = make_dataset(
            data_dir, DATASET, split, 4, is_training=False, image_size=SIZE, input_context=context
        )
        batches = list(ds.as_numpy_iterator())
        assert all(len(b["session_id"]) <= 2 for b in batches)  # Per-replica batch size.
        return [s for b in batches for s in b["session_id"]]

    info = load_dataset_info(data_dir, DATASET)
    for split in ("train", "val"):  # val has 1 shard: records are sharded instead.
        first, second = ids(split, 0), ids(split, 1)
        assert first and second
        assert not set(first) & set(second)
        assert len(first) + len(second) == info["split_sizes"][split]


def test_distributed_dataset_on_two_cpu_replicas(data_dir, two_cpu_devices):
    strategy = tf.distribute.MirroredStrategy(two_cpu_devices)
    ds = make_distributed_dataset(strategy, data_dir, DATASET, "train", 4, True, image_size=SIZE)
    batch = next(iter(ds))
    per_replica = strategy.experimental_local_results(batch["images"])
    assert [r.shape[0] for r in per_replica] == [2, 2]


def test_missing_build_names_the_build_commands(tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        make_dataset(str(tmp_path), "deepfashion_seq", "train", 4, is_training=True)
    message = str(error.value)
    assert (
        f"python scripts/build_dataset.py --dataset=deepfashion_seq --raw_dir=/path/to/raw "
        f"--data_dir={tmp_path}" in message
    )
    assert "synth_deepfashion_seq" in message
    assert (
        f"python scripts/build_dataset.py --dataset=synth_deepfashion_seq --data_dir={tmp_path}"
        in message
    )


def test_interrupted_build_is_not_read(tmp_path):
    data_dir = _build(tmp_path)
    os.remove(os.path.join(data_dir, DATASET, "1.0.0", "dataset_info.json"))
    with pytest.raises(FileNotFoundError, match="interrupted build"):
        make_dataset(data_dir, DATASET, "train", 4, is_training=True)


def test_bad_arguments(data_dir):
    with pytest.raises(ValueError, match="unknown split"):
        make_dataset(data_dir, DATASET, "dev", 4, is_training=False)
    with pytest.raises(ValueError, match="unknown dataset"):
        make_dataset(data_dir, "mnist", "train", 4, is_training=False)
    assert _eval_batches(data_dir, "validation")  # Alias of "val".


def test_dataset_without_schema_or_phrase_types(tmp_path):
    # A raw build whose sessions have no attributes: A = 0 and unknown phrase types.
    from PIL import Image

    from tfrecords.build.raw_build import build_raw

    raw = tmp_path / "raw"
    (raw / "images").mkdir(parents=True)
    lines = []
    for i in range(3):
        for j in range(3):
            Image.fromarray(np.full((12, 12, 3), 20 * i + j, np.uint8)).save(
                raw / "images" / f"{i}{j}.png"
            )
        images = [f"{i}{j}.png" for j in range(3)]
        lines.append(f'{{"session_id": "s{i}", "images": {images}, "descriptions": ["a", "b"]}}')
    (raw / "sessions.jsonl").write_text("\n".join(lines).replace("'", '"') + "\n")
    build_raw(str(raw), "zap_seq", str(tmp_path / "data"), image_size=SIZE)
    ds = make_dataset(str(tmp_path / "data"), "zap_seq", "train", 2, is_training=True)
    batch = next(iter(ds))
    assert batch["images"].shape == (2, 5, 64, 64, 3)
    assert batch["attribute_ids"].shape == (2, 5, 0)
    assert batch["changed_mask"].shape == (2, 4, 0)
    np.testing.assert_array_equal(batch["phrase_type_id"].numpy(), -np.ones((2, 4)))
    np.testing.assert_array_equal(batch["turn_mask"].numpy(), [[1, 1, 0, 0]] * 2)
    assert (batch["prev_attribute_text"].numpy() == b"").all()


@pytest.mark.parametrize("max_turns", [1, 2, 4])
def test_count_turns_is_the_real_turns_make_dataset_yields(data_dir, max_turns):
    for split in ("train", "val", "test"):
        batches = _eval_batches(data_dir, split, max_turns=max_turns)
        real = int(sum(b["turn_mask"].sum() for b in batches))
        assert count_turns(data_dir, DATASET, split, max_turns) == real


def test_held_batches_are_the_first_batches_every_time(data_dir):
    """Validation inside fit reads held batches: the pipeline's first batches, the same on every
    pass, and a finite dataset (Keras drops and remakes the iterator every epoch)."""
    ds = make_dataset(data_dir, DATASET, "val", 1, is_training=False, image_size=SIZE)
    held = held_batches(ds, 3)
    assert held.cardinality().numpy() == 3
    first = [b["images"] for b in ds.take(3).as_numpy_iterator()]
    for _ in range(2):
        again = [b["images"] for b in held.as_numpy_iterator()]
        assert len(again) == 3
        for a, b in zip(first, again):
            np.testing.assert_array_equal(a, b)
    # Fewer batches than asked: all there are; none or a bad count: an error that says so.
    assert held_batches(ds.take(1), 3).cardinality().numpy() == 1
    with pytest.raises(ValueError, match="no batch"):
        held_batches(ds.take(0), 2)
    with pytest.raises(ValueError, match="count must be >= 1"):
        held_batches(ds, 0)
