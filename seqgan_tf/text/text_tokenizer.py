"""TextTokenizer: raw strings -> padded word ids, inside the graph."""

from __future__ import annotations

import keras
import tensorflow as tf

from seqgan_tf.text.normalization import split_words_in_graph

PAD_ID = 0
OOV_ID = 1
EMPTY_TOKEN = "[EMPTY]"
# A word the vocabulary lacks is looked up again in plainer forms, in this order, and takes the
# first that the vocabulary has: plurals ("boots" -> "boot", "straps" -> "strap") and British
# spellings ("colour" -> "color"). Words the training text used are never rewritten.
WORD_VARIANTS = ((r"ies$", "y"), (r"es$", ""), (r"s$", ""), (r"our", "or"))


@keras.saving.register_keras_serializable(package="seqgan_tf")
class TextTokenizer(keras.layers.Layer):
    """Normalises, tokenises and looks up words; pads or truncates to `max_words`.

    Id 0 is padding, id 1 the out-of-vocabulary bucket, vocabulary words start at 2. A word not
    in the vocabulary is looked up in its WORD_VARIANTS forms before it counts as unknown. A text with
    no words becomes a single out-of-vocabulary token so that every row has at least one word
    (a fully masked row would make attention and the BiLSTM undefined).

    Args:
      vocabulary: list of words (built from the training split, saved with the run).
      max_words: fixed token length.

    Example:
      >>> tok = TextTokenizer(["red", "heel"], max_words=4)
      >>> ids, tokens = tok(tf.constant(["Make it RED!"]))
    """

    def __init__(self, vocabulary: list[str], max_words: int = 16, **kwargs):
        kwargs.pop("trainable", None)  # it has no weights; always False
        super().__init__(trainable=False, **kwargs)
        self.vocabulary = list(vocabulary)
        self.max_words = int(max_words)
        self.lookup = keras.layers.StringLookup(
            vocabulary=self.vocabulary, mask_token="", num_oov_indices=1, name="lookup"
        )

    @property
    def vocab_size(self) -> int:
        return len(self.vocabulary) + 2

    def call(self, texts):
        texts = tf.reshape(tf.convert_to_tensor(texts, dtype=tf.string), [-1])
        words = split_words_in_graph(texts)[:, : self.max_words]
        tokens = words.to_tensor(default_value="", shape=[None, self.max_words])
        empty = tf.equal(words.row_lengths(), 0)
        first_column = tf.one_hot(0, self.max_words, on_value=True, off_value=False)
        tokens = tf.where(empty[:, None] & first_column[None, :], EMPTY_TOKEN, tokens)
        ids = tf.cast(self.lookup(tokens), tf.int32)
        for pattern, rewrite in WORD_VARIANTS:
            variant = tf.cast(
                self.lookup(tf.strings.regex_replace(tokens, pattern, rewrite)), tf.int32
            )
            ids = tf.where(tf.equal(ids, OOV_ID) & tf.not_equal(variant, OOV_ID), variant, ids)
        return ids, tokens

    def compute_output_spec(self, texts):
        n = texts.shape[0]
        return (
            keras.KerasTensor((n, self.max_words), dtype="int32"),
            keras.KerasTensor((n, self.max_words), dtype="string"),
        )

    def get_config(self):
        return {**super().get_config(), "vocabulary": self.vocabulary, "max_words": self.max_words}
