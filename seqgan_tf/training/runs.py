"""A run directory: what a training run leaves on disk, and how to load it back.

<run_dir>/config.json          the ExperimentConfig
<run_dir>/data_build.json      the fingerprint of the dataset build it trains on
                               (tfrecords/build_fingerprint.py; evaluate.py checks it)
<run_dir>/vocab.txt            the tokenizer vocabulary (training split)
<run_dir>/attribute_schema.json the dataset's attribute schema (runs with attribute slots)
<run_dir>/damsm.weights.h5     the pretrained DAMSM (when enabled) + damsm_metrics.json
<run_dir>/backup/              BackupAndRestore state (resumes a killed run)
<run_dir>/checkpoints/         latest weights after every epoch
<run_dir>/final.weights.h5     the trained SeqAttnGAN
<run_dir>/train_state.json     epochs completed, optimizer iterations, wall time
<run_dir>/strips/epoch_NNN.png validation sessions drawn after every epoch
<run_dir>/tensorboard/         scalars and strips
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable

import tensorflow as tf

from seqgan_tf.configs.experiment import ExperimentConfig
from seqgan_tf.configs.overrides import override
from seqgan_tf.losses.seq_attn_gan_loss import SeqAttnGANLoss
from seqgan_tf.models.damsm import Damsm
from seqgan_tf.models.seq_attn_gan import SeqAttnGAN
from seqgan_tf.text.normalization import load_vocabulary
from tfrecords.build_fingerprint import BUILD_FILE, read_build, record_build

__all__ = ["BUILD_FILE", "read_build", "record_build"]  # the run's data_build.json

CONFIG_FILE = "config.json"
VOCAB_FILE = "vocab.txt"
DAMSM_WEIGHTS = "damsm.weights.h5"
FINAL_WEIGHTS = "final.weights.h5"
TRAIN_STATE = "train_state.json"
ATTRIBUTE_SCHEMA_FILE = "attribute_schema.json"


def default_run_dir(
    config_name: str, dataset: str, config: ExperimentConfig, seed: int | None = None
) -> str:
    """runs/<config>_<dataset>, with a suffix per switch turned off against the named config
    (_noattention, _nodamsm, _nohistory, _noedit, _noattribute_state, _noclassify), the other
    edit generator's name (_templates) and _seed<N> for another
    seed, so that an ablation never lands in the full model's folder."""
    from seqgan_tf.configs import get_experiment

    named = get_experiment(config_name, dataset)
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
    if seed:
        suffix += f"_seed{seed}"
    return os.path.join("runs", f"{config_name}_{dataset}{suffix}")


def build_damsm(config: ExperimentConfig, vocabulary: list[str]) -> Damsm:
    """A DAMSM for this config, with its variables created."""
    c = config.damsm
    damsm = Damsm(
        vocabulary,
        max_words=config.model.max_words,
        image_size=config.data.image_size,
        embedding_dim=c.embedding_dim,
        feature_dim=c.feature_dim,
        base_channels=config.model.ef_dim,
        gamma1=c.gamma1,
        gamma2=c.gamma2,
        gamma3=c.gamma3,
        name="damsm",
    )
    s = config.data.image_size
    damsm({"image": tf.zeros([1, s, s, 3]), "text": tf.constant([""])})
    return damsm


def build_loss(config: ExperimentConfig) -> SeqAttnGANLoss:
    """The training objective of a config (handed to SeqAttnGAN.compile)."""
    return SeqAttnGANLoss(
        damsm_weight=config.damsm.weight if config.damsm.enabled else 0.0,
        recon_weight=config.train.recon_weight,
        edit_weight=config.edit.edit_weight,
        attribute_weight=config.edit.attribute_weight,
        classify_weight=config.edit.classify_weight,
        damsm_pairs=config.damsm.max_pairs,
    )


def dummy_batch(config: ExperimentConfig) -> dict:
    """A one-session prepared batch in the input pipeline's layout (builds a model's parts)."""
    s, t, k = config.data.image_size, config.data.max_turns, len(config.model.attribute_sizes)
    return {
        "images": tf.zeros([1, t + 1, s, s, 3]),
        "description_ids": tf.zeros([1, t, config.model.max_words], tf.int32),
        "turn_mask": tf.ones([1, t]),
        "attribute_ids": tf.zeros([1, t + 1, k], tf.int32),
        "changed_mask": tf.zeros([1, t, k]),
        "session_hash": tf.zeros([1], tf.int64),
    }


def build_model(config: ExperimentConfig, vocabulary: list[str]) -> SeqAttnGAN:
    """A SeqAttnGAN for this config, with all its variables created (a dummy session is run)."""
    m = config.model
    model = SeqAttnGAN(
        vocabulary,
        attribute_sizes=m.attribute_sizes if config.edit.attribute_state else (),
        image_size=config.data.image_size,
        max_words=m.max_words,
        embedding_dim=m.embedding_dim,
        text_dim=m.text_dim,
        state_dim=m.state_dim,
        noise_dim=m.noise_dim,
        gf_dim=m.gf_dim,
        df_dim=m.df_dim,
        ef_dim=m.ef_dim,
        use_attention=m.use_attention,
        use_history=m.use_history,
        edit_mode=config.edit.enabled,
        attribute_state=config.edit.attribute_state,
        edit_generator=config.edit.generator,
        classify_attributes=config.edit.classify_weight > 0,
        read_previous=config.edit.read_previous,
        skip_turn_rate=config.edit.skip_turn_rate,
        own_output_rate=config.edit.own_output_rate,
        word_dropout=m.word_dropout,
        mask_threshold=config.inference.mask_threshold,
        resnet101_weights=m.resnet101_weights,
        name="seq_attn_gan",
    )
    model(dummy_batch(config))
    return model


def init_text_encoder_from_damsm(model: SeqAttnGAN, damsm: Damsm) -> None:
    """Copies the pretrained DAMSM text encoder into the generator's (AttnGAN's initialisation).

    Both share the vocabulary; the widths must match (DamsmConfig.embedding_dim/feature_dim vs
    ModelConfig.embedding_dim/text_dim)."""
    src, dst = damsm.text_encoder, model.text_encoder
    theirs = (src.vocab_size, src.embedding_dim, src.text_dim)
    ours = (dst.vocab_size, dst.embedding_dim, dst.text_dim)
    if theirs != ours:
        raise ValueError(
            "damsm.init_text_encoder needs the DAMSM text encoder's (vocab, embedding_dim, "
            f"feature_dim) {theirs} to equal the model's (vocab, embedding_dim, text_dim) {ours}"
        )
    for theirs_var, ours_var in zip(src.weights, dst.weights, strict=True):
        ours_var.assign(theirs_var)


def load_model(
    run_dir: str, weights: str | None = None, mask_threshold: float | None = None
) -> tuple[SeqAttnGAN, ExperimentConfig]:
    """Rebuilds a run's SeqAttnGAN and loads its final (or latest checkpoint) weights.

    mask_threshold overrides the run's inference.mask_threshold (None keeps the run's).

    Raises:
      FileNotFoundError: the folder is not a finished or checkpointed run.
    """
    config_path = os.path.join(run_dir, CONFIG_FILE)
    if not os.path.exists(config_path):
        raise FileNotFoundError(f"{run_dir!r} is not a run directory (no {CONFIG_FILE})")
    config = ExperimentConfig.load(config_path)
    override(config, {"inference.mask_threshold": mask_threshold})
    vocabulary = load_vocabulary(os.path.join(run_dir, VOCAB_FILE))
    model = build_model(config, vocabulary)
    if weights is None:
        candidates = [
            os.path.join(run_dir, FINAL_WEIGHTS),
            os.path.join(run_dir, "checkpoints", "latest.weights.h5"),
        ]
        weights = next((c for c in candidates if os.path.exists(c)), None)
        if weights is None:
            raise FileNotFoundError(f"no trained weights in {run_dir!r} (looked for {candidates})")
    model.load_weights(weights)
    return model, config


def load_attribute_schema(run_dir: str) -> dict[str, list[str]] | None:
    """The attribute schema of a run with attribute slots (None without them).

    Read from `<run_dir>/attribute_schema.json`, or for runs trained before it was written,
    from the dataset_info.json of the run's dataset (when that dataset is here).

    Raises:
      FileNotFoundError: the folder is not a run directory.
      ValueError: the schema's sizes are not the run's attribute sizes.
    """
    config_path = os.path.join(run_dir, CONFIG_FILE)
    if not os.path.exists(config_path):
        raise FileNotFoundError(f"{run_dir!r} is not a run directory (no {CONFIG_FILE})")
    config = ExperimentConfig.load(config_path)
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


def load_editor(run_dir: str) -> SeqAttnGAN:
    """The trained model as a serving "editor": image_size, state_dim, max_words, start, edit."""
    model, _ = load_model(run_dir)
    return model


def load_generator(
    run_dir: str, mask_threshold: float | None = None, weights: str | None = None
) -> Callable[[dict], tf.Tensor]:
    """For evaluation: batch -> generated images [B, T, S, S, 3] in [-1, 1], each turn from the
    model's own state (no teacher forcing), zero noise. mask_threshold, weights: as for
    load_model (e.g. a snapshot `<run_dir>/snapshots/epoch_003.weights.h5`)."""
    model, _ = load_model(run_dir, weights=weights, mask_threshold=mask_threshold)

    @tf.function(reduce_retracing=True)
    def generate(images, descriptions):
        out = model.generate_session({"images": images, "descriptions": descriptions})
        return out["images"], out["attention"], out["tokens"]

    def generator(batch: dict) -> tf.Tensor:
        return generate(batch["images"], batch["descriptions"])[0]

    generator.with_attention = lambda batch: generate(batch["images"], batch["descriptions"])
    generator.model = model
    return generator
