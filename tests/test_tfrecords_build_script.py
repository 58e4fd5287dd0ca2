"""Dataset builds (tfrecords.builders.build, scripts/build_dataset.py): reuse of complete builds,
--overwrite, --strict, missing --raw_dir."""

import json
import os

import numpy as np
import pytest
from absl import flags
from absl.testing import flagsaver
from PIL import Image

from scripts import build_dataset
from tfrecords import builders
from tfrecords.build.request import BuildRequest


def _raw_dir(path, bad=False):
    os.makedirs(path / "images")
    lines = []
    for i in range(4):
        for j in range(2):
            Image.fromarray(np.full((10, 10, 3), 40 * i + j, np.uint8)).save(
                path / "images" / f"{i}_{j}.png"
            )
        lines.append(
            {"session_id": f"s{i}", "images": [f"{i}_0.png", f"{i}_1.png"], "descriptions": ["x"]}
        )
    if bad:
        lines.append({"session_id": "s9", "images": ["9_0.png", "9_1.png"], "descriptions": ["x"]})
    (path / "sessions.jsonl").write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    return str(path)


def test_complete_build_is_reused_unless_overwritten(tmp_path):
    raw = _raw_dir(tmp_path / "raw")
    data = str(tmp_path / "data")
    info, built = builders.build(BuildRequest("zap_seq", data, raw_dir=raw, image_size=8))
    assert built and info["num_sessions"] == 4
    again, built = builders.build(BuildRequest("zap_seq", data, raw_dir=raw, image_size=8))
    assert not built and again["build_params"] == info["build_params"]
    with pytest.raises(ValueError, match="other parameters"):
        builders.build(BuildRequest("zap_seq", data, raw_dir=raw, image_size=8, seed=1))
    _, built = builders.build(
        BuildRequest("zap_seq", data, raw_dir=raw, image_size=8, seed=1, overwrite=True)
    )
    assert built


def test_raw_dataset_without_raw_dir_names_the_commands(tmp_path):
    with pytest.raises(ValueError, match="--raw_dir is required") as error:
        builders.build(BuildRequest("deepfashion_seq", str(tmp_path)))
    assert "--dataset=synth_deepfashion_seq" in str(error.value)


def test_strict_command_line_fails_with_the_reason(tmp_path, capsys):
    raw = _raw_dir(tmp_path / "raw", bad=True)
    if not flags.FLAGS.is_parsed():
        flags.FLAGS.mark_as_parsed()
    values = dict(
        dataset="zap_seq", raw_dir=raw, data_dir=str(tmp_path / "data"), image_size=8, strict=True
    )
    with flagsaver.flagsaver(**values), pytest.raises(SystemExit) as exit_info:
        build_dataset.main([])
    assert exit_info.value.code == 1
    stderr = capsys.readouterr().err
    assert "missing_image" in stderr and "s9" in stderr
    with flagsaver.flagsaver(**dict(values, strict=False)):
        build_dataset.main([])
    out = capsys.readouterr().out
    assert "missing_image: 1 (first: s9)" in out and "skipped sessions: 1" in out
