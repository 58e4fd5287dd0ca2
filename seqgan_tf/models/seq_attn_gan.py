"""SeqAttnGAN: the whole model, with a multi-turn train_step (paper section 4)."""

from __future__ import annotations

import keras
import tensorflow as tf

from seqgan_tf.losses.adversarial import fake_loss, masked_sum_over_global_batch, real_loss
from seqgan_tf.models.damsm import Damsm
from seqgan_tf.models.discriminator import Discriminator
from seqgan_tf.models.generator import Generator
from seqgan_tf.models.image_encoder import ImageEncoder
from seqgan_tf.models.prebuilt import PrebuiltUnderStrategy
from seqgan_tf.models.previous_image_encoder import PreviousImageEncoder
from seqgan_tf.models.state_tracker import StateTracker
from seqgan_tf.models.text_encoder import TextEncoder
from seqgan_tf.models.upsampler import Upsampler
from seqgan_tf.models.word_attention import WordAttention
from seqgan_tf.text.text_tokenizer import TextTokenizer


def _session_hash(session_ids):
    """int64 [B] from session id strings: the seed of a session's noise and coins."""
    return tf.strings.to_hash_bucket_fast(session_ids, 2**31 - 1)


def _damsm_texts(batch):
    """[B,T] "attributes of x_{t-1} + o_t": the text DAMSM pairs with x_t (the paper's pairs)."""
    return tf.strings.join([batch["prev_attribute_text"], batch["descriptions"]], separator=" ")


class _Untracked:
    """Holds an object out of Keras's attribute tracking (and so out of save_weights)."""

    def __init__(self, value):
        self.value = value


LOSS_NAMES = ("d_loss", "d_real", "d_fake", "d_cond", "g_loss", "g_adv", "g_damsm", "l1",
              "edit_mask")


@keras.saving.register_keras_serializable(package="seqgan_tf")
class SeqAttnGAN(PrebuiltUnderStrategy, keras.Model):
    """Sequential attention GAN for interactive image editing.

    Per session: h0 = MLP(v0) from the first image; per turn t the GRU reads the sentence feature
    of o_t; F upsamples [h_{t-1}; eps_t] into sub-regions, F_attn attends them over the words of
    o_t, and G draws x-hat_t from the regions, the word context and h_t. G and D are shared by all
    turns; padded turns (turn_mask 0) contribute to no loss.

    Train with `compile(d_optimizer=..., g_optimizer=...)` and `fit` on batches from
    `seqgan_tf.data.input_pipeline.make_dataset`. Serving uses `start` and `edit`.

    Args:
      vocabulary: tokenizer vocabulary.
      image_size: S.
      max_words: tokens per description.
      embedding_dim, text_dim: text encoder widths (text_dim = d_e).
      state_dim: d_h.
      noise_dim: per-turn noise width.
      gf_dim, df_dim, ef_dim: generator, discriminator and image-encoder widths.
      use_attention: False = "no attention" ablation (zero word context).
      use_history: False = single-turn baseline (zero state at every turn; no image, no history).
      use_previous_image: beyond the paper: every turn also sees the image it edits (teacher
        forcing in training, its own previous output at inference).
      recon_weight: L1 weight (beyond the paper; 0 = the paper's objective).
      edit_weight: extra L1 weight on the pixels the edit changes (where x_t differs from
        x_{t-1}); without it, copying x_{t-1} is a cheap minimum of the L1 term. With
        use_previous_image it also weighs the L1 of the drawn image before composition (on the
        edited pixels), and the edit mask is fitted to where x_t differs from x_{t-1} (binary
        cross-entropy, tracked as "edit_mask"): a mask that closes early would otherwise starve
        the drawing of gradient, and the colours asked for were never learned.
      damsm_weight: lambda; 0 or no attached DAMSM = "no DAMSM" ablation.
      own_output_prob: with use_previous_image, the chance that a training turn edits the
        model's own previous output (gradient stopped) instead of the true x_{t-1}: scheduled
        sampling, so that the model learns to edit, and repair, images like the ones it is
        given at inference. Drawn per (session, step, turn).
      mask_threshold: with use_previous_image, inference composes with the hard mask m > t
        (0 = the soft mask); see Generator.
      resnet101_weights: optional local ResNet-101 weights for the image encoder.

    Example:
      >>> model = SeqAttnGAN(vocab, image_size=64)
      >>> model.compile(d_optimizer=keras.optimizers.Adam(2e-4, 0.5),
      ...               g_optimizer=keras.optimizers.Adam(2e-4, 0.5))
      >>> model.fit(train_ds, epochs=1)
    """

    def __init__(
        self,
        vocabulary: list[str],
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
        use_previous_image: bool = False,
        recon_weight: float = 0.0,
        edit_weight: float = 0.0,
        damsm_weight: float = 0.0,
        own_output_prob: float = 0.0,
        mask_threshold: float = 0.0,
        resnet101_weights: str = "",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocabulary = list(vocabulary)
        self.image_size = image_size
        self.max_words = max_words
        self.embedding_dim = embedding_dim
        self.text_dim = text_dim
        self.state_dim = state_dim
        self.noise_dim = noise_dim
        self.gf_dim, self.df_dim, self.ef_dim = gf_dim, df_dim, ef_dim
        self.use_attention = use_attention
        self.use_history = use_history
        self.use_previous_image = use_previous_image
        self.recon_weight = recon_weight
        self.edit_weight = edit_weight
        self.damsm_weight = damsm_weight
        self.own_output_prob = own_output_prob
        self.mask_threshold = mask_threshold
        self.resnet101_weights = resnet101_weights

        self.tokenizer = TextTokenizer(self.vocabulary, max_words=max_words, name="tokenizer")
        self.text_encoder = TextEncoder(
            self.tokenizer.vocab_size, embedding_dim, text_dim, name="text_encoder"
        )
        self.image_encoder = ImageEncoder(
            state_dim, ef_dim, image_size, resnet101_weights, return_regions=False,
            name="image_encoder",
        )
        self.state_tracker = StateTracker(state_dim, name="state_tracker")
        self.upsampler = Upsampler(gf_dim, image_size, name="upsampler")
        self.attention = WordAttention(self.upsampler.channels, name="attention")
        self.generator = Generator(gf_dim, image_size, use_skip=use_previous_image,
                                   mask_threshold=mask_threshold, name="generator")
        self.previous_image_encoder = (
            PreviousImageEncoder(self.upsampler.channels, name="previous_image_encoder")
            if use_previous_image else None
        )
        self.discriminator = Discriminator(df_dim, image_size, name="discriminator")
        self._frozen_damsm = _Untracked(None)
        self.trackers = {n: keras.metrics.Mean(name=n) for n in LOSS_NAMES}

    # ------------------------------------------------------------------ components
    def attach_damsm(self, damsm: Damsm) -> None:
        """Uses a pretrained DAMSM (frozen) as the regulariser of eq. 8. It is kept out of the
        model's weights: the run saves it once, beside them (damsm.weights.h5)."""
        damsm.trainable = False
        self._frozen_damsm = _Untracked(damsm)

    def get_damsm(self) -> Damsm | None:
        return self._frozen_damsm.value

    @property
    def generator_variables(self) -> list:
        parts = [self.text_encoder, self.image_encoder, self.state_tracker, self.upsampler,
                 self.attention, self.generator]
        if self.previous_image_encoder is not None:
            parts.append(self.previous_image_encoder)
        return [v for p in parts for v in p.trainable_variables]

    def encode_text(self, texts, training=False):
        """texts string [N] (or word ids int32 [N,L] from `prepare_batch`) -> (words [N,L,D],
        sentence [N,D], mask [N,L], tokens string [N,L] or None for ids)."""
        if texts.dtype == tf.string:
            ids, tokens = self.tokenizer(texts)
        else:
            ids, tokens = texts, None
        words, sentence, mask = self.text_encoder(ids, training=training)
        return words, sentence, mask, tokens

    def prepare_batch(self, batch):
        """Input-pipeline step (`dataset.map(model.prepare_batch)`): does a training batch's
        string work outside the train step and returns only numeric tensors, so that the step
        can be compiled with XLA (`jit_compile=True`). Same tokenizer as in the step, and as in
        the exported SavedModel.

        Returns the batch's numeric fields plus "description_ids" int32 [B,T,L],
        "session_hash" int64 [B] (seeds the per-turn noise) and, with DAMSM attached,
        "damsm_ids" int32 [B,T,L'] for "prev_attribute_text + description".
        """
        out = {k: v for k, v in batch.items() if v.dtype != tf.string}
        texts = batch["descriptions"]
        b, n_turns = tf.shape(texts)[0], texts.shape[1]
        ids, _ = self.tokenizer(tf.reshape(texts, [-1]))
        out["description_ids"] = tf.reshape(ids, [b, n_turns, self.max_words])
        out["session_hash"] = _session_hash(batch["session_id"])
        damsm = self.get_damsm()
        if damsm is not None and self.damsm_weight > 0:
            ids, _ = damsm.tokenizer(tf.reshape(_damsm_texts(batch), [-1]))
            out["damsm_ids"] = tf.reshape(ids, [b, n_turns, damsm.max_words])
        return out

    def start(self, images):
        """First image(s) [N,S,S,3] in [-1,1] -> initial state h0 [N, state_dim]."""
        _, v0 = self.image_encoder(images)
        return self.state_tracker.initial_state(v0)

    def turn(self, state, words, sentence, word_mask, noise, previous_image=None, training=False):
        """One edit: (h_{t-1}, o_t, eps_t[, x_{t-1}]) -> dict with "image" x-hat_t, "state" h_t,
        "attention" [N,h,w,L]; with use_previous_image also "drawn" (x_new before composition)
        and "mask" (where x-hat_t takes x_new)."""
        if not self.use_history:
            state = tf.zeros_like(state)
        new_state = self.state_tracker.step(state, sentence, training=training)
        regions = self.upsampler(tf.concat([state, noise], axis=-1))
        skips = None
        if self.previous_image_encoder is not None:
            grid, skips = self.previous_image_encoder(previous_image)
            regions = regions + grid
        context, weights = self.attention(regions, words, word_mask)
        if not self.use_attention:
            context = tf.zeros_like(context)
        out = {"state": new_state, "attention": weights}
        if skips is None:
            out["image"] = self.generator(regions, context, new_state)
        else:
            # The edit mode conditions G on [h_t; e-bar_t]: the state and what this turn asks.
            out["image"], out["drawn"], out["mask"] = self.generator(
                regions, context, tf.concat([new_state, sentence], axis=-1),
                previous_image=previous_image, skips=skips, return_parts=True,
                training=training)
        return out

    def edit(self, images, texts, state):
        """Serving step. images: the current image [N,S,S,3] in [-1,1] (used when
        use_previous_image; the paper's model carries the design in the state alone); texts
        string [N]; state [N, state_dim]. Noise is zero: the same request gives the same answer."""
        words, sentence, mask, tokens = self.encode_text(texts)
        noise = tf.zeros([tf.shape(state)[0], self.noise_dim], tf.float32)
        out = self.turn(state, words, sentence, mask, noise, previous_image=images)
        return {"image": out["image"], "state": out["state"], "attention": out["attention"],
                "tokens": tokens}

    # ------------------------------------------------------------------ sessions
    @staticmethod
    def _session_seeds(session_hash, step, stream):
        """[B, 2] stateless seeds from (session, step, stream): the same on any replica layout.
        Streams 0..31 are the turns' noise, 32..63 the turns' scheduled-sampling coins."""
        stream = tf.cast(step, tf.int64) * 64 + stream
        return tf.stack([session_hash, tf.fill(tf.shape(session_hash), stream)], axis=1)

    def _turn_noise(self, session_hash, step, t):
        """eps_t per session, drawn from (session, step, turn). An XLA-compiled step draws other
        (equally deterministic) numbers from the same seeds than the TF kernels do."""
        return tf.map_fn(
            lambda s: tf.random.stateless_normal([self.noise_dim], seed=s),
            self._session_seeds(session_hash, step, t),
            fn_output_signature=tf.float32,
        )

    def _use_own_output(self, session_hash, step, t):
        """[B] bool: whether turn t+1 of each session edits the model's own output."""
        coins = tf.map_fn(lambda s: tf.random.stateless_uniform([], seed=s),
                          self._session_seeds(session_hash, step, 32 + t),
                          fn_output_signature=tf.float32)
        return coins < self.own_output_prob

    def generate_session(self, batch, training=False, step=None, teacher_forcing=False):
        """Runs every turn of a batch of sessions from x0 and the descriptions.

        Args:
          batch: dict with "images" [B,T+1,S,S,3], "descriptions" string [B,T], and (for noise)
            "session_id" string [B]; or the same batch after `prepare_batch`.
          step: noise counter; None draws zero noise (deterministic inference).
          teacher_forcing: with use_previous_image, edit the TRUE x_{t-1} (training) instead of
            the model's own previous output (inference, evaluation); with own_output_prob > 0
            and a step, some turns still edit the model's own output.

        Returns:
          dict: "images" [B,T,S,S,3], "states" [B,T+1,state_dim], "sentences" [B,T,D],
          "attention" [B,T,h,w,L], "tokens" string [B,T,L] (not for prepared batches); with use_previous_image also
          "drawn" [B,T,S,S,3] and "masks" [B,T,S,S,1]; "inputs" [B,T,S,S,3] is the image each
          turn edited.
        """
        images = batch["images"]
        b = tf.shape(images)[0]
        if "description_ids" in batch:
            texts = batch["description_ids"]
            flat = tf.reshape(texts, [-1, self.max_words])
        else:
            texts = batch["descriptions"]
            flat = tf.reshape(texts, [-1])
        n_turns = texts.shape[1]
        words, sentence, mask, tokens = self.encode_text(flat, training)
        words = tf.reshape(words, [b, n_turns, self.max_words, self.text_dim])
        sentence = tf.reshape(sentence, [b, n_turns, self.text_dim])
        mask = tf.reshape(mask, [b, n_turns, self.max_words])
        state = self.start(images[:, 0])
        states, outputs, attentions, drawn, masks, inputs = [state], [], [], [], [], []
        previous = images[:, 0]
        if step is not None:  # hashed once per batch (or in prepare_batch), not per turn
            session_hash = (batch["session_hash"] if "session_hash" in batch
                            else _session_hash(batch["session_id"]))
        for t in range(n_turns):
            if step is None:
                noise = tf.zeros([b, self.noise_dim], tf.float32)
            else:
                noise = self._turn_noise(session_hash, step, t)
            inputs.append(previous)
            out = self.turn(
                state, words[:, t], sentence[:, t], mask[:, t], noise, previous_image=previous,
                training=training,
            )
            state = out["state"]
            if not teacher_forcing:
                previous = out["image"]
            elif self.own_output_prob > 0 and step is not None:
                own = self._use_own_output(session_hash, step, t)[:, None, None, None]
                previous = tf.where(own, tf.stop_gradient(out["image"]), images[:, t + 1])
            else:
                previous = images[:, t + 1]
            outputs.append(out["image"])
            states.append(state)
            attentions.append(out["attention"])
            if "mask" in out:
                drawn.append(out["drawn"])
                masks.append(out["mask"])
        result = {
            "images": tf.stack(outputs, axis=1),
            "states": tf.stack(states, axis=1),
            "sentences": sentence,
            "attention": tf.stack(attentions, axis=1),
            "inputs": tf.stack(inputs, axis=1),
        }
        if tokens is not None:
            result["tokens"] = tf.reshape(tokens, [b, n_turns, self.max_words])
        if masks:
            result["drawn"] = tf.stack(drawn, axis=1)
            result["masks"] = tf.stack(masks, axis=1)
        return result

    def build(self, input_shape=None):
        # Sub-layers build on the first call (they need the session layout, not a shape).
        self.built = True

    def call(self, batch, training=False):
        out = self.generate_session(batch, training=training)
        s = self.image_size
        fake = tf.reshape(out["images"], [-1, s, s, 3])
        self.discriminator(fake, tf.reshape(out["sentences"], [-1, self.text_dim]))
        return out["images"]

    # ------------------------------------------------------------------ training
    def compile(self, d_optimizer, g_optimizer, **kwargs):
        # model.optimizer is the generator's (Keras counts steps with it); both optimizers are
        # attributes, so save_weights / BackupAndRestore keep both states.
        super().compile(optimizer=g_optimizer, **kwargs)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer

    def build_optimizers(self) -> None:
        """Creates both optimizers' slots up front (needed under tf.distribute and for
        BackupAndRestore to restore their state). Call inside strategy.scope() after the
        model's variables exist."""
        self.g_optimizer.build(self.generator_variables)
        self.d_optimizer.build(self.discriminator.trainable_variables)

    @property
    def metrics(self):
        return list(self.trackers.values())

    # Keras refuses jit_compile=True for any model holding a StringLookup (the tokenizer).
    # Here the tokenizer runs in the input pipeline (prepare_batch) and never inside a compiled
    # step (_check_compilable says so if it would), so the request is honoured. "auto" still
    # resolves through Keras (off on CPU-only machines and under tf.distribute).
    @property
    def jit_compile(self):
        if self._jit_compile is None:
            self._jit_compile = self._resolve_auto_jit_compile()
        return self._jit_compile

    @jit_compile.setter
    def jit_compile(self, value):
        self._jit_compile = bool(value)

    def _mismatched_sentences(self, sentences, turn_mask):
        """For turn t, the sentence of the previous REAL turn of the same session (cyclically):
        a description that does not match x_t, chosen without looking at padded turns or other
        sessions (so it is the same on any replica layout). Sessions with one real turn have no
        mismatch: their weight is 0.

        Returns ([B*T, D] sentences, [B*T] weights)."""
        n_turns = sentences.shape[1]
        real = tf.cast(tf.reduce_sum(tf.cast(turn_mask, tf.float32), axis=1), tf.int32)
        n = tf.maximum(real, 1)[:, None]
        idx = tf.math.floormod(tf.range(n_turns)[None, :] - 1, n)
        wrong = tf.gather(sentences, idx, batch_dims=1)
        weight = tf.cast(tf.broadcast_to((real > 1)[:, None], tf.shape(idx)), tf.float32)
        return tf.reshape(wrong, [-1, self.text_dim]), tf.reshape(weight, [-1])

    def compute_losses(self, batch, training, step=None):
        """All loss terms of one batch, each reduced over real turns / global batch."""
        images = batch["images"]
        s = self.image_size
        mask = tf.reshape(tf.cast(batch["turn_mask"], tf.float32), [-1])
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        global_batch = tf.shape(images)[0] * replicas

        def reduce(per_sample):
            return masked_sum_over_global_batch(per_sample, mask, global_batch)

        out = self.generate_session(batch, training=training, step=step, teacher_forcing=training)
        fake = tf.reshape(out["images"], [-1, s, s, 3])
        real = tf.reshape(images[:, 1:], [-1, s, s, 3])
        sent = tf.stop_gradient(out["sentences"])
        wrong, wrong_mask = self._mismatched_sentences(sent, batch["turn_mask"])
        sent = tf.reshape(sent, [-1, self.text_dim])

        # One D pass per image set serves both losses: train_step differentiates the D terms
        # only w.r.t. D's variables and the G terms only w.r.t. G's, so no detached copy of the
        # fakes is needed.
        d = self.discriminator
        real_features = d.features(real)
        real_u, real_c = d.heads(real_features, sent)
        wrong_c = d.conditional_logits(real_features, wrong)
        fake_u, fake_c = d(fake, sent)

        # Discriminator terms (eq. 4-5).
        losses = {
            "d_real": reduce(real_loss(real_u)),
            "d_fake": reduce(fake_loss(fake_u)),
            "d_cond": reduce(
                real_loss(real_c) + 0.5 * (fake_loss(fake_c) + wrong_mask * fake_loss(wrong_c))
            ),
        }
        losses["d_loss"] = losses["d_real"] + losses["d_fake"] + losses["d_cond"]

        # Generator terms: adversarial, DAMSM (eq. 8), L1 (beyond the paper).
        losses["g_adv"] = reduce(real_loss(fake_u) + real_loss(fake_c))
        abs_err = tf.abs(fake - real)
        losses["l1"] = reduce(tf.reduce_mean(abs_err, axis=[1, 2, 3]))
        previous = tf.reshape(out["inputs"], [-1, s, s, 3])  # what each turn edited
        edited = tf.cast(tf.reduce_mean(tf.abs(real - previous), -1, keepdims=True) > 0.1, fake.dtype)
        recon = reduce(tf.reduce_mean((1.0 + self.edit_weight * edited) * abs_err, axis=[1, 2, 3]))
        if "masks" in out:
            drawn = tf.reshape(out["drawn"], [-1, s, s, 3])
            edit_mask = tf.reshape(out["masks"], [-1, s, s, 1])
            recon += reduce(self.edit_weight * tf.reduce_mean(
                edited * tf.abs(drawn - real), axis=[1, 2, 3]))
            losses["edit_mask"] = reduce(tf.reduce_mean(
                keras.losses.binary_crossentropy(edited, edit_mask), axis=[1, 2]))
            recon += losses["edit_mask"]
        else:
            losses["edit_mask"] = tf.zeros([], tf.float32)
        damsm = self.get_damsm()
        if damsm is not None and self.damsm_weight > 0:
            if "damsm_ids" in batch:
                texts = tf.reshape(batch["damsm_ids"], [-1, damsm.max_words])
            else:
                texts = tf.reshape(_damsm_texts(batch), [-1])
            word, sentence = damsm.matching_loss(fake, texts, mask)
            losses["g_damsm"] = reduce(word + sentence)
        else:
            losses["g_damsm"] = tf.zeros([], tf.float32)
        losses["g_loss"] = (
            losses["g_adv"]
            + self.damsm_weight * losses["g_damsm"]
            + self.recon_weight * recon
        )
        return losses

    def _check_compilable(self, batch):
        if self.jit_compile and any(v.dtype == tf.string for v in batch.values()):
            raise ValueError(
                "jit_compile=True needs batches without strings (XLA cannot compile the "
                "tokenizer): map the dataset with model.prepare_batch first; string fields "
                f"found: {sorted(k for k, v in batch.items() if v.dtype == tf.string)}")

    def train_step(self, batch):
        self._check_compilable(batch)
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            losses = self.compute_losses(batch, training=True, step=self.g_optimizer.iterations)
        # Train the discriminator.
        d_vars = self.discriminator.trainable_variables
        d_grads = d_tape.gradient(losses["d_loss"], d_vars)
        self.d_optimizer.apply_gradients(zip(d_grads, d_vars))
        # Train the generator (and the encoders and state tracker that feed it).
        g_vars = self.generator_variables
        g_grads = g_tape.gradient(losses["g_loss"], g_vars)
        self.g_optimizer.apply_gradients(zip(g_grads, g_vars))
        return self._log(losses)

    def test_step(self, batch):
        self._check_compilable(batch)
        return self._log(self.compute_losses(batch, training=False, step=0))

    def _log(self, losses):
        # Each replica holds its share of the global loss; the trackers average over
        # replicas, so scale back up. Logs are rank-1: MultiWorkerMirroredStrategy cannot
        # reduce scalar logs in Keras 3 fit (tensorflow#72388, keras#20585).
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        for name, value in losses.items():
            self.trackers[name].update_state(value * replicas)
        return {name: tf.reshape(t.result(), [1]) for name, t in self.trackers.items()}

    def get_config(self):
        return {
            **super().get_config(),
            "vocabulary": self.vocabulary,
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
            "use_previous_image": self.use_previous_image,
            "recon_weight": self.recon_weight,
            "edit_weight": self.edit_weight,
            "damsm_weight": self.damsm_weight,
            "own_output_prob": self.own_output_prob,
            "mask_threshold": self.mask_threshold,
            "resnet101_weights": self.resnet101_weights,
        }
