"""A run directory: what a training run leaves on disk, and how to load it back.

    <run_dir>/config.json          the ExperimentConfig
    <run_dir>/vocab.txt            the tokenizer vocabulary (training split)
    <run_dir>/damsm.weights.h5     the pretrained DAMSM (when enabled) + damsm_metrics.json
    <run_dir>/backup/              BackupAndRestore state (resumes a killed run)
    <run_dir>/checkpoints/         latest weights after every epoch
    <run_dir>/final.weights.h5     the trained SeqAttnGAN
    <run_dir>/train_state.json     epochs completed, optimizer iterations, wall time
    <run_dir>/strips/epoch_NNN.png validation sessions drawn after every epoch
    <run_dir>/tensorboard/         scalars and strips
"""

from __future__ import annotations

import os
from collections.abc import Callable

import tensorflow as tf

from seqgan_tf.configs.experiment import ExperimentConfig
from seqgan_tf.models.damsm import Damsm
from seqgan_tf.models.seq_attn_gan import SeqAttnGAN
from seqgan_tf.text.normalization import load_vocabulary

CONFIG_FILE = "config.json"
VOCAB_FILE = "vocab.txt"
DAMSM_WEIGHTS = "damsm.weights.h5"
FINAL_WEIGHTS = "final.weights.h5"
TRAIN_STATE = "train_state.json"


def default_run_dir(config_name: str, dataset: str, config: ExperimentConfig) -> str:
    """runs/<config>_<dataset>, with a suffix per ablation switched off (_noattention, _nodamsm,
    _nohistory, _noprevious_image), so that an ablation never lands in the full model's folder."""
    from seqgan_tf.configs import get_experiment

    named, model = get_experiment(config_name, dataset), config.model
    suffix = "".join(
        f"_no{name}" for name, on in (
            ("attention", model.use_attention), ("damsm", config.damsm.enabled),
            ("history", model.use_history),
            ("previous_image", model.use_previous_image or not named.model.use_previous_image),
        ) if not on)
    return os.path.join("runs", f"{config_name}_{dataset}{suffix}")


def build_damsm(config: ExperimentConfig, vocabulary: list[str]) -> Damsm:
    """A DAMSM for this config, with its variables created."""
    c = config.damsm
    damsm = Damsm(
        vocabulary, max_words=config.model.max_words, image_size=config.data.image_size,
        embedding_dim=c.embedding_dim, feature_dim=c.feature_dim,
        base_channels=config.model.ef_dim, gamma1=c.gamma1, gamma2=c.gamma2, gamma3=c.gamma3,
        name="damsm",
    )
    s = config.data.image_size
    damsm({"image": tf.zeros([1, s, s, 3]), "text": tf.constant([""])})
    return damsm


def build_model(config: ExperimentConfig, vocabulary: list[str]) -> SeqAttnGAN:
    """A SeqAttnGAN for this config, with all its variables created (a dummy session is run)."""
    m = config.model
    model = SeqAttnGAN(
        vocabulary,
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
        use_previous_image=m.use_previous_image,
        recon_weight=config.train.recon_weight,
        edit_weight=config.train.edit_weight,
        damsm_weight=config.damsm.weight if config.damsm.enabled else 0.0,
        own_output_prob=config.train.own_output_prob,
        mask_threshold=m.mask_threshold,
        resnet101_weights=m.resnet101_weights,
        name="seq_attn_gan",
    )
    s, t = config.data.image_size, config.data.max_turns
    model(
        {
            "images": tf.zeros([1, t + 1, s, s, 3]),
            "descriptions": tf.fill([1, t], ""),
            "session_id": tf.constant([""]),
        }
    )
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


def load_model(run_dir: str, weights: str | None = None, mask_threshold: float | None = None
               ) -> tuple[SeqAttnGAN, ExperimentConfig]:
    """Rebuilds a run's SeqAttnGAN and loads its final (or latest checkpoint) weights.

    mask_threshold overrides the run's ModelConfig.mask_threshold (an inference setting; None
    keeps the run's).

    Raises:
      FileNotFoundError: the folder is not a finished or checkpointed run.
    """
    config_path = os.path.join(run_dir, CONFIG_FILE)
    if not os.path.exists(config_path):
        raise FileNotFoundError(f"{run_dir!r} is not a run directory (no {CONFIG_FILE})")
    config = ExperimentConfig.load(config_path)
    if mask_threshold is not None:
        config.model.mask_threshold = mask_threshold
    vocabulary = load_vocabulary(os.path.join(run_dir, VOCAB_FILE))
    model = build_model(config, vocabulary)
    if weights is None:
        candidates = [os.path.join(run_dir, FINAL_WEIGHTS),
                      os.path.join(run_dir, "checkpoints", "latest.weights.h5")]
        weights = next((c for c in candidates if os.path.exists(c)), None)
        if weights is None:
            raise FileNotFoundError(f"no trained weights in {run_dir!r} (looked for {candidates})")
    model.load_weights(weights)
    return model, config


def load_editor(run_dir: str) -> SeqAttnGAN:
    """The trained model as a serving "editor": image_size, state_dim, max_words, start, edit."""
    model, _ = load_model(run_dir)
    return model


def load_generator(run_dir: str, mask_threshold: float | None = None
                   ) -> Callable[[dict], tf.Tensor]:
    """For evaluation: batch -> generated images [B, T, S, S, 3] in [-1, 1], each turn from the
    model's own state (no teacher forcing), zero noise. mask_threshold: as for load_model."""
    model, _ = load_model(run_dir, mask_threshold=mask_threshold)

    @tf.function(reduce_retracing=True)
    def generate(images, descriptions):
        out = model.generate_session({"images": images, "descriptions": descriptions})
        return out["images"], out["attention"], out["tokens"]

    def generator(batch: dict) -> tf.Tensor:
        return generate(batch["images"], batch["descriptions"])[0]

    generator.with_attention = lambda batch: generate(batch["images"], batch["descriptions"])
    generator.model = model
    return generator
