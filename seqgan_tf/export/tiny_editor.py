"""A tiny, untrained stand-in for the real editor, for export/serving smoke tests and benchmarks.

It follows the editor contract (serving/contract.py) exactly but knows nothing
about images or language: its outputs are a deterministic function of the inputs,
which is all the export and serving machinery needs to be tested. Anything it
produces is clearly not a SeqAttnGAN result.
"""

from __future__ import annotations

import tensorflow as tf

from seqgan_tf.text.normalization import split_words_in_graph

# The stand-in's fixed attention grid (the real model's is its S/4 sub-region grid; the
# contract fixes only the rank and the word axis).
ATTENTION_SIDE = 16


class TinyEditor(tf.Module):
    """Deterministic fake editor: conv features -> state; edits shift the image colours.

    Args:
        image_size: model resolution S.
        state_dim: width of the recurrent state.
        max_words: token length of the `tokens` and `attention` outputs.
        offset: constant added to every new state; two editors with different
            offsets give distinguishable outputs (used to tell model versions apart).
        seed: seed of the fixed random weights.

    Example:
        >>> editor = TinyEditor(image_size=16, state_dim=8, max_words=6)
        >>> state = editor.start(tf.zeros([1, 16, 16, 3]))
    """

    def __init__(
        self,
        image_size: int = 16,
        state_dim: int = 8,
        max_words: int = 6,
        offset: float = 0.0,
        seed: int = 0,
        name: str | None = None,
    ):
        super().__init__(name=name)
        self.image_size = image_size
        self.state_dim = state_dim
        self.max_words = max_words
        self.offset = offset
        init = tf.random.stateless_normal
        self.conv_kernel = tf.Variable(init([3, 3, 3, 8], seed=[seed, 1]) * 0.3, name="conv")
        self.dense_kernel = tf.Variable(init([8, state_dim], seed=[seed, 2]) * 0.3, name="dense")
        self.colour = tf.Variable(init([state_dim, 3], seed=[seed, 3]) * 0.3, name="colour")

    def start(self, images: tf.Tensor) -> tf.Tensor:
        """images float32 [B,S,S,3] in [-1,1] -> state float32 [B,state_dim]."""
        features = tf.nn.relu(tf.nn.conv2d(images, self.conv_kernel, strides=2, padding="SAME"))
        pooled = tf.reduce_mean(features, axis=[1, 2])
        return tf.tanh(tf.matmul(pooled, self.dense_kernel) + self.offset)

    def tokenize(self, texts: tf.Tensor) -> tf.Tensor:
        """texts string [B] -> tokens string [B, max_words] ("" padding), words beyond cut.

        The real model's normalisation and splitting (`split_words_in_graph`, tensorflow-text ops,
        as in the real model: servers must have its ops registered).
        """
        words = split_words_in_graph(texts)[:, : self.max_words]
        return words.to_tensor(default_value="", shape=[None, self.max_words])

    def edit(self, images: tf.Tensor, texts: tf.Tensor, state: tf.Tensor) -> dict[str, tf.Tensor]:
        """One editing turn following the editor contract."""
        text_hash = tf.strings.to_hash_bucket_fast(texts, 1000)
        phase = tf.cast(text_hash, tf.float32) / 1000.0  # [B] in [0, 1)
        steps = tf.range(self.state_dim, dtype=tf.float32)
        new_state = tf.tanh(
            0.8 * state + 0.5 * tf.sin(phase[:, None] * 6.28 + steps[None, :]) + self.offset
        )
        shift = tf.tanh(tf.matmul(new_state, self.colour))  # [B, 3]
        new_images = tf.clip_by_value(0.7 * images + 0.3 * shift[:, None, None, :], -1.0, 1.0)

        tokens = self.tokenize(texts)
        lengths = tf.cast(tf.strings.length(tokens), tf.float32)  # [B, W]
        weights = lengths / tf.maximum(tf.reduce_sum(lengths, axis=1, keepdims=True), 1.0)
        side = ATTENTION_SIDE
        attention = tf.tile(weights[:, None, None, :], [1, side, side, 1])
        return {
            "image": new_images,
            "state": new_state,
            "attention": attention,
            "tokens": tokens,
        }
