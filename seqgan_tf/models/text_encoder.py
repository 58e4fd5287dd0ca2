"""TextEncoder: word ids -> word features e (d_e x L) and sentence feature e-bar (paper 4.1)."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="seqgan_tf")
class TextEncoder(keras.layers.Layer):
    """Embedding + bidirectional LSTM.

    Word features are the per-step outputs of both directions (text_dim = 2 x units); the sentence
    feature concatenates the last hidden states of both directions. Padded positions (id 0) are
    masked.

    Args:
      vocab_size: number of ids including padding and out-of-vocabulary (tokenizer.vocab_size).
      embedding_dim: word embedding width.
      text_dim: d_e, output width (even).

    Example:
      >>> enc = TextEncoder(vocab_size=100, embedding_dim=16, text_dim=32)
      >>> words, sentence, mask = enc(ids)  # ids int32 [N, L]
    """

    def __init__(self, vocab_size: int, embedding_dim: int = 128, text_dim: int = 300, **kwargs):
        super().__init__(**kwargs)
        if text_dim % 2:
            raise ValueError(f"text_dim must be even (two LSTM directions), got {text_dim}")
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.text_dim = text_dim
        self.embedding = keras.layers.Embedding(vocab_size, embedding_dim, name="embedding")
        self.bilstm = keras.layers.Bidirectional(
            keras.layers.LSTM(text_dim // 2, return_sequences=True, return_state=True),
            name="bilstm",
        )

    def call(self, ids, training=False):
        mask = ops.not_equal(ids, 0)
        x = self.embedding(ids)
        words, fw_h, _, bw_h, _ = self.bilstm(x, mask=mask, training=training)
        words = words * ops.cast(mask, words.dtype)[..., None]
        sentence = ops.concatenate([fw_h, bw_h], axis=-1)
        return words, sentence, mask

    def get_config(self):
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "embedding_dim": self.embedding_dim,
            "text_dim": self.text_dim,
        }
