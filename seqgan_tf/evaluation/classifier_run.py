"""Training and measuring the attribute classifier as one job (scripts/train_attribute_classifier.py).

Trains the judge (ResidualAttributeClassifier; architecture="plain" for the earlier CNN) on
every ground-truth image (all turns) of the build's train split only, reports per-attribute
accuracy on the test split, and writes <out>/attribute_classifier.keras,
<out>/attribute_schema.json, <out>/data_build.json (the build's fingerprint, which evaluate.py
checks) and <out>/metrics.json (test accuracies, most frequent confusions, architecture, build,
wall time). Every file is written atomically. The optional image cache is keyed by the build's
fingerprint and the caps: a cache of another build is rebuilt, never reused.
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

from common.atomic_files import write_atomically, write_json_atomically
from seqgan_tf.evaluation.attribute_classifier import AttributeClassifier
from seqgan_tf.evaluation.classifier_files import (
    load_attribute_classifier,
    save_attribute_classifier,
)
from seqgan_tf.evaluation.classifier_training import (
    confusions,
    images_and_ids_from_batches,
    per_attribute_accuracy,
    train_attribute_classifier,
)
from seqgan_tf.evaluation.residual_attribute_classifier import ResidualAttributeClassifier
from tfrecords.build_fingerprint import fingerprint_of, record_build

METRICS_FILENAME = "metrics.json"
SHARDS_TEST_METRICS_FILENAME = "metrics_shards_test.json"


@dataclasses.dataclass
class ClassifierJob:
    """One classifier training (or test-only) job; the fields are the script's flags.

    Attributes:
      dataset, data_dir: the build whose train split trains the judge.
      out: output folder (default runs/attr_clf_<dataset>).
      epochs, batch_size, learning_rate, seed: training.
      max_train_images, max_test_images: caps on the images (all turns).
      image_size: the resolution images are read at from the shards (the judge resizes them to
        its own input size).
      architecture: "residual" (the judge, ResidualAttributeClassifier) or "plain" (the earlier
        CNN, AttributeClassifier).
      input_size: the judge's input resolution (None: the architecture's default, 96 for
        "residual", image_size for "plain").
      cache: optional .npz cache of the loaded images (reused only for the same build and caps).
      target_accuracy: per-attribute test accuracy that must be reached.
      command: the command line, recorded in metrics.json.
    """

    dataset: str
    data_dir: str = "data"
    out: str | None = None
    epochs: int = 12
    batch_size: int = 64
    learning_rate: float = 2e-3
    max_train_images: int = 30000
    max_test_images: int = 4000
    image_size: int = 64
    architecture: str = "residual"
    input_size: int | None = None
    seed: int = 0
    cache: str = ""
    target_accuracy: float = 0.98
    command: str = ""

    @property
    def out_dir(self) -> str:
        return self.out or os.path.join("runs", f"attr_clf_{self.dataset}")


ARCHITECTURES = ("residual", "plain")


def make_classifier(job: ClassifierJob, schema: dict[str, list[str]]) -> AttributeClassifier:
    """The judge of `job.architecture` for `schema`."""
    if job.architecture == "residual":
        return ResidualAttributeClassifier(schema, image_size=job.input_size or 96)
    if job.architecture == "plain":
        return AttributeClassifier(schema, image_size=job.input_size or job.image_size)
    raise ValueError(f"unknown architecture {job.architecture!r}; expected one of {ARCHITECTURES}")


def describe_classifier(model: AttributeClassifier) -> str:
    """One line naming the judge's architecture (class, input size, widths)."""
    return f"{type(model).__name__} (input {model.image_size}px, widths {list(model.widths)})"


def _load_shards(job: ClassifierJob, info: dict):
    from seqgan_tf.data.input_pipeline import make_dataset

    schema = {k: list(v) for k, v in info["attribute_schema"].items()}
    data = {}
    for split, cap in (("train", job.max_train_images), ("test", job.max_test_images)):
        ds = make_dataset(
            job.data_dir, job.dataset, split, 64, is_training=False, image_size=job.image_size
        )
        data[split] = images_and_ids_from_batches(ds.as_numpy_iterator(), max_images=cap)
    return schema, data


def cache_key(job: ClassifierJob, fingerprint: dict) -> dict[str, Any]:
    """What a cache must match to be reused: the build's fingerprint id, the size and caps."""
    return {
        "build": fingerprint["id"],
        "image_size": job.image_size,
        "max_train_images": job.max_train_images,
        "max_test_images": job.max_test_images,
    }


def load_images(job: ClassifierJob, info: dict | None = None):
    """(schema {attribute: values}, {"train"/"test": (images, ids)}), from the cache when it
    was made from the same build with the same caps.

    Args:
      job: the job.
      info: `load_dataset_info`'s dict for job.dataset (read if None).
    """
    from seqgan_tf.data.input_pipeline import load_dataset_info

    info = info or load_dataset_info(job.data_dir, job.dataset)
    key = cache_key(job, fingerprint_of(info))
    if job.cache and os.path.exists(job.cache):
        cached = np.load(job.cache)
        cached_key = json.loads(str(cached["key"])) if "key" in cached.files else None
        if cached_key == key:
            schema = json.loads(str(cached["schema"]))
            return schema, {
                s: (cached[f"{s}_images"], cached[f"{s}_ids"]) for s in ("train", "test")
            }
        logging.info(
            "cache %s was made from %s, not %s: reading the shards again",
            job.cache,
            cached_key,
            key,
        )
    schema, data = _load_shards(job, info)
    if job.cache:
        arrays = {f"{s}_{k}": v for s in data for k, v in zip(("images", "ids"), data[s])}

        def save(path):
            np.savez(path, schema=json.dumps(schema), key=json.dumps(key), **arrays)

        write_atomically(job.cache, save, keep_extension=".npz")
    return schema, data


def train_and_measure(job: ClassifierJob) -> dict[str, Any]:
    """Trains, measures on the test images, saves the classifier; returns (and writes) the
    metrics.json summary. Its "below_target" lists the attributes under job.target_accuracy."""
    from seqgan_tf.data.input_pipeline import load_dataset_info

    start = time.time()
    keras.utils.set_random_seed(job.seed)
    info = load_dataset_info(job.data_dir, job.dataset)
    fingerprint = fingerprint_of(info)
    schema, data = load_images(job, info)
    logging.info(
        "train images %d, test images %d, attributes %s",
        len(data["train"][0]),
        len(data["test"][0]),
        {k: len(v) for k, v in schema.items()},
    )
    load_seconds = time.time() - start
    model = make_classifier(job, schema)
    train_start = time.time()
    train_attribute_classifier(
        model,
        *data["train"],
        epochs=job.epochs,
        batch_size=job.batch_size,
        learning_rate=job.learning_rate,
        seed=job.seed,
    )
    train_seconds = time.time() - train_start
    accuracy = per_attribute_accuracy(model, *data["test"])
    mistakes = confusions(model, *data["test"], top=3)
    path = save_attribute_classifier(model, job.out_dir)
    record_build(job.out_dir, fingerprint, overwrite=True)
    summary = {
        "dataset": job.dataset,
        "data_build": fingerprint,
        "architecture": describe_classifier(model),
        "trained_on": "ground-truth images of the build's train split",
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
        "train_seconds": round(train_seconds, 1),
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
