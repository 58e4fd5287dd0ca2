"""Training and measuring the attribute classifier as one job (scripts/train_attribute_classifier.py).

Trains on every ground-truth image (all turns) of the train split, reports per-attribute
accuracy on the test split, and writes <out>/attribute_classifier.keras,
<out>/attribute_schema.json and <out>/metrics.json (test accuracies, most frequent confusions,
wall time). With source="generator" the images come from tfrecords.synthetic.generate_sessions
instead of the shards (synthetic sets only).
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from typing import Any

import keras
import numpy as np
from absl import logging

from seqgan_tf.evaluation.attribute_classifier import (
    AttributeClassifier,
    load_attribute_classifier,
    save_attribute_classifier,
)
from seqgan_tf.evaluation.classifier_training import (
    confusions,
    images_and_ids_from_batches,
    images_and_ids_from_sessions,
    per_attribute_accuracy,
    train_attribute_classifier,
)
from tfrecords.atomic_files import write_json_atomically

METRICS_FILENAME = "metrics.json"
SHARDS_TEST_METRICS_FILENAME = "metrics_shards_test.json"


@dataclasses.dataclass
class ClassifierJob:
    """One classifier training (or test-only) job; the fields are the script's flags.

    Attributes:
      dataset, data_dir: the shards (and, for source="generator", the synthetic dataset).
      out: output folder (default runs/attr_clf_<dataset>).
      epochs, batch_size, learning_rate, seed: training.
      max_train_images, max_test_images: caps on the images (all turns).
      image_size: input resolution.
      source: "shards" or "generator".
      generator_sessions, generator_seed: train sessions and seed for source="generator" (the
        seed differs from the shards' 0, so no session of the shards' test split is trained on).
      cache: optional .npz cache of the loaded images (reused if present).
      target_accuracy: per-attribute test accuracy that must be reached.
      command: the command line, recorded in metrics.json.
    """

    dataset: str
    data_dir: str = "data"
    out: str | None = None
    epochs: int = 8
    batch_size: int = 64
    learning_rate: float = 2e-3
    max_train_images: int = 16000
    max_test_images: int = 4000
    image_size: int = 64
    source: str = "shards"
    generator_sessions: int = 3000
    generator_seed: int = 1000
    seed: int = 0
    cache: str = ""
    target_accuracy: float = 0.98
    command: str = ""

    @property
    def out_dir(self) -> str:
        return self.out or os.path.join("runs", f"attr_clf_{self.dataset}")


def _load_shards(job: ClassifierJob):
    from seqgan_tf.data.input_pipeline import load_dataset_info, make_dataset

    info = load_dataset_info(job.data_dir, job.dataset)
    schema = {k: list(v) for k, v in info["attribute_schema"].items()}
    data = {}
    for split, cap in (("train", job.max_train_images), ("test", job.max_test_images)):
        ds = make_dataset(
            job.data_dir, job.dataset, split, 64, is_training=False, image_size=job.image_size
        )
        data[split] = images_and_ids_from_batches(ds.as_numpy_iterator(), max_images=cap)
    return schema, data


def _load_generated(job: ClassifierJob):
    from tfrecords.synthetic import attribute_schema, generate_sessions

    schema = {k: list(v) for k, v in attribute_schema(job.dataset).items()}
    n, seed, size = job.generator_sessions, job.generator_seed, job.image_size
    train = generate_sessions(job.dataset, n, seed, image_size=size)
    # Test sessions: disjoint indices of the same seed.
    test = generate_sessions(job.dataset, max(n // 5, 200), seed, image_size=size, start=n)
    train_data = images_and_ids_from_sessions(train, schema)
    test_data = images_and_ids_from_sessions(test, schema)
    return schema, {
        "train": tuple(x[: job.max_train_images] for x in train_data),
        "test": tuple(x[: job.max_test_images] for x in test_data),
    }


def load_images(job: ClassifierJob):
    """(schema {attribute: values}, {"train"/"test": (images, ids)}), from the cache if any."""
    if job.cache and os.path.exists(job.cache):
        cached = np.load(job.cache)
        schema = json.loads(str(cached["schema"]))
        return schema, {s: (cached[f"{s}_images"], cached[f"{s}_ids"]) for s in ("train", "test")}
    schema, data = _load_shards(job) if job.source == "shards" else _load_generated(job)
    if job.cache:
        np.savez(
            job.cache,
            schema=json.dumps(schema),
            **{f"{s}_{k}": v for s in data for k, v in zip(("images", "ids"), data[s])},
        )
    return schema, data


def train_and_measure(job: ClassifierJob) -> dict[str, Any]:
    """Trains, measures on the test images, saves the classifier; returns (and writes) the
    metrics.json summary. Its "below_target" lists the attributes under job.target_accuracy."""
    start = time.time()
    keras.utils.set_random_seed(job.seed)
    schema, data = load_images(job)
    logging.info(
        "train images %d, test images %d, attributes %s",
        len(data["train"][0]),
        len(data["test"][0]),
        {k: len(v) for k, v in schema.items()},
    )
    load_seconds = time.time() - start
    model = AttributeClassifier(schema, image_size=job.image_size)
    train_attribute_classifier(
        model,
        *data["train"],
        epochs=job.epochs,
        batch_size=job.batch_size,
        learning_rate=job.learning_rate,
        seed=job.seed,
    )
    accuracy = per_attribute_accuracy(model, *data["test"])
    mistakes = confusions(model, *data["test"], top=3)
    path = save_attribute_classifier(model, job.out_dir)
    summary = {
        "dataset": job.dataset,
        "source": job.source,
        "command": job.command,
        "num_train_images": len(data["train"][0]),
        "num_test_images": len(data["test"][0]),
        "epochs": job.epochs,
        "test_accuracy": accuracy,
        "min_test_accuracy": min(accuracy.values()),
        "target_accuracy": job.target_accuracy,
        "below_target": {k: v for k, v in accuracy.items() if v < job.target_accuracy},
        "top_confusions (true, predicted, count)": mistakes,
        "data_seconds": round(load_seconds, 1),
        "wall_seconds": round(time.time() - start, 1),
    }
    write_json_atomically(os.path.join(job.out_dir, METRICS_FILENAME), summary)
    logging.info("saved %s", path)
    return summary


def measure_on_shards(job: ClassifierJob) -> dict[str, Any]:
    """Measures the saved classifier in job.out_dir on the shards' test split; returns (and
    writes metrics_shards_test.json) the summary."""
    from seqgan_tf.data.input_pipeline import make_dataset

    model = load_attribute_classifier(job.out_dir)
    ds = make_dataset(
        job.data_dir, job.dataset, "test", 64, is_training=False, image_size=model.image_size
    )
    images, ids = images_and_ids_from_batches(ds.as_numpy_iterator())
    accuracy = per_attribute_accuracy(model, images, ids)
    summary = {
        "dataset": job.dataset,
        "split": "test (shards)",
        "num_test_images": len(images),
        "test_accuracy": accuracy,
        "min_test_accuracy": min(accuracy.values()),
        "top_confusions (true, predicted, count)": confusions(model, images, ids),
    }
    write_json_atomically(os.path.join(job.out_dir, SHARDS_TEST_METRICS_FILENAME), summary)
    return summary
