"""DAMSM pretraining on the pairs the paper describes: (attributes of x_{t-1} + o_t, x_t)."""

from __future__ import annotations

import os

import keras
import tensorflow as tf
from absl import logging

from common.atomic_files import save_weights_atomically, write_json_atomically
from seqgan_tf.configs.experiment import ExperimentConfig
from seqgan_tf.data.input_pipeline import count_turns, make_dataset
from seqgan_tf.models.session_preprocessor import damsm_texts
from seqgan_tf.training import run_folder, runs


def session_pairs(sessions: tf.data.Dataset, pair_batch_size: int, drop_remainder: bool):
    """Batched sessions -> batches of {"image", "text", "mask"} pairs from the real turns."""

    def to_pairs(batch):
        s = tf.shape(batch["images"])
        images = tf.reshape(batch["images"][:, 1:], [-1, s[2], s[3], 3])
        texts = tf.reshape(damsm_texts(batch), [-1])  # the pairs the GAN's DAMSM term scores
        mask = tf.reshape(batch["turn_mask"], [-1])
        return tf.data.Dataset.from_tensor_slices({"image": images, "text": texts, "mask": mask})

    pairs = sessions.flat_map(to_pairs).filter(lambda p: p["mask"] > 0)
    return pairs.batch(pair_batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)


def pretrain_damsm(
    config: ExperimentConfig,
    vocabulary: list[str],
    run_dir: str,
    strategy: tf.distribute.Strategy,
    verbose: int = 1,
):
    """Trains the DAMSM encoders, saves them in the run and reports validation retrieval.

    Returns:
      (damsm, metrics dict with validation loss and text-to-image R@1 within batches of
      `config.damsm.batch_size` pairs).
    """
    c, d = config.damsm, config.data
    common = dict(max_turns=d.max_turns, image_size=d.image_size, version=None, seed=d.seed)
    # The pair datasets (flat_map + filter) have no length Keras can see: the steps come from
    # the splits' turn counts. The train pairs repeat; 0 steps means one pass over the split.
    train_batches = count_turns(d.data_dir, d.dataset, "train", d.max_turns) // c.batch_size
    steps = c.pretrain_steps_per_epoch or max(train_batches, 1)
    train = session_pairs(
        make_dataset(d.data_dir, d.dataset, "train", 8, True, **common), c.batch_size, True
    )
    val_batches = count_turns(d.data_dir, d.dataset, "val", d.max_turns) // c.batch_size
    val = None
    if val_batches:
        # A declared length: each validation pass ends where the split does, with no "input ran
        # out of data" warning.
        val = session_pairs(
            make_dataset(d.data_dir, d.dataset, "val", 8, False, repeat=False, **common),
            c.batch_size,
            True,
        ).apply(tf.data.experimental.assert_cardinality(val_batches))
    else:
        logging.info(
            "DAMSM: the val split holds fewer than %d pairs (one retrieval pool): "
            "no DAMSM validation",
            c.batch_size,
        )
    logging.info(
        "DAMSM pretraining: %d epochs of %d steps (%d pairs each)",
        c.pretrain_epochs,
        steps,
        c.batch_size,
    )
    with strategy.scope():
        damsm = runs.build_damsm(config, vocabulary)
        damsm.compile(optimizer=keras.optimizers.Adam(c.learning_rate))
        damsm.optimizer.build(damsm.trainable_variables)
    history = damsm.fit(
        train,
        epochs=c.pretrain_epochs,
        steps_per_epoch=steps,
        validation_data=val,
        verbose=verbose,
        shuffle=False,  # the pair dataset shuffles itself
    )
    # Atomic: a kill during the save leaves no damsm.weights.h5, so the next run pretrains again
    # instead of loading a truncated file.
    save_weights_atomically(damsm, os.path.join(run_dir, run_folder.DAMSM_WEIGHTS))
    metrics = {
        k: float(v[-1][0] if hasattr(v[-1], "__len__") else v[-1])
        for k, v in history.history.items()
    }
    metrics["pool_size"] = c.batch_size
    metrics["steps_per_epoch"] = steps
    write_json_atomically(os.path.join(run_dir, "damsm_metrics.json"), metrics, sort_keys=True)
    return damsm, metrics


def load_pretrained_damsm(config: ExperimentConfig, vocabulary: list[str], run_dir: str):
    damsm = runs.build_damsm(config, vocabulary)
    damsm.load_weights(os.path.join(run_dir, run_folder.DAMSM_WEIGHTS))
    return damsm
