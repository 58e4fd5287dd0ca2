"""Evaluates session generators on a dataset split and writes a report folder.

    python scripts/evaluate.py --dataset=synth_zap_seq --data_dir=data \
        --classifier=runs/attr_clf_synth_zap_seq --out=docs/eval/synth_zap_seq \
        --models=copy_previous,ground_truth,seqattngan=runs/seqattngan_zap

--models is a comma list of built-in generators (ground_truth, copy_previous, blurred_truth) and
`name=run_dir` entries (`name=run_dir@snapshots/epoch_003.weights.h5` for other weights of the
run, relative to it). A run dir is loaded with seqgan_tf.training.runs.load_generator(run_dir)
(a callable batch -> [B, T, S, S, 3] in [-1, 1], each turn from the model's own output). The
first trained run draws attention.png.

Writes <out>/report.md, metrics.json, figure4_grid.png (and attention.png). IS / FID are
labelled with their feature source: "domain features" (the attribute classifier) always,
"InceptionV3" only with --inception_weights=<local .h5>.

The test split is cut in two fixed slices (tfrecords/split_rule.py): --slice=dev (the default)
for looking at results while designing, --slice=final only for the figures docs/results.md quotes.
The classifier and every run must have been made from the build being evaluated (their
data_build.json fingerprint); otherwise the script stops, naming both builds, unless
--allow_other_build, and the report then lists the mismatch. See docs/evaluation.md.
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
flags.DEFINE_enum(
    "slice",
    "dev",
    ["dev", "final", "all"],
    "Slice of the test split: dev (designing), final (the published figures only), all.",
)
flags.DEFINE_bool(
    "allow_other_build",
    False,
    "Evaluate a classifier or run made from another build (or recording none); the report says so.",
)
flags.DEFINE_string("classifier", None, "Attribute-classifier folder (train_attribute_classifier).")
flags.DEFINE_string("out", None, "Report folder (default docs/eval/<dataset>).")
flags.DEFINE_list(
    "models",
    ["copy_previous", "ground_truth"],
    "Generators: built-in, name=run_dir or name=run_dir@weights.",
)
flags.DEFINE_enum(
    "descriptions",
    "dataset",
    ["dataset", "terse"],
    "dataset: the build's own descriptions; terse: each turn rewritten as the new values named "
    "in frames the grammar never uses ('red', 'what about suede material'; "
    "seqgan_tf/evaluation/terse_descriptions.py), to measure a phrasing the model never saw.",
)
flags.DEFINE_enum(
    "previous",
    "own",
    ["own", "true"],
    "The image each trained model's turn t edits: own = its own previous output, from x0, as "
    "served (every published figure); true = the true x_{t-1} (teacher forcing), a diagnostic "
    "of one turn's drawing without what earlier turns got wrong.",
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


def parse_models(entries: list[str], previous: str = "own") -> tuple[dict, list[str], dict]:
    """Model flag entries -> ({name: generator}, names of the trained runs among them,
    {name: run_dir} of those runs). previous: the image each trained run's turn edits
    (runs.load_generator).

    Raises:
      ValueError: on an unknown built-in name or a duplicate name.
    """
    from seqgan_tf.evaluation.evaluator import BUILTIN_GENERATORS
    from seqgan_tf.training.runs import load_generator

    generators, trained, run_dirs = {}, [], {}
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
                run_dir, mask_threshold=FLAGS.mask_threshold, weights=weights, previous=previous
            )
            trained.append(name)
            run_dirs[name] = run_dir
        elif name in BUILTIN_GENERATORS:
            generators[name] = BUILTIN_GENERATORS[name]
        else:
            raise ValueError(
                f"--models: {name!r} is not built in ({', '.join(BUILTIN_GENERATORS)}); "
                "use name=run_dir for trained models"
            )
    return generators, trained, run_dirs


def run_dirs_of(entries: list[str]) -> dict[str, str]:
    """{name: run_dir} of the `name=run_dir[@weights]` entries (nothing is loaded)."""
    out = {}
    for entry in entries:
        name, sep, run_dir = entry.partition("=")
        if sep:
            out[name.strip()] = run_dir.partition("@")[0]
    return out


def check_provenance(data_fingerprint: dict, run_dirs: dict) -> list[str]:
    """Checks that the classifier and every run were made from the evaluated build.

    Returns:
      The mismatch notes (only with --allow_other_build).

    Raises:
      app.UsageError: on a mismatch without --allow_other_build (naming both builds).
    """
    from seqgan_tf.evaluation.provenance import BuildMismatchError, check_builds
    from tfrecords.build_fingerprint import read_build

    recorded = {f"classifier {FLAGS.classifier}": read_build(FLAGS.classifier)}
    recorded.update({f"run {name} ({d})": read_build(d) for name, d in run_dirs.items()})
    try:
        return check_builds(data_fingerprint, recorded, FLAGS.allow_other_build)
    except BuildMismatchError as error:
        raise app.UsageError(str(error)) from error


class TerseBatches:
    """The batches of `dataset` with terse descriptions; the same ones on every pass."""

    def __init__(self, dataset, schema):
        self.dataset, self.schema = dataset, schema

    def __iter__(self):
        from seqgan_tf.evaluation.terse_descriptions import with_terse_descriptions

        rng = np.random.default_rng(0)
        for batch in self.dataset:
            yield with_terse_descriptions(batch, self.schema, rng)


def main(argv):
    del argv
    logging.set_verbosity(logging.INFO)  # the progress messages are for the user
    if not FLAGS.classifier:
        raise app.UsageError("--classifier is required (see scripts/train_attribute_classifier.py)")
    from seqgan_tf.data.input_pipeline import canonical_split, load_dataset_info, make_dataset
    from seqgan_tf.evaluation.classifier_files import load_attribute_classifier
    from seqgan_tf.evaluation.evaluator import evaluate_generators
    from seqgan_tf.evaluation.report import write_report
    from seqgan_tf.evaluation.train_designs import training_designs
    from tfrecords.build_fingerprint import describe, fingerprint_of

    start = time.time()
    out = FLAGS.out or os.path.join("docs", "eval", FLAGS.dataset)
    split = canonical_split(FLAGS.split)
    test_slice = FLAGS.slice if split == "test" and FLAGS.slice != "all" else None
    info = load_dataset_info(FLAGS.data_dir, FLAGS.dataset)
    data_fingerprint = fingerprint_of(info)
    logging.info("evaluating build %s", describe(data_fingerprint))
    # Checked before anything is loaded: a run of another build is refused at once.
    build_notes = check_provenance(data_fingerprint, run_dirs_of(FLAGS.models))
    for note in build_notes:
        logging.warning("--allow_other_build: %s", note)
    try:
        generators, trained, _ = parse_models(FLAGS.models, FLAGS.previous)
    except ValueError as error:
        raise app.UsageError(str(error)) from error
    classifier = load_attribute_classifier(FLAGS.classifier)
    designs = training_designs(info)
    extractors = []
    if FLAGS.inception_weights:
        from seqgan_tf.evaluation.inception_feature_extractor import InceptionFeatureExtractor

        extractors.append(InceptionFeatureExtractor(FLAGS.inception_weights))
    else:
        logging.info("no --inception_weights: IS/FID use domain features only")
    ds = make_dataset(
        FLAGS.data_dir,
        FLAGS.dataset,
        split,
        FLAGS.batch_size,
        is_training=False,
        max_turns=FLAGS.max_turns,
        image_size=FLAGS.image_size,
        test_slice=test_slice,
    )
    if FLAGS.descriptions == "terse":
        ds = TerseBatches(ds, info["attribute_schema"])
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
        train_designs=designs,
    )
    attention = None
    if trained:
        logging.info("attention maps from %s", trained[0])
        attention = attention_inputs(generators[trained[0]], next(iter(ds)))
    clf_metrics = os.path.join(FLAGS.classifier, "metrics.json")
    clf_summary = {}
    if os.path.exists(clf_metrics):
        with open(clf_metrics) as f:
            clf_summary = json.load(f)
    where = f"{split}, {test_slice} slice" if test_slice else f"{split}, whole split"
    if FLAGS.descriptions == "terse":
        where += ", terse descriptions"
    if FLAGS.previous == "true":
        where += ", each turn editing the TRUE previous image (teacher-forced diagnostic)"
    result["metrics"]["info"] = {
        "dataset": FLAGS.dataset,
        "split": split,
        "test slice": test_slice or "all (no slice)",
        "descriptions": FLAGS.descriptions,
        "each turn edits": "the model's own previous output (as served)"
        if FLAGS.previous == "own"
        else "the true previous image (teacher-forced diagnostic)",
        "data build": describe(data_fingerprint),
        "build check": "; ".join(build_notes)
        if build_notes
        else "the classifier and every run were made from this build",
        "classifier": FLAGS.classifier,
        "classifier architecture": clf_summary.get("architecture", "unknown"),
        "classifier test accuracy (real renders)": clf_summary.get("test_accuracy"),
        "command": " ".join(sys.argv),
        "wall seconds": round(time.time() - start, 1),
    }
    from seqgan_tf.training.run_folder import describe_model_entries

    # Which weights each trained row is (scripts/plot_training_curve.py reads their epochs).
    result["metrics"]["trained_models"] = describe_model_entries(FLAGS.models)
    result["metrics"]["data_build"] = data_fingerprint
    result["metrics"]["test_slice"] = test_slice
    result["metrics"]["other_build_notes"] = build_notes
    paths = write_report(
        result, out, title=f"Evaluation: {FLAGS.dataset} ({where})", attention=attention
    )
    print(json.dumps(paths, indent=2))


def run():
    app.run(main)


if __name__ == "__main__":
    run()
