"""scripts/edit.py keeps going (issue 14.11, 14.12): a refused command is reported on its
line and in the strip and the session goes on; words beyond the model's limit are
reported; a dead server stops the script, which still writes its strip.

The scripts run as subprocesses (their absl flags would clash in one pytest process).
"""

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time

from PIL import Image
from serving_testlib import MAX_WORDS, MODEL_NAME, export_tiny, random_image

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = {
    **os.environ,
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "CUDA_VISIBLE_DEVICES": "",
    "PYTHONUNBUFFERED": "1",
}
LONG = "has a higher heel and is red and make it green please"  # 12 words


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(tmp_path, port):
    return subprocess.Popen(
        [
            sys.executable, "-m", "scripts.serve",
            f"--model_base_path={tmp_path / MODEL_NAME}", f"--model_name={MODEL_NAME}",
            f"--port={port}", "--poll_interval_s=0.2", "--grace_s=2",
        ],
        cwd=REPO, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _edit_args(port, image_path, out_dir, *extra):
    return [
        sys.executable, "-m", "scripts.edit", f"--server=127.0.0.1:{port}",
        f"--model_name={MODEL_NAME}", f"--image={image_path}", f"--out_dir={out_dir}",
        "--wait_s=150", "--timeout_s=5", *extra,
    ]  # fmt: skip


def test_refused_commands_are_reported_and_the_session_goes_on(tmp_path):
    export_tiny(tmp_path)
    image_path = tmp_path / "start.png"
    Image.fromarray(random_image(24, 20)).save(image_path)
    commands = tmp_path / "edits.txt"
    lines = ["make it red", "a" * 1001, "!!!", LONG, "add laces"]
    commands.write_text("\n".join(lines) + "\n")
    out_dir = tmp_path / "session"
    port = _free_port()
    server = _serve(tmp_path, port)
    try:
        edit = subprocess.run(
            _edit_args(port, image_path, out_dir, f"--commands={commands}"),
            cwd=REPO, env=ENV, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    out = edit.stdout
    assert edit.returncode == 0, out + edit.stderr
    assert "REFUSED line 2 (RESOURCE_EXHAUSTED)" in out, out
    assert "REFUSED line 3 (INVALID_ARGUMENT)" in out, out
    dropped = len(LONG.split()) - MAX_WORDS
    assert (
        f"the model reads at most {MAX_WORDS} words; the last {dropped} word(s) of line 4 "
        "were ignored"
    ) in out, out
    assert "Strip of 3 edit(s), 2 refused" in out, out
    assert sorted(os.listdir(out_dir)) == [
        "strip.png",
        "turn_0.png",
        "turn_1.png",
        "turn_2.png",
        "turn_3.png",
    ]
    with Image.open(out_dir / "strip.png") as strip:
        assert strip.width == 128 * (1 + len(lines))  # the refused turns are in the strip


def test_dead_server_stops_the_script_which_writes_what_it_has(tmp_path):
    export_tiny(tmp_path)
    image_path = tmp_path / "start.png"
    Image.fromarray(random_image(24, 20)).save(image_path)
    out_dir = tmp_path / "session"
    port = _free_port()
    server = _serve(tmp_path, port)
    edit = subprocess.Popen(
        _edit_args(port, image_path, out_dir),
        cwd=REPO, env=ENV, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: queue.Queue = queue.Queue()
    output: list[str] = []

    def read():
        for line in edit.stdout:
            output.append(line)
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    try:
        edit.stdin.write("make it red\n")
        edit.stdin.flush()
        deadline = time.monotonic() + 200
        while not any("-> " in line for line in output):
            assert time.monotonic() < deadline and edit.poll() is None, "".join(output)
            time.sleep(0.1)
        server.kill()  # the server dies mid-session
        server.wait(timeout=30)
        edit.stdin.write("add laces\nis blue\n")
        edit.stdin.close()
        code = edit.wait(timeout=120)
    finally:
        for process in (server, edit):
            if process.poll() is None:
                process.kill()
                process.wait()
    out = "".join(output)
    assert code == 1, out
    assert "the server stopped answering" in out, out
    assert "Strip of 1 edit(s)" in out, out
    assert os.path.exists(out_dir / "turn_1.png")
    with Image.open(out_dir / "strip.png") as strip:
        assert strip.width == 128 * 3  # input, the good turn, the turn the server did not answer
