"""Damsm: the deep attentional multimodal similarity model (text and image encoders)."""

from __future__ import annotations

import keras
import tensorflow as tf

from seqgan_tf.losses.damsm_loss import damsm_loss_per_sample, sentence_level_scores
from seqgan_tf.masked_scores import MASKED_SCORE
from seqgan_tf.models.image_encoder import ImageEncoder
from seqgan_tf.models.prebuilt import PrebuiltUnderStrategy
from seqgan_tf.models.text_encoder import TextEncoder
from seqgan_tf.text.text_tokenizer import TextTokenizer


@keras.saving.register_keras_serializable(package="seqgan_tf")
class Damsm(PrebuiltUnderStrategy, keras.Model):
    """Image-text matching encoders, pretrained on (attributes of x_{t-1} + o_t, x_t) pairs.

    Pretrain with `fit` on batches {"image": [N,S,S,3] in [-1,1], "text": string [N],
    "mask": [N]} (see seqgan_tf.training.damsm_pretraining); then freeze it and use
    `matching_loss(images, texts, mask)` as the generator's regulariser.

    Args:
      vocabulary: tokenizer vocabulary (shared with the generator's tokenizer).
      max_words: tokenizer length.
      image_size: S.
      embedding_dim: word embedding width.
      feature_dim: shared embedding width of words, sentences, regions and images.
      base_channels: image CNN width.
      gamma1, gamma2, gamma3: AttnGAN's smoothing factors.

    Example:
      >>> damsm = Damsm(vocab, max_words=16, image_size=64)
      >>> word_loss, sentence_loss = damsm.matching_loss(images, texts, mask)
    """

    def __init__(
        self,
        vocabulary: list[str],
        max_words: int = 16,
        image_size: int = 64,
        embedding_dim: int = 128,
        feature_dim: int = 128,
        base_channels: int = 32,
        gamma1: float = 4.0,
        gamma2: float = 5.0,
        gamma3: float = 10.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocabulary = list(vocabulary)
        self.max_words = max_words
        self.image_size = image_size
        self.embedding_dim = embedding_dim
        self.feature_dim = feature_dim
        self.base_channels = base_channels
        self.gamma1, self.gamma2, self.gamma3 = gamma1, gamma2, gamma3
        self.tokenizer = TextTokenizer(self.vocabulary, max_words=max_words, name="tokenizer")
        self.text_encoder = TextEncoder(
            self.tokenizer.vocab_size, embedding_dim, feature_dim, name="text_encoder"
        )
        self.image_encoder = ImageEncoder(
            feature_dim, base_channels, image_size, name="image_encoder"
        )
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.word_tracker = keras.metrics.Mean(name="word_loss")
        self.sentence_tracker = keras.metrics.Mean(name="sentence_loss")
        self.r1_tracker = keras.metrics.Mean(name="text_to_image_r1")

    def encode_text(self, texts, training=False):
        """texts string [N], or word ids int32 [N,L] already tokenized (the input pipeline's
        SessionPreprocessor) -> (words, sentence, word mask)."""
        ids = self.tokenizer(texts)[0] if texts.dtype == tf.string else texts
        return self.text_encoder(ids, training=training)

    def call(self, inputs, training=False):
        words, sentence, word_mask = self.encode_text(inputs["text"], training=training)
        regions, image_global = self.image_encoder(inputs["image"], training=training)
        return words, word_mask, sentence, regions, image_global

    def matching_loss(self, images, texts, mask, training=False):
        """Per-sample (word loss, sentence loss), each [N]; text i matches image i."""
        return self._pair_losses(self({"image": images, "text": texts}, training=training), mask)

    def _pair_losses(self, encoded, mask):
        words, word_mask, sentence, regions, image_global = encoded
        return damsm_loss_per_sample(
            words,
            word_mask,
            sentence,
            regions,
            image_global,
            mask,
            self.gamma1,
            self.gamma2,
            self.gamma3,
        )

    def retrieval_r1(self, images, texts, mask):
        """Fraction of valid texts whose best-matching image in the batch is their own."""
        return self._batch_r1(self({"image": images, "text": texts}), mask)

    def _batch_r1(self, encoded, mask):
        _, _, sentence, _, image_global = encoded
        scores = sentence_level_scores(sentence, image_global)
        valid = tf.cast(mask, tf.bool)
        scores = tf.where(valid[None, :], scores, MASKED_SCORE)
        hit = tf.cast(
            tf.equal(
                tf.argmax(scores, axis=1, output_type=tf.int32), tf.range(tf.shape(scores)[0])
            ),
            tf.float32,
        )
        m = tf.cast(mask, tf.float32)
        return tf.reduce_sum(hit * m) / tf.maximum(tf.reduce_sum(m), 1.0)

    @property
    def metrics(self):
        return [self.loss_tracker, self.word_tracker, self.sentence_tracker, self.r1_tracker]

    def _step(self, data, training):
        mask = tf.cast(data["mask"], tf.float32)
        count = tf.maximum(tf.reduce_sum(mask), 1.0)
        encoded = self({"image": data["image"], "text": data["text"]}, training=training)
        word, sentence = self._pair_losses(encoded, mask)
        # A contrastive loss over the replica's own batch; the mean is over its valid pairs and
        # divided by the replica count because the optimizer sums gradients over replicas.
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        word = tf.reduce_sum(word) / count
        sentence = tf.reduce_sum(sentence) / count
        r1 = self._batch_r1([tf.stop_gradient(x) for x in encoded], mask)
        return word, sentence, (word + sentence) / replicas, r1

    def train_step(self, data):
        with tf.GradientTape() as tape:
            word, sentence, scaled, r1 = self._step(data, training=True)
        variables = self.trainable_variables
        grads = tape.gradient(scaled, variables)
        self.optimizer.apply_gradients(zip(grads, variables))
        return self._update_metrics(word, sentence, r1)

    def test_step(self, data):
        word, sentence, _, r1 = self._step(data, training=False)
        return self._update_metrics(word, sentence, r1)

    def _update_metrics(self, word, sentence, r1):
        self.loss_tracker.update_state(word + sentence)
        self.word_tracker.update_state(word)
        self.sentence_tracker.update_state(sentence)
        self.r1_tracker.update_state(r1)
        return {m.name: tf.reshape(m.result(), [1]) for m in self.metrics}

    def get_config(self):
        return {
            **super().get_config(),
            "vocabulary": self.vocabulary,
            "max_words": self.max_words,
            "image_size": self.image_size,
            "embedding_dim": self.embedding_dim,
            "feature_dim": self.feature_dim,
            "base_channels": self.base_channels,
            "gamma1": self.gamma1,
            "gamma2": self.gamma2,
            "gamma3": self.gamma3,
        }
