"""Raw-folder builds: layout, resizing, schema handling and every bad-input case."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tfrecords.build import raw_format
from tfrecords.build.raw_build import build_raw
from tfrecords.build.raw_format import RawDatasetError
from tfrecords.session_format import example_to_session


def _save(path, array):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(array).save(path)


def _good_session(session_id, num_images=3):
    return {
        "session_id": session_id,
        "images": [f"images/{session_id}_{i}.png" for i in range(num_images)],
        "descriptions": [f"turn {i} of {session_id}" for i in range(1, num_images)],
        "attributes": [
            ["color=red", "heel=flat"],
            ["color=blue", "heel=flat"],
            ["color=blue", "heel=high"],
        ][:num_images],
    }


def _write_raw(raw_dir, entries, schema=None, extra_lines=()):
    rng = np.random.default_rng(0)
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        for path in entry.get("images", []):
            full = os.path.join(raw_dir, path)
            exists = os.path.exists(full) or os.path.exists(os.path.join(raw_dir, "images", path))
            if not exists and "missing" not in path and "\x00" not in path:
                _save(full, rng.integers(0, 256, (24, 20, 3), dtype=np.uint8))
    with open(os.path.join(raw_dir, "sessions.jsonl"), "w") as f:
        for entry in entries:
            f.write(json.dumps(entry) + "\n")
        for line in extra_lines:
            f.write(line + "\n")
    if schema is not None:
        json.dump(schema, open(os.path.join(raw_dir, "attribute_schema.json"), "w"))


SCHEMA = {"color": ["red", "blue"], "heel": ["flat", "high"]}
GOOD = [_good_session(f"ok{i}") for i in range(6)]


def _bad_case(tmp_path, reason):
    """Returns (entries, extra_lines, bad session id or label) for a bad-input case."""
    raw = str(tmp_path)
    bad = _good_session("bad")
    extra = []
    label = "bad"
    if reason == "malformed_json":
        bad, extra, label = None, ['{"session_id": "broken", "images": ['], "line 7"
    elif reason == "duplicate_session_id":
        bad = _good_session("ok0")
        label = "ok0"
    elif reason == "too_few_images":
        bad.update(images=bad["images"][:1], descriptions=[], attributes=bad["attributes"][:1])
    elif reason == "description_count":
        bad["descriptions"] = bad["descriptions"][:1]
    elif reason == "empty_description":
        bad["descriptions"][1] = "   "
    elif reason == "attribute_count":
        bad["attributes"] = bad["attributes"][:2]
    elif reason == "unknown_attribute":
        bad["attributes"][1] = ["color=purple", "heel=flat"]
    elif reason == "missing_image":
        bad["images"][2] = "images/missing.png"
    elif reason == "malformed_path":
        bad["images"][2] = "images/bad\x00_2.png"
    elif reason == "outside_raw_dir":
        bad["images"][2] = "../outside.png"
    elif reason == "corrupt_image":
        os.makedirs(os.path.join(raw, "images"), exist_ok=True)
        with open(os.path.join(raw, "images", "bad_1.png"), "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n not really a png")
    entries = GOOD + ([bad] if bad is not None else [])
    return entries, extra, label


@pytest.mark.parametrize("reason", raw_format.SKIP_REASONS)
def test_bad_input_is_an_error_with_strict_and_a_counted_skip_otherwise(tmp_path, reason, capsys):
    raw = tmp_path / "raw"
    raw.mkdir()
    entries, extra, label = _bad_case(raw, reason)
    _write_raw(str(raw), entries, schema=SCHEMA, extra_lines=extra)

    with pytest.raises(RawDatasetError, match=reason) as error:
        build_raw(str(raw), "zap_seq", str(tmp_path / "data_strict"), strict=True)
    assert error.value.reason == reason
    assert label in str(error.value)
    assert not os.path.exists(tmp_path / "data_strict" / "zap_seq" / "1.0.0" / "dataset_info.json")

    info = build_raw(str(raw), "zap_seq", str(tmp_path / "data"), num_shards=1)
    assert info["num_skipped"] == 1
    assert info["skipped"][reason]["count"] == 1
    assert info["skipped"][reason]["first_session_ids"] == [label]
    assert info["num_sessions"] == len(GOOD)
    assert reason in capsys.readouterr().out
    stored = json.load(open(tmp_path / "data" / "zap_seq" / "1.0.0" / "dataset_info.json"))
    assert stored["skipped"][reason]["count"] == 1


def test_raw_build_round_trip_center_crop_and_schema(tmp_path):
    raw = tmp_path / "raw"
    # 60 wide x 40 high: 10-pixel red borders left/right, green centre -> crop is all green.
    wide = np.zeros((40, 60, 3), np.uint8)
    wide[:, :10] = wide[:, 50:] = (255, 0, 0)
    wide[:, 10:50] = (0, 255, 0)
    _save(str(raw / "images" / "wide.png"), wide)
    _save(str(raw / "images" / "sub" / "plain.jpg"), np.full((70, 70, 3), 128, np.uint8))
    session = {
        "session_id": "s0",
        "images": ["wide.png", "images/sub/plain.jpg"],  # relative to images/ and to raw_dir
        "descriptions": ["is grey"],
        "attributes": [["color=green", "heel=flat"], ["color=grey", "heel=flat"]],
    }
    _write_raw(str(raw), [session, _good_session("s1"), _good_session("s2")])
    info = build_raw(str(raw), "deepfashion_seq", str(tmp_path / "data"), image_size=32)
    assert info["num_skipped"] == 0
    assert info["attribute_schema_source"] == "inferred"
    assert info["attribute_schema"]["color"] == ["blue", "green", "grey", "red"]
    build_dir = tmp_path / "data" / "deepfashion_seq" / "1.0.0"
    sessions = {}
    for split in ("train", "val", "test"):
        for name in info["splits"][split]["files"]:
            for record in tf.data.TFRecordDataset(str(build_dir / name)):
                s = example_to_session(record.numpy())
                sessions[s.session_id] = s
    s0 = sessions["s0"]
    assert s0.images[0].shape == (32, 32, 3)
    assert (s0.images[0] == (0, 255, 0)).all()
    assert np.abs(s0.images[1].astype(int) - 128).max() <= 2  # JPEG rounding.
    assert s0.descriptions == ["is grey"]
    assert s0.attributes == session["attributes"]
    assert s0.changed_attributes == [["color"]]
    assert sessions["s1"].changed_attributes == [["color"], ["heel"]]


def test_raw_layout_errors(tmp_path):
    with pytest.raises(RawDatasetError, match="sessions.jsonl not found"):
        build_raw(str(tmp_path), "zap_seq", str(tmp_path / "data"))
    with pytest.raises(ValueError, match="unknown raw dataset"):
        build_raw(str(tmp_path), "imagenet", str(tmp_path / "data"))
    _write_raw(str(tmp_path), GOOD, schema={"color": "red"})
    with pytest.raises(RawDatasetError, match="attribute_schema.json"):
        build_raw(str(tmp_path), "zap_seq", str(tmp_path / "data"))
