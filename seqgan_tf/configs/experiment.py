"""Typed experiment configuration: data, model, DAMSM and training settings.

Named experiments live in `seqgan_tf/configs/experiments.py` as functions that compute derived
values in code. Every field round-trips through `to_dict()` / `ExperimentConfig.from_dict()`, which is
how a run directory remembers the configuration it was trained with (`<run_dir>/config.json`).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from common.atomic_files import write_json_atomically
from tfrecords.datasets import DEFAULT_DATASET


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
      augment: the paper's training augmentation: one random crop (of the image padded by S/16,
        nothing resampled) and one random flip per session, the same for every turn.
    """

    dataset: str = DEFAULT_DATASET
    data_dir: str = "data"
    version: str = "1.0.0"
    image_size: int = 64
    max_turns: int = 4
    global_batch_size: int = 50
    num_synthetic_sessions: int = 10000
    seed: int = 0
    augment: bool = True


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
      use_attention: word-level attention (False = the paper's "no attention" ablation).
      use_history: carry the state and the image across turns. False gives the single-turn
        text-to-image baseline (AttnGAN-style): every turn starts from a zero state and sees
        only its own text and no image.
      resnet101_weights: optional local ImageNet ResNet-101 weights file for the image encoder.
      word_dropout: in training, each description word is replaced by the out-of-vocabulary
        id with this probability, so that words a person uses and the data never did (which
        reach the model as that id) do not throw it off.
      terse_rate: in training, each turn's description loses its function words with this
        probability ("make it red please" -> "make red"; seqgan_tf/text/function_words.py).
      attribute_sizes: values per schema attribute; derived from the dataset's schema when a
        run starts (not set by hand).
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
    resnet101_weights: str = ""
    word_dropout: float = 0.0
    terse_rate: float = 0.0
    attribute_sizes: list = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class EditModeConfig:
    """Beyond the paper: how a turn edits the image it is given. All switches live here.

    Attributes:
      enabled: the edit generator over x_{t-1} (teacher-forced in training, the model's own
        previous output at inference): attribute-value templates placed by a shift read off
        x_{t-1}, decoded per pixel, redrawn through a mask m with the rest copied:
        x-hat_t = m * x_new + (1 - m) * x_{t-1}. Off = the paper's generator, which draws every
        turn from the state alone.
      attribute_state: the state carries one slot per schema attribute (the design), read from
        x0 by an attribute reader and updated per turn by an attribute editor (slot-to-word
        attention); the generator is conditioned on the new and previous design. Needs
        `enabled`, a dataset with an attribute schema and attribute_weight > 0.
      edit_weight: extra L1 weight on the pixels the edit changes; also weighs the L1 of the
        drawing x_new there, and the mask is fitted to those pixels (cross-entropy). Without it,
        copying x_{t-1} is a cheap minimum of the L1.
      attribute_weight: weight of the attribute reader's and editor's cross-entropies.
      generator: how a turn is drawn. "unet" (the default): an encoder-decoder over x_{t-1},
        FiLM-conditioned at every scale on a_t - a_{t-1}, a_t and [h_t; e-bar_t; eps_t], drawing
        a per-pixel colour transform of x_{t-1} (EditUNet). "templates": one learned
        full-resolution template per attribute value placed by a shift of at most 2 px
        (EditGenerator); it mirrors how the flat synthetic renderer draws and is kept as a switch
        with its own evaluation row.
      classify_weight: AttGAN's attribute classification: D gets an attribute head trained on
        true images and their labels (d_attr), and G is trained to make its output read as the
        target design by that head (g_attr). Needs attribute_state. Weighs d_attr in D's
        loss, and g_attr in G's unless g_classify_weight is set.
      g_classify_weight: the weight of g_attr in G's loss (AttGAN's lambda_2; AttGAN weighs
        it 10 against D's lambda_3 = 1 and its reconstruction's 100). None: classify_weight.
        Against `quick`'s reconstruction weight of 100, 10 is the best measured; 30 drove G to
        patterns only D's head reads and the GAN came apart (docs/results.md).
      read_previous: the generator edits from the design the attribute reader reads off the
        image being edited (at inference: the model's own previous output) to a_t, instead of
        from the state's a_{t-1}: a change an earlier turn missed is made again, and nothing
        is redrawn that already shows the asked-for value. Needs attribute_state.
      skip_turn_rate: in training, this share of turns t >= 2 edits x_{t-2} instead of
        x_{t-1}, so that the generator also learns compound edits (what read_previous asks of
        it after a missed change).
      own_output_rate: in training, this share of the other turns t >= 2 edits the model's own
        drawing of turn t-1 (drawn from the true x_{t-2} as inference draws it, no gradient)
        instead of the true x_{t-1}, with the true x_t as the target: scheduled sampling, so
        that a turn learns to correct the turn before instead of compounding its errors.
      anchor: the image a turn redraws. "previous": the image it is given (x_{t-1}; at
        inference the model's own last output). "first": the session's first image x_0,
        carried in the serving state, redrawn with the whole design change so far (a_t
        against the design read off x_0), as AttGAN and STGAN edit a photograph from the
        source with the target attributes. Then no turn draws on an earlier turn's drawing,
        so its errors do not compound, and training turns are what inference sees (no
        skipped or own-output turns). Needs attribute_state.
      colour_transform: how the "unet" generator draws: "gain" (a per-channel gain and bias
        per pixel) or "matrix" (a 3x3 colour matrix and a bias per pixel, HDRNet's affine:
        an output channel can take its shading and texture from any input channel).
      appearance_flow: the "unet" generator also predicts a dense flow per pixel and applies
        its colour transform to x_{t-1} sampled at the flowed positions (Zhou et al.'s
        appearance flow), so a new shape moves the item's pixels, with their texture and
        shading, instead of painting them.
    """

    enabled: bool = False
    attribute_state: bool = False
    edit_weight: float = 0.0
    attribute_weight: float = 0.0
    generator: str = "unet"
    classify_weight: float = 0.0
    g_classify_weight: float | None = None
    read_previous: bool = False
    skip_turn_rate: float = 0.0
    own_output_rate: float = 0.0
    anchor: str = "previous"
    colour_transform: str = "gain"
    appearance_flow: bool = False


@dataclasses.dataclass
class InferenceConfig:
    """How a trained model is run (evaluation, strips, export); not part of what is trained.

    Attributes:
      mask_threshold: edit mode: compose with the hard mask m > t instead of the soft m (0 =
        soft), so each pixel is either redrawn or copied exactly.
    """

    mask_threshold: float = 0.0


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
      max_pairs: in GAN training, score at most this many drawn turns per step with DAMSM
        (the first ones of the batch; 0 = all). The word-level loss compares every text with
        every image, so its cost grows with the square of the pool; on a CPU, DAMSM over all
        48 turns of a quick batch took 40% of the step.
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
    max_pairs: int = 0


# How an edit-mode turn is drawn (EditModeConfig.generator).
EDIT_GENERATORS = ("unet", "templates")
EDIT_ANCHORS = ("previous", "first")
COLOUR_TRANSFORMS = ("gain", "matrix")

# Keras dtype policies a model can be trained under (TrainConfig.mixed_precision).
MIXED_PRECISION_POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")


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
      decay_share: the last this share of the updates lowers both learning rates linearly to
        0 (pix2pix's second half; 0 = constant). Beyond the paper.
      restart_epochs: the last this many epochs are a warm restart (SGDR): both rates go back
        to their initial values and fall linearly to 0 over these epochs; decay_share then
        applies to the epochs before them (0 = no restart). Beyond the paper.
      g_average_momentum: keep an exponential moving average of the generator's weights with
        this momentum (Polyak averaging, as ProGAN and BigGAN evaluate their generators) and
        make it the trained model: final.weights.h5 and the exports hold the average, the
        per-epoch checkpoints, snapshots and strips the weights as trained (0 = off). 0.998
        averages over about the last 500 updates; with `quick`'s 12 epochs it read 0.09 (photo
        shoes) and 0.07 (flat shoes) less edit accuracy than the weights as trained
        (docs/results.md), so it is off. Beyond the paper.
      recon_weight: weight of the reconstruction (L1) terms (0 = the paper's objective;
        beyond the paper, measured by the evaluation).
      feature_match_weight: weight of pix2pixHD's feature matching in G's loss, the L1
        between D's feature maps of the drawn and the true image (0 = off). Beyond the paper.
      gradient_weight: weight of the gradient difference loss (Mathieu et al. 2016) in the
        reconstruction: the L1 between the drawn and the true image's differences of
        neighbouring pixels, in x and y, the edited pixels weighted as in the L1 term. Against
        the blurred outlines that L1 alone rewards (0 = off). Beyond the paper.
      texture_weight: weight of the texture-energy term in the reconstruction: the L1 between
        the drawn and the true image's local contrast (mean |neighbouring-pixel difference|
        over 4- and 8-pixel windows), the edited pixels weighted as in the L1 term. A weave or
        a print drawn at another phase than the truth's pays nothing, a flat patch in its place
        pays (0 = off; seqgan_tf/losses/texture_energy.py). Beyond the paper.
      jit_compile: XLA-compile the train step (the tokenizer runs in the input pipeline so the
        step can be compiled; turned off for replicas on logical CPU devices, where XLA fails).
      strip_sessions: validation sessions drawn in the per-epoch image strips.
      seed: global seed for weights and noise.
      mixed_precision: the Keras dtype policy the model is built under: "float32", or for GPUs
        "mixed_float16" (with loss scaling) or "mixed_bfloat16"; weights, states, images and
        losses stay float32. A runtime setting (not part of the run's identity).
    """

    epochs: int = 120
    steps_per_epoch: int = 0
    validation_steps: int = 4
    g_learning_rate: float = 2e-4
    d_learning_rate: float = 2e-4
    beta_1: float = 0.5
    beta_2: float = 0.999
    decay_share: float = 0.0
    restart_epochs: int = 0
    g_average_momentum: float = 0.0
    recon_weight: float = 0.0
    feature_match_weight: float = 0.0
    gradient_weight: float = 0.0
    texture_weight: float = 0.0
    jit_compile: bool = False
    strip_sessions: int = 4
    seed: int = 0
    mixed_precision: str = "float32"


@dataclasses.dataclass
class ExperimentConfig:
    """A whole run: data + model + edit mode + DAMSM + training, and how it is run.

    Attributes:
      name: the named experiment this came from.
      data: DataConfig.
      model: ModelConfig.
      edit: EditModeConfig (beyond the paper).
      damsm: DamsmConfig.
      train: TrainConfig.
      inference: InferenceConfig (not part of the run's identity).
    """

    name: str = "custom"
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    edit: EditModeConfig = dataclasses.field(default_factory=EditModeConfig)
    damsm: DamsmConfig = dataclasses.field(default_factory=DamsmConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)
    inference: InferenceConfig = dataclasses.field(default_factory=InferenceConfig)

    def validate(self) -> ExperimentConfig:
        """Refuses settings that would silently do nothing. Returns self.

        Raises:
          ValueError: naming the setting and what it depends on.
        """
        for name in ("g_learning_rate", "d_learning_rate"):
            if not getattr(self.train, name) > 0:
                raise ValueError(f"train.{name} must be > 0, got {getattr(self.train, name)}")
        if self.train.feature_match_weight < 0:
            raise ValueError(
                f"train.feature_match_weight must be >= 0, got {self.train.feature_match_weight}"
            )
        for name in ("gradient_weight", "texture_weight"):
            weight = getattr(self.train, name)
            if weight < 0:
                raise ValueError(f"train.{name} must be >= 0, got {weight}")
            if weight > 0 and self.train.recon_weight <= 0:
                raise ValueError(
                    f"train.{name} is part of the reconstruction: it needs train.recon_weight > 0"
                )
        e = self.edit
        if not e.enabled:
            unused = {
                "edit.attribute_state": e.attribute_state,
                "edit.edit_weight": e.edit_weight,
                "edit.attribute_weight": e.attribute_weight,
                "edit.own_output_rate": e.own_output_rate,
                "inference.mask_threshold": self.inference.mask_threshold,
            }
            set_ = sorted(k for k, v in unused.items() if v)
            if set_:
                raise ValueError(f"{', '.join(set_)} only act in edit mode (edit.enabled)")
        if e.attribute_state and e.attribute_weight <= 0:
            raise ValueError(
                "edit.attribute_state needs edit.attribute_weight > 0 (the "
                "attribute reader and editor are trained by that term only)"
            )
        if e.attribute_weight and not e.attribute_state:
            raise ValueError("edit.attribute_weight only acts with edit.attribute_state")
        if (e.read_previous or e.skip_turn_rate) and not e.attribute_state:
            raise ValueError("edit.read_previous and edit.skip_turn_rate need edit.attribute_state")
        if not 0.0 <= e.own_output_rate <= 1.0:
            raise ValueError(f"edit.own_output_rate must be in [0, 1], got {e.own_output_rate}")
        if e.classify_weight and not e.attribute_state:
            raise ValueError("edit.classify_weight only acts with edit.attribute_state")
        if e.g_classify_weight is not None and e.g_classify_weight < 0:
            raise ValueError(f"edit.g_classify_weight must be >= 0, got {e.g_classify_weight}")
        if e.g_classify_weight and not e.classify_weight:
            raise ValueError(
                "edit.g_classify_weight needs edit.classify_weight > 0 (D's attribute head, "
                "which g_attr reads, is trained by d_attr only)"
            )
        if e.generator not in EDIT_GENERATORS:
            raise ValueError(
                f"edit.generator must be one of {EDIT_GENERATORS}, got {e.generator!r}"
            )
        if e.colour_transform not in COLOUR_TRANSFORMS:
            raise ValueError(
                f"edit.colour_transform must be one of {COLOUR_TRANSFORMS}, "
                f"got {e.colour_transform!r}"
            )
        if e.colour_transform != "gain" and e.generator != "unet":
            raise ValueError("edit.colour_transform applies to edit.generator='unet' only")
        if e.appearance_flow and not (e.enabled and e.generator == "unet"):
            raise ValueError(
                "edit.appearance_flow applies to edit.generator='unet' in edit mode "
                "(edit.enabled) only"
            )
        if e.anchor not in EDIT_ANCHORS:
            raise ValueError(f"edit.anchor must be one of {EDIT_ANCHORS}, got {e.anchor!r}")
        if e.anchor == "first":
            if not e.attribute_state:
                raise ValueError("edit.anchor='first' needs edit.attribute_state")
            if e.skip_turn_rate or e.own_output_rate:
                raise ValueError(
                    "edit.skip_turn_rate and edit.own_output_rate act only when each turn "
                    "edits the image before it (edit.anchor='previous'), not with 'first'"
                )
        if not 0.0 <= self.train.decay_share <= 1.0:
            raise ValueError(f"train.decay_share must be in [0, 1], got {self.train.decay_share}")
        if not 0 <= self.train.restart_epochs < self.train.epochs:
            raise ValueError(
                f"train.restart_epochs must be in [0, train.epochs = {self.train.epochs}), "
                f"got {self.train.restart_epochs}"
            )
        if not 0.0 <= self.train.g_average_momentum < 1.0:
            raise ValueError(
                f"train.g_average_momentum must be in [0, 1), got {self.train.g_average_momentum}"
            )
        if self.train.mixed_precision not in MIXED_PRECISION_POLICIES:
            raise ValueError(
                f"train.mixed_precision must be one of {MIXED_PRECISION_POLICIES}, "
                f"got {self.train.mixed_precision!r}"
            )
        if not 0.0 <= self.inference.mask_threshold < 1.0:
            raise ValueError(
                f"inference.mask_threshold must be in [0, 1), got {self.inference.mask_threshold}"
            )
        return self

    def identity(self) -> dict[str, Any]:
        """What defines the trained model: everything but where the data lives, whether XLA
        compiles the step, and how the model is run afterwards (a run resumes across those)."""
        d = self.to_dict()
        d.pop("inference")
        d["data"].pop("data_dir")
        d["train"].pop("jit_compile")
        d["train"].pop("mixed_precision")
        return d

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ExperimentConfig:
        sections = {
            "data": DataConfig,
            "model": ModelConfig,
            "edit": EditModeConfig,
            "damsm": DamsmConfig,
            "train": TrainConfig,
            "inference": InferenceConfig,
        }
        parts = {}
        for key, kind in sections.items():
            values = d.get(key, {})
            known = {f.name for f in dataclasses.fields(kind)}
            unknown = sorted(set(values) - known)
            if unknown:
                raise ValueError(
                    f"config section {key!r} has unknown settings {unknown} "
                    "(written by another version of seqgan_tf?)"
                )
            parts[key] = kind(**values)
        return cls(name=d.get("name", "custom"), **parts)

    def save(self, path: str) -> None:
        write_json_atomically(path, self.to_dict(), sort_keys=True)

    @classmethod
    def load(cls, path: str) -> ExperimentConfig:
        with open(path) as f:
            return cls.from_dict(json.load(f))
