"""Raw builds refuse image paths that resolve outside the raw folder (symlinks included)."""

import json
import os

import numpy as np
import pytest
from PIL import Image

from tfrecords.raw_builder import OUTSIDE_RAW_DIR, RawDatasetError, build_raw


def _png(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(np.full((12, 12, 3), value, np.uint8)).save(path)


def _session(session_id, images):
    return {
        "session_id": session_id,
        "images": images,
        "descriptions": [f"turn {i}" for i in range(1, len(images))],
    }


@pytest.fixture
def layout(tmp_path):
    """A raw folder with good sessions and one session per way of escaping it."""
    raw = tmp_path / "raw"
    outside = tmp_path / "elsewhere"
    for i in range(4):
        _png(str(raw / "images" / f"in{i}.png"), 40 * i)
    _png(str(tmp_path / "outside.png"), 250)
    _png(str(outside / "x.png"), 200)
    os.symlink(outside / "x.png", raw / "images" / "link.png")
    os.symlink(outside, raw / "images" / "linked_dir")
    sessions = [_session(f"ok{i}", ["images/in0.png", f"images/in{i}.png"]) for i in (1, 2, 3)]
    sessions += [
        _session("dotdot", ["images/in0.png", "../outside.png"]),
        _session("absolute", ["images/in0.png", str(outside / "x.png")]),
        _session("symlink", ["images/in0.png", "images/link.png"]),
        _session("symlinked_dir", ["images/in1.png", "images/linked_dir/x.png"]),
    ]
    with open(raw / "sessions.jsonl", "w") as f:
        for session in sessions:
            f.write(json.dumps(session) + "\n")
    return str(raw)


ESCAPES = {"dotdot", "absolute", "symlink", "symlinked_dir"}


def test_paths_outside_the_raw_folder_are_refused_as_their_own_reason(tmp_path, layout):
    info = build_raw(layout, "zap_seq", str(tmp_path / "data"))
    assert info["num_sessions"] == 3
    entry = info["skipped"][OUTSIDE_RAW_DIR]
    assert entry["count"] == len(ESCAPES)
    assert set(entry["first_session_ids"]) == ESCAPES
    assert "outside" in entry["first_message"]
    assert set(info["skipped"]) == {OUTSIDE_RAW_DIR}


def test_strict_build_stops_at_an_outside_path(tmp_path, layout):
    with pytest.raises(RawDatasetError, match=OUTSIDE_RAW_DIR) as error:
        build_raw(layout, "zap_seq", str(tmp_path / "data"), strict=True)
    assert error.value.reason == OUTSIDE_RAW_DIR


def test_explicit_flag_allows_outside_paths(tmp_path, layout):
    info = build_raw(layout, "zap_seq", str(tmp_path / "data"), allow_outside_paths=True)
    assert info["num_sessions"] == 3 + len(ESCAPES)
    assert not info["skipped"]
    assert info["build_params"]["allow_outside_paths"] is True


def test_a_symlink_inside_the_folder_to_a_file_inside_is_fine(tmp_path):
    raw = tmp_path / "raw"
    _png(str(raw / "images" / "a.png"), 10)
    _png(str(raw / "images" / "b.png"), 90)
    os.symlink(raw / "images" / "b.png", raw / "images" / "alias.png")
    with open(raw / "sessions.jsonl", "w") as f:
        f.write(json.dumps(_session("s", ["images/a.png", "alias.png"])) + "\n")
    info = build_raw(str(raw), "zap_seq", str(tmp_path / "data"))
    assert info["num_sessions"] == 1 and not info["skipped"]
