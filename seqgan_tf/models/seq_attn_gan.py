"""SeqAttnGAN: the whole model, with a multi-turn train_step (paper section 4)."""

from __future__ import annotations

import keras
import tensorflow as tf

from seqgan_tf.losses.seq_attn_gan_loss import SeqAttnGANLoss
from seqgan_tf.models import attribute_slots as slots
from seqgan_tf.models.attribute_editor import AttributeEditor
from seqgan_tf.models.attribute_reader import AttributeReader
from seqgan_tf.models.blocks import Untracked
from seqgan_tf.models.damsm import Damsm
from seqgan_tf.models.discriminator import Discriminator
from seqgan_tf.models.edit_generator import EditGenerator
from seqgan_tf.models.generator import Generator
from seqgan_tf.models.image_encoder import ImageEncoder
from seqgan_tf.models.prebuilt import PrebuiltUnderStrategy
from seqgan_tf.models.session_preprocessor import SessionPreprocessor
from seqgan_tf.models.state_tracker import StateTracker
from seqgan_tf.models.text_encoder import TextEncoder
from seqgan_tf.models.upsampler import Upsampler
from seqgan_tf.models.word_attention import WordAttention

# Slots of the edit generator's templates when the state has no attribute slots.
LATENT_SLOTS = (8,) * 8


@keras.saving.register_keras_serializable(package="seqgan_tf")
class SeqAttnGAN(PrebuiltUnderStrategy, keras.Model):
    """Sequential attention GAN for interactive image editing.

    Per session: h0 = MLP(v0) from the first image; per turn t the GRU reads the sentence
    feature of o_t; the generator draws x-hat_t from the state and the words it attends to.
    G and D are shared by all turns; padded turns (turn_mask 0) are neither drawn nor scored.

    Two drawing paths:
    - the paper's (edit_mode=False): F upsamples [h_{t-1}; eps_t] into sub-regions, F_attn
      attends them over the words, G draws the image from regions, word context and h_t;
    - edit mode (beyond the paper): an EditGenerator (a U-Net over the image being edited, with
      word attention at S/4) redraws what the turn asks and copies the rest through a mask.

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
      edit_mode: the U-Net edit generator over x_{t-1} (teacher-forced in training).
      attribute_state: the attribute slots (see above).
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
        vocabulary,
        attribute_sizes=(),
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
        mask_threshold: float = 0.0,
        resnet101_weights: str = "",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if attribute_state and not (edit_mode and attribute_sizes):
            raise ValueError("attribute_state needs edit_mode and a non-empty attribute_sizes")
        if mask_threshold and not edit_mode:
            raise ValueError("mask_threshold applies to edit_mode only")
        self.vocabulary = list(vocabulary)
        self.attribute_sizes = [int(s) for s in attribute_sizes]
        self.image_size, self.max_words = image_size, max_words
        self.embedding_dim, self.text_dim = embedding_dim, text_dim
        self.state_dim, self.noise_dim = state_dim, noise_dim
        self.gf_dim, self.df_dim, self.ef_dim = gf_dim, df_dim, ef_dim
        self.use_attention, self.use_history = use_attention, use_history
        self.edit_mode, self.attribute_state = edit_mode, attribute_state
        self.mask_threshold, self.resnet101_weights = mask_threshold, resnet101_weights

        self.preprocessor = SessionPreprocessor(self.vocabulary, max_words, name="preprocessor")
        self.text_encoder = TextEncoder(
            self.preprocessor.vocab_size, embedding_dim, text_dim, name="text_encoder"
        )
        self.image_encoder = ImageEncoder(
            state_dim,
            ef_dim,
            image_size,
            resnet101_weights,
            return_regions=False,
            name="image_encoder",
        )
        self.state_tracker = StateTracker(state_dim, name="state_tracker")
        if edit_mode:
            # Template slots: the schema's attributes, or latent ones without attribute slots.
            self.slot_sizes = self.attribute_sizes if attribute_state else LATENT_SLOTS
            self.generator = EditGenerator(
                self.slot_sizes, gf_dim, image_size, mask_threshold=mask_threshold, name="generator"
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
        self.discriminator = Discriminator(df_dim, image_size, name="discriminator")
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
    def generator_variables(self) -> list:
        skip = {id(v) for v in self.discriminator.trainable_variables}
        return [v for v in self.trainable_variables if id(v) not in skip]

    @property
    def serving_state_dim(self) -> int:
        """Width of the state that crosses the wire: [h; attribute slots]."""
        return self.state_dim + (sum(self.attribute_sizes) if self.attribute_state else 0)

    def _split_state(self, state):
        if not self.attribute_state:
            return state, None
        return state[:, : self.state_dim], state[:, self.state_dim :]

    def encode_text(self, ids):
        """word ids int32 [N,L] -> (words [N,L,D], sentence [N,D], mask [N,L])."""
        return self.text_encoder(ids)

    def start(self, images):
        """First image(s) [N,S,S,3] in [-1,1] -> initial serving state [N, serving_state_dim]."""
        _, v0 = self.image_encoder(images)
        h0 = self.state_tracker.initial_state(v0)
        if not self.attribute_state:
            return h0
        design = slots.segment_one_hot(self.attribute_reader(images), self.attribute_sizes)
        return tf.concat([h0, design], axis=-1)

    # ------------------------------------------------------------------ one turn
    def track(self, state, words, sentence, word_mask, design=None):
        """The dialogue part of a turn: (state_{t-1}, o_t) -> dict "state" (state_t) and, with
        attribute slots, the editor's "change_logits", "value_logits", "design" a_t and
        "previous_design" a_{t-1}. `design` forces a_t (teacher forcing); otherwise each slot
        takes the editor's value where it predicts a change (hard decisions)."""
        h, previous = self._split_state(state)
        if not self.use_history:
            h = tf.zeros_like(h)
            previous = None if previous is None else tf.zeros_like(previous)
        out = {"h_prev": h}
        if not self.attribute_state:
            out["h"] = self.state_tracker.step(h, sentence)
            out["state"] = out["h"]
            return out
        change, values, _ = self.attribute_editor(words, word_mask, h, previous)
        if design is None:
            changed = slots.expand_per_slot(tf.cast(change > 0.0, tf.float32), self.attribute_sizes)
            design = (
                changed * slots.segment_one_hot(values, self.attribute_sizes)
                + (1.0 - changed) * previous
            )
        out.update(
            change_logits=change, value_logits=values, design=design, previous_design=previous
        )
        out["h"] = self.state_tracker.step(h, tf.concat([sentence, design], axis=-1))
        out["state"] = tf.concat([out["h"], design], axis=-1)
        return out

    def draw(self, tracked, sentence, words, word_mask, noise, previous_image, training=False):
        """The drawing part of a turn, for any batch of turns -> dict "image", "attention"
        (and "drawn", "mask" in edit mode)."""
        if not self.edit_mode:
            regions = self.upsampler(tf.concat([tracked["h_prev"], noise], axis=-1))
            context, weights = self.attention(regions, words, word_mask)
            if not self.use_attention:
                context = tf.zeros_like(context)
            return {"image": self.generator(regions, context, tracked["h"]), "attention": weights}
        if self.attribute_state:
            design, previous_design = tracked["design"], tracked["previous_design"]
        else:  # latent slots read from the state (no attribute supervision)
            design = slots.segment_softmax(self.latent_design(tracked["h"]), self.slot_sizes)
            previous_design = slots.segment_softmax(
                self.latent_design(tracked["h_prev"]), self.slot_sizes
            )
        if not self.use_attention:
            word_mask = tf.zeros_like(word_mask)  # no word is attended: zero context
        if not self.use_history:
            previous_image = tf.zeros_like(previous_image)
        condition = tf.concat([tracked["h"], sentence, noise], axis=-1)
        return self.generator(
            previous_image,
            design,
            previous_design,
            condition,
            words,
            word_mask,
            compose=self.use_history,
            training=training,
        )

    def edit(self, images, texts, state):
        """Serving step. images: the current image [N,S,S,3] in [-1,1]; texts string [N] (or
        word ids [N,L]); state [N, serving_state_dim]. Zero noise: the same request gives the
        same answer."""
        ids, tokens = self.preprocessor.tokenize(texts)
        words, sentence, mask = self.encode_text(ids)
        tracked = self.track(state, words, sentence, mask)
        noise = tf.zeros([tf.shape(state)[0], self.noise_dim], tf.float32)
        drawn = self.draw(tracked, sentence, words, mask, noise, images)
        return {
            "image": drawn["image"],
            "state": tracked["state"],
            "attention": drawn["attention"],
            "tokens": tokens,
        }

    # ------------------------------------------------------------------ sessions
    def generate_session(self, batch):
        """Inference over whole sessions: every turn edits the model's own previous output, with
        zero noise. batch: "images" [B,T+1,S,S,3] (only x0 is used) and "descriptions" string
        [B,T] or "description_ids" [B,T,L]. Returns "images" [B,T,S,S,3], "attention"
        [B,T,h,w,L] and, for string input, "tokens" [B,T,L]."""
        images = batch["images"]
        texts = batch["descriptions"] if "descriptions" in batch else batch["description_ids"]
        n_turns = texts.shape[1]
        state, current = self.start(images[:, 0]), images[:, 0]
        outputs, attention, tokens = [], [], []
        for t in range(n_turns):
            out = self.edit(current, texts[:, t], state)
            state, current = out["state"], out["image"]
            outputs.append(current)
            attention.append(out["attention"])
            tokens.append(out["tokens"])
        result = {"images": tf.stack(outputs, 1), "attention": tf.stack(attention, 1)}
        if tokens[0] is not None:
            result["tokens"] = tf.stack(tokens, 1)
        return result

    def training_outputs(self, batch, step=None, training=True):
        """Teacher-forced pass over a prepared batch: the GRU (and the attribute editor) run
        turn by turn on the true history; then every REAL turn is drawn at once from its true
        x_{t-1} (and true a_t, a_{t-1}), and judged by D and DAMSM. Returns what SeqAttnGANLoss
        reads."""
        images, turn_mask = batch["images"], batch["turn_mask"]
        ids = batch["description_ids"]
        b, n_turns, s = tf.shape(images)[0], ids.shape[1], self.image_size
        words, sentence, mask = self.encode_text(tf.reshape(ids, [-1, self.max_words]))
        words = tf.reshape(words, [b, n_turns, self.max_words, self.text_dim])
        sentence = tf.reshape(sentence, [b, n_turns, self.text_dim])
        mask = tf.reshape(mask, [b, n_turns, self.max_words])
        designs = None
        if self.attribute_state:
            designs = slots.ids_to_one_hot(batch["attribute_ids"], self.attribute_sizes)
        _, v0 = self.image_encoder(images[:, 0])
        state = self.state_tracker.initial_state(v0)
        if designs is not None:
            state = tf.concat([state, designs[:, 0]], axis=-1)
        per_turn = []
        for t in range(n_turns):
            tracked = self.track(
                state,
                words[:, t],
                sentence[:, t],
                mask[:, t],
                None if designs is None else designs[:, t + 1],
            )
            if designs is not None:  # the next turn starts from the true design
                tracked["state"] = tf.concat([tracked["h"], designs[:, t + 1]], axis=-1)
            state = tracked.pop("state")
            per_turn.append(tracked)
        # Gather the turns to draw: [B, T, ...] -> [R, ...]. Only the real ones, unless XLA
        # compiles the step: it needs static shapes, so every turn is drawn and padded ones
        # weigh 0 in every term.
        if getattr(self, "_jit_compile", None) is True:  # set by compile(jit_compile=True)
            real = tf.cast(
                tf.stack(
                    [tf.repeat(tf.range(b), n_turns), tf.tile(tf.range(n_turns), [b])], axis=1
                ),
                tf.int64,
            )
            weight = tf.reshape(turn_mask, [-1])
        else:
            real = tf.where(turn_mask > 0)
            weight = tf.ones([tf.shape(real)[0]])
        tracked = {
            k: tf.gather_nd(tf.stack([p[k] for p in per_turn], 1), real)
            for k in per_turn[0]
            if per_turn[0][k] is not None
        }
        real_words, real_sentence = tf.gather_nd(words, real), tf.gather_nd(sentence, real)
        real_mask = tf.gather_nd(mask, real)
        previous = tf.gather_nd(images[:, :-1], real)
        target = tf.gather_nd(images[:, 1:], real)
        noise = self._noise(batch, real, step)
        drawn = self.draw(
            tracked, real_sentence, real_words, real_mask, noise, previous, training=training
        )
        out = {
            "fake": drawn["image"],
            "real": target,
            "previous": previous,
            "drawn": drawn.get("drawn"),
            "mask": drawn.get("mask"),
            "weight": weight,
        }
        out["logits"] = self._judge(
            target, drawn["image"], real_sentence, sentence, turn_mask, real
        )
        out["damsm"] = self._damsm(batch, drawn["image"], real, weight)
        if self.attribute_state:
            attribute_ids = batch["attribute_ids"]
            out.update(
                attribute_sizes=self.attribute_sizes,
                change_logits=tracked["change_logits"],
                value_logits=tracked["value_logits"],
                target_ids=tf.gather_nd(attribute_ids[:, 1:], real),
                changed=tf.gather_nd(batch["changed_mask"], real),
                read_logits=self.attribute_reader(tf.reshape(images, [-1, s, s, 3])),
                read_ids=tf.reshape(attribute_ids, [-1, len(self.attribute_sizes)]),
            )
        return out

    def _noise(self, batch, real, step):
        """eps per real turn from (session, step, turn): the same on any replica layout.
        Zero without a step (validation)."""
        n = tf.shape(real)[0]
        if step is None:
            return tf.zeros([n, self.noise_dim], tf.float32)
        session_hash = tf.gather(batch["session_hash"], real[:, 0])
        seeds = tf.stack([session_hash, tf.cast(step, tf.int64) * 64 + real[:, 1]], axis=1)
        return tf.map_fn(
            lambda seed: tf.random.stateless_normal([self.noise_dim], seed=seed),
            seeds,
            fn_output_signature=tf.float32,
        )

    def _judge(self, real, fake, sentences, all_sentences, turn_mask, index):
        """D's logits: real and fake images with their sentences, real with a mismatched one
        (the previous real turn's sentence of the same session; none for one-turn sessions)."""
        sentences = tf.stop_gradient(sentences)
        n_real = tf.cast(tf.reduce_sum(turn_mask, axis=1), tf.int64)  # [B]
        n = tf.gather(n_real, index[:, 0])
        wrong_turn = tf.math.floormod(index[:, 1] - 1, tf.maximum(n, 1))
        wrong = tf.stop_gradient(
            tf.gather_nd(all_sentences, tf.stack([index[:, 0], wrong_turn], 1))
        )
        d = self.discriminator
        real_features = d.features(real)
        real_u, real_c = d.heads(real_features, sentences)
        fake_u, fake_c = d(fake, sentences)
        return {
            "real_u": real_u,
            "real_c": real_c,
            "fake_u": fake_u,
            "fake_c": fake_c,
            "wrong_c": d.conditional_logits(real_features, wrong),
            "wrong_weight": tf.cast(n > 1, tf.float32),
        }

    def _damsm(self, batch, fake, real, weight):
        damsm = self.get_damsm()
        if damsm is None or self.seq_loss.damsm_weight <= 0:
            return None
        texts = tf.gather_nd(batch["damsm_ids"], real)
        pool = self.seq_loss.damsm_pairs
        if pool:  # the first `pool` drawn turns only (the cost grows with the pool's square)
            n = tf.shape(fake)[0]
            scored = tf.minimum(n, pool)
            word, sentence = damsm.matching_loss(fake[:pool], texts[:pool], weight[:pool])
            return tf.pad(word + sentence, [[0, n - scored]])
        word, sentence = damsm.matching_loss(fake, texts, weight)
        return word + sentence

    def build(self, input_shape=None):
        self.built = True  # sub-layers build on the first call (see runs.build_model)

    def call(self, batch, training=False):
        """Builds every part on one prepared batch (see runs.build_model)."""
        self.generate_session(batch)
        out = self.training_outputs(batch, step=None, training=training)
        return out["fake"]

    # ------------------------------------------------------------------ training
    def compile(self, d_optimizer, g_optimizer, loss: SeqAttnGANLoss | None = None, **kwargs):
        # model.optimizer is the generator's (Keras counts steps with it); both optimizers are
        # attributes, so save_weights / BackupAndRestore keep both states.
        super().compile(optimizer=g_optimizer, **kwargs)
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer
        self.seq_loss = loss or SeqAttnGANLoss()

    def build_optimizers(self) -> None:
        """Creates both optimizers' slots up front (needed under tf.distribute and for
        BackupAndRestore to restore their state). Call inside strategy.scope()."""
        self.g_optimizer.build(self.generator_variables)
        self.d_optimizer.build(self.discriminator.trainable_variables)

    @property
    def metrics(self):
        return list(self.trackers.values())

    # Keras refuses jit_compile=True for any model holding a StringLookup (the tokenizer). The
    # tokenizer runs in the input pipeline (the preprocessor) and never inside a compiled step
    # (_check_compilable says so if it would), so the request is honoured.
    @property
    def jit_compile(self):
        if self._jit_compile is None:
            self._jit_compile = self._resolve_auto_jit_compile()
        return self._jit_compile

    @jit_compile.setter
    def jit_compile(self, value):
        self._jit_compile = bool(value)

    def _check_prepared(self, batch):
        if "description_ids" not in batch:
            raise ValueError(
                "train_step and test_step need prepared batches: map the dataset "
                "with model.preprocessor (it tokenizes in the input pipeline, so "
                "the step holds no string op and can be compiled)"
            )

    def _global_batch(self, batch):
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        return tf.shape(batch["images"])[0] * replicas

    def train_step(self, batch):
        self._check_prepared(batch)
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            step = self.training_outputs(batch, step=self.g_optimizer.iterations)
            terms = self.seq_loss(step, self._global_batch(batch))
        # Train the discriminator.
        d_vars = self.discriminator.trainable_variables
        self.d_optimizer.apply_gradients(zip(d_tape.gradient(terms["d_loss"], d_vars), d_vars))
        # Train the generator (with the encoders, state tracker and attribute slots).
        g_vars = self.generator_variables
        self.g_optimizer.apply_gradients(zip(g_tape.gradient(terms["g_loss"], g_vars), g_vars))
        return self._log(terms)

    def test_step(self, batch):
        self._check_prepared(batch)
        return self._log(
            self.seq_loss(self.training_outputs(batch, training=False), self._global_batch(batch))
        )

    def _log(self, terms):
        # Each replica holds its share of the global loss; the trackers average over replicas,
        # so scale back up. Logs are rank-1: MultiWorkerMirroredStrategy cannot reduce scalar
        # logs in Keras 3 fit (tensorflow#72388, keras#20585).
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        for name, value in terms.items():
            self.trackers[name].update_state(value * replicas)
        return {name: tf.reshape(t.result(), [1]) for name, t in self.trackers.items()}

    def get_config(self):
        return {
            **super().get_config(),
            "vocabulary": self.vocabulary,
            "attribute_sizes": self.attribute_sizes,
            "image_size": self.image_size,
            "max_words": self.max_words,
            "embedding_dim": self.embedding_dim,
            "text_dim": self.text_dim,
            "state_dim": self.state_dim,
            "noise_dim": self.noise_dim,
            "gf_dim": self.gf_dim,
            "df_dim": self.df_dim,
            "ef_dim": self.ef_dim,
            "use_attention": self.use_attention,
            "use_history": self.use_history,
            "edit_mode": self.edit_mode,
            "attribute_state": self.attribute_state,
            "mask_threshold": self.mask_threshold,
            "resnet101_weights": self.resnet101_weights,
        }
