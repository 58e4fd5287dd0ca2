"""Version swaps under traffic do not grow the server's memory (issue 14.13, "memory growth:
target flat").

A retired SavedModel is a web of reference cycles: dropping it frees nothing until a full
garbage collection, which CPython ran only every ~5 swaps with TensorFlow imported, so RSS
climbed ~35 MB per swap (the TinyEditor) and the old version's functions stayed in the eager
context's function library. The manager now releases a retired version as soon as its last
request finishes. Checked here through the server, with two gRPC clients editing throughout.
"""

import os
import shutil
import threading
import time

from serving_testlib import MODEL_NAME, export_tiny, random_image, running_server, wait_for
from tensorflow.python.eager import context

from serving import client

SWAPS = 4


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError("no VmRSS")


def _functions() -> int:
    return len(context.context().list_function_names())


def _publish(base_path: str, version: int) -> None:
    tmp = os.path.join(base_path, f".tmp-{version}")
    shutil.copytree(os.path.join(base_path, "1"), tmp)
    os.rename(tmp, os.path.join(base_path, str(version)))


def test_swaps_under_traffic_release_the_old_versions(tmp_path):
    export_tiny(tmp_path, version=1)
    base_path = os.path.join(tmp_path, MODEL_NAME)
    with running_server(str(tmp_path), wait_loaded=False, poll_interval_s=0.1) as (
        server,
        target,
    ):
        wait_for(lambda: server.manager.available_versions(), 300, "version 1")
        stop = threading.Event()
        served: list[int] = []
        failures: list[BaseException] = []

        def clients(index: int) -> None:
            with client.EditSession(target, MODEL_NAME, timeout_s=300) as session:
                while not stop.is_set():
                    try:
                        session.start(random_image(16, 16, index))
                        served.append(session.edit("make it red").version)
                    except BaseException as error:  # noqa: BLE001 (reported below)
                        failures.append(error)
                        return

        threads = [threading.Thread(target=clients, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        try:
            wait_for(lambda: len(served) >= 4, timeout_s=120, what="edits on version 1")
            baseline = _functions()  # one version loaded and warmed up
            rss, functions = [], []
            for version in range(2, SWAPS + 3):
                _publish(base_path, version)
                wait_for(
                    lambda v=version: server.manager.available_versions() == [v],
                    timeout_s=300,
                    what=f"version {version}",
                )
                count = len(served)
                wait_for(lambda c=count: len(served) >= c + 4, 120, "edits on the new version")
                # The retired version goes once its last request finishes (and the next
                # collection ran): give it 60 s on a busy machine.
                deadline = time.monotonic() + 60.0
                while _functions() > baseline and time.monotonic() < deadline:
                    time.sleep(0.1)
                rss.append(_rss_mb())
                functions.append(_functions())
                # Each swap leaves one version's functions in the eager context, as before it.
                assert functions[-1] <= baseline, (
                    f"{baseline} eager functions with one version; after swap(s) {functions}"
                )
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
        assert not failures, failures
        # The first swap is the RSS baseline (the allocator has seen a load and a release).
        per_swap = (max(rss[1:]) - rss[0]) / SWAPS
        assert per_swap < 15.0, f"RSS after each swap (MB): {[round(r, 1) for r in rss]}"
        assert set(served) >= set(range(3, SWAPS + 3)), sorted(set(served))
