"""Trains the attribute classifier that judges generated images (edit metrics, domain features).

    python scripts/train_attribute_classifier.py --dataset=synth_zap_seq --data_dir=data \
        --out=runs/attr_clf_synth_zap_seq

Trains the judge (a residual network reading images upsampled to 96x96, a different
architecture from the model's attribute reader) on every ground-truth image (all turns) of the
build's train split only, reports per-attribute accuracy on the test split, and writes
<out>/attribute_classifier.keras, <out>/attribute_schema.json, <out>/data_build.json (the
build's fingerprint) and <out>/metrics.json (test accuracies, most frequent confusions,
architecture, wall time). The job is seqgan_tf/evaluation/classifier_run.py; docs/evaluation.md.
"""

from __future__ import annotations

import json
import sys

from absl import app, flags, logging

from tfrecords.datasets import DATASETS, DEFAULT_DATASET

FLAGS = flags.FLAGS
flags.DEFINE_enum("dataset", DEFAULT_DATASET, list(DATASETS), "Dataset name.")
flags.DEFINE_string("data_dir", "data", "Root of the built shards.")
flags.DEFINE_string("out", None, "Output folder (default runs/attr_clf_<dataset>).")
flags.DEFINE_integer("epochs", 12, "Training epochs.")
flags.DEFINE_integer("batch_size", 64, "Images per step.")
flags.DEFINE_float("learning_rate", 2e-3, "Peak Adam learning rate (cosine decay).")
flags.DEFINE_integer("max_train_images", 30000, "Cap on training images (all turns).")
flags.DEFINE_integer("max_test_images", 4000, "Cap on test images.")
flags.DEFINE_integer("image_size", 64, "Resolution the images are read at from the shards.")
flags.DEFINE_enum(
    "architecture",
    "residual",
    ["residual", "plain"],
    "residual: the judge; plain: the earlier CNN (same design family as the model's reader).",
)
flags.DEFINE_integer("input_size", None, "The judge's input size (default 96 for residual).")
flags.DEFINE_bool(
    "test_only", False, "Only measure the saved classifier in --out on the shards' test split."
)
flags.DEFINE_integer("seed", 0, "Seed (initialisation and shuffling).")
flags.DEFINE_string(
    "cache", "", "Optional .npz cache of the loaded images (reused for the same build and caps)."
)
flags.DEFINE_float("target_accuracy", 0.98, "Per-attribute test accuracy that must be reached.")


def main(argv):
    del argv
    logging.set_verbosity(logging.INFO)  # the progress messages are for the user
    from seqgan_tf.evaluation.classifier_run import (
        ClassifierJob,
        measure_on_shards,
        train_and_measure,
    )

    job = ClassifierJob(
        dataset=FLAGS.dataset,
        data_dir=FLAGS.data_dir,
        out=FLAGS.out,
        epochs=FLAGS.epochs,
        batch_size=FLAGS.batch_size,
        learning_rate=FLAGS.learning_rate,
        max_train_images=FLAGS.max_train_images,
        max_test_images=FLAGS.max_test_images,
        image_size=FLAGS.image_size,
        architecture=FLAGS.architecture,
        input_size=FLAGS.input_size,
        seed=FLAGS.seed,
        cache=FLAGS.cache,
        target_accuracy=FLAGS.target_accuracy,
        command=" ".join(sys.argv),
    )
    summary = measure_on_shards(job) if FLAGS.test_only else train_and_measure(job)
    print(json.dumps(summary, indent=2))
    if summary.get("below_target"):
        logging.warning(
            "attributes below %.0f%%: %s", 100 * FLAGS.target_accuracy, summary["below_target"]
        )


def run():
    app.run(main)


if __name__ == "__main__":
    run()
