"""Graceful shutdown drains (issue 14.8): with requests in flight at SIGTERM, every one of
them finishes (zero CANCELLED), and requests that arrive during the drain get UNAVAILABLE.

scripts/serve.py runs as a subprocess with two worker threads, so that most of the
concurrent requests wait for a thread when SIGTERM arrives: those are in flight too.
"""

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time

from serving_testlib import MODEL_NAME, export_tiny, random_image

from serving import client, contract

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NUM_CLIENTS = 8


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_inputs():
    # 1024x1024 images, resized in-graph to the model's 16x16: some work per request.
    return {contract.IMAGE_INPUT: random_image(1024, 1024)[None]}


def test_sigterm_drains_in_flight_requests(tmp_path):
    export_tiny(tmp_path)
    port = _free_port()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    server = subprocess.Popen(
        [
            sys.executable, "-m", "scripts.serve",
            f"--model_base_path={tmp_path / MODEL_NAME}", f"--model_name={MODEL_NAME}",
            f"--port={port}", "--poll_interval_s=0.2", "--grace_s=60", "--max_workers=2",
        ],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: queue.Queue = queue.Queue()
    output: list[str] = []

    def read():
        for line in server.stdout:
            output.append(line)
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    target = f"127.0.0.1:{port}"
    channel = client.make_channel(target, retry=False)  # see every status as it is
    try:
        client.wait_until_available(channel, MODEL_NAME, timeout_s=150)
        inputs = _start_inputs()
        client.predict(channel, MODEL_NAME, contract.START_SIGNATURE, inputs, timeout_s=60)

        statuses: list[str] = []
        stop = threading.Event()

        def stream():  # back to back until the server refuses
            while not stop.is_set():
                try:
                    client.predict(
                        channel, MODEL_NAME, contract.START_SIGNATURE, inputs, timeout_s=90
                    )
                    statuses.append("OK")
                except client.ServingClientError as error:
                    statuses.append(error.code.name)
                    return

        threads = [threading.Thread(target=stream) for _ in range(NUM_CLIENTS)]
        for thread in threads:
            thread.start()
        # SIGTERM only once the clients stream: every one has had an answer, so the 2
        # worker threads are busy and the other requests wait for one. (A fixed sleep
        # was too short on a loaded box: no request had reached the server yet.)
        deadline = time.monotonic() + 120
        while len(statuses) < 2 * NUM_CLIENTS and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(statuses) >= 2 * NUM_CLIENTS, (statuses, "".join(output))
        assert set(statuses) == {"OK"}, (statuses, "".join(output))
        server.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 60
        draining = None
        while draining is None and time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                continue
            if "Draining:" in line:
                draining = line
        assert draining is not None, "".join(output)
        in_flight = int(draining.split("Draining:")[1].split()[0])
        for thread in threads:
            thread.join(timeout=120)
        stop.set()

        code = server.wait(timeout=60)
        log = "".join(output)
        assert code == 0, log
        assert in_flight > 0, log  # requests really were in flight at SIGTERM
        counts = {s: statuses.count(s) for s in set(statuses)}
        # Every request finished or was refused as new: none was cancelled.
        assert set(counts) == {"OK", "UNAVAILABLE"}, (counts, log)
        assert counts["UNAVAILABLE"] == NUM_CLIENTS, (counts, log)  # one per client, the last
        assert counts["OK"] >= in_flight, (counts, log)
        assert "Drained in" in log, log
    finally:
        channel.close()
        if server.poll() is None:
            server.kill()
            server.wait()
