"""write_atomically: a writer that dies in the middle leaves the previous file, never half of
the new one (what the classifier, the reports and the weights are saved through)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from common.atomic_files import remove_temporaries, write_atomically

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_an_exception_mid_write_keeps_the_old_file(tmp_path):
    path = str(tmp_path / "report.md")
    write_atomically(path, lambda p: open(p, "w").write("old"), keep_extension=".md")

    def dies(p):
        with open(p, "w") as f:
            f.write("half of the n")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        write_atomically(path, dies, keep_extension=".md")
    assert open(path).read() == "old"
    assert os.listdir(tmp_path) == ["report.md"]


def test_a_process_killed_mid_write_keeps_the_old_file(tmp_path):
    path = str(tmp_path / "attribute_classifier.keras")
    with open(path, "w") as f:
        f.write("old model")
    code = (
        "import os, sys\n"
        "from common.atomic_files import write_atomically\n"
        "def dies(p):\n"
        "    open(p, 'w').write('half of a new model')\n"
        "    os._exit(9)  # no cleanup runs, as under SIGKILL\n"
        "write_atomically(sys.argv[1], dies, keep_extension='.keras')\n"
    )
    env = dict(os.environ, PYTHONPATH=REPO)
    done = subprocess.run([sys.executable, "-c", code, path], env=env, timeout=60)
    assert done.returncode == 9
    assert open(path).read() == "old model"
    left = [n for n in os.listdir(tmp_path) if n != "attribute_classifier.keras"]
    assert len(left) == 1 and left[0].startswith(".tmp-") and left[0].endswith(".keras")
    assert remove_temporaries(str(tmp_path)) == [str(tmp_path / left[0])]
    assert os.listdir(tmp_path) == ["attribute_classifier.keras"]
