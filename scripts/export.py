r"""Exports a trained run as a TF-Serving-ready SavedModel version.

    python -m scripts.export --run_dir=runs/synth_zap_seq --export_dir=exports \
        --model_name=seqattngan

writes exports/seqattngan/<next integer version>/ atomically (a running server
picks it up). --tiny_editor exports the untrained stand-in of
seqgan_tf/export/tiny_editor.py instead (smoke tests only: it is not a model).
"""

from __future__ import annotations

import os

from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_string("run_dir", None, "Training run folder (seqgan_tf.training.runs.load_editor).")
flags.DEFINE_string("export_dir", "exports", "Export base folder.")
flags.DEFINE_string("model_name", "seqattngan", "Model folder name / served model name.")
flags.DEFINE_integer("version", None, "Integer version (default: next free one).")
flags.DEFINE_bool("tiny_editor", False, "Export the untrained TinyEditor (smoke tests only).")


def main(argv: list[str]) -> None:
    del argv
    if FLAGS.tiny_editor == bool(FLAGS.run_dir):
        raise app.UsageError("give exactly one of --run_dir or --tiny_editor")
    from seqgan_tf.export import export_editor

    schema = None
    if FLAGS.tiny_editor:
        from seqgan_tf.export.tiny_editor import TinyEditor

        editor = TinyEditor()
        print("Exporting the untrained TinyEditor (not a trained model).")
    else:
        from seqgan_tf.training.run_folder import load_attribute_schema
        from seqgan_tf.training.runs import load_editor

        editor = load_editor(FLAGS.run_dir)
        schema = load_attribute_schema(FLAGS.run_dir)
    provenance = None
    if FLAGS.run_dir:
        from tfrecords.build_fingerprint import describe, read_build

        # Recorded beside the SavedModel (assets.extra/provenance.json); None for runs from
        # before builds were fingerprinted.
        provenance = {
            "run_dir": os.path.abspath(FLAGS.run_dir),
            "data_build": read_build(FLAGS.run_dir),
        }
        print(f"Trained on: {describe(provenance['data_build'])}")
    path = export_editor(
        editor,
        FLAGS.export_dir,
        FLAGS.model_name,
        FLAGS.version,
        provenance=provenance,
        attribute_schema=schema,
    )
    print(f"Exported {FLAGS.model_name} to {path}")


def run() -> None:
    app.run(main)


if __name__ == "__main__":
    run()
