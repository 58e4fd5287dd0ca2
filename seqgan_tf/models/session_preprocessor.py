"""SessionPreprocessor: a batch of sessions with strings -> the numeric batch a train step reads."""

from __future__ import annotations

import keras
import tensorflow as tf

from seqgan_tf.models.blocks import Untracked
from seqgan_tf.text.text_tokenizer import TextTokenizer


def damsm_texts(batch) -> tf.Tensor:
    """[B,T] "attributes of x_{t-1} + o_t": the text DAMSM pairs with x_t (eq. 6-8's pairs)."""
    return tf.strings.join([batch["prev_attribute_text"], batch["descriptions"]], separator=" ")


def session_hash(session_ids) -> tf.Tensor:
    """int64 [B] from session id strings: the seed of a session's noise."""
    return tf.strings.to_hash_bucket_fast(session_ids, 2**31 - 1)


@keras.saving.register_keras_serializable(package="seqgan_tf")
class SessionPreprocessor(keras.layers.Layer):
    """Tokenizes a session batch in the input pipeline, so the train step holds no string op.

    The same TextTokenizer serves the training pipeline (`dataset.map(model.preprocessor)`),
    evaluation and the exported SavedModel (`tokenize`), as keras-hub's preprocessors do.

    Args:
      vocabulary: tokenizer vocabulary.
      max_words: tokens per description.

    call(batch) returns the batch's numeric fields plus "description_ids" int32 [B,T,L],
    "session_hash" int64 [B] and, once a DAMSM tokenizer is set (set_damsm_tokenizer, by SeqAttnGAN.attach_damsm),
    "damsm_ids" int32 [B,T,L'] for "prev_attribute_text + description".

    Example:
      >>> pre = SessionPreprocessor(vocab, max_words=16)
      >>> ds = ds.map(pre)
      >>> ids, tokens = pre.tokenize(tf.constant(["make it red"]))
    """

    def __init__(self, vocabulary, max_words: int = 16, **kwargs):
        # The numeric fields pass through as they are (float32 images under any policy).
        super().__init__(autocast=False, **kwargs)
        self.vocabulary = list(vocabulary)
        self.max_words = max_words
        self.tokenizer = TextTokenizer(self.vocabulary, max_words=max_words, name="tokenizer")
        self._damsm_tokenizer = Untracked(None)

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.vocab_size

    @property
    def damsm_tokenizer(self):
        return self._damsm_tokenizer.value

    def set_damsm_tokenizer(self, tokenizer) -> None:
        """Also tokenize "prev_attribute_text + description" with the (frozen) DAMSM's
        tokenizer, which stays out of this layer's tracked state."""
        self._damsm_tokenizer = Untracked(tokenizer)

    def tokenize(self, texts):
        """string [N] -> (ids int32 [N,L], tokens string [N,L]); ids pass through with None."""
        if texts.dtype == tf.string:
            return self.tokenizer(texts)
        return texts, None

    def tokenize_turns(self, texts):
        """string [B,T] -> (ids int32 [B,T,L], tokens string [B,T,L]); ids [B,T,L] pass
        through with None."""
        if texts.dtype != tf.string:
            return texts, None
        shape = [tf.shape(texts)[0], texts.shape[1], self.max_words]
        ids, tokens = self.tokenizer(tf.reshape(texts, [-1]))
        return tf.reshape(ids, shape), tf.reshape(tokens, shape)

    def call(self, batch):
        out = {k: v for k, v in batch.items() if v.dtype != tf.string}
        texts = batch["descriptions"]
        out["description_ids"], _ = self.tokenize_turns(texts)
        out["session_hash"] = session_hash(batch["session_id"])
        damsm = self.damsm_tokenizer
        if damsm is not None:
            ids, _ = damsm(tf.reshape(damsm_texts(batch), [-1]))
            out["damsm_ids"] = tf.reshape(ids, [tf.shape(texts)[0], texts.shape[1], -1])
        return out

    def get_config(self):
        return {**super().get_config(), "vocabulary": self.vocabulary, "max_words": self.max_words}
