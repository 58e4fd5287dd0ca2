r"""Serves exported editor SavedModels over TF Serving's gRPC API (no container needed).

    python -m scripts.serve --model_base_path=exports/seqattngan --model_name=seqattngan \
        --port=8500

New integer version folders under --model_base_path are picked up while serving.
The port opens once the first version is loaded and warmed up (--wait_for_model_s).
SIGTERM / SIGINT stop the server gracefully and exit 0: health turns NOT_SERVING, the
requests in flight finish within --grace_s, new ones are refused with UNAVAILABLE.
"""

from __future__ import annotations

import logging
import os
import signal
import threading

from absl import app, flags

from serving import contract

FLAGS = flags.FLAGS
flags.DEFINE_string("model_base_path", None, "<export_dir>/<model_name> with integer versions.")
flags.DEFINE_string("model_name", "seqattngan", "Name clients send in model_spec.name.")
flags.DEFINE_string("host", contract.DEFAULT_HOST, "Interface to bind (loopback by default).")
flags.DEFINE_integer("port", contract.DEFAULT_PORT, "gRPC port (0: pick a free one).")
flags.DEFINE_float("poll_interval_s", 1.0, "Seconds between scans for new versions.")
flags.DEFINE_integer("num_versions", 1, "Newest versions kept loaded.")
flags.DEFINE_integer(
    "max_message_bytes",
    contract.MAX_MESSAGE_BYTES,
    "gRPC message limit in bytes (default: the largest request the contract allows, 48 MiB "
    "of images, plus a 4 MiB margin).",
)
flags.DEFINE_integer("max_workers", 16, "Request handler threads.")
flags.DEFINE_integer(
    "max_concurrent_rpcs",
    contract.MAX_CONCURRENT_RPCS,
    "Calls held at once (running or waiting for a handler thread); one more is refused with "
    "RESOURCE_EXHAUSTED. 0: no bound.",
)
flags.DEFINE_float("grace_s", 5.0, "Seconds in-flight requests get at shutdown.")
flags.DEFINE_float(
    "wait_for_model_s",
    300.0,
    "Open the port only once a version is loaded (as TF Serving), waiting up to this long.",
)
flags.DEFINE_integer("max_load_retries", 5, "Retries of a failed version with unchanged contents.")
flags.DEFINE_string("port_file", None, "If set, the bound port is written here once serving.")
flags.mark_flag_as_required("model_base_path")


def main(argv: list[str]) -> None:
    del argv
    from serving.server import ModelServer, ServerConfig

    logging.getLogger().setLevel(logging.INFO)
    server = ModelServer(
        ServerConfig(
            model_name=FLAGS.model_name,
            model_base_path=FLAGS.model_base_path,
            host=FLAGS.host,
            port=FLAGS.port,
            poll_interval_s=FLAGS.poll_interval_s,
            num_versions=FLAGS.num_versions,
            max_message_bytes=FLAGS.max_message_bytes,
            max_workers=FLAGS.max_workers,
            max_concurrent_rpcs=FLAGS.max_concurrent_rpcs or None,
            max_load_retries=FLAGS.max_load_retries,
        )
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: stop.set())
    port = server.start(wait_for_model_s=FLAGS.wait_for_model_s)
    if FLAGS.port_file:
        with open(FLAGS.port_file + ".tmp", "w") as f:
            f.write(str(port))
        os.replace(FLAGS.port_file + ".tmp", FLAGS.port_file)
    print(f"Serving {FLAGS.model_name} on {FLAGS.host}:{port}", flush=True)
    while not stop.wait(0.5):
        pass
    logging.info("Shutting down (grace %.1fs)", FLAGS.grace_s)
    server.stop(FLAGS.grace_s)


def run() -> None:
    app.run(main)


if __name__ == "__main__":
    run()
