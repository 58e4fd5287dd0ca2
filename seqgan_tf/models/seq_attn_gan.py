"""SeqAttnGAN: the whole model, with a multi-turn train_step (paper section 4)."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import tensorflow as tf

from seqgan_tf.losses.seq_attn_gan_loss import SeqAttnGANLoss
from seqgan_tf.models import attribute_slots as slots
from seqgan_tf.models.attribute_editor import AttributeEditor
from seqgan_tf.models.attribute_reader import AttributeReader
from seqgan_tf.models.blocks import Untracked, to_float32
from seqgan_tf.models.damsm import Damsm
from seqgan_tf.models.discriminator import Discriminator
from seqgan_tf.models.edit_generator import EditGenerator
from seqgan_tf.models.edit_unet import EditUNet
from seqgan_tf.models.gan_model import GANModel
from seqgan_tf.models.generator import Generator
from seqgan_tf.models.image_encoder import ImageEncoder
from seqgan_tf.models.session_preprocessor import SessionPreprocessor
from seqgan_tf.models.session_unroll import own_output_session, teacher_forced_turns
from seqgan_tf.models.state_tracker import StateTracker
from seqgan_tf.models.text_encoder import TextEncoder
from seqgan_tf.models.upsampler import Upsampler
from seqgan_tf.models.word_attention import WordAttention

Tensors = dict[str, tf.Tensor]  # a batch, a turn's parts or a step's outputs, by name
# Slots of the edit generator's templates when the state has no attribute slots.
LATENT_SLOTS = (8,) * 8
# Every __init__ argument: kept as an attribute of the same name, returned by get_config().
CONFIG_KEYS = (
    *("vocabulary", "attribute_sizes", "image_size", "max_words", "embedding_dim", "text_dim"),
    *("state_dim", "noise_dim", "gf_dim", "df_dim", "ef_dim", "use_attention", "use_history"),
    *("edit_mode", "attribute_state", "edit_generator", "classify_attributes"),
    *("read_previous", "skip_turn_rate", "own_output_rate", "word_dropout"),
    *("mask_threshold", "resnet101_weights"),
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
      mask_threshold: edit mode, inference only: compose with the hard mask m > t (0 = soft).
      resnet101_weights: optional local ResNet-101 weights for the image encoder.

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
        mask_threshold: float = 0.0,
        resnet101_weights: str = "",
        **kwargs,
    ):
        # Under a mixed-precision policy the parts compute in float16/bfloat16 (each casts its
        # inputs); what passes between them (states, words, images, logits) stays float32, so
        # the model itself does not autocast.
        super().__init__(autocast=False, **kwargs)
        if attribute_state and not (edit_mode and attribute_sizes):
            raise ValueError("attribute_state needs edit_mode and a non-empty attribute_sizes")
        if mask_threshold and not edit_mode:
            raise ValueError("mask_threshold applies to edit_mode only")
        if edit_generator not in ("unet", "templates"):
            raise ValueError(
                f"edit_generator must be 'unet' or 'templates', got {edit_generator!r}"
            )
        if classify_attributes and not attribute_state:
            raise ValueError("classify_attributes needs attribute_state")
        if read_previous and not attribute_state:
            raise ValueError("read_previous needs attribute_state")
        if not 0.0 <= skip_turn_rate < 1.0:
            raise ValueError(f"skip_turn_rate must be in [0, 1), got {skip_turn_rate}")
        if not 0.0 <= own_output_rate <= 1.0:
            raise ValueError(f"own_output_rate must be in [0, 1], got {own_output_rate}")
        if not 0.0 <= word_dropout < 1.0:
            raise ValueError(f"word_dropout must be in [0, 1), got {word_dropout}")
        if own_output_rate and not edit_mode:
            raise ValueError("own_output_rate needs edit_mode (a turn that edits an image)")
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

        self.preprocessor = SessionPreprocessor(self.vocabulary, max_words, name="preprocessor")
        self.text_encoder = TextEncoder(
            self.preprocessor.vocab_size, embedding_dim, text_dim, name="text_encoder"
        )
        weights = resnet101_weights
        self.image_encoder = ImageEncoder(
            state_dim, ef_dim, image_size, weights, return_regions=False, name="image_encoder"
        )
        self.state_tracker = StateTracker(state_dim, name="state_tracker")
        if edit_mode:
            # Template slots: the schema's attributes, or latent ones without attribute slots.
            self.slot_sizes = self.attribute_sizes if attribute_state else LATENT_SLOTS
            if edit_generator == "unet":
                self.generator = EditUNet(
                    gf_dim, image_size, mask_threshold=mask_threshold, name="generator"
                )
            else:
                self.generator = EditGenerator(
                    self.slot_sizes,
                    gf_dim,
                    image_size,
                    mask_threshold=mask_threshold,
                    name="generator",
                )
            if not attribute_state:
                self.latent_design = keras.layers.Dense(sum(self.slot_sizes), name="latent_design")
        else:
            self.upsampler = Upsampler(gf_dim, image_size, name="upsampler")
            self.attention = WordAttention(self.upsampler.channels, name="attention")
            self.generator = Generator(gf_dim, image_size, name="generator")
        if attribute_state:
            self.attribute_reader = AttributeReader(
                self.attribute_sizes, ef_dim, image_size, name="attribute_reader"
            )
            self.attribute_editor = AttributeEditor(
                self.attribute_sizes, text_dim, use_attention, name="attribute_editor"
            )
        self.discriminator = Discriminator(
            df_dim,
            image_size,
            attribute_sizes=self.attribute_sizes if classify_attributes else (),
            name="discriminator",
        )
        self._frozen_damsm = Untracked(None)
        self.seq_loss = SeqAttnGANLoss()
        self.trackers = {n: keras.metrics.Mean(name=n) for n in SeqAttnGANLoss.TERMS}

    # ------------------------------------------------------------------ parts and state
    def attach_damsm(self, damsm: Damsm) -> None:
        """Uses a pretrained DAMSM (frozen) as the regulariser of eq. 8. It is kept out of the
        model's weights: the run saves it once, beside them (damsm.weights.h5)."""
        damsm.trainable = False
        self._frozen_damsm = Untracked(damsm)
        self.preprocessor.set_damsm_tokenizer(damsm.tokenizer)

    def get_damsm(self) -> Damsm | None:
        return self._frozen_damsm.value

    @property
    def serving_state_dim(self) -> int:
        """Width of the state that crosses the wire: [h; attribute slots]."""
        return self.state_dim + (sum(self.attribute_sizes) if self.attribute_state else 0)

    def encode_text(self, ids: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """word ids int32 [N,L] -> (words [N,L,D], sentence [N,D], mask [N,L])."""
        return to_float32(self.text_encoder(ids))

    def start(self, images: tf.Tensor) -> tf.Tensor:
        """First image(s) [N,S,S,3] in [-1,1] -> initial serving state [N, serving_state_dim]."""
        return self.start_outputs(images)["state"]

    def start_outputs(self, images: tf.Tensor) -> Tensors:
        """`start` with what the model read: dict "state" and, with attribute slots, "design"
        [N, sum(attribute_sizes)], the attribute reader's value probabilities per attribute
        (the state holds each segment's most probable value)."""
        _, v0 = self.image_encoder(images)
        h0 = to_float32(self.state_tracker.initial_state(v0))
        if not self.attribute_state:
            return {"state": h0}
        read = slots.segment_softmax(
            to_float32(self.attribute_reader(images)), self.attribute_sizes
        )
        design = slots.segment_one_hot(read, self.attribute_sizes)
        return {"state": tf.concat([h0, design], axis=-1), "design": read}

    # ------------------------------------------------------------------ one turn
    def track(
        self,
        state: tf.Tensor,
        words: tf.Tensor,
        sentence: tf.Tensor,
        word_mask: tf.Tensor,
        design: tf.Tensor | None = None,
    ) -> Tensors:
        """The dialogue part of a turn: (state_{t-1}, o_t) -> dict "state" (state_t) and, with
        attribute slots, the editor's "change_logits", "value_logits", "design" a_t and
        "previous_design" a_{t-1}. `design` forces a_t (teacher forcing); otherwise each slot
        takes the editor's value where it predicts a change (hard decisions)."""
        h, previous = state, None
        if self.attribute_state:
            h, previous = state[:, : self.state_dim], state[:, self.state_dim :]
        if not self.use_history:
            h = tf.zeros_like(h)
            previous = None if previous is None else tf.zeros_like(previous)
        out = {"h_prev": h}
        if not self.attribute_state:
            out["h"] = to_float32(self.state_tracker.step(h, sentence))
            out["state"] = out["h"]
            return out
        change, values, _ = to_float32(self.attribute_editor(words, word_mask, h, previous))
        if design is None:
            design = slots.apply_changes(change, values, previous, self.attribute_sizes)
        out.update(change_logits=change, value_logits=values)
        out.update(design=design, previous_design=previous)
        out["h"] = to_float32(self.state_tracker.step(h, tf.concat([sentence, design], axis=-1)))
        out["state"] = tf.concat([out["h"], design], axis=-1)
        return out

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
        """The drawing part of a turn, for any batch of turns -> dict "image", "attention"
        (and "drawn", "mask" in edit mode)."""
        if not self.edit_mode:
            regions = self.upsampler(tf.concat([tracked["h_prev"], noise], axis=-1))
            context, weights = self.attention(regions, words, word_mask)
            if not self.use_attention:
                context = tf.zeros_like(context)
            image = self.generator(regions, context, tracked["h"])
            return to_float32({"image": image, "attention": weights})
        if self.attribute_state:
            design, previous_design = tracked["design"], tracked["previous_design"]
        else:  # latent slots read from the state (no attribute supervision)
            design, previous_design = (
                slots.segment_softmax(self.latent_design(tracked[h]), self.slot_sizes)
                for h in ("h", "h_prev")
            )
        if not self.use_attention:
            word_mask = tf.zeros_like(word_mask)  # no word is attended: zero context
        if not self.use_history:
            previous_image = tf.zeros_like(previous_image)
        condition = tf.concat([tracked["h"], sentence, noise], axis=-1)
        parts = (previous_image, design, previous_design, condition, words, word_mask)
        return to_float32(self.generator(*parts, compose=self.use_history, training=training))

    def edit(self, images: tf.Tensor, texts: tf.Tensor, state: tf.Tensor) -> Tensors:
        """Serving step. images: the current image [N,S,S,3] in [-1,1]; texts string [N] (or
        word ids [N,L]); state [N, serving_state_dim]. Zero noise: the same request gives the
        same answer. With attribute slots, "design" [N, sum(attribute_sizes)] is the design the
        state now holds as value probabilities (`attribute_slots.design_probabilities`)."""
        ids, tokens = self.preprocessor.tokenize(texts)
        words, sentence, mask = self.encode_text(ids)
        tracked = self.track(state, words, sentence, mask)
        to_draw = dict(tracked)
        if self.read_previous:  # edit from what the image shows, not what the state held
            read = to_float32(self.attribute_reader(images))
            to_draw["previous_design"] = slots.segment_one_hot(read, self.attribute_sizes)
        noise = tf.zeros([tf.shape(state)[0], self.noise_dim], tf.float32)
        drawn = self.draw(to_draw, sentence, words, mask, noise, images)
        image, attention = drawn["image"], drawn["attention"]
        out = {"image": image, "state": tracked["state"], "attention": attention, "tokens": tokens}
        if self.attribute_state:
            out["design"] = slots.design_probabilities(
                tracked["change_logits"],
                tracked["value_logits"],
                tracked["previous_design"],
                self.attribute_sizes,
            )
        return out

    # ------------------------------------------------------------------ sessions
    def generate_session(self, batch: Tensors) -> Tensors:
        """Inference over whole sessions, each turn editing the model's own previous output with
        zero noise (see session_unroll.own_output_session)."""
        return own_output_session(self, batch)

    def training_outputs(
        self, batch: Tensors, step: tf.Tensor | int | None = None, training: bool = True
    ) -> dict:
        """Teacher-forced pass over a prepared batch: the GRU (and the attribute editor) run
        turn by turn on the true history; then every REAL turn is drawn at once from its true
        x_{t-1} (and true a_t, a_{t-1}), and judged by D and DAMSM. Returns what SeqAttnGANLoss
        reads. step seeds the per-turn noise (None = zero noise, for validation)."""
        return teacher_forced_turns(self, batch, step, training)

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
