r"""Screenshot of the editor mid-session, and its latency against the client library's, taken in
headless Chromium (Debian's package) against a running model server.

    python scripts/editor_screenshot.py --server=127.0.0.1:8500 --data_dir=data \
        --out=docs/editor_session.png --latency_turns=60

It starts scripts/editor_app.py (its own process, on a free loopback port) in front of --server,
starts from a test-split example (or --image), makes the first three edits of --commands, branches
from turn 1 with the fourth, shows the attention of the last turn's second word, and writes the
screenshot. With --latency_turns, it then times edit turns through the page (press Edit -> the new
image decoded in the strip) and through `serving.client.EditSession` directly, in alternating
blocks, and prints both medians and the page's overhead.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from absl import app, flags  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("server", "127.0.0.1:8500", "Model server host:port.")
flags.DEFINE_string("model_name", "seqattngan", "Served model name.")
flags.DEFINE_string("data_dir", "data", "Shards root (the session starts from a test example).")
flags.DEFINE_string("dataset", "synth_zap_seq", "Dataset of the test example.")
flags.DEFINE_string("image", None, "Start from this image file instead of a test example.")
flags.DEFINE_integer("example_seed", 3, "Seed of the test example choice.")
flags.DEFINE_string("commands", "examples/shoe_edits.txt", "Edits, one per line (4 are used).")
flags.DEFINE_string("out", "docs/editor_session.png", "Screenshot path (PNG).")
flags.DEFINE_integer("latency_turns", 0, "Edit turns timed per path (0: no latency run).")
flags.DEFINE_float("timeout_s", 10.0, "Deadline of each gRPC call.")


def read_commands(path: str) -> list[str]:
    with open(path, encoding="utf-8") as f:
        lines = [line.strip() for line in f]
    return [line for line in lines if line and not line.startswith("#")]


def take_screenshot(page, url: str, commands: list[str], out: str) -> None:
    from serving.editor_app import browser

    page.goto(url)
    if FLAGS.image:
        page.set_input_files("#upload", FLAGS.image)
        page.wait_for_selector('#strip .tile[data-turn="0"]')
    else:
        browser.start_from_example(page)
    for text in commands[:3]:
        browser.edit(page, text)
    page.click('#strip .tile[data-turn="1"]')
    browser.edit(page, commands[3] if len(commands) > 3 else commands[-1])
    last = browser.strip_turns(page)[-1]
    words = page.locator("#words button")
    if words.count() > 1:
        words.nth(1).click()
        page.wait_for_function(
            "document.getElementById('detail-canvas').dataset.drawn === 'word-1'"
        )
    page.fill("#edit-text", "")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    page.screenshot(path=out, full_page=True)
    print(f"screenshot (strip ends at turn {last}): {out}", flush=True)


def measure_latency(
    page, url: str, image, turns: int, text: str = "make it red", pause_s: float = 0.15
) -> dict:
    """Medians (ms) of edit turns through the page and through EditSession, alternating blocks
    of 10 so that drifts of a shared machine hit both alike, each turn after `pause_s` idle."""
    from serving import client
    from serving.editor_app import browser

    page.goto(url)
    if image is None:
        browser.start_from_example(page)
    else:
        page.set_input_files("#upload", image)
        page.wait_for_selector('#strip .tile[data-turn="0"]')
    session = client.EditSession(FLAGS.server, FLAGS.model_name, timeout_s=FLAGS.timeout_s)
    start_image = browser.strip_images(page)[0]
    session.start(start_image)
    for _ in range(5):  # warm-up of both paths
        browser.edit(page, text)
        session.edit(text)
    page_timings, client_ms = [], []
    block = 10
    while len(client_ms) < turns:
        # A pause before each timed turn, as a person types between edits: the page's own
        # rendering of the last turn must not compete with the next call for the CPU.
        for _ in range(block):
            page.fill("#edit-text", text)
            time.sleep(pause_s)
            page_timings.append(browser.edit(page, text))
        for _ in range(block):
            time.sleep(pause_s)
            tic = time.perf_counter()
            session.edit(text)
            client_ms.append((time.perf_counter() - tic) * 1000.0)
        # Keep the page's strip short: go back to the start image.
        page.click('#strip .tile[data-turn="0"]')
        session.start(start_image)
    session.close()

    def p50(values):
        return round(statistics.median(values), 2)

    result = {
        "turns_per_path": len(client_ms),
        "client_p50_ms": p50(client_ms),
        "page_p50_ms": p50([t["page_ms"] for t in page_timings]),
        "page_fetch_p50_ms": p50([t["fetch_ms"] for t in page_timings]),
        "app_handler_p50_ms": p50([t["app_ms"] for t in page_timings]),
        "client_in_app_p50_ms": p50([t["client_ms"] for t in page_timings]),
    }
    result["page_overhead_pct"] = round(
        100.0 * (result["page_p50_ms"] / result["client_p50_ms"] - 1.0), 1
    )
    result["app_overhead_pct"] = round(
        100.0 * (result["app_handler_p50_ms"] / result["client_in_app_p50_ms"] - 1.0), 1
    )
    result["load_average"] = os.getloadavg()[0]
    return result


def main(argv: list[str]) -> None:
    del argv
    from playwright.sync_api import sync_playwright

    from serving import client
    from serving.editor_app import browser
    from serving.editor_app.examples import find_test_shards

    reason = browser.chromium_unavailable()
    if reason:
        raise app.UsageError(f"no browser: {reason}")
    channel = client.make_channel(FLAGS.server)
    version = client.wait_until_available(channel, FLAGS.model_name, 60.0)
    channel.close()
    print(f"{FLAGS.model_name} version {version} at {FLAGS.server}", flush=True)
    if not FLAGS.image and not find_test_shards(FLAGS.data_dir, FLAGS.dataset):
        raise app.UsageError(
            f"no test shards of {FLAGS.dataset} under {FLAGS.data_dir}: give --data_dir or --image"
        )
    with running_app() as url:
        with sync_playwright() as playwright:
            chromium = browser.launch(playwright)
            page = chromium.new_page(viewport={"width": 1100, "height": 900})
            take_screenshot(page, url, read_commands(FLAGS.commands), FLAGS.out)
            if FLAGS.latency_turns > 0:
                fresh = chromium.new_page()
                print(json.dumps(measure_latency(fresh, url, FLAGS.image, FLAGS.latency_turns)))
            chromium.close()


@contextlib.contextmanager
def running_app():
    """scripts/editor_app.py as a subprocess; yields its URL."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory() as tmp:
        port_file = os.path.join(tmp, "port")
        cmd = [
            sys.executable,
            os.path.join(root, "scripts", "editor_app.py"),
            f"--server={FLAGS.server}",
            f"--model_name={FLAGS.model_name}",
            f"--data_dir={FLAGS.data_dir}",
            f"--dataset={FLAGS.dataset}",
            f"--example_seed={FLAGS.example_seed}",
            f"--timeout_s={FLAGS.timeout_s}",
            "--port=0",
            f"--port_file={port_file}",
        ]
        process = subprocess.Popen(cmd, cwd=root)
        try:
            deadline = time.monotonic() + 120
            while not os.path.exists(port_file):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("scripts/editor_app.py did not start")
                time.sleep(0.1)
            with open(port_file) as f:
                yield f"http://127.0.0.1:{f.read().strip()}/"
        finally:
            process.terminate()
            process.wait(10)


if __name__ == "__main__":
    app.run(main)
