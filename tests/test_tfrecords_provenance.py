"""A build's fingerprint, the hash split rule and the test slices (issue 20, items 3, 4, 7)."""

from __future__ import annotations

import json
import os

import pytest
import tensorflow as tf

from tests.tfrecords_testlib import FAKE_SCHEMA, fake_generate_sessions
from tfrecords.build_fingerprint import (
    fingerprint_of,
    make_fingerprint,
    read_build,
    record_build,
    same_build,
)
from tfrecords.dataset_info import read_info
from tfrecords.session_format import example_to_session
from tfrecords.split_rule import assign_splits, slice_of, split_of_key
from tfrecords.synthetic_builder import build_synthetic

DATASET = "synth_zap_seq"


def _build(root, num_sessions=30, seed=3, generate_fn=fake_generate_sessions):
    return build_synthetic(
        DATASET,
        str(root),
        num_sessions,
        seed=seed,
        image_size=8,
        generate_fn=generate_fn,
        schema=FAKE_SCHEMA,
        generator_version="fake-1",
    )


def _build_dir(root):
    return os.path.join(str(root), DATASET, "1.0.0")


def test_fingerprint_is_written_and_stable_across_identical_rebuilds(tmp_path):
    first = _build(tmp_path / "a")
    on_disk = read_info(_build_dir(tmp_path / "a"))
    assert on_disk["fingerprint"] == first["fingerprint"]
    fp = first["fingerprint"]
    assert fp["name"] == DATASET and fp["seed"] == 3 and fp["num_sessions"] == 30
    assert fp["split_sizes"] == first["split_sizes"]
    assert len(fp["id"]) == 16
    # Another folder, same parameters: same content, same fingerprint.
    second = _build(tmp_path / "b")
    assert second["fingerprint"] == fp
    # Recomputing from the shards gives the recorded one.
    assert make_fingerprint(on_disk, _build_dir(tmp_path / "a")) == fp


def test_fingerprint_changes_with_content_seed_and_size(tmp_path):
    base = _build(tmp_path / "a")["fingerprint"]
    assert not same_build(base, _build(tmp_path / "seed", seed=4)["fingerprint"])
    assert not same_build(base, _build(tmp_path / "size", num_sessions=31)["fingerprint"])

    def other_pixels(name, num_sessions, seed, image_size=32, start=0):
        for session in fake_generate_sessions(name, num_sessions, seed, image_size, start):
            session.images[0][0, 0, 0] ^= 1  # one bit of one pixel of every session
            yield session

    changed = _build(tmp_path / "pixels", generate_fn=other_pixels)["fingerprint"]
    assert changed["split_sizes"] == base["split_sizes"]
    assert changed["shards_sha256"] != base["shards_sha256"]
    assert not same_build(base, changed)


def test_fingerprint_of_an_older_build_is_computed_from_its_shards(tmp_path):
    info = _build(tmp_path)
    path = os.path.join(_build_dir(tmp_path), "dataset_info.json")
    old = {k: v for k, v in info.items() if k != "fingerprint"}
    with open(path, "w") as f:
        json.dump(old, f)
    assert (
        fingerprint_of(read_info(_build_dir(tmp_path)), _build_dir(tmp_path))
        == (info["fingerprint"])
    )
    # A corrupted shard changes it.
    shard = os.path.join(_build_dir(tmp_path), info["splits"]["train"]["files"][0])
    with open(shard, "r+b") as f:
        f.seek(20)
        byte = f.read(1)
        f.seek(20)
        f.write(bytes([byte[0] ^ 0xFF]))
    assert fingerprint_of(old, _build_dir(tmp_path))["id"] != info["fingerprint"]["id"]


def test_split_of_a_session_does_not_depend_on_the_build_size():
    small = assign_splits([str(i) for i in range(3000)], 0)[0]
    large = assign_splits([str(i) for i in range(20000)], 0)[0]
    assert large[:3000] == small
    assert small == [split_of_key(0, str(i)) for i in range(3000)]
    # Near 85/5/10.
    counts = {s: large.count(s) / len(large) for s in ("train", "val", "test")}
    assert abs(counts["train"] - 0.85) < 0.01 and abs(counts["test"] - 0.10) < 0.01


def test_built_splits_agree_between_sizes(tmp_path):
    def ids_per_split(root, n):
        info = _build(root, num_sessions=n)
        out = {}
        for split, value in info["splits"].items():
            files = [os.path.join(_build_dir(root), f) for f in value["files"]]
            out[split] = {
                example_to_session(r.numpy()).session_id for r in tf.data.TFRecordDataset(files)
            }
        return out

    small, large = ids_per_split(tmp_path / "s", 40), ids_per_split(tmp_path / "l", 120)
    for split in small:
        assert small[split] == {i for i in large[split] if int(i.rsplit("-", 1)[1]) < 40}


def test_tiny_builds_still_get_val_and_test():
    for n in (3, 4, 5, 8):
        sizes = assign_splits([str(i) for i in range(n)], 0)[1]
        assert min(sizes.values()) >= 1 and sum(sizes.values()) == n


def test_test_slices_are_disjoint_cover_and_do_not_move_with_size():
    def test_ids(n, seed=0):
        assignment = assign_splits([str(i) for i in range(n)], seed)[0]
        return [f"{DATASET}-{seed}-{i:07d}" for i, s in enumerate(assignment) if s == "test"]

    small, large = test_ids(3000), test_ids(20000)
    dev = {i for i in large if slice_of(i) == "dev"}
    final = {i for i in large if slice_of(i) == "final"}
    assert not dev & final and dev | final == set(large)
    assert 0.45 < len(dev) / len(large) < 0.55
    # The small build's test sessions are the large build's first ones, in the same slices.
    assert set(small) <= set(large)
    assert {i for i in small if slice_of(i) == "dev"} == {i for i in dev if i in set(small)}


def test_a_folder_keeps_the_build_it_was_made_from(tmp_path):
    # A training run records its build; started again on another build it stops (trainer.train
    # calls record_build before training), unless --overwrite.
    a = {"id": "a" * 16, "name": DATASET, "seed": 0}
    b = {"id": "b" * 16, "name": DATASET, "seed": 1}
    record_build(str(tmp_path), a)
    record_build(str(tmp_path), a)  # resuming on the same build
    with pytest.raises(ValueError, match="a{16}.*b{16}"):
        record_build(str(tmp_path), b)
    assert read_build(str(tmp_path)) == a
    record_build(str(tmp_path), b, overwrite=True)
    assert read_build(str(tmp_path)) == b
