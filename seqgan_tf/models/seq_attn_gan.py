"""SeqAttnGAN: the training task around a SessionBackbone, with a multi-turn train_step (paper
section 4)."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import tensorflow as tf

from seqgan_tf.losses.seq_attn_gan_loss import SeqAttnGANLoss
from seqgan_tf.models.blocks import Untracked
from seqgan_tf.models.damsm import Damsm
from seqgan_tf.models.discriminator import Discriminator
from seqgan_tf.models.gan_model import GANModel
from seqgan_tf.models.session_backbone import SessionBackbone
from seqgan_tf.models.session_preprocessor import SessionPreprocessor
from seqgan_tf.models.session_unroll import (
    own_output_session,
    teacher_forced_turns,
    true_previous_session,
)
from seqgan_tf.models.turn_critics import damsm_matching, judge
from seqgan_tf.text.function_words import function_word_ids

Tensors = dict[str, tf.Tensor]  # a batch, a turn's parts or a step's outputs, by name
# Every __init__ argument: kept as an attribute of the same name, returned by get_config().
CONFIG_KEYS = (
    *("vocabulary", "attribute_sizes", "image_size", "max_words", "embedding_dim", "text_dim"),
    *("state_dim", "noise_dim", "gf_dim", "df_dim", "ef_dim", "use_attention", "use_history"),
    *("edit_mode", "attribute_state", "edit_generator", "classify_attributes"),
    *("read_previous", "skip_turn_rate", "own_output_rate", "word_dropout", "terse_rate"),
    *("mask_threshold", "resnet101_weights", "anchor", "colour_transform", "appearance_flow"),
)
# The ones that configure the backbone (the others: the tokenizer, D and the training switches).
BACKBONE_KEYS = (
    *("attribute_sizes", "image_size", "max_words", "embedding_dim", "text_dim", "state_dim"),
    *("noise_dim", "gf_dim", "ef_dim", "use_attention", "use_history", "edit_mode"),
    *("attribute_state", "edit_generator", "read_previous", "mask_threshold", "resnet101_weights"),
    *("anchor", "colour_transform", "appearance_flow"),
)


@keras.saving.register_keras_serializable(package="seqgan_tf")
class SeqAttnGAN(GANModel):
    """Sequential attention GAN for interactive image editing.

    Per session: h0 = MLP(v0) from the first image; per turn t the GRU reads the sentence
    feature of o_t; the generator draws x-hat_t from the state and the words it attends to.
    G and D are shared by all turns; padded turns (turn_mask 0) are neither drawn nor scored.

    Two drawing paths:
    - the paper's (edit_mode=False): F upsamples [h_{t-1}; eps_t] into sub-regions, F_attn
      attends them over the words, G draws the image from regions, word context and h_t;
    - edit mode (beyond the paper): an EditUNet transforms the image being edited, an
      encoder-decoder conditioned on the design change at every scale (word attention at S/4),
      and copies the rest through a mask (edit_generator="templates": the EditGenerator, which
      places learned per-value templates by a shift of at most 2 px).

    With attribute_state (beyond the paper; needs edit mode and an attribute schema), the state
    is [h_t; a_t]: besides the GRU state, one slot per attribute holds the design. An
    AttributeReader fills the slots from x0; at each turn an AttributeEditor (attribute slots
    attending over the words) says which slots the words change and to what; the GRU reads
    [e-bar_t; a_t], and the generator is conditioned on [h_t; a_t; a_{t-1}; eps_t].

    The parts of one turn and the methods that run them are the `backbone` (SessionBackbone,
    on word ids); this task adds the tokenizer (`preprocessor`), D, the frozen DAMSM, the
    session unroll in training (`training_outputs`) and at inference (`generate_session`), the
    step and the optimizers. The backbone's parts are also attributes of the task, under their
    own names (`text_encoder`, `generator`, ...): the layout of the weight files.

    Train with `compile(d_optimizer=..., g_optimizer=..., loss=SeqAttnGANLoss(...))` and `fit`
    on batches from the input pipeline mapped with `model.preprocessor`. Serve with
    `start` / `edit`.

    Args:
      vocabulary: tokenizer vocabulary.
      attribute_sizes: number of values of each schema attribute ([] = no schema).
      image_size: S.
      max_words: tokens per description.
      embedding_dim, text_dim: text encoder widths (text_dim = d_e).
      state_dim: d_h, the GRU state's width (the serving state adds the attribute slots).
      noise_dim: per-turn noise width.
      gf_dim, df_dim, ef_dim: generator, discriminator and image-encoder widths.
      use_attention: False = "no attention" ablation (zero word context; uniform slot
        attention).
      use_history: False = single-turn baseline: every turn starts from a zero state, sees
        only its own words and no image (nothing to edit: the drawing is the output).
      edit_mode: edit x_{t-1} (teacher-forced in training) instead of drawing from the state.
      attribute_state: the attribute slots (see above).
      edit_generator: "unet" (EditUNet) or "templates" (EditGenerator), edit mode only.
      classify_attributes: D gets an attribute head (AttGAN's classification constraint;
        needs attribute_state).
      read_previous: the generator is conditioned on a_t against the design the attribute
        reader reads off the image being edited (not the state's a_{t-1}), so a change an
        earlier turn missed is made again (needs attribute_state).
      skip_turn_rate: in training, this share of turns t >= 2 edits x_{t-2} instead of x_{t-1}
        (a compound edit).
      own_output_rate: in training, this share of the other turns t >= 2 edits the model's own
        drawing of turn t-1 (no gradient) instead of the true x_{t-1} (scheduled sampling).
      word_dropout: in training, each word is replaced by the out-of-vocabulary id with this
        probability (a person's own words that the data never used reach the model as it).
      terse_rate: in training, each turn's description loses its function words
        (seqgan_tf/text/function_words.py) with this probability: "make it red please" ->
        "make red", the terse requests people type.
      mask_threshold: edit mode, inference only: compose with the hard mask m > t (0 = soft).
      resnet101_weights: optional local ResNet-101 weights for the image encoder.
      anchor: "previous" (each turn redraws the image it is given) or "first" (each turn
        redraws the session's first image, carried in the serving state, with the whole
        design change so far; needs attribute_state, excludes skip_turn_rate and
        own_output_rate).
      colour_transform: how the EditUNet draws: "gain" (per-channel gain and bias per pixel)
        or "matrix" (a 3x3 colour matrix and a bias per pixel).
      appearance_flow: the EditUNet also moves x_{t-1}'s pixels by a predicted dense flow.

    Example:
      >>> model = SeqAttnGAN(vocab, attribute_sizes=[6, 13], edit_mode=True, attribute_state=True)
      >>> model.compile(d_optimizer=keras.optimizers.Adam(2e-4, 0.5),
      ...               g_optimizer=keras.optimizers.Adam(2e-4, 0.5),
      ...               loss=SeqAttnGANLoss(recon_weight=100.0))
      >>> model.fit(train_ds.map(model.preprocessor), epochs=1)
    """

    def __init__(
        self,
        vocabulary: Sequence[str],
        attribute_sizes: Sequence[int] = (),
        image_size: int = 64,
        max_words: int = 16,
        embedding_dim: int = 128,
        text_dim: int = 300,
        state_dim: int = 128,
        noise_dim: int = 100,
        gf_dim: int = 32,
        df_dim: int = 32,
        ef_dim: int = 32,
        use_attention: bool = True,
        use_history: bool = True,
        edit_mode: bool = False,
        attribute_state: bool = False,
        edit_generator: str = "unet",
        classify_attributes: bool = False,
        read_previous: bool = False,
        skip_turn_rate: float = 0.0,
        own_output_rate: float = 0.0,
        word_dropout: float = 0.0,
        terse_rate: float = 0.0,
        mask_threshold: float = 0.0,
        resnet101_weights: str = "",
        anchor: str = "previous",
        colour_transform: str = "gain",
        appearance_flow: bool = False,
        **kwargs,
    ):
        # Under a mixed-precision policy the parts compute in float16/bfloat16 (each casts its
        # inputs); what passes between them (states, words, images, logits) stays float32, so
        # the model itself does not autocast.
        super().__init__(autocast=False, **kwargs)
        if classify_attributes and not attribute_state:
            raise ValueError("classify_attributes needs attribute_state")
        if not 0.0 <= skip_turn_rate < 1.0:
            raise ValueError(f"skip_turn_rate must be in [0, 1), got {skip_turn_rate}")
        if not 0.0 <= own_output_rate <= 1.0:
            raise ValueError(f"own_output_rate must be in [0, 1], got {own_output_rate}")
        if not 0.0 <= word_dropout < 1.0:
            raise ValueError(f"word_dropout must be in [0, 1), got {word_dropout}")
        if not 0.0 <= terse_rate <= 1.0:
            raise ValueError(f"terse_rate must be in [0, 1], got {terse_rate}")
        if own_output_rate and not edit_mode:
            raise ValueError("own_output_rate needs edit_mode (a turn that edits an image)")
        if anchor == "first" and (skip_turn_rate or own_output_rate):
            raise ValueError(
                "skip_turn_rate and own_output_rate act only with anchor='previous', "
                f"got anchor={anchor!r}"
            )
        self.vocabulary = list(vocabulary)
        self.attribute_sizes = [int(s) for s in attribute_sizes]
        self.image_size, self.max_words = image_size, max_words
        self.embedding_dim, self.text_dim = embedding_dim, text_dim
        self.state_dim, self.noise_dim = state_dim, noise_dim
        self.gf_dim, self.df_dim, self.ef_dim = gf_dim, df_dim, ef_dim
        self.use_attention, self.use_history = use_attention, use_history
        self.edit_mode, self.attribute_state = edit_mode, attribute_state
        self.edit_generator, self.classify_attributes = edit_generator, classify_attributes
        self.read_previous, self.skip_turn_rate = read_previous, float(skip_turn_rate)
        self.own_output_rate, self.word_dropout = float(own_output_rate), float(word_dropout)
        self.mask_threshold, self.resnet101_weights = mask_threshold, resnet101_weights
        self.anchor, self.colour_transform = anchor, colour_transform
        self.appearance_flow, self.terse_rate = appearance_flow, float(terse_rate)
        self.function_word_ids = function_word_ids(self.vocabulary)

        self.preprocessor = SessionPreprocessor(self.vocabulary, max_words, name="preprocessor")
        self.backbone = SessionBackbone(
            self.preprocessor.vocab_size, **{k: getattr(self, k) for k in BACKBONE_KEYS}
        )
        # The backbone's parts are tracked here, under their own names: the layout of every
        # weight file (tests/test_models_weights_layout.py), and the order of the variables.
        for name, part in self.backbone.parts.items():
            setattr(self, name, part)
        self.discriminator = Discriminator(
            df_dim,
            image_size,
            attribute_sizes=self.attribute_sizes if classify_attributes else (),
            name="discriminator",
        )
        self._frozen_damsm = Untracked(None)
        self.seq_loss = SeqAttnGANLoss()
        self.trackers = {n: keras.metrics.Mean(name=n) for n in SeqAttnGANLoss.TERMS}

    # ------------------------------------------------------------------ DAMSM
    def attach_damsm(self, damsm: Damsm) -> None:
        """Uses a pretrained DAMSM (frozen) as the regulariser of eq. 8. It is kept out of the
        model's weights: the run saves it once, beside them (damsm.weights.h5)."""
        damsm.trainable = False
        self._frozen_damsm = Untracked(damsm)
        self.preprocessor.set_damsm_tokenizer(damsm.tokenizer)

    def get_damsm(self) -> Damsm | None:
        return self._frozen_damsm.value

    # ------------------------------------------------------------------ one turn (the backbone's)
    @property
    def serving_state_dim(self) -> int:
        """Width of the state that crosses the wire: [h; attribute slots] (and the first image
        with anchor="first")."""
        return self.backbone.serving_state_dim

    def encode_text(self, ids: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """SessionBackbone.encode_text."""
        return self.backbone.encode_text(ids)

    def start(self, images: tf.Tensor) -> tf.Tensor:
        """SessionBackbone.start: first image(s) -> initial serving state."""
        return self.backbone.start(images)

    def start_outputs(self, images: tf.Tensor) -> Tensors:
        """SessionBackbone.start_outputs: "state" and, with attribute slots, "design"."""
        return self.backbone.start_outputs(images)

    def track(
        self,
        state: tf.Tensor,
        words: tf.Tensor,
        sentence: tf.Tensor,
        word_mask: tf.Tensor,
        design: tf.Tensor | None = None,
    ) -> Tensors:
        """SessionBackbone.track: the dialogue part of a turn."""
        return self.backbone.track(state, words, sentence, word_mask, design)

    def draw(
        self,
        tracked: Tensors,
        sentence: tf.Tensor,
        words: tf.Tensor,
        word_mask: tf.Tensor,
        noise: tf.Tensor,
        previous_image: tf.Tensor,
        training: bool = False,
    ) -> Tensors:
        """SessionBackbone.draw: the drawing part of a turn."""
        parts = (tracked, sentence, words, word_mask, noise, previous_image)
        return self.backbone.draw(*parts, training=training)

    def edit(self, images: tf.Tensor, texts: tf.Tensor, state: tf.Tensor) -> Tensors:
        """Serving step. images: the current image [N,S,S,3] in [-1,1]; texts string [N] (or
        word ids [N,L]); state [N, serving_state_dim]. Zero noise: the same request gives the
        same answer. Returns SessionBackbone.edit's "image", "state", "attention" (and
        "design") with the "tokens" the words were read as (None for word ids)."""
        ids, tokens = self.preprocessor.tokenize(texts)
        return {**self.backbone.edit(images, ids, state), "tokens": tokens}

    # ------------------------------------------------------------------ sessions
    def generate_session(self, batch: Tensors, previous: str = "own") -> Tensors:
        """Inference over whole sessions, each turn editing the model's own previous output with
        zero noise (session_unroll.own_output_session). batch: "images" [B,T+1,S,S,3] (only x0
        is used) and "descriptions" string [B,T] or "description_ids" [B,T,L]. Returns
        "images" [B,T,S,S,3], "attention" [B,T,h,w,L] and, for string input, "tokens"
        [B,T,L]. previous="true" is a teacher-forced diagnostic instead: each turn edits the
        true x_{t-1} of batch["images"] (session_unroll.true_previous_session)."""
        if previous not in ("own", "true"):
            raise ValueError(
                f"generate_session: previous must be 'own' or 'true', not {previous!r}"
            )
        texts = batch["descriptions"] if "descriptions" in batch else batch["description_ids"]
        ids, tokens = self.preprocessor.tokenize_turns(texts)
        if previous == "true":
            out = true_previous_session(self.backbone, batch["images"], ids)
        else:
            out = own_output_session(self.backbone, batch["images"][:, 0], ids)
        if tokens is not None:
            out["tokens"] = tokens
        return out

    def training_outputs(
        self, batch: Tensors, step: tf.Tensor | int | None = None, training: bool = True
    ) -> dict:
        """Teacher-forced pass over a prepared batch: the GRU (and the attribute editor) run
        turn by turn on the true history; then every REAL turn is drawn at once from its true
        x_{t-1} (and true a_t, a_{t-1}) (session_unroll.teacher_forced_turns), and judged by D
        and DAMSM (turn_critics). Returns what SeqAttnGANLoss reads. step seeds the per-turn
        noise (None = zero noise, for validation)."""
        out = teacher_forced_turns(
            self.backbone,
            batch,
            step,
            training,
            word_dropout=self.word_dropout,
            terse_rate=self.terse_rate,
            function_word_ids=self.function_word_ids,
            skip_turn_rate=self.skip_turn_rate,
            own_output_rate=self.own_output_rate,
            draw_every_turn=self.compiled_with_xla,
        )
        index = out["turn_index"]
        out["logits"] = judge(
            self.discriminator,
            out["real"],
            out["fake"],
            out["turn_sentences"],
            out["session_sentences"],
            batch["turn_mask"],
            index,
            feature_match=self.seq_loss.feature_match_weight > 0,
        )
        damsm, loss = self.get_damsm(), self.seq_loss
        out["damsm"] = None
        if damsm is not None and loss.damsm_weight > 0:
            texts = tf.gather_nd(batch["damsm_ids"], index)
            out["damsm"] = damsm_matching(
                damsm, out["fake"], texts, out["weight"], loss.damsm_pairs
            )
        return out

    def call(self, batch: Tensors, training: bool = False) -> tf.Tensor:
        """Builds every part on one prepared batch (see runs.build_model)."""
        self.generate_session(batch)
        out = self.training_outputs(batch, step=None, training=training)
        return out["fake"]

    # ------------------------------------------------------------------ training
    def train_step(self, batch: Tensors) -> Tensors:
        """One step on a prepared batch: D, then G, on every real turn of the sessions."""
        self._check_prepared(batch)
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            # Unroll the sessions on their true history; draw and judge every real turn.
            outputs = self.training_outputs(batch, step=self.g_optimizer.iterations)
            # d_loss = d_real + d_fake + d_cond; g_loss = g_adv + damsm_weight * g_damsm
            # (the paper's) + recon_weight * recon + attribute_weight * attributes (beyond it).
            terms = self.seq_loss(outputs, self._global_batch(batch))
            # The losses as differentiated: scaled under mixed_float16, unchanged otherwise.
            d_loss = self.d_optimizer.scale_loss(terms["d_loss"])
            g_loss = self.g_optimizer.scale_loss(terms["g_loss"])
        # Train the discriminator.
        d_vars = self.discriminator.trainable_variables
        self.d_optimizer.apply_gradients(zip(d_tape.gradient(d_loss, d_vars), d_vars))
        # Train the generator (with the encoders, state tracker and attribute slots).
        g_vars = self.generator_variables
        self.g_optimizer.apply_gradients(zip(g_tape.gradient(g_loss, g_vars), g_vars))
        # One tracker per term (self.metrics): every optimised sum and its parts.
        return self._log(terms)

    def get_config(self) -> dict:
        return {**super().get_config(), **{k: getattr(self, k) for k in CONFIG_KEYS}}
