r"""Screenshot of the editor mid-session, and its latency against the client library's, taken in
headless Chromium (Debian's package) against a running model server.

    python scripts/editor_screenshot.py --server=127.0.0.1:8500 --data_dir=data \
        --out=docs/editor_session.png --latency_turns=60

It starts scripts/editor_app.py (its own process, on a free loopback port) in front of --server,
starts from a test-split example (or --image), makes the first three edits of --commands, branches
from turn 1 with the fourth, shows the attention of the last turn's second word, and writes the
screenshot. With --latency_turns, it then times edit turns through the page (press Edit -> the new
image in the strip; by default the page's own script submits the form, so the browser driver is
quiet while a turn runs, see --latency_press) and through `serving.client.EditSession` directly,
interleaved turn by turn,
and prints the medians, the page's overhead and where it goes (see `measure_latency`).
--latency_only skips the screenshot. Run everything (server, this script, so the app and the
browser it starts) at the same `nice` on a shared machine.
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

from tfrecords.datasets import DATASETS, DEFAULT_DATASET  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("server", "127.0.0.1:8500", "Model server host:port.")
flags.DEFINE_string("model_name", "seqattngan", "Served model name.")
flags.DEFINE_string("data_dir", "data", "Shards root (the session starts from a test example).")
flags.DEFINE_enum("dataset", DEFAULT_DATASET, list(DATASETS), "Dataset of the test example.")
flags.DEFINE_string("image", None, "Start from this image file instead of a test example.")
flags.DEFINE_integer("example_seed", 3, "Seed of the test example choice.")
flags.DEFINE_string("commands", "examples/shoe_edits.txt", "Edits, one per line (4 are used).")
flags.DEFINE_string("out", "docs/editor_session.png", "Screenshot path (PNG).")
flags.DEFINE_integer("latency_turns", 0, "Edit turns timed per path (0: no latency run).")
flags.DEFINE_float("latency_pause_s", 0.3, "Idle time before each timed turn (a person typing).")
flags.DEFINE_float("timeout_s", 10.0, "Deadline of each gRPC call.")
flags.DEFINE_bool("latency_only", False, "Only the latency run (no screenshot).")
flags.DEFINE_bool(
    "latency_http", False, "Also time the page's fallback path (a POST per edit) in a second tab."
)
flags.DEFINE_enum(
    "latency_press",
    "submit",
    ["submit", "click"],
    "How a timed page turn is started: 'submit' = the page's own script submits the form (no "
    "DevTools traffic while the turn runs); 'click' = a Playwright click on Edit.",
)
flags.DEFINE_string("latency_json", None, "Also write the latency result (and every turn) here.")


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
        browser.wait_until(
            page, "document.getElementById('detail-canvas').dataset.drawn === 'word-1'"
        )
    page.fill("#edit-text", "")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    page.screenshot(path=out, full_page=True)
    print(f"screenshot (strip ends at turn {last}): {out}", flush=True)


def _p50(values) -> float:
    return round(statistics.median(values), 2)


def measure_latency(
    page,
    url: str,
    image,
    turns: int,
    text: str = "make it red",
    pause_s: float = 0.3,
    http_page=None,
    press: str = "submit",
) -> dict:
    """Edit turns through the page and through `EditSession.edit` directly, interleaved turn by
    turn (the order alternates) so both see the same load of a shared machine; each after
    `pause_s` idle, as a person types between edits.

    A page turn is timed in the page (app.js `edit`): from the Edit press (the form's submit) to
    the new image drawn in the strip. It also carries the gRPC call the app made for it, so
    `page_ms - call_in_app_ms` is what the page added to that very turn, whatever the model
    call cost at that moment. Medians in ms:

        client_p50           EditSession.edit called directly (the baseline)
        page_p50             a page turn, Edit press -> the new image in the strip
        ratio_p50            median of page / client over the interleaved pairs
        overhead_pct         page_p50 / client_p50 - 1
        added_p50            median of (page turn - the app's own client call in it)
        added_pct            added_p50 / client_p50
        frame_p50            Edit press -> the next animation frame (the image on screen)
        parts                the added time by part (medians: they need not sum exactly)
        answer_bytes_p50     the WebSocket answers' size, and `encodings` how many carried
                             only the changed pixels (delta) or the whole image (rgb)
        http                 with `http_page` (a second tab whose edits are POSTs, the
                             page's fallback): the same medians for that path, interleaved too
    """
    from serving import client
    from serving.editor_app import browser

    tabs = [page] if http_page is None else [page, http_page]
    for tab in tabs:
        tab.goto(url)
        if image is None:
            browser.start_from_example(tab)
        else:
            tab.set_input_files("#upload", image)
            tab.wait_for_selector('#strip .tile[data-turn="0"]')
    if http_page is not None:
        # Its edits take the page's fallback path: a fetch() POST per edit, no WebSocket.
        http_page.evaluate("openSocket = () => {}; if (socket.ws) socket.ws.close();")
        browser.wait_until(http_page, "socket.ws === null")
    session = client.EditSession(FLAGS.server, FLAGS.model_name, timeout_s=FLAGS.timeout_s)
    start_image = browser.strip_images(page)[0]
    session.start(start_image)
    for _ in range(5):  # warm-up of every path (and the page's WebSocket)
        for tab in tabs:
            browser.edit(tab, text)
        session.edit(text)

    def client_turn() -> float:
        time.sleep(pause_s)
        tic = time.perf_counter()
        session.edit(text)
        return (time.perf_counter() - tic) * 1000.0

    def page_turn(tab) -> dict:
        tab.fill("#edit-text", text)
        time.sleep(pause_s)
        if press == "click":
            return browser.edit(tab, text)
        return browser.submit_edit(tab, text)

    pages, clients, https = [], [], []
    steps = [lambda: clients.append(client_turn()), lambda: pages.append(page_turn(page))]
    if http_page is not None:
        steps.append(lambda: https.append(page_turn(http_page)))
    for i in range(turns):
        for j in range(len(steps)):  # the order rotates turn by turn
            steps[(i + j) % len(steps)]()
        if i % 20 == 19:  # keep the strips short: go back to the start image
            for tab in tabs:
                tab.click('#strip .tile[data-turn="0"]')
            session.start(start_image)
    session.close()

    def column(key):
        return [t[key] for t in pages]

    client_p50 = _p50(clients)
    added = [t["page_ms"] - t["client_ms"] for t in pages]
    result = {
        "turns": turns,
        "via": sorted({t.get("via") for t in pages}),
        "client_p50": client_p50,
        "page_p50": _p50(column("page_ms")),
        "ratio_p50": round(statistics.median(t["page_ms"] / c for t, c in zip(pages, clients)), 3),
        "call_in_app_p50": _p50(column("client_ms")),
        "added_p50": _p50(added),
        "frame_p50": _p50([t["frame_ms"] for t in pages if "frame_ms" in t] or [float("nan")]),
    }
    result["overhead_pct"] = round(100.0 * (result["page_p50"] / client_p50 - 1.0), 1)
    result["added_pct"] = round(100.0 * result["added_p50"] / client_p50, 1)
    parts = {
        "page_to_app": [t["sent_ms"] + t["to_app_ms"] for t in pages if "to_app_ms" in t],
        "app_besides_call": [t["app_ms"] - t["client_ms"] for t in pages],
        "app_to_page": [t["from_app_ms"] + t["parse_ms"] for t in pages if "from_app_ms" in t],
        "draw_in_strip": [t["page_ms"] - t["fetch_ms"] for t in pages],
    }
    result["parts"] = {k: _p50(v) for k, v in parts.items() if v}
    sizes = [t["bytes"] for t in pages if t.get("bytes")]
    result["answer_bytes_p50"] = _p50(sizes) if sizes else None
    result["encodings"] = {e: sum(t.get("encoding") == e for t in pages) for e in ("delta", "rgb")}
    if https:
        result["http"] = {
            "via": sorted({t.get("via") for t in https}),
            "page_p50": _p50([t["page_ms"] for t in https]),
            "ratio_p50": round(
                statistics.median(t["page_ms"] / c for t, c in zip(https, clients)), 3
            ),
            "added_p50": _p50([t["page_ms"] - t["client_ms"] for t in https]),
        }
        result["http"]["overhead_pct"] = round(
            100.0 * (result["http"]["page_p50"] / client_p50 - 1.0), 1
        )
    result["pause_s"] = pause_s
    result["press"] = press
    result["load_average"] = round(os.getloadavg()[0], 2)
    result["nice"] = os.nice(0)
    result["samples"] = {"client_ms": clients, "page": pages, "http": https}
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
            if not FLAGS.latency_only:
                take_screenshot(page, url, read_commands(FLAGS.commands), FLAGS.out)
            if FLAGS.latency_turns > 0:
                fresh = chromium.new_page()
                http_tab = chromium.new_page() if FLAGS.latency_http else None
                result = measure_latency(
                    fresh,
                    url,
                    FLAGS.image,
                    FLAGS.latency_turns,
                    pause_s=FLAGS.latency_pause_s,
                    http_page=http_tab,
                    press=FLAGS.latency_press,
                )
                print(json.dumps({k: v for k, v in result.items() if k != "samples"}), flush=True)
                if FLAGS.latency_json:
                    with open(FLAGS.latency_json, "w") as f:
                        json.dump(result, f, indent=1)
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
