"""Load test: concurrent edit sessions against the local server while versions are swapped
and the server is restarted.

Called by scripts/load_test.py. It serves a model folder with `scripts.serve` as a
subprocess on a free loopback port, and drives it with `num_sessions` client threads,
each an `EditSession` (start, then edits, a new session every `turns_per_session`
turns), until `duration_s` has passed or `max_requests` were sent. Meanwhile it
publishes a new version every `swap_every_s` (a copy of the newest version folder,
renamed into place as exporters do) and, at `restart_at` of the run, stops the server
with SIGTERM and starts a new one on the same port. Clients ride through the restart
the way `EditSession` does by default: calls refused with UNAVAILABLE are retried, and
calls wait for the server to be ready up to their timeout.

Reported: requests, failures by gRPC status, latency p50 / p99 / max, versions that
answered, swaps, restarts, and the server's RSS (per server process: before the load,
after its first version is loaded and warmed up; its peak, sampled once a second; and
at its end), with a sample every 10 s to see whether it levels off, and per server the
RSS just before each version it was sent and its growth per swap (from after its first
swap's version was released to its end, divided by the swaps after the first).

Without `model_base_path` the untrained TinyEditor (64x64, state 128, 16 words) is
exported and served, and the report says so.
"""

from __future__ import annotations

import collections
import dataclasses
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

COMMANDS = (
    "make it red",
    "has a higher heel",
    "add laces and a zebra print",
    "it is darker and has a strap that goes around the ankle",
    "is blue",
)
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@dataclasses.dataclass
class LoadTestConfig:
    """What to run.

    Attributes:
        model_base_path: `<export_dir>/<model_name>` with at least one version; None
            exports the TinyEditor into a temporary folder.
        model_name: model name.
        num_sessions: concurrent client sessions (threads).
        duration_s: wall-time bound of the load.
        max_requests: bound on requests sent (start + edit).
        turns_per_session: edits before a client starts a new session.
        swap_every_s: seconds between published versions (0: no swaps).
        restart_at: fraction of duration_s at which the server is restarted (None: never).
        timeout_s: per-call client deadline.
        grace_s: the server's drain grace period at SIGTERM.
        poll_interval_s: the server's version poll interval.
        image_side: side of the clients' start images.
        work_dir: where copies and logs go; None uses a temporary folder.
        startup_timeout_s: how long to wait for a (re)started server to serve.
    """

    model_base_path: str | None = None
    model_name: str = "seqattngan"
    num_sessions: int = 8
    duration_s: float = 60.0
    max_requests: int = 100_000
    turns_per_session: int = 4
    swap_every_s: float = 15.0
    restart_at: float | None = 0.5
    timeout_s: float = 30.0
    grace_s: float = 10.0
    poll_interval_s: float = 0.5
    image_side: int = 64
    work_dir: str | None = None
    startup_timeout_s: float = 300.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident set size of process `pid` in MB (from /proc; nan if unavailable)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def publish_copy(base_path: str) -> int:
    """Publishes a copy of the newest version as the next version (atomic rename).

    Returns:
        The new version number.
    """
    versions = sorted(int(n) for n in os.listdir(base_path) if n.isdigit())
    newest, new = versions[-1], versions[-1] + 1
    tmp = os.path.join(base_path, f".tmp-{new}")
    shutil.copytree(os.path.join(base_path, str(newest)), tmp)
    os.rename(tmp, os.path.join(base_path, str(new)))
    for old in versions[:-2]:  # keep the folder small: the served and the previous one
        shutil.rmtree(os.path.join(base_path, str(old)), ignore_errors=True)
    return new


_RUNNING: set[subprocess.Popen] = set()  # servers to stop if the run fails


class _Server:
    """scripts.serve as a subprocess on a fixed loopback port."""

    def __init__(self, config: LoadTestConfig, base_path: str, port: int, log_path: str):
        self.config, self.base_path, self.port, self.log_path = config, base_path, port, log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
        log = open(self.log_path, "a")  # noqa: SIM115 (kept open for the child's lifetime)
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "scripts.serve",
                f"--model_base_path={self.base_path}", f"--model_name={self.config.model_name}",
                f"--port={self.port}", f"--grace_s={self.config.grace_s}",
                f"--poll_interval_s={self.config.poll_interval_s}",
            ],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()
        _RUNNING.add(self.process)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=self.config.grace_s + 60)
        _RUNNING.discard(self.process)
        return code


def _tiny_export(work_dir: str, model_name: str) -> str:
    from seqgan_tf.export import export_editor
    from seqgan_tf.export.tiny_editor import TinyEditor

    editor = TinyEditor(image_size=64, state_dim=128, max_words=16)
    export_editor(editor, os.path.join(work_dir, "exports"), model_name, version=1)
    return os.path.join(work_dir, "exports", model_name)


def run(config: LoadTestConfig) -> dict:
    """Runs the load test and returns its report (see module docstring).

    A server it started is stopped (SIGTERM) even if the run fails.
    """
    try:
        return _run(config)
    finally:
        for process in list(_RUNNING):
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=config.grace_s + 60)
            except subprocess.TimeoutExpired:
                process.kill()
            _RUNNING.discard(process)


def _run(config: LoadTestConfig) -> dict:
    from serving import client

    work_dir = config.work_dir or tempfile.mkdtemp(prefix="load_test-")
    os.makedirs(work_dir, exist_ok=True)
    base_path = os.path.join(work_dir, "models", config.model_name)
    if config.model_base_path:
        source = config.model_base_path
        newest = max(int(n) for n in os.listdir(source) if n.isdigit())
        shutil.copytree(os.path.join(source, str(newest)), os.path.join(base_path, "1"))
        model = f"{source} version {newest}"
    else:
        source = _tiny_export(work_dir, config.model_name)
        shutil.copytree(os.path.join(source, "1"), os.path.join(base_path, "1"))
        model = "untrained TinyEditor (64x64, state 128, 16 words), not a trained model"

    port = _free_port()
    target = f"127.0.0.1:{port}"
    server = _Server(config, base_path, port, os.path.join(work_dir, "server.log"))
    server.start()
    channel = client.make_channel(target)
    client.wait_until_available(channel, config.model_name, config.startup_timeout_s)
    rss = {"server 1 before": rss_mb(server.process.pid)}

    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, [config.image_side] * 2 + [3], np.uint8) for _ in range(8)]
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: collections.Counter = collections.Counter()
    versions: collections.Counter = collections.Counter()
    sent = [0]
    failure_log: list[str] = []
    stop = threading.Event()
    start_time = time.monotonic()
    deadline = start_time + config.duration_s

    def take() -> bool:
        with lock:
            if stop.is_set() or sent[0] >= config.max_requests or time.monotonic() >= deadline:
                return False
            sent[0] += 1
            return True

    def record(seconds: float, status: str, version: int | None = None) -> None:
        with lock:
            latencies.append(seconds)
            statuses[status] += 1
            if version is not None:
                versions[version] += 1

    def session_loop(index: int) -> None:
        session = client.EditSession(target, config.model_name, timeout_s=config.timeout_s)
        turn = 0
        while take():
            begin = time.perf_counter()
            try:
                if session.state is None or turn >= config.turns_per_session:
                    session.start(images[(index + turn) % len(images)])
                    turn = 0
                    record(time.perf_counter() - begin, "OK")
                else:
                    result = session.edit(COMMANDS[(index + turn) % len(COMMANDS)])
                    turn += 1
                    record(time.perf_counter() - begin, "OK", result.version)
            except client.ServingClientError as error:
                record(time.perf_counter() - begin, error.code.name)
                with lock:
                    failure_log.append(
                        f"{time.monotonic() - start_time:.1f}s: {error.code.name} after "
                        f"{time.perf_counter() - begin:.1f}s: {error.details[:120]}"
                    )
        session.close()

    threads = [threading.Thread(target=session_loop, args=(i,)) for i in range(config.num_sessions)]
    for thread in threads:
        thread.start()

    swaps, restarts, events = 0, 0, []
    at_swaps: dict[int, list[float]] = {1: []}  # server -> RSS just before each publish
    peak = {1: rss["server 1 before"]}
    trajectory: dict[int, list[float]] = {1: []}
    next_sample, next_point = start_time, start_time
    restart_time = (
        start_time + config.restart_at * config.duration_s
        if config.restart_at is not None
        else None
    )
    next_swap = start_time + config.swap_every_s if config.swap_every_s > 0 else float("inf")
    while any(t.is_alive() for t in threads):
        now = time.monotonic()
        if restart_time is not None and now >= restart_time:
            restart_time = None
            rss["server 1 after"] = rss_mb(server.process.pid)
            rss["server 1 peak"] = max(peak[1], rss["server 1 after"])
            code = server.stop()
            events.append(f"{now - start_time:.1f}s: server stopped with SIGTERM (exit {code})")
            server.start()
            restarts += 1
            client.wait_until_available(channel, config.model_name, config.startup_timeout_s)
            rss["server 2 before"] = peak[2] = rss_mb(server.process.pid)
            trajectory[2], next_point, at_swaps[2] = [], time.monotonic(), []
            events.append(f"{time.monotonic() - start_time:.1f}s: new server available")
        elif now >= next_swap and now < deadline - config.swap_every_s / 2:
            at_swaps[restarts + 1].append(round(rss_mb(server.process.pid), 1))
            version = publish_copy(base_path)
            swaps += 1
            events.append(f"{now - start_time:.1f}s: published version {version}")
            next_swap = now + config.swap_every_s
        if now >= next_sample:  # the server's RSS once a second, for its peak
            current = rss_mb(server.process.pid)
            peak[restarts + 1] = max(peak[restarts + 1], current)
            next_sample = now + 1.0
            if now >= next_point:  # and every 10 s, to see whether it levels off
                trajectory[restarts + 1].append(round(current, 1))
                next_point = now + 10.0
        time.sleep(0.1)
    elapsed = time.monotonic() - start_time
    rss[f"server {restarts + 1} after"] = rss_mb(server.process.pid)
    rss[f"server {restarts + 1} peak"] = max(
        peak[restarts + 1], rss[f"server {restarts + 1} after"]
    )
    final_status = client.model_status(channel, config.model_name)
    channel.close()
    exit_code = server.stop()

    per_swap = {}
    for index, points in at_swaps.items():
        end = rss[f"server {index} after"]
        if len(points) >= 2:  # points[1]: the first swap's version loaded, the old released
            per_swap[index] = round((end - points[1]) / (len(points) - 1), 1)
    ms = np.asarray(latencies) * 1000.0
    return {
        "model": model,
        "sessions": config.num_sessions,
        "elapsed_s": round(elapsed, 1),
        "requests": int(sum(statuses.values())),
        "failures": {k: v for k, v in statuses.items() if k != "OK"},
        "p50_ms": round(float(np.percentile(ms, 50)), 2) if len(ms) else None,
        "p99_ms": round(float(np.percentile(ms, 99)), 2) if len(ms) else None,
        "max_ms": round(float(ms.max()), 2) if len(ms) else None,
        "requests_per_s": round(len(ms) / elapsed, 1),
        "edits_by_version": dict(sorted(versions.items())),
        "swaps": swaps,
        "restarts": restarts,
        "final_status": final_status,
        "server_exit_code": exit_code,
        "rss_mb": {k: round(v, 1) for k, v in rss.items()},
        "rss_every_10s_mb": trajectory,
        "rss_at_swaps_mb": at_swaps,
        "rss_growth_per_swap_mb": per_swap,
        "events": events,
        "failure_log": failure_log[:20],
        "work_dir": work_dir,
    }


def format_report(report: dict) -> str:
    """The report as text."""
    lines = [
        f"model: {report['model']}",
        f"{report['sessions']} sessions for {report['elapsed_s']}s: {report['requests']} requests "
        f"({report['requests_per_s']}/s), failures {report['failures'] or 'none'}",
        f"latency ms: p50 {report['p50_ms']}, p99 {report['p99_ms']}, max {report['max_ms']}",
        f"swaps {report['swaps']}, restarts {report['restarts']}, edits by version "
        f"{report['edits_by_version']}, final status {report['final_status']}, "
        f"server exit code {report['server_exit_code']}",
        "server RSS MB: " + ", ".join(f"{k} {v}" for k, v in report["rss_mb"].items()),
        "server RSS MB every 10 s: "
        + "; ".join(f"server {k}: {v}" for k, v in report["rss_every_10s_mb"].items()),
        "server RSS MB before each swap: "
        + "; ".join(f"server {k}: {v}" for k, v in report["rss_at_swaps_mb"].items())
        + "; growth per swap MB: "
        + (
            ", ".join(f"server {k} {v}" for k, v in report["rss_growth_per_swap_mb"].items())
            or "n/a (fewer than 2 swaps per server)"
        ),
        *[f"  {event}" for event in report["events"]],
        *[f"  failed: {line}" for line in report["failure_log"]],
    ]
    return "\n".join(lines)
