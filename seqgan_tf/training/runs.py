"""Factories: a config (and a vocabulary) -> the SeqAttnGAN, its DAMSM and its training loss;
a run folder -> the trained model, as an editor for export or a generator for evaluation.

What a run folder holds, and the names of its files, is `run_folder`.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import keras
import tensorflow as tf

from seqgan_tf.configs.experiment import ExperimentConfig
from seqgan_tf.configs.overrides import override
from seqgan_tf.losses.seq_attn_gan_loss import SeqAttnGANLoss
from seqgan_tf.models.damsm import Damsm
from seqgan_tf.models.seq_attn_gan import SeqAttnGAN
from seqgan_tf.text.normalization import load_vocabulary
from seqgan_tf.training.run_folder import VOCAB_FILE, read_config, trained_weights


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
        feature_match_weight=config.train.feature_match_weight,
        gradient_weight=config.train.gradient_weight,
        texture_weight=config.train.texture_weight,
        edit_weight=config.edit.edit_weight,
        attribute_weight=config.edit.attribute_weight,
        classify_weight=config.edit.classify_weight,
        g_classify_weight=config.edit.g_classify_weight,
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
        anchor=config.edit.anchor,
        colour_transform=config.edit.colour_transform,
        appearance_flow=config.edit.appearance_flow,
        word_dropout=m.word_dropout,
        terse_rate=m.terse_rate,
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


def build_model_under_policy(
    config: ExperimentConfig, vocabulary: list[str], policy: str
) -> SeqAttnGAN:
    """build_model under the Keras dtype policy `policy` ("float32", "mixed_bfloat16", ...), as
    training with `train.mixed_precision` builds it: the parts compute in that dtype with float32
    weights. The global policy is float32 again afterwards, so a DAMSM built apart stays float32."""
    keras.mixed_precision.set_global_policy(policy)
    try:
        return build_model(config, vocabulary)
    finally:
        keras.mixed_precision.set_global_policy("float32")


def load_model(
    run_dir: str, weights: str | None = None, mask_threshold: float | None = None
) -> tuple[SeqAttnGAN, ExperimentConfig]:
    """Rebuilds a run's SeqAttnGAN and loads its final (or latest checkpoint) weights.

    mask_threshold overrides the run's inference.mask_threshold (None keeps the run's).

    Raises:
      FileNotFoundError: the folder is not a finished or checkpointed run.
    """
    config = read_config(run_dir)
    override(config, {"inference.mask_threshold": mask_threshold})
    vocabulary = load_vocabulary(os.path.join(run_dir, VOCAB_FILE))
    model = build_model(config, vocabulary)
    if weights is None:
        weights = trained_weights(run_dir)
    model.load_weights(weights)
    return model, config


def load_editor(run_dir: str) -> SeqAttnGAN:
    """The trained model as a serving "editor": image_size, state_dim, max_words, start, edit."""
    model, _ = load_model(run_dir)
    return model


def load_generator(
    run_dir: str,
    mask_threshold: float | None = None,
    weights: str | None = None,
    previous: str = "own",
) -> Callable[[dict], tf.Tensor]:
    """For evaluation: batch -> generated images [B, T, S, S, 3] in [-1, 1], each turn from the
    model's own state, zero noise, editing its own previous output (no teacher forcing) or,
    with previous="true", the true previous image (SeqAttnGAN.generate_session's diagnostic;
    the generator's `previous` attribute says which). mask_threshold, weights: as for
    load_model (e.g. a snapshot `<run_dir>/snapshots/epoch_003.weights.h5`)."""
    if previous not in ("own", "true"):
        raise ValueError(f"load_generator: previous must be 'own' or 'true', not {previous!r}")
    model, _ = load_model(run_dir, weights=weights, mask_threshold=mask_threshold)

    @tf.function(reduce_retracing=True)
    def generate(images, descriptions):
        batch = {"images": images, "descriptions": descriptions}
        out = model.generate_session(batch, previous=previous)
        return out["images"], out["attention"], out["tokens"]

    def generator(batch: dict) -> tf.Tensor:
        return generate(batch["images"], batch["descriptions"])[0]

    generator.with_attention = lambda batch: generate(batch["images"], batch["descriptions"])
    generator.model = model
    generator.previous = previous
    return generator
