"""Evaluates session generators on a dataset split and writes a report folder.

    python scripts/evaluate.py --dataset=synth_zap_seq --data_dir=data \
        --classifier=runs/attr_clf_synth_zap_seq --out=docs/eval/synth_zap_seq \
        --models=copy_previous,ground_truth,seqattngan=runs/seqattngan_zap

--models is a comma list of built-in generators (ground_truth, copy_previous) and
`name=run_dir` entries (`name=run_dir@snapshots/epoch_003.weights.h5` for other weights of the
run, relative to it). A run dir is loaded with seqgan_tf.training.runs.load_generator(run_dir)
(a callable batch -> [B, T, S, S, 3] in [-1, 1], each turn from the model's own output). The
first trained run draws attention.png.

Writes <out>/report.md, metrics.json, figure4_grid.png (and attention.png). IS / FID are
labelled with their feature source: "domain features" (the attribute classifier) always,
"InceptionV3" only with --inception_weights=<local .h5>.
"""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np
from absl import app, flags, logging

from tfrecords.datasets import DATASETS, DEFAULT_DATASET

FLAGS = flags.FLAGS
flags.DEFINE_enum("dataset", DEFAULT_DATASET, list(DATASETS), "Dataset name.")
flags.DEFINE_string("data_dir", "data", "Root of the built shards.")
flags.DEFINE_string("split", "test", "Split to evaluate.")
flags.DEFINE_string("classifier", None, "Attribute-classifier folder (train_attribute_classifier).")
flags.DEFINE_string("out", None, "Report folder (default docs/eval/<dataset>).")
flags.DEFINE_list(
    "models",
    ["copy_previous", "ground_truth"],
    "Generators: built-in, name=run_dir or name=run_dir@weights.",
)
flags.DEFINE_string("inception_weights", "", "Local InceptionV3 .h5 weights (optional).")
flags.DEFINE_integer("batch_size", 50, "Sessions per batch.")
flags.DEFINE_integer("max_sessions", None, "Evaluate at most this many sessions.")
flags.DEFINE_integer("max_turns", 4, "Turns per session (longer sessions are truncated).")
flags.DEFINE_integer("image_size", 64, "Image resolution.")
flags.DEFINE_integer("num_examples", 3, "Sessions drawn in figure4_grid.png.")
flags.DEFINE_integer("is_splits", 1, "Inception Score splits.")
flags.DEFINE_float(
    "mask_threshold",
    None,
    "Override the trained runs' inference edit-mask "
    "threshold (0 = soft mask; default: each run's config).",
)


def attention_inputs(generator, batch, index: int = 0) -> dict:
    """attention_figure inputs for session `index` of a trained run's generator
    (`runs.load_generator`: `with_attention(batch) -> (images, attention, tokens)`)."""
    images, attention, tokens = (np.asarray(x) for x in generator.with_attention(batch))
    num_turns = int(np.asarray(batch["num_turns"])[index])
    descriptions = np.asarray(batch["descriptions"])[index, :num_turns].tolist()
    return {
        "images": images[index, :num_turns],
        "attention": attention[index, :num_turns],
        "tokens": tokens[index, :num_turns].tolist(),
        "descriptions": [
            d.decode("utf-8") if isinstance(d, bytes) else str(d) for d in descriptions
        ],
    }


def parse_models(entries: list[str]) -> tuple[dict, list[str]]:
    """Model flag entries -> ({name: generator}, names of the trained runs among them).

    Raises:
      ValueError: on an unknown built-in name or a duplicate name.
    """
    from seqgan_tf.evaluation.evaluator import BUILTIN_GENERATORS
    from seqgan_tf.training.runs import load_generator

    generators, trained = {}, []
    for entry in entries:
        name, sep, run_dir = entry.partition("=")
        name = name.strip()
        if name in generators:
            raise ValueError(f"--models: duplicate name {name!r}")
        if sep:
            run_dir, _, weights = run_dir.partition("@")  # run_dir@snapshots/epoch_003.weights.h5
            if not os.path.isdir(run_dir):
                raise ValueError(f"--models: run dir {run_dir!r} of {name!r} does not exist")
            weights = os.path.join(run_dir, weights) if weights else None
            if weights and not os.path.isfile(weights):
                raise ValueError(f"--models: weights {weights!r} of {name!r} do not exist")
            generators[name] = load_generator(
                run_dir, mask_threshold=FLAGS.mask_threshold, weights=weights
            )
            trained.append(name)
        elif name in BUILTIN_GENERATORS:
            generators[name] = BUILTIN_GENERATORS[name]
        else:
            raise ValueError(
                f"--models: {name!r} is not built in ({', '.join(BUILTIN_GENERATORS)}); "
                "use name=run_dir for trained models"
            )
    return generators, trained


def main(argv):
    del argv
    logging.set_verbosity(logging.INFO)  # the progress messages are for the user
    if not FLAGS.classifier:
        raise app.UsageError("--classifier is required (see scripts/train_attribute_classifier.py)")
    from seqgan_tf.data.input_pipeline import make_dataset
    from seqgan_tf.evaluation.attribute_classifier import load_attribute_classifier
    from seqgan_tf.evaluation.evaluator import evaluate_generators
    from seqgan_tf.evaluation.report import write_report

    start = time.time()
    out = FLAGS.out or os.path.join("docs", "eval", FLAGS.dataset)
    try:
        generators, trained = parse_models(FLAGS.models)
    except ValueError as error:
        raise app.UsageError(str(error)) from error
    classifier = load_attribute_classifier(FLAGS.classifier)
    extractors = []
    if FLAGS.inception_weights:
        from seqgan_tf.evaluation.inception_feature_extractor import InceptionFeatureExtractor

        extractors.append(InceptionFeatureExtractor(FLAGS.inception_weights))
    else:
        logging.info("no --inception_weights: IS/FID use domain features only")
    ds = make_dataset(
        FLAGS.data_dir,
        FLAGS.dataset,
        FLAGS.split,
        FLAGS.batch_size,
        is_training=False,
        max_turns=FLAGS.max_turns,
        image_size=FLAGS.image_size,
    )
    max_batches = None
    if FLAGS.max_sessions:
        max_batches = -(-FLAGS.max_sessions // FLAGS.batch_size)
    result = evaluate_generators(
        generators,
        ds,
        classifier,
        extractors,
        max_batches=max_batches,
        num_examples=FLAGS.num_examples,
        is_splits=FLAGS.is_splits,
    )
    attention = None
    if trained:
        logging.info("attention maps from %s", trained[0])
        attention = attention_inputs(generators[trained[0]], next(iter(ds)))
    clf_metrics = os.path.join(FLAGS.classifier, "metrics.json")
    clf_accuracy = None
    if os.path.exists(clf_metrics):
        with open(clf_metrics) as f:
            clf_accuracy = json.load(f).get("test_accuracy")
    result["metrics"]["info"] = {
        "dataset": FLAGS.dataset,
        "split": FLAGS.split,
        "classifier": FLAGS.classifier,
        "classifier test accuracy (real renders)": clf_accuracy,
        "command": " ".join(sys.argv),
        "wall seconds": round(time.time() - start, 1),
    }
    paths = write_report(
        result, out, title=f"Evaluation: {FLAGS.dataset} ({FLAGS.split})", attention=attention
    )
    print(json.dumps(paths, indent=2))


def run():
    app.run(main)


if __name__ == "__main__":
    run()
