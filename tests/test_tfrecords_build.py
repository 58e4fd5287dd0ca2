"""Synthetic builds: shard round trip, splits, determinism, atomic writes, rebuild checks."""

import glob
import json
import os

import pytest
import tensorflow as tf

from tests.tfrecords_testlib import FAKE_SCHEMA, fake_generate_sessions
from tfrecords import shard_writer
from tfrecords.build_common import assign_splits
from tfrecords.dataset_info import SPLITS, split_sizes
from tfrecords.session_format import example_to_session
from tfrecords.synthetic_builder import build_synthetic

DATASET = "synth_zap_seq"


def _build(data_dir, num_sessions=40, seed=3, num_shards=None, generate_fn=None, **kwargs):
    return build_synthetic(
        DATASET,
        str(data_dir),
        num_sessions,
        seed=seed,
        num_shards=num_shards or {"train": 3, "val": 1, "test": 2},
        image_size=16,
        generate_fn=generate_fn or fake_generate_sessions,
        schema=FAKE_SCHEMA,
        generator_version="fake-1",
        **kwargs,
    )


def _read_split(build_dir, info, split):
    files = [os.path.join(build_dir, f) for f in info["splits"][split]["files"]]
    return [example_to_session(r.numpy()) for r in tf.data.TFRecordDataset(files)]


def test_round_trip_every_session_and_pixel(tmp_path):
    info = _build(tmp_path)
    build_dir = os.path.join(tmp_path, DATASET, "1.0.0")
    expected = {s.session_id: s for s in fake_generate_sessions(DATASET, 40, seed=3, image_size=16)}
    read = [s for split in SPLITS for s in _read_split(build_dir, info, split)]
    assert sorted(s.session_id for s in read) == sorted(expected)
    for session in read:
        original = expected[session.session_id]
        assert len(session.images) == len(original.images)
        for a, b in zip(session.images, original.images):
            assert (a == b).all()
        assert session.descriptions == original.descriptions
        assert session.attributes == original.attributes
        assert session.phrase_types == original.phrase_types
        assert session.changed_attributes == original.changed_attributes
    assert info["attribute_schema"] == {k: list(v) for k, v in FAKE_SCHEMA.items()}
    assert info["statistics"]["num_sessions"] == 40
    assert info["vocabulary"]["unique_words"] > 0
    assert info["generator"]["seed"] == 3
    on_disk = json.load(open(os.path.join(build_dir, "dataset_info.json")))
    assert on_disk["split_sizes"] == info["split_sizes"]
    assert sorted(os.listdir(build_dir)) == sorted(
        ["dataset_info.json"] + [f for s in SPLITS for f in info["splits"][s]["files"]]
    )


def test_splits_are_disjoint_with_85_5_10_proportions(tmp_path):
    info = _build(tmp_path, num_sessions=100)
    # By hash of (seed, index): near 85/5/10, exactly what split_rule gives.
    assert info["split_sizes"] == assign_splits([str(i) for i in range(100)], 3)[1]
    assert 75 <= info["split_sizes"]["train"] <= 95 and info["split_sizes"]["test"] >= 5
    build_dir = os.path.join(tmp_path, DATASET, "1.0.0")
    ids = {split: {s.session_id for s in _read_split(build_dir, info, split)} for split in SPLITS}
    assert {split: len(v) for split, v in ids.items()} == info["split_sizes"]
    assert not ids["train"] & ids["val"] and not ids["train"] & ids["test"]
    assert not ids["val"] & ids["test"]
    assert split_sizes(1000) == {"train": 850, "val": 50, "test": 100}


def test_split_assignment_depends_on_seed():
    keys = [str(i) for i in range(50)]
    assert assign_splits(keys, 0) == assign_splits(keys, 0)
    assert assign_splits(keys, 0)[0] != assign_splits(keys, 1)[0]


def test_build_is_deterministic_per_seed(tmp_path):
    def shard_bytes(root, seed):
        _build(root, seed=seed)
        files = sorted(glob.glob(os.path.join(root, DATASET, "1.0.0", "*.tfrecord")))
        return {os.path.basename(f): open(f, "rb").read() for f in files}

    first = shard_bytes(tmp_path / "a", 7)
    assert first == shard_bytes(tmp_path / "b", 7)
    assert first != shard_bytes(tmp_path / "c", 8)


def _failing_generator(fail_after):
    def generate(name, num_sessions, seed, image_size=32, start=0):
        for i, session in enumerate(fake_generate_sessions(name, num_sessions, seed, image_size)):
            if i == fail_after:
                raise RuntimeError("simulated crash")
            yield session

    return generate


def test_crash_mid_shard_leaves_no_incomplete_shard_and_no_info(tmp_path):
    # 40 sessions, train (34) in 3 shards; a crash after 20 sessions is inside some shard.
    with pytest.raises(RuntimeError, match="simulated crash"):
        _build(tmp_path, generate_fn=_failing_generator(20))
    build_dir = os.path.join(tmp_path, DATASET, "1.0.0")
    names = os.listdir(build_dir)
    assert "dataset_info.json" not in names
    assert not [n for n in names if n.startswith(shard_writer.TEMP_PREFIX)]
    # Every file under a shard name is complete: its record count equals its planned size.
    assignment, sizes = assign_splits([str(i) for i in range(40)], 3)
    planned = {
        shard_writer.shard_filename(split, i, n): size
        for split, n in {"train": 3, "val": 1, "test": 2}.items()
        for i, size in enumerate(shard_writer.shard_sizes(sizes[split], n))
    }
    for name in names:
        count = sum(1 for _ in tf.data.TFRecordDataset(os.path.join(build_dir, name)))
        assert count == planned[name], name
    assert len(names) < len(planned)  # The crash prevented some shards.

    # A leftover temporary file (as a kill would leave) is removed by the next build.
    leftover = os.path.join(build_dir, ".tmp-deadbeef-train-00001-of-00003.tfrecord.partial")
    open(leftover, "wb").write(b"garbage")
    info = _build(tmp_path)
    assert not os.path.exists(leftover)
    assert os.path.exists(os.path.join(build_dir, "dataset_info.json"))
    assert sum(info["split_sizes"].values()) == 40


def test_crash_while_renaming_a_shard_keeps_the_build_incomplete(tmp_path, monkeypatch):
    real_replace = os.replace
    calls = []

    def flaky_replace(src, dst):
        if dst.endswith(".tfrecord"):  # shards only (the build marker is renamed too)
            calls.append(dst)
        if len(calls) == 2:
            raise OSError("simulated kill during rename")
        real_replace(src, dst)

    monkeypatch.setattr(shard_writer.os, "replace", flaky_replace)
    with pytest.raises(OSError, match="simulated kill"):
        _build(tmp_path)
    build_dir = os.path.join(tmp_path, DATASET, "1.0.0")
    assert not os.path.exists(os.path.join(build_dir, "dataset_info.json"))
    assert len(glob.glob(os.path.join(build_dir, "*.tfrecord"))) == 1
    assert not glob.glob(os.path.join(build_dir, ".tmp-*"))


def test_sharded_writer_rejects_wrong_record_counts(tmp_path):
    writer = shard_writer.ShardedWriter(str(tmp_path), "train", num_examples=2, num_shards=2)
    writer.write(b"a")
    with pytest.raises(ValueError, match="wrote 1 of 2"):
        writer.close()
    # The completed first shard stays (no dataset_info.json marks it); nothing else is left.
    assert sorted(os.listdir(tmp_path)) == ["train-00000-of-00002.tfrecord"]
    writer = shard_writer.ShardedWriter(str(tmp_path), "val", num_examples=1, num_shards=1)
    writer.write(b"a")
    with pytest.raises(ValueError, match="more than"):
        writer.write(b"b")


def test_empty_shards_are_written_when_a_split_is_tiny(tmp_path):
    info = _build(tmp_path, num_sessions=3, num_shards=4)
    assert info["split_sizes"] == {"train": 1, "val": 1, "test": 1}
    assert all(info["splits"][s]["num_shards"] == 1 for s in SPLITS)


def test_worker_processes_write_the_same_bytes(tmp_path):
    def shard_bytes(root, workers):
        _build(root, num_sessions=60, num_workers=workers)
        files = sorted(glob.glob(os.path.join(root, DATASET, "1.0.0", "*.tfrecord")))
        return {os.path.basename(f): open(f, "rb").read() for f in files}

    assert shard_bytes(tmp_path / "one", 1) == shard_bytes(tmp_path / "two", 2)
