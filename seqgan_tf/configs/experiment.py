"""Typed experiment configuration: data, model, DAMSM and training settings.

Named experiments live in `seqgan_tf/configs/experiments.py` as functions that compute derived
values in code. Every field round-trips through `to_dict()` / `ExperimentConfig.from_dict()`, which is
how a run directory remembers the configuration it was trained with (`<run_dir>/config.json`).
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any


@dataclasses.dataclass
class DataConfig:
    """Where sessions come from and how they are shaped.

    Attributes:
      dataset: dataset name (synth_zap_seq, synth_deepfashion_seq, zap_seq, deepfashion_seq).
      data_dir: root folder holding `<dataset>/<version>/` shard folders.
      version: shard folder version.
      image_size: square resolution the model sees.
      max_turns: sessions are padded (with a turn mask) or truncated to this many edits.
      global_batch_size: sessions per optimisation step, over all replicas.
      num_synthetic_sessions: sessions to generate when a synthetic set has to be built.
      seed: generator seed for synthetic sets.
    """

    dataset: str = "synth_zap_seq"
    data_dir: str = "data"
    version: str = "1.0.0"
    image_size: int = 64
    max_turns: int = 4
    global_batch_size: int = 50
    num_synthetic_sessions: int = 10000
    seed: int = 0


@dataclasses.dataclass
class ModelConfig:
    """SeqAttnGAN architecture (paper section 4) and its switches.

    Attributes:
      max_words: token length every description is padded/truncated to.
      embedding_dim: word embedding size fed to the BiLSTM.
      text_dim: d_e, word and sentence feature size of the BiLSTM (two directions).
      state_dim: d_h, the GRU state tracker's size; also the serving state's width.
      noise_dim: size of the per-turn noise epsilon_t.
      gf_dim: generator base channel width.
      df_dim: discriminator base channel width.
      ef_dim: image-encoder base channel width.
      use_attention: word-level attention F_attn (False = the paper's "no attention" ablation).
      use_history: carry the GRU state across turns. False gives the single-turn text-to-image
        baseline (AttnGAN-style): every turn starts from a zero state and sees only its own text.
      use_previous_image: beyond the paper: each turn also encodes the image it edits.
      mask_threshold: with use_previous_image, inference (evaluation, serving) composes with the
        hard edit mask m > t instead of the soft m (0 = soft); training always uses the soft m.
      resnet101_weights: optional local ImageNet ResNet-101 weights file for the image encoder.
    """

    max_words: int = 16
    embedding_dim: int = 128
    text_dim: int = 300
    state_dim: int = 128
    noise_dim: int = 100
    gf_dim: int = 32
    df_dim: int = 32
    ef_dim: int = 32
    use_attention: bool = True
    use_history: bool = True
    use_previous_image: bool = False
    mask_threshold: float = 0.0
    resnet101_weights: str = ""


@dataclasses.dataclass
class DamsmConfig:
    """DAMSM image-text matching (AttnGAN eq. 6-8 as used by the paper).

    Attributes:
      enabled: use the DAMSM loss in generator training (False = "no DAMSM" ablation).
      weight: lambda; set per dataset by the named experiments (2 zap, 2.5 deepfashion).
      gamma1: word-to-region attention sharpness.
      gamma2: word-relevance aggregation.
      gamma3: softmax smoothing over the batch.
      embedding_dim: word embedding size of the DAMSM text encoder.
      feature_dim: shared image/text embedding space size.
      pretrain_epochs: epochs of DAMSM pretraining before the GAN.
      pretrain_steps_per_epoch: steps per pretraining epoch (0 = one pass over the split).
      learning_rate: Adam learning rate for pretraining.
      batch_size: image-text pairs per pretraining step (also the retrieval pool size).
      init_text_encoder: start the generator's text encoder from the pretrained DAMSM text
        encoder (as AttnGAN does; then fine-tuned). Needs embedding_dim and feature_dim equal to
        the model's embedding_dim and text_dim.
    """

    enabled: bool = True
    weight: float = 2.0
    gamma1: float = 4.0
    gamma2: float = 5.0
    gamma3: float = 10.0
    embedding_dim: int = 128
    feature_dim: int = 128
    pretrain_epochs: int = 5
    pretrain_steps_per_epoch: int = 0
    learning_rate: float = 2e-4
    batch_size: int = 50
    init_text_encoder: bool = False


@dataclasses.dataclass
class TrainConfig:
    """Optimisation settings.

    Attributes:
      epochs: training epochs.
      steps_per_epoch: generator/discriminator updates per epoch (0 = one pass over the split).
      validation_steps: validation batches per epoch.
      g_learning_rate: generator Adam learning rate.
      d_learning_rate: discriminator Adam learning rate.
      beta_1: Adam beta_1.
      beta_2: Adam beta_2.
      recon_weight: L1 weight between generated and target images (0 = the paper's objective;
        beyond the paper, measured by the evaluation).
      edit_weight: extra L1 weight on pixels that differ between x_{t-1} and x_t (beyond the
        paper; with the previous image as input, plain L1 is minimised cheaply by copying).
      own_output_prob: with use_previous_image, the chance that a training turn edits the
        model's own previous output instead of the true one (scheduled sampling).
      jit_compile: XLA-compile the train step (the tokenizer runs in the input pipeline so the
        step can be compiled; turned off for replicas on logical CPU devices, where XLA fails).
      strip_sessions: validation sessions drawn in the per-epoch image strips.
      seed: global seed for weights and noise.
    """

    epochs: int = 120
    steps_per_epoch: int = 0
    validation_steps: int = 4
    g_learning_rate: float = 2e-4
    d_learning_rate: float = 2e-4
    beta_1: float = 0.5
    beta_2: float = 0.999
    recon_weight: float = 0.0
    edit_weight: float = 0.0
    own_output_prob: float = 0.0
    jit_compile: bool = False
    strip_sessions: int = 4
    seed: int = 0


@dataclasses.dataclass
class ExperimentConfig:
    """A whole run: data + model + DAMSM + training.

    Attributes:
      name: the named experiment this came from.
      data: DataConfig.
      model: ModelConfig.
      damsm: DamsmConfig.
      train: TrainConfig.
    """

    name: str = "custom"
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    damsm: DamsmConfig = dataclasses.field(default_factory=DamsmConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ExperimentConfig:
        return cls(
            name=d.get("name", "custom"),
            data=DataConfig(**d.get("data", {})),
            model=ModelConfig(**d.get("model", {})),
            damsm=DamsmConfig(**d.get("damsm", {})),
            train=TrainConfig(**d.get("train", {})),
        )

    def save(self, path: str) -> None:
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.to_dict(), f, indent=2, sort_keys=True)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str) -> ExperimentConfig:
        with open(path) as f:
            return cls.from_dict(json.load(f))
