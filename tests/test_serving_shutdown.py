"""scripts/serve.py and scripts/edit.py as subprocesses: a scripted session, then SIGTERM -> exit 0.

Both start together (edit waits until the model is AVAILABLE), so the two TensorFlow
start-ups overlap. The scripts are not imported here: their absl flags would clash with
other scripts' flags in the same pytest process.
"""

import os
import signal
import socket
import subprocess
import sys
import time

from PIL import Image
from serving_testlib import MODEL_NAME, export_tiny, random_image

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_scripted_session_and_graceful_sigterm(tmp_path):
    export_tiny(tmp_path)
    image_path = tmp_path / "start.png"
    Image.fromarray(random_image(24, 20)).save(image_path)
    commands = tmp_path / "edits.txt"
    commands.write_text("# scripted edits\nmake it red\n\nhas a higher heel\n")
    out_dir = tmp_path / "session"
    port = _free_port()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    server = subprocess.Popen(
        [
            sys.executable, "-m", "scripts.serve",
            f"--model_base_path={tmp_path / MODEL_NAME}", f"--model_name={MODEL_NAME}",
            f"--port={port}", "--poll_interval_s=0.2", "--grace_s=2",
        ],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        edit = subprocess.run(
            [
                sys.executable, "-m", "scripts.edit", f"--server=127.0.0.1:{port}",
                f"--model_name={MODEL_NAME}", f"--image={image_path}",
                f"--commands={commands}", f"--out_dir={out_dir}", "--wait_s=150",
            ],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=200,
        )  # fmt: skip
        assert edit.returncode == 0, edit.stdout + edit.stderr
        assert sorted(os.listdir(out_dir)) == [
            "strip.png",
            "turn_0.png",
            "turn_1.png",
            "turn_2.png",
        ]
        assert "Strip of 2 edit(s)" in edit.stdout

        start = time.monotonic()
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=15)
        assert code == 0, server.stdout.read()
        assert time.monotonic() - start < 10
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
