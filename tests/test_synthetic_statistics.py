"""Table-1 statistics, the Markdown table, the sample sheet and the dataset_stats script."""

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from tfrecords.sample_sheet import write_sample_sheet
from tfrecords.session import Session
from tfrecords.statistics import compute_statistics, format_table
from tfrecords.synthetic import generate_sessions


def _session(i, descriptions):
    images = [np.zeros((8, 8, 3), np.uint8)] * (len(descriptions) + 1)
    return Session(
        f"s{i}", images, descriptions, [[]] * len(images), ["single"] * len(descriptions)
    )


def test_compute_statistics_counts():
    sessions = [_session(0, ["is red", "has laces and dots"]), _session(1, ["make it red!"] * 4)]
    stats = compute_statistics(sessions)
    assert stats["sessions"] == 2 and stats["images"] == 8
    assert (stats["turns_mean"], stats["turns_min"], stats["turns_max"]) == (3.0, 2, 4)
    assert stats["descriptions"] == 6
    assert stats["words_per_description"] == pytest.approx((2 + 4 + 3 * 4) / 6)
    assert stats["unique_words"] == len({"is", "red", "has", "laces", "and", "dots", "make", "it"})
    assert stats["phrase_types"] == {"single": 6}
    with pytest.raises(ValueError):
        compute_statistics([])


def test_format_table_has_one_row_per_dataset():
    stats = compute_statistics([_session(0, ["is red", "is blue"])])
    table = format_table({"a": stats, "b": stats}).splitlines()
    assert table[0].startswith("| dataset | sessions |") and len(table) == 4
    assert table[2].startswith("| a | 1 | 2.00 / 2 / 2 | 2 | 2.00 | 3 |")
    with pytest.raises(ValueError, match="miss"):
        format_table({"a": {"sessions": 1}})


def test_sample_sheet_png(tmp_path):
    sessions = list(generate_sessions("synth_deepfashion_seq", 3, seed=0, image_size=32))
    path = write_sample_sheet(sessions, str(tmp_path / "sheet.png"), num_sessions=2)
    with Image.open(path) as image:
        width, height = image.size
        pixels = np.asarray(image.convert("RGB"))
    assert width >= 3 * 64 and height >= 2 * 64
    assert pixels.std() > 10
    with pytest.raises(ValueError):
        write_sample_sheet([], str(tmp_path / "empty.png"))


def test_dataset_stats_script(tmp_path):
    # Run as users run it: scripts define absl flags, which must not meet other scripts' flags
    # in the test process.
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run(
        [
            sys.executable,
            os.path.join(root, "scripts", "dataset_stats.py"),
            "--num_sessions=6",
            "--sheet_sessions=2",
            f"--out_dir={tmp_path}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, PYTHONPATH=root),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "| synth_zap_seq | 6 |" in out and "| synth_deepfashion_seq | 6 |" in out
    assert (tmp_path / "synth_zap_seq_samples.png").exists()
    assert (tmp_path / "synth_deepfashion_seq_samples.png").exists()
