"""Ground-truth image collection and training / testing of the attribute classifier."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import keras
import numpy as np
import tensorflow as tf
from tqdm import tqdm

from seqgan_tf.evaluation.attribute_classifier import AttributeClassifier


def images_and_ids_from_batches(
    batches: Iterable[Mapping[str, tf.Tensor]], max_images: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Flattens input-pipeline batches into every real image of every turn with its attributes.

    Args:
      batches: dicts with "images" [B, T+1, S, S, 3] in [-1, 1], "attribute_ids" [B, T+1, A]
        and "num_turns" [B] (the input-pipeline batch format).
      max_images: stop once this many images are collected.

    Returns:
      (images float32 [N, S, S, 3] in [-1, 1], attribute ids int32 [N, A]); images with an
      unknown (-1) attribute are dropped.

    Raises:
      ValueError: if the batches carry no attribute ids (A == 0).
    """
    all_images, all_ids, count = [], [], 0
    for batch in tqdm(batches, desc="collect images", unit="batch", leave=False):
        images = np.asarray(batch["images"], np.float32)
        ids = np.asarray(batch["attribute_ids"], np.int32)
        if ids.shape[-1] == 0:
            raise ValueError("batches carry no attribute ids (dataset without attribute schema)")
        num_turns = np.asarray(batch["num_turns"])
        valid = np.arange(images.shape[1])[None, :] <= num_turns[:, None]
        valid &= (ids >= 0).all(axis=-1)
        all_images.append(images[valid])
        all_ids.append(ids[valid])
        count += int(valid.sum())
        if max_images is not None and count >= max_images:
            break
    if not all_images:
        raise ValueError("no batches to collect images from")
    images, ids = np.concatenate(all_images), np.concatenate(all_ids)
    if max_images is not None:
        images, ids = images[:max_images], ids[:max_images]
    return images, ids


def images_and_ids_from_sessions(
    sessions: Iterable, attribute_schema: Mapping[str, tuple[str, ...]]
) -> tuple[np.ndarray, np.ndarray]:
    """Like `images_and_ids_from_batches`, but from `tfrecords.session.Session` objects.

    Attribute strings are "name=value" (synthetic sets).

    Raises:
      ValueError: on an attribute string that is not in the schema.
    """
    names = list(attribute_schema)
    index = {n: {v: i for i, v in enumerate(attribute_schema[n])} for n in names}
    images, ids = [], []
    for session in sessions:
        for image, attributes in zip(session.images, session.attributes):
            row = [-1] * len(names)
            for item in attributes:
                name, _, value = item.partition("=")
                if name not in index or value not in index[name]:
                    raise ValueError(f"{session.session_id}: attribute {item!r} not in the schema")
                row[names.index(name)] = index[name][value]
            images.append(np.asarray(image, np.float32) / 127.5 - 1.0)
            ids.append(row)
    return np.stack(images), np.asarray(ids, np.int32)


def _targets(ids: np.ndarray, names: list[str]) -> dict[str, np.ndarray]:
    return {name: ids[:, i] for i, name in enumerate(names)}


def compile_attribute_classifier(model: AttributeClassifier, learning_rate: float = 2e-3) -> None:
    """Adam + one sparse cross-entropy and one accuracy per head."""
    names = model.attribute_names
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss={n: keras.losses.SparseCategoricalCrossentropy() for n in names},
        metrics={n: [keras.metrics.SparseCategoricalAccuracy(name="acc")] for n in names},
    )


def train_attribute_classifier(
    model: AttributeClassifier,
    train_images: np.ndarray,
    train_ids: np.ndarray,
    epochs: int,
    batch_size: int = 64,
    learning_rate: float = 2e-3,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    seed: int = 0,
    verbose: int = 2,
) -> keras.callbacks.History:
    """Trains `model` on ground-truth images (cosine-decayed Adam).

    Args:
      model: an AttributeClassifier whose schema matches the columns of `train_ids`.
      train_images: float32 [N, S, S, 3] in [-1, 1].
      train_ids: int32 [N, A] value indices.
      epochs: passes over the data.
      batch_size: images per step.
      learning_rate: peak Adam learning rate.
      validation: optional (images, ids) evaluated after each epoch.
      seed: shuffling seed.
      verbose: keras fit verbosity.

    Returns:
      The keras History.

    Raises:
      ValueError: if the id columns do not match the schema.
    """
    names = model.attribute_names
    if train_ids.ndim != 2 or train_ids.shape[1] != len(names):
        raise ValueError(
            f"train_ids shape {train_ids.shape} does not match {len(names)} attributes"
        )
    steps = epochs * int(np.ceil(len(train_images) / batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, max(steps, 1))
    compile_attribute_classifier(model, schedule)
    data = (
        tf.data.Dataset.from_tensor_slices((train_images, _targets(train_ids, names)))
        .shuffle(min(len(train_images), 20000), seed=seed, reshuffle_each_iteration=True)
        .batch(batch_size)
        .prefetch(2)
    )
    val_data = None
    if validation is not None:
        val_data = tf.data.Dataset.from_tensor_slices(
            (validation[0], _targets(validation[1], names))
        ).batch(256)
    return model.fit(data, epochs=epochs, validation_data=val_data, verbose=verbose, shuffle=False)


def per_attribute_accuracy(
    model: AttributeClassifier, images: np.ndarray, ids: np.ndarray
) -> dict[str, float]:
    """Fraction of images whose predicted value equals the true one, per attribute."""
    predicted = model.predict_ids(images)
    return {
        n: float(np.mean(predicted[:, i] == ids[:, i])) for i, n in enumerate(model.attribute_names)
    }


def confusions(
    model: AttributeClassifier, images: np.ndarray, ids: np.ndarray, top: int = 5
) -> dict[str, list[tuple[str, str, int]]]:
    """Most frequent (true value, predicted value, count) mistakes per attribute."""
    predicted = model.predict_ids(images)
    out = {}
    for i, name in enumerate(model.attribute_names):
        values = model.attribute_schema[name]
        wrong = predicted[:, i] != ids[:, i]
        pairs: dict[tuple[int, int], int] = {}
        for t, p in zip(ids[wrong, i], predicted[wrong, i]):
            pairs[(int(t), int(p))] = pairs.get((int(t), int(p)), 0) + 1
        ranked = sorted(pairs.items(), key=lambda kv: -kv[1])[:top]
        out[name] = [(values[t], values[p], c) for (t, p), c in ranked]
    return out
