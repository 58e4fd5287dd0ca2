r"""Load test of the local server: concurrent sessions while versions are swapped and the
server is restarted (logic: benchmarks/load_test.py).

    python -m scripts.load_test --num_sessions=8 --duration_s=60 --swap_every_s=15 \
        --restart_at=0.5
    python -m scripts.load_test --model_base_path=exports/seqattngan --model_name=seqattngan

Everything runs on 127.0.0.1. Prints the report (requests, failures by status, latency
p50/p99/max, swaps, restarts, server RSS before/after) and, with --report_json, writes it.
"""

from __future__ import annotations

import json

from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_string("model_base_path", None, "Model folder to serve (default: TinyEditor export).")
flags.DEFINE_string("model_name", "seqattngan", "Model name.")
flags.DEFINE_integer("num_sessions", 8, "Concurrent client sessions.")
flags.DEFINE_float("duration_s", 60.0, "Wall-time bound of the load.")
flags.DEFINE_integer("max_requests", 100_000, "Bound on requests sent.")
flags.DEFINE_integer("turns_per_session", 4, "Edits before a client starts a new session.")
flags.DEFINE_float("swap_every_s", 15.0, "Seconds between published versions (0: none).")
flags.DEFINE_float("restart_at", 0.5, "Fraction of the run at which to restart (<0: never).")
flags.DEFINE_float("timeout_s", 30.0, "Per-call client deadline.")
flags.DEFINE_float("grace_s", 10.0, "Server drain grace period.")
flags.DEFINE_string("work_dir", None, "Where copies and the server log go (default: temp).")
flags.DEFINE_string("report_json", None, "Also write the report here.")
flags.DEFINE_float("startup_timeout_s", 300.0, "Wait this long for a (re)started server.")


def main(argv: list[str]) -> None:
    del argv
    from benchmarks.load_test import LoadTestConfig, format_report, run

    report = run(
        LoadTestConfig(
            model_base_path=FLAGS.model_base_path,
            model_name=FLAGS.model_name,
            num_sessions=FLAGS.num_sessions,
            duration_s=FLAGS.duration_s,
            max_requests=FLAGS.max_requests,
            turns_per_session=FLAGS.turns_per_session,
            swap_every_s=FLAGS.swap_every_s,
            restart_at=FLAGS.restart_at if FLAGS.restart_at >= 0 else None,
            timeout_s=FLAGS.timeout_s,
            grace_s=FLAGS.grace_s,
            work_dir=FLAGS.work_dir,
            startup_timeout_s=FLAGS.startup_timeout_s,
        )
    )
    print(format_report(report), flush=True)
    if FLAGS.report_json:
        with open(FLAGS.report_json, "w") as f:
            json.dump(report, f, indent=2, default=str)


def run_main() -> None:
    app.run(main)


if __name__ == "__main__":
    run_main()
