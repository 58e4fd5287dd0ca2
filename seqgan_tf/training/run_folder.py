"""A run folder: what a training run leaves on disk, the names of its files, and what is read
back from it without building a model (the factories that build one are `runs`).

<run_dir>/config.json          the ExperimentConfig
<run_dir>/data_build.json      the fingerprint of the dataset build it trains on
                               (tfrecords/build_fingerprint.py; evaluate.py checks it)
<run_dir>/vocab.txt            the tokenizer vocabulary (training split)
<run_dir>/attribute_schema.json the dataset's attribute schema (runs with attribute slots)
<run_dir>/damsm.weights.h5     the pretrained DAMSM (when enabled) + damsm_metrics.json
<run_dir>/backup/              BackupAndRestore state (resumes a killed run)
<run_dir>/checkpoints/         latest weights after every epoch
<run_dir>/snapshots/           the weights of every few epochs (when asked for)
<run_dir>/final.weights.h5     the trained SeqAttnGAN
<run_dir>/train_state.json     epochs completed, optimizer iterations, wall time
<run_dir>/strips/epoch_NNN.png validation sessions drawn after every epoch
<run_dir>/tensorboard/         scalars and strips
<run_dir>/train.lock           held by the process that trains the folder (run_lock.py)
"""

from __future__ import annotations

import json
import os
import re

from seqgan_tf.configs.experiment import ExperimentConfig
from tfrecords.build_fingerprint import BUILD_FILE, read_build, record_build

__all__ = [
    "ATOMIC_SAVE_FOLDERS",
    "ATTRIBUTE_SCHEMA_FILE",
    "BACKUP_DIR",
    "BUILD_FILE",
    "CHECKPOINTS_DIR",
    "CONFIG_FILE",
    "DAMSM_WEIGHTS",
    "FINAL_WEIGHTS",
    "LATEST_WEIGHTS",
    "SNAPSHOTS_DIR",
    "STRIPS_DIR",
    "TENSORBOARD_DIR",
    "TRAIN_STATE",
    "VOCAB_FILE",
    "default_run_dir",
    "describe_model_entries",
    "describe_weights",
    "epochs_of_weights",
    "load_attribute_schema",
    "read_build",
    "read_config",
    "record_build",
    "trained_weights",
]

CONFIG_FILE = "config.json"
VOCAB_FILE = "vocab.txt"
DAMSM_WEIGHTS = "damsm.weights.h5"
FINAL_WEIGHTS = "final.weights.h5"
TRAIN_STATE = "train_state.json"
ATTRIBUTE_SCHEMA_FILE = "attribute_schema.json"
BACKUP_DIR = "backup"
CHECKPOINTS_DIR = "checkpoints"
LATEST_WEIGHTS = os.path.join(CHECKPOINTS_DIR, "latest.weights.h5")
SNAPSHOTS_DIR = "snapshots"
STRIPS_DIR = "strips"
TENSORBOARD_DIR = "tensorboard"
# The folders files are saved into atomically (a kill mid-save leaves a temporary file there).
ATOMIC_SAVE_FOLDERS = ("", BACKUP_DIR, CHECKPOINTS_DIR, SNAPSHOTS_DIR, STRIPS_DIR)


def default_run_dir(
    config_name: str, dataset: str, config: ExperimentConfig, seed: int | None = None
) -> str:
    """runs/<config>_<dataset>, with a suffix per switch turned off against the named config
    (_noattention, _nodamsm, _nohistory, _noedit, _noattribute_state, _noclassify,
    _noread_previous, _noown_output), the other
    edit generator's name (_templates), the other colour transform (_matrix), the other anchor
    (_anchor_first), the appearance flow (_flow), another terse rate (_terse<rate>) and
    _seed<N> for another
    seed, so that an ablation never lands in the full model's folder."""
    from seqgan_tf.configs import get_experiment

    named = get_experiment(config_name, dataset)
    if config.edit.enabled and config.edit.anchor != named.edit.anchor:
        from seqgan_tf.configs.overrides import override

        # The other anchor's own training turns are its defaults, not switches turned off.
        named = override(named, switches={"anchor_first": config.edit.anchor == "first"})
        anchor_suffix = f"_anchor_{config.edit.anchor}"
    else:
        anchor_suffix = ""
    switches = (
        ("attention", config.model.use_attention, named.model.use_attention),
        ("damsm", config.damsm.enabled, named.damsm.enabled),
        ("history", config.model.use_history, named.model.use_history),
        ("edit", config.edit.enabled, named.edit.enabled),
        ("attribute_state", config.edit.attribute_state, named.edit.attribute_state),
    )
    switches += (
        ("classify", config.edit.classify_weight > 0, named.edit.classify_weight > 0),
        ("read_previous", config.edit.read_previous, named.edit.read_previous),
        ("own_output", config.edit.own_output_rate > 0, named.edit.own_output_rate > 0),
    )
    suffix = "".join(f"_no{name}" for name, on, default in switches if default and not on)
    if config.edit.enabled and config.edit.generator != named.edit.generator:
        suffix += f"_{config.edit.generator}"
    if config.edit.enabled and config.edit.colour_transform != named.edit.colour_transform:
        suffix += f"_{config.edit.colour_transform}"
    if config.edit.appearance_flow and not named.edit.appearance_flow:
        suffix += "_flow"
    if config.model.terse_rate != named.model.terse_rate:
        suffix += f"_terse{config.model.terse_rate:g}"
    suffix += anchor_suffix
    if seed:
        suffix += f"_seed{seed}"
    return os.path.join("runs", f"{config_name}_{dataset}{suffix}")


def read_config(run_dir: str) -> ExperimentConfig:
    """The run's ExperimentConfig.

    Raises:
      FileNotFoundError: the folder is not a run directory (no config.json).
    """
    config_path = os.path.join(run_dir, CONFIG_FILE)
    if not os.path.exists(config_path):
        raise FileNotFoundError(f"{run_dir!r} is not a run directory (no {CONFIG_FILE})")
    return ExperimentConfig.load(config_path)


def trained_weights(run_dir: str) -> str:
    """The run's final weights, or its latest checkpoint when it has not finished.

    Raises:
      FileNotFoundError: the run holds neither.
    """
    candidates = [os.path.join(run_dir, FINAL_WEIGHTS), os.path.join(run_dir, LATEST_WEIGHTS)]
    weights = next((c for c in candidates if os.path.exists(c)), None)
    if weights is None:
        raise FileNotFoundError(f"no trained weights in {run_dir!r} (looked for {candidates})")
    return weights


_SNAPSHOT_NAME = re.compile(r"epoch_(\d+)\.weights\.h5$")


def epochs_of_weights(run_dir: str, weights: str | None = None) -> int | None:
    """The GAN epochs behind a run's weights: a snapshot's own number (`snapshots/epoch_NNN`);
    for the final weights or the latest checkpoint, the epochs completed in
    `train_state.json`; None when the run folder does not say (any other file, no state).

    Args:
      run_dir: the run folder.
      weights: the weights file, absolute or relative to run_dir (None: the trained weights).
    """
    if weights:
        relative = os.path.relpath(os.path.join(run_dir, weights), run_dir)
        match = _SNAPSHOT_NAME.search(os.path.basename(relative))
        if match and os.path.dirname(relative) == SNAPSHOTS_DIR:
            return int(match.group(1))
        if relative not in (FINAL_WEIGHTS, LATEST_WEIGHTS):
            return None
    try:
        with open(os.path.join(run_dir, TRAIN_STATE), encoding="utf-8") as f:
            return int(json.load(f)["epochs_completed"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def describe_weights(run_dir: str, weights: str | None = None) -> dict:
    """What an evaluation records of a run's weights: {"run_dir", "weights" (as given; None =
    the trained weights), "config" (the run's config name; None without config.json),
    "epochs" (`epochs_of_weights`)}."""
    try:
        config = read_config(run_dir).name
    except (FileNotFoundError, ValueError):
        config = None
    return {
        "run_dir": run_dir,
        "weights": weights or None,
        "config": config,
        "epochs": epochs_of_weights(run_dir, weights or None),
    }


def describe_model_entries(entries: list[str]) -> dict[str, dict]:
    """{name: `describe_weights(run_dir, weights)`} of the trained runs among evaluate.py's
    `--models` entries (`name=run_dir[@weights]`; built-in names are left out)."""
    out = {}
    for entry in entries:
        name, sep, source = entry.partition("=")
        if sep:
            run_dir, _, weights = source.partition("@")
            out[name.strip()] = describe_weights(run_dir, weights or None)
    return out


def load_attribute_schema(run_dir: str) -> dict[str, list[str]] | None:
    """The attribute schema of a run with attribute slots (None without them).

    Read from `<run_dir>/attribute_schema.json`, or for runs trained before it was written,
    from the dataset_info.json of the run's dataset (when that dataset is here).

    Raises:
      FileNotFoundError: the folder is not a run directory.
      ValueError: the schema's sizes are not the run's attribute sizes.
    """
    config = read_config(run_dir)
    if not config.edit.attribute_state:
        return None
    path = os.path.join(run_dir, ATTRIBUTE_SCHEMA_FILE)
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            schema = json.load(f)
    else:
        from seqgan_tf.data.input_pipeline import load_dataset_info

        try:
            schema = load_dataset_info(config.data.data_dir, config.data.dataset)[
                "attribute_schema"
            ]
        except (FileNotFoundError, KeyError):
            return None
    sizes = [len(values) for values in schema.values()]
    if sizes != list(config.model.attribute_sizes):
        raise ValueError(
            f"{run_dir}: the attribute schema's sizes {sizes} are not the run's "
            f"{list(config.model.attribute_sizes)}"
        )
    return schema
