"""WordAttention F_attn: c_t(i) = sum_j softmax_j(h-tilde(i) . e(j)) e(j) (paper eq. 3)."""

from __future__ import annotations

import keras
from keras import ops

from seqgan_tf.masked_scores import MASKED_SCORE


@keras.saving.register_keras_serializable(package="seqgan_tf")
class WordAttention(keras.layers.Layer):
    """Attends every sub-region of h-tilde over the words of the current description.

    Word features are first projected to the region width (the paper's perceptron U). Padded
    words get exactly zero weight; every region's weights sum to one over the real words.

    Args:
      channels: region feature width C.

    Returns from call: (context [N, h, w, C], attention [N, h, w, L]).

    Example:
      >>> attn = WordAttention(channels=64)
      >>> context, weights = attn(h_tilde, words, word_mask)
    """

    def __init__(self, channels: int, **kwargs):
        super().__init__(**kwargs)
        self.channels = channels
        self.word_proj = keras.layers.Dense(channels, use_bias=False, name="word_proj")

    def call(self, regions, words, word_mask):
        e = self.word_proj(words)  # [N, L, C]
        scores = ops.einsum("nhwc,nlc->nhwl", regions, e)
        mask = ops.cast(word_mask, "bool")[:, None, None, :]
        scores = ops.where(mask, scores, ops.full_like(scores, MASKED_SCORE))
        weights = ops.softmax(scores, axis=-1)
        weights = ops.where(mask, weights, ops.zeros_like(weights))
        context = ops.einsum("nhwl,nlc->nhwc", weights, e)
        return context, weights

    def get_config(self):
        return {**super().get_config(), "channels": self.channels}
