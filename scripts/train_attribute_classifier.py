"""Trains the attribute classifier that judges generated images (edit metrics, domain features).

    python scripts/train_attribute_classifier.py --dataset=synth_zap_seq --data_dir=data \
        --out=runs/attr_clf_synth_zap_seq --epochs=8

Trains on every ground-truth image (all turns) of the train split, reports per-attribute
accuracy on the test split, and writes <out>/attribute_classifier.keras,
<out>/attribute_schema.json and <out>/metrics.json (test accuracies, most frequent confusions,
wall time). With --source=generator the images come from tfrecords.synthetic.generate_sessions
instead of the shards (synthetic sets only).
"""

from __future__ import annotations

import json
import os
import sys
import time

import keras
import numpy as np
from absl import app, flags, logging

FLAGS = flags.FLAGS
flags.DEFINE_string("dataset", "synth_zap_seq", "Dataset name.")
flags.DEFINE_string("data_dir", "data", "Root of the built shards.")
flags.DEFINE_string("out", None, "Output folder (default runs/attr_clf_<dataset>).")
flags.DEFINE_integer("epochs", 8, "Training epochs.")
flags.DEFINE_integer("batch_size", 64, "Images per step.")
flags.DEFINE_float("learning_rate", 2e-3, "Peak Adam learning rate (cosine decay).")
flags.DEFINE_integer("max_train_images", 16000, "Cap on training images (all turns).")
flags.DEFINE_integer("max_test_images", 4000, "Cap on test images.")
flags.DEFINE_integer("image_size", 64, "Input resolution.")
flags.DEFINE_enum("source", "shards", ["shards", "generator"], "Where the images come from.")
flags.DEFINE_integer("generator_sessions", 3000, "Train sessions for --source=generator.")
flags.DEFINE_integer(
    "generator_seed", 1000, "Generator seed for --source=generator (differs from the shards' seed)."
)
flags.DEFINE_bool(
    "test_only", False, "Only measure the saved classifier in --out on the shards' test split."
)
flags.DEFINE_integer("seed", 0, "Seed (shuffling; generator seed for --source=generator).")
flags.DEFINE_string("cache", "", "Optional .npz cache of the loaded images (reused if present).")
flags.DEFINE_float("target_accuracy", 0.98, "Per-attribute test accuracy that must be reached.")


def _load_shards(dataset: str, data_dir: str, image_size: int):
    from seqgan_tf.data.input_pipeline import load_dataset_info, make_dataset
    from seqgan_tf.evaluation.classifier_training import images_and_ids_from_batches

    info = load_dataset_info(data_dir, dataset)
    schema = {k: list(v) for k, v in info["attribute_schema"].items()}
    data = {}
    for split, cap in (("train", FLAGS.max_train_images), ("test", FLAGS.max_test_images)):
        ds = make_dataset(data_dir, dataset, split, 64, is_training=False, image_size=image_size)
        data[split] = images_and_ids_from_batches(ds.as_numpy_iterator(), max_images=cap)
    return schema, data


def _load_generator(dataset: str, image_size: int):
    from seqgan_tf.evaluation.classifier_training import images_and_ids_from_sessions
    from tfrecords.synthetic import attribute_schema, generate_sessions

    schema = {k: list(v) for k, v in attribute_schema(dataset).items()}
    n, seed = FLAGS.generator_sessions, FLAGS.generator_seed
    # A seed other than the shards' (0), so no session of the shards' test split is trained on.
    train = generate_sessions(dataset, n, seed, image_size=image_size)
    # Test sessions: disjoint indices of the same seed.
    test = generate_sessions(dataset, max(n // 5, 200), seed, image_size=image_size, start=n)
    data = {
        "train": images_and_ids_from_sessions(train, schema),
        "test": images_and_ids_from_sessions(test, schema),
    }
    data["train"] = tuple(x[: FLAGS.max_train_images] for x in data["train"])
    data["test"] = tuple(x[: FLAGS.max_test_images] for x in data["test"])
    return schema, data


def _test_only(out: str) -> None:
    from seqgan_tf.data.input_pipeline import make_dataset
    from seqgan_tf.evaluation.attribute_classifier import load_attribute_classifier
    from seqgan_tf.evaluation.classifier_training import (
        confusions,
        images_and_ids_from_batches,
        per_attribute_accuracy,
    )

    model = load_attribute_classifier(out)
    ds = make_dataset(
        FLAGS.data_dir, FLAGS.dataset, "test", 64, is_training=False, image_size=model.image_size
    )
    images, ids = images_and_ids_from_batches(ds.as_numpy_iterator())
    accuracy = per_attribute_accuracy(model, images, ids)
    summary = {
        "dataset": FLAGS.dataset,
        "split": "test (shards)",
        "num_test_images": len(images),
        "test_accuracy": accuracy,
        "min_test_accuracy": min(accuracy.values()),
        "top_confusions (true, predicted, count)": confusions(model, images, ids),
    }
    with open(os.path.join(out, "metrics_shards_test.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(json.dumps(summary, indent=2))


def main(argv):
    del argv
    from seqgan_tf.evaluation.attribute_classifier import (
        AttributeClassifier,
        save_attribute_classifier,
    )
    from seqgan_tf.evaluation.classifier_training import (
        confusions,
        per_attribute_accuracy,
        train_attribute_classifier,
    )

    out = FLAGS.out or os.path.join("runs", f"attr_clf_{FLAGS.dataset}")
    start = time.time()
    if FLAGS.test_only:
        _test_only(out)
        return
    keras.utils.set_random_seed(FLAGS.seed)
    if FLAGS.cache and os.path.exists(FLAGS.cache):
        cached = np.load(FLAGS.cache)
        schema = json.loads(str(cached["schema"]))
        data = {s: (cached[f"{s}_images"], cached[f"{s}_ids"]) for s in ("train", "test")}
    else:
        if FLAGS.source == "shards":
            schema, data = _load_shards(FLAGS.dataset, FLAGS.data_dir, FLAGS.image_size)
        else:
            schema, data = _load_generator(FLAGS.dataset, FLAGS.image_size)
        if FLAGS.cache:
            np.savez(
                FLAGS.cache,
                schema=json.dumps(schema),
                **{f"{s}_{k}": v for s in data for k, v in zip(("images", "ids"), data[s])},
            )
    logging.info(
        "train images %d, test images %d, attributes %s",
        len(data["train"][0]),
        len(data["test"][0]),
        {k: len(v) for k, v in schema.items()},
    )
    load_seconds = time.time() - start
    model = AttributeClassifier(schema, image_size=FLAGS.image_size)
    train_attribute_classifier(
        model,
        *data["train"],
        epochs=FLAGS.epochs,
        batch_size=FLAGS.batch_size,
        learning_rate=FLAGS.learning_rate,
        seed=FLAGS.seed,
    )
    accuracy = per_attribute_accuracy(model, *data["test"])
    mistakes = confusions(model, *data["test"], top=3)
    path = save_attribute_classifier(model, out)
    below = {k: v for k, v in accuracy.items() if v < FLAGS.target_accuracy}
    summary = {
        "dataset": FLAGS.dataset,
        "source": FLAGS.source,
        "command": " ".join(sys.argv),
        "num_train_images": len(data["train"][0]),
        "num_test_images": len(data["test"][0]),
        "epochs": FLAGS.epochs,
        "test_accuracy": accuracy,
        "min_test_accuracy": min(accuracy.values()),
        "target_accuracy": FLAGS.target_accuracy,
        "below_target": below,
        "top_confusions (true, predicted, count)": mistakes,
        "data_seconds": round(load_seconds, 1),
        "wall_seconds": round(time.time() - start, 1),
    }
    with open(os.path.join(out, "metrics.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(json.dumps(summary, indent=2))
    print(f"saved {path}")
    if below:
        print(f"WARNING: attributes below {FLAGS.target_accuracy:.0%}: {below}")


def run():
    app.run(main)


if __name__ == "__main__":
    run()
