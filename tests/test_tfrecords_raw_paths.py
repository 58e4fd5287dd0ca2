"""Raw builds refuse image paths that resolve outside the raw folder (symlinks included), and skip
and report a session whose image path no file can have (NUL, control characters, lone surrogates,
bytes that are not UTF-8, names or paths too long) instead of stopping the build."""

import json
import os

import numpy as np
import pytest
from PIL import Image

from tfrecords.build.raw_build import build_raw
from tfrecords.build.raw_format import (
    MALFORMED_JSON,
    MALFORMED_PATH,
    OUTSIDE_RAW_DIR,
    RawDatasetError,
)
from tfrecords.image_paths import path_problem


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


# Image paths no file can have (or this project never reads), one session each.
MALFORMED = {
    "nul": "images/in1\x00.png",
    "nul_only": "\x00",
    "newline": "images/in1.png\n",
    "escape_sequence": "images/\x1b[31min1.png",
    "delete_char": "images/in1\x7f.png",
    "c1_control": "images/in1\x85.png",
    "lone_surrogate": "images/\ud800.png",
    "escaped_byte": "images/in1\udcff.png",  # how os.walk returns a name that is not UTF-8
    "empty": "",
    "long_name": "images/" + "n" * 300 + ".png",
    "long_path": "/".join(["d" * 200] * 25) + "/x.png",
}


@pytest.fixture
def hostile(tmp_path):
    """A raw folder with 3 good sessions, one per malformed path, and a line that is not UTF-8."""
    raw = tmp_path / "raw"
    for i in range(4):
        _png(str(raw / "images" / f"in{i}.png"), 40 * i)
    sessions = [_session(f"ok{i}", ["images/in0.png", f"images/in{i}.png"]) for i in (1, 2, 3)]
    sessions += [_session(name, ["images/in0.png", path]) for name, path in MALFORMED.items()]
    with open(raw / "sessions.jsonl", "wb") as f:
        for session in sessions:
            f.write(json.dumps(session).encode() + b"\n")
        # Line 15: raw bytes that are not UTF-8 inside the path.
        f.write(b'{"session_id": "latin1", "images": ["images/in0.png", "images/\xe9.png"], ')
        f.write(b'"descriptions": ["turn 1"]}\n')
    return str(raw)


def test_every_malformed_path_is_a_counted_skip_naming_its_session_and_line(tmp_path, hostile):
    info = build_raw(hostile, "zap_seq", str(tmp_path / "data"))
    assert info["num_sessions"] == 3
    entry = info["skipped"][MALFORMED_PATH]
    assert entry["count"] == len(MALFORMED)
    assert entry["first_session_ids"] == list(MALFORMED)[:5]
    assert entry["first_message"].startswith("nul (line 4): image path 'images/in1\\x00.png'")
    assert "NUL" in entry["first_message"]
    not_utf8 = info["skipped"][MALFORMED_JSON]
    assert not_utf8["count"] == 1 and not_utf8["first_session_ids"] == ["line 15"]
    assert "not UTF-8" in not_utf8["first_message"]
    json.dumps(info, ensure_ascii=False).encode("utf-8")  # the report itself is writable


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_each_malformed_path_is_named(name):
    problem = path_problem(MALFORMED[name], "/data/raw")
    assert problem is not None
    problem.encode("ascii")  # printable on any console
    expected = {
        "nul": "NUL",
        "nul_only": "NUL",
        "lone_surrogate": "lone surrogate U+D800",
        "escaped_byte": "lone surrogate U+DCFF",
        "empty": "empty",
        "long_name": "ENAMETOOLONG",
        "long_path": "ENAMETOOLONG",
    }.get(name, "control character")
    assert expected in problem


def test_ordinary_paths_have_no_problem():
    for path in ("images/in1.png", "a b/ünïcödé 靴.jpg", "img/Sheer_Pleated/img_00000001.jpg"):
        assert path_problem(path, "/data/raw") is None


def test_strict_build_stops_at_a_malformed_path_naming_it(tmp_path, hostile):
    with pytest.raises(RawDatasetError, match="session 'nul': malformed_path") as error:
        build_raw(hostile, "zap_seq", str(tmp_path / "data"), strict=True)
    assert error.value.reason == MALFORMED_PATH
    assert "sessions.jsonl:4" in str(error.value)
