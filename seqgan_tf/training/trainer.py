"""The training run: data -> vocabulary -> DAMSM -> SeqAttnGAN under a strategy -> run folder.

Started again with the same arguments, a killed run resumes from its last backup (epoch count,
weights and both optimizers' state); a finished run is left alone. Every weights file (DAMSM,
backup, latest checkpoint, snapshots, final) is written to a temporary file and renamed, so a
kill during a save leaves the previous file or none: a missing DAMSM is pretrained again, a
missing final file is saved again from the last backup. The run records the fingerprint of the
dataset build it trains on (data_build.json) and refuses to resume on another build.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import time

import keras
import tensorflow as tf
from absl import logging

from common.atomic_files import (
    remove_temporaries,
    save_weights_atomically,
    write_atomically,
    write_json_atomically,
)
from seqgan_tf.configs.experiment import ExperimentConfig
from seqgan_tf.data.input_pipeline import held_batches, load_dataset_info, make_dataset
from seqgan_tf.text.normalization import build_vocabulary, load_vocabulary, save_vocabulary
from seqgan_tf.training import run_folder, runs
from seqgan_tf.training.averaged_adam import AveragedAdam
from seqgan_tf.training.callbacks import (
    AtomicBackupAndRestore,
    EpochSnapshots,
    LatestWeights,
    ScalarSummaries,
    TrainState,
    ValidationStrips,
)
from seqgan_tf.training.damsm_pretraining import load_pretrained_damsm, pretrain_damsm
from seqgan_tf.training.linear_decay_tail import learning_rate_schedule
from seqgan_tf.training.run_lock import RunLock, lock_file_name
from seqgan_tf.training.strategy import is_chief, make_strategy, task_index
from tfrecords.build_fingerprint import describe, fingerprint_of
from tfrecords.datasets import SYNTHETIC_DATASETS


def ensure_dataset(config: ExperimentConfig) -> dict:
    """Returns dataset_info; builds a missing synthetic set (the embedded default) first, through
    `tfrecords.builders.build` as every build."""
    d = config.data
    try:
        return load_dataset_info(d.data_dir, d.dataset)
    except FileNotFoundError:
        if d.dataset not in SYNTHETIC_DATASETS:
            raise
    from tfrecords import builders
    from tfrecords.build.request import BuildRequest

    logging.info(
        "building %s (%d sessions) under %s", d.dataset, d.num_synthetic_sessions, d.data_dir
    )
    builders.build(
        BuildRequest(d.dataset, d.data_dir, num_sessions=d.num_synthetic_sessions, seed=d.seed)
    )
    return load_dataset_info(d.data_dir, d.dataset)


def training_texts(config: ExperimentConfig):
    """Every description and attribute text of the training split (for the vocabulary)."""
    d = config.data
    ds = make_dataset(
        d.data_dir,
        d.dataset,
        "train",
        256,
        False,
        max_turns=d.max_turns,
        image_size=8,
        repeat=False,
    )
    for batch in ds.map(lambda b: (b["descriptions"], b["prev_attribute_text"])):
        for arr in batch:
            for text in arr.numpy().reshape(-1):
                if text:
                    yield text.decode("utf-8")


def vocabulary_for(config: ExperimentConfig, run_dir: str) -> list[str]:
    path = os.path.join(run_dir, run_folder.VOCAB_FILE)
    if os.path.exists(path):
        return load_vocabulary(path)
    vocab = build_vocabulary(training_texts(config))
    if is_chief():
        save_vocabulary(vocab, path)
    return vocab


def _check_config(config: ExperimentConfig, run_dir: str, overwrite: bool) -> None:
    path = os.path.join(run_dir, run_folder.CONFIG_FILE)
    if os.path.exists(path) and not overwrite:
        old = ExperimentConfig.load(path)
        # More epochs continue a run (with train.decay_share, over a new decay tail); fewer
        # find it trained.
        old.train.epochs = config.train.epochs
        if old.identity() != config.identity():
            changed = sorted(
                f"{section}.{key}"
                for section, values in config.identity().items()
                if isinstance(values, dict)
                for key in values
                if old.identity()[section].get(key) != values[key]
            )
            raise ValueError(
                f"{run_dir} holds a run with a different configuration ({path}; differs in "
                f"{', '.join(changed) or 'name'}); resume it with the same flags, pick a new "
                "--run_dir, or pass --overwrite"
            )
    if is_chief():
        config.save(path)


def _continue_finished_run(run_dir: str, epochs_completed: int) -> None:
    """Reopens a finished run for more epochs: its last epoch's weights (with both optimizers'
    state) become the backup that fit resumes from, at the epoch after the last."""
    if not is_chief():
        return
    latest = os.path.join(run_dir, run_folder.LATEST_WEIGHTS)
    if not os.path.exists(latest):
        raise FileNotFoundError(f"{run_dir}: cannot continue a run without {latest}")
    backup = os.path.join(run_dir, run_folder.BACKUP_DIR)
    os.makedirs(backup, exist_ok=True)
    write_atomically(
        os.path.join(backup, "latest.weights.h5"),
        lambda tmp: shutil.copyfile(latest, tmp),
        keep_extension=".weights.h5",
    )
    write_json_atomically(
        os.path.join(backup, "training_metadata.json"), {"epoch": epochs_completed, "batch": 0}
    )


def machine_description() -> str:
    """The box a run's epoch times belong to: CPU model, logical cores, visible GPUs."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    gpus = len(tf.config.list_physical_devices("GPU"))
    return f"{cpu}, {os.cpu_count()} logical cores, {gpus} GPU(s)"


def train(
    config: ExperimentConfig,
    run_dir: str,
    strategy: tf.distribute.Strategy | None = None,
    verbose: int = 1,
    overwrite: bool = False,
    snapshot_every: int = 0,
) -> dict:
    """Trains (or resumes) a run. Returns the final train_state dict. `snapshot_every` > 0
    also keeps the weights of every that many epochs in `<run_dir>/snapshots/`.

    Raises RunFolderBusyError, touching nothing, when another live process trains `run_dir`
    (`--overwrite` included)."""
    start = time.time()
    with RunLock(run_dir, lock_file_name(task_index(), is_chief())):
        return _train_holding_the_lock(
            config, run_dir, strategy, verbose, overwrite, snapshot_every, start
        )


def _train_holding_the_lock(
    config: ExperimentConfig,
    run_dir: str,
    strategy: tf.distribute.Strategy | None,
    verbose: int,
    overwrite: bool,
    snapshot_every: int,
    start: float,
) -> dict:
    state_path = os.path.join(run_dir, run_folder.TRAIN_STATE)
    if overwrite:
        for name in (
            run_folder.FINAL_WEIGHTS,
            run_folder.TRAIN_STATE,
            run_folder.VOCAB_FILE,
            run_folder.DAMSM_WEIGHTS,
        ):
            if os.path.exists(os.path.join(run_dir, name)):
                os.remove(os.path.join(run_dir, name))
        shutil.rmtree(os.path.join(run_dir, run_folder.BACKUP_DIR), ignore_errors=True)
    info = ensure_dataset(config)
    # Derived from the data, recorded with the run: the attribute slots' sizes.
    config.model.attribute_sizes = [len(v) for v in info.get("attribute_schema", {}).values()]
    if config.edit.attribute_state and not config.model.attribute_sizes:
        raise ValueError(
            f"edit.attribute_state needs a dataset with an attribute schema; "
            f"{config.data.dataset} has none (train with --noattribute_state)"
        )
    config.validate()
    _check_config(config, run_dir, overwrite)
    fingerprint = fingerprint_of(info)
    if is_chief():
        run_folder.record_build(run_dir, fingerprint, overwrite)
        # What a save killed mid-write left (never read).
        for folder in run_folder.ATOMIC_SAVE_FOLDERS:
            remove_temporaries(os.path.join(run_dir, folder))
    logging.info("data: %s", describe(fingerprint))
    logging.info("machine: %s", machine_description())
    if is_chief() and config.edit.attribute_state:  # names the design of the exports
        write_json_atomically(
            os.path.join(run_dir, run_folder.ATTRIBUTE_SCHEMA_FILE), info["attribute_schema"]
        )
    if os.path.exists(state_path):
        with open(state_path) as f:
            state = json.load(f)
        if state.get("complete"):
            if config.train.epochs <= state["epochs_completed"]:
                logging.info(
                    "%s is already trained (%d epochs); pass --overwrite to train again",
                    run_dir,
                    state["epochs_completed"],
                )
                return state
            _continue_finished_run(run_dir, state["epochs_completed"])
            logging.info(
                "%s: continuing from epoch %d to %d",
                run_dir,
                state["epochs_completed"],
                config.train.epochs,
            )

    keras.utils.set_random_seed(config.train.seed)
    vocab = vocabulary_for(config, run_dir)
    strategy = strategy or make_strategy("auto")
    logging.info(
        "%s on %s: %d words, %d replica(s) (%s)",
        config.name,
        config.data.dataset,
        len(vocab),
        strategy.num_replicas_in_sync,
        type(strategy).__name__,
    )

    damsm = None
    if config.damsm.enabled:
        if os.path.exists(os.path.join(run_dir, run_folder.DAMSM_WEIGHTS)):
            with strategy.scope():
                damsm = load_pretrained_damsm(config, vocab, run_dir)
            logging.info("loaded the pretrained DAMSM")
        else:
            logging.info("pretraining DAMSM")
            damsm, metrics = pretrain_damsm(config, vocab, run_dir, strategy, verbose=verbose)
            if "val_text_to_image_r1" in metrics:
                logging.info(
                    "DAMSM validation text->image R@1 (pool %d): %.3f",
                    config.damsm.batch_size,
                    metrics["val_text_to_image_r1"],
                )

    t = config.train
    jit_compile = t.jit_compile
    if (
        jit_compile
        and strategy.num_replicas_in_sync > 1
        and not tf.config.list_logical_devices("GPU")
    ):
        # XLA places every replica's cluster on CPU:0 and then cannot reach CPU:1's variables
        # ("Trying to access resource ... located in device CPU:1", xla known issues).
        logging.info("jit_compile off: XLA cannot compile replicas on logical CPU devices")
        jit_compile = False
    with strategy.scope():
        # Mixed precision (for GPUs): the model's parts compute in float16/bfloat16 with float32
        # weights; the DAMSM, built before, stays float32.
        model = runs.build_model_under_policy(config, vocab, t.mixed_precision)
        if damsm is not None:
            model.attach_damsm(damsm)
            if config.damsm.init_text_encoder:
                # A resumed run overwrites this with its backup when fit starts.
                runs.init_text_encoder_from_damsm(model, damsm)
        model.compile(
            d_optimizer=keras.optimizers.Adam(t.d_learning_rate, t.beta_1, t.beta_2),
            g_optimizer=AveragedAdam(
                t.g_learning_rate,
                t.beta_1,
                t.beta_2,
                use_ema=t.g_average_momentum > 0,
                ema_momentum=t.g_average_momentum or 0.99,
            ),
            loss=runs.build_loss(config),
            jit_compile=jit_compile,
        )
        model.build_optimizers()

    d = config.data
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    common = dict(max_turns=d.max_turns, image_size=d.image_size, seed=d.seed)
    # Tokenizing and hashing happen in the input pipeline (model.preprocessor), so the step
    # holds no string ops and can be XLA-compiled.
    train_ds = make_dataset(
        d.data_dir, d.dataset, "train", d.global_batch_size, True, augment=d.augment, **common
    )
    # A small build from a source download can leave the val split empty: train without
    # validation losses and strips then, and say so.
    has_val = info["splits"]["val"]["num_sessions"] > 0
    if not has_val:
        logging.info("%s has no validation sessions: no validation losses or strips", d.dataset)
    val_ds = (
        make_dataset(
            d.data_dir, d.dataset, "val", d.global_batch_size, False, repeat=True, **common
        )
        if has_val
        else None
    )
    train_ds, val_ds = (
        None
        if ds is None
        else ds.map(model.preprocessor, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
        .with_options(options)
        for ds in (train_ds, val_ds)
    )
    if val_ds is not None:
        # Read once: the same batches every epoch, without Keras waiting on a pipeline's teardown.
        # The pipeline repeats so that they are full batches: a partial one, split over two
        # workers, crashed MultiWorkerMirroredStrategy's evaluate (test_training_runs.py).
        val_ds = held_batches(val_ds, t.validation_steps).with_options(options)
    steps = t.steps_per_epoch or max(
        info["splits"]["train"]["num_sessions"] // d.global_batch_size, 1
    )

    chief = is_chief()
    # Non-chief workers write their (identical) backups and logs to their own folder, keyed by
    # task index so that a restarted worker finds its backup again.
    work_dir = run_dir if chief else os.path.join(run_dir, f".worker-{task_index()}")
    os.makedirs(os.path.join(work_dir, run_folder.CHECKPOINTS_DIR), exist_ok=True)
    tb_dir = os.path.join(work_dir, run_folder.TENSORBOARD_DIR)
    train_state = TrainState(os.path.join(work_dir, run_folder.TRAIN_STATE), start)
    callbacks = [
        # Kept after fit until final.weights.h5 is saved: a kill during that save resumes
        # from the last epoch's backup (fit then runs no epoch) and saves it again.
        AtomicBackupAndRestore(
            os.path.join(work_dir, run_folder.BACKUP_DIR), delete_checkpoint=False
        ),
        LatestWeights(os.path.join(work_dir, run_folder.LATEST_WEIGHTS)),
        ScalarSummaries(tb_dir),
        train_state,
    ]
    schedule = learning_rate_schedule(t, steps)
    if schedule:
        callbacks.append(schedule)
    if chief and snapshot_every:
        callbacks.append(
            EpochSnapshots(os.path.join(run_dir, run_folder.SNAPSHOTS_DIR), snapshot_every)
        )
    if chief and has_val:
        strip_batch = next(
            iter(
                make_dataset(
                    d.data_dir, d.dataset, "val", t.strip_sessions, False, repeat=False, **common
                )
            )
        )
        callbacks.append(
            ValidationStrips(strip_batch, os.path.join(run_dir, run_folder.STRIPS_DIR), tb_dir)
        )
    model.fit(
        train_ds,
        epochs=t.epochs,
        steps_per_epoch=steps,
        validation_data=val_ds,
        callbacks=callbacks,
        verbose=verbose,
        shuffle=False,
    )  # the dataset shuffles itself
    save_weights_atomically(model, os.path.join(work_dir, run_folder.FINAL_WEIGHTS))
    train_state.write(t.epochs, complete=True)
    shutil.rmtree(os.path.join(work_dir, run_folder.BACKUP_DIR), ignore_errors=True)
    with open(os.path.join(work_dir, run_folder.TRAIN_STATE)) as f:
        state = json.load(f)
    logging.info(
        "done: %d epochs, %d generator steps, %.0f s in this process; run folder %s",
        t.epochs,
        state["g_iterations"],
        time.time() - start,
        run_dir,
    )
    return state
