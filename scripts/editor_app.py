r"""The interactive editor: a local web page over the serving stack's gRPC API.

    python scripts/editor_app.py --server=127.0.0.1:8500 --model_name=seqattngan \
        --data_dir=data --dataset=synth_zap_seq            # then open http://127.0.0.1:7860

The page talks to the model only through `serving.client` (to scripts/serve.py or a TF Serving
container); nothing is loaded in this process. It runs on Starlette + uvicorn, binds 127.0.0.1
unless --host says otherwise, and answers only to the loopback names (127.0.0.1, localhost,
[::1]) unless --allowed_hosts adds others (docs/editor.md says what it refuses and why).
Each browser tab has its own session; sessions live in this process's memory.
"""

from __future__ import annotations

import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from absl import app, flags  # noqa: E402

from serving import contract  # noqa: E402
from tfrecords.datasets import DATASETS, DEFAULT_DATASET  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("server", f"127.0.0.1:{contract.DEFAULT_PORT}", "Model server host:port.")
flags.DEFINE_string("model_name", "seqattngan", "Served model name.")
flags.DEFINE_string("host", "127.0.0.1", "Address the page binds (loopback by default).")
flags.DEFINE_integer("port", 7860, "Port of the page (0: a free port, see --port_file).")
flags.DEFINE_string("port_file", None, "Write the page's port here once it listens.")
flags.DEFINE_string("data_dir", "data", "Shards root for 'random test example' (optional).")
flags.DEFINE_enum("dataset", DEFAULT_DATASET, list(DATASETS), "Dataset of the test examples.")
flags.DEFINE_float("timeout_s", 10.0, "Deadline of each gRPC call.")
flags.DEFINE_integer("max_upload_mb", 20, "Largest accepted upload, in MB.")
flags.DEFINE_integer("max_sessions", 500, "Sessions kept in memory (least recently used go).")
flags.DEFINE_integer("example_seed", None, "Seed of the random test examples (None: random).")
flags.DEFINE_list(
    "allowed_hosts",
    [],
    "Host names the page answers to besides 127.0.0.1, localhost and [::1] (each may add "
    "':port'; default: the bound port). Needed when --host is not loopback.",
)
flags.DEFINE_integer("max_connections", 64, "Connections and requests at once (more get 503).")
flags.DEFINE_integer("max_decoding_uploads", 2, "Uploads read and decoded at once.")
flags.DEFINE_float("header_timeout_s", 10.0, "A connection must send a request head within this.")


def main(argv: list[str]) -> None:
    del argv
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    from serving.editor_app import Backend, EditorApp, EditorServer, ExampleSource
    from serving.editor_app.guards import Limits
    from serving.editor_app.sessions import SessionStore

    backend = Backend(FLAGS.server, FLAGS.model_name, timeout_s=FLAGS.timeout_s)
    examples = ExampleSource(FLAGS.data_dir, FLAGS.dataset, seed=FLAGS.example_seed)
    editor = EditorApp(
        backend,
        examples,
        max_upload_bytes=FLAGS.max_upload_mb * 1_000_000,
        sessions=SessionStore(max_sessions=FLAGS.max_sessions),
    )
    limits = Limits(
        max_connections=FLAGS.max_connections,
        max_decoding_uploads=FLAGS.max_decoding_uploads,
        header_timeout_s=FLAGS.header_timeout_s,
    )
    server = EditorServer(editor, FLAGS.host, FLAGS.port, FLAGS.allowed_hosts, limits)
    status = backend.status()
    print(f"model server {FLAGS.server}: {status['message']}", flush=True)
    print(f"test examples: {examples.describe()}", flush=True)
    print(f"editor: http://{FLAGS.host}:{server.port}/  (Ctrl-C stops it)", flush=True)
    if FLAGS.port_file:
        tmp = FLAGS.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(server.port))
        os.replace(tmp, FLAGS.port_file)

    try:
        server.serve_forever()  # uvicorn stops on SIGINT / SIGTERM
    except KeyboardInterrupt:
        pass
    finally:
        backend.close()


def run() -> None:
    app.run(main)


if __name__ == "__main__":
    run()
