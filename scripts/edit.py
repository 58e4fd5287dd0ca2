r"""Interactive (or scripted) editing session against a running server.

    python -m scripts.edit --server=127.0.0.1:8500 --model_name=seqattngan \
        --image=shoe.png --out_dir=out/session
    python -m scripts.edit --from_dataset --data_dir=data --dataset=synth_zap_seq \
        --commands=edits.txt --out_dir=out/session

Each turn's image is saved as out_dir/turn_<t>.png and the strip of all turns with
their descriptions as out_dir/strip.png. Interactive mode: one edit per prompt; an
empty line or EOF ends the session. --commands: one edit per line (blank lines and
lines starting with # are skipped).

Nothing typed is lost: a refused or failed turn (an empty or over-long text, a model
error) is reported on its line and drawn in the strip (crossed out, with the status
code), and the session goes on from its last good state. A command longer than the
model's word limit is run on its first max_words words and the script says how many
were ignored. Only a server that no longer answers stops the script (exit code 1), and
the strip of what was done is still written.
"""

from __future__ import annotations

import os

import numpy as np
from absl import app, flags

from serving import contract
from tfrecords.datasets import DATASETS, DEFAULT_DATASET

FLAGS = flags.FLAGS
flags.DEFINE_string("server", f"127.0.0.1:{contract.DEFAULT_PORT}", "Server host:port.")
flags.DEFINE_string("model_name", "seqattngan", "Served model name.")
flags.DEFINE_string("image", None, "Start image (PNG/JPEG, converted to RGB).")
flags.DEFINE_bool("from_dataset", False, "Start from a test-split image of --dataset.")
flags.DEFINE_string("data_dir", "data", "Data folder (with --from_dataset).")
flags.DEFINE_enum("dataset", DEFAULT_DATASET, list(DATASETS), "Dataset (with --from_dataset).")
flags.DEFINE_integer("session_index", 0, "Which test session's first image (with --from_dataset).")
flags.DEFINE_string("commands", None, "File with one edit per line (scripted mode).")
flags.DEFINE_string("out_dir", "out/session", "Where turn images and the strip go.")
flags.DEFINE_float("timeout_s", 10.0, "Deadline of each call.")
flags.DEFINE_float("wait_s", 60.0, "How long to wait for the model to become available.")


def load_image(path: str) -> np.ndarray:
    """Reads an image file as uint8 [H, W, 3]."""
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def dataset_image(data_dir: str, dataset: str, index: int) -> tuple[np.ndarray, list[str]]:
    """The first image of test session `index` and that session's reference descriptions.

    Raises:
        IndexError: the test split has fewer than index + 1 sessions.
    """
    from seqgan_tf.data.input_pipeline import make_dataset
    from seqgan_tf.visualization.strips import to_uint8

    ds = make_dataset(data_dir, dataset, "test", global_batch_size=1, is_training=False)
    for batch in ds.skip(index).take(1):
        image = to_uint8(batch["images"][0, 0].numpy())
        turns = int(batch["num_turns"][0])
        texts = [t.decode("utf-8") for t in batch["descriptions"][0, :turns].numpy()]
        return image, texts
    raise IndexError(f"the test split of {dataset} has no session {index}")


def read_commands(path: str) -> list[tuple[int, str]]:
    """Edits from a file as (line number, text): one per line, blank lines and # comments skipped."""
    with open(path, encoding="utf-8") as f:
        lines = [(number, line.strip()) for number, line in enumerate(f, start=1)]
    return [(n, line) for n, line in lines if line and not line.startswith("#")]


def server_answers(session, timeout_s: float = 5.0) -> bool:
    """True if the server still answers GetModelStatus for the session's model."""
    from serving.client import ServingClientError, model_status

    try:
        model_status(session.channel, session.model_name, timeout_s=timeout_s)
    except ServingClientError:
        return False
    return True


def _save(image: np.ndarray, path: str) -> None:
    from PIL import Image

    Image.fromarray(image).save(path)


def main(argv: list[str]) -> None:
    del argv
    if bool(FLAGS.image) == FLAGS.from_dataset:
        raise app.UsageError("give exactly one of --image or --from_dataset")
    from serving.client import (
        CONNECTION_CODES,
        EditSession,
        ServingClientError,
        format_design,
        wait_until_available,
    )

    if FLAGS.image:
        image = load_image(FLAGS.image)
    else:
        image, reference = dataset_image(FLAGS.data_dir, FLAGS.dataset, FLAGS.session_index)
        print("Reference edits of this session:", *[f"  {t}" for t in reference], sep="\n")
    os.makedirs(FLAGS.out_dir, exist_ok=True)
    with EditSession(FLAGS.server, FLAGS.model_name, timeout_s=FLAGS.timeout_s) as session:
        version = wait_until_available(session.channel, FLAGS.model_name, FLAGS.wait_s)
        print(f"{FLAGS.model_name} version {version} is available at {FLAGS.server}")
        session.start(image)
        _save(session.images[0], os.path.join(FLAGS.out_dir, "turn_0.png"))
        commands = read_commands(FLAGS.commands) if FLAGS.commands else None
        turn, refused, server_gone, index = 0, 0, None, 0
        try:
            while True:
                if commands is not None:
                    if index >= len(commands):
                        break
                    line, text = commands[index]
                    index += 1
                    where = f"line {line}"
                    print(f"[{where}] {text}")
                else:
                    try:
                        text = input(f"[{turn + 1}] edit (empty line ends)> ").strip()
                    except EOFError:
                        break
                    if not text:
                        break
                    where = f"turn {turn + 1}"
                try:
                    result = session.edit(text)
                except ServingClientError as error:
                    if error.code in CONNECTION_CODES and not server_answers(session):
                        server_gone = error
                        print(f"  the server stopped answering ({error.code.name}): stopping")
                        break
                    refused += 1
                    print(f"  REFUSED {where} ({error.code.name}): {error.details}")
                    print("  the session goes on from the last good image")
                    continue
                turn += 1
                path = os.path.join(FLAGS.out_dir, f"turn_{turn}.png")
                _save(result.image, path)
                print(f"  -> {path} (version {result.version}, tokens {result.tokens})")
                if result.design:
                    print(f"  understood: {format_design(result.design)}")
                if result.dropped_words:
                    print(
                        f"  warning: the model reads at most {len(result.tokens)} words; the "
                        f"last {result.dropped_words} word(s) of {where} were ignored"
                    )
        finally:  # whatever happened, the strip of what was done is written
            strip = session.write_strip(os.path.join(FLAGS.out_dir, "strip.png"))
            summary = f"Strip of {turn} edit(s)"
            if refused:
                summary += f", {refused} refused"
            print(f"{summary}: {strip}", flush=True)
    if server_gone is not None:
        raise SystemExit(1)


def run() -> None:
    app.run(main)


if __name__ == "__main__":
    run()
