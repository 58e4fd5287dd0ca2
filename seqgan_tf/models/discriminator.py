"""Discriminator D: unconditional and sentence-conditional logits, shared across turns (eq. 4-5)."""

from __future__ import annotations

import keras
from keras import ops

from seqgan_tf.models.blocks import down_block, num_doublings


@keras.saving.register_keras_serializable(package="seqgan_tf")
class Discriminator(keras.layers.Layer):
    """Downsamples to 4x4, then one head judges realism and one judges image-text agreement.

    With attribute_sizes (AttGAN's classification constraint, beyond the paper) a third head
    reads the design off the image: logits over each attribute's values, trained on true
    images and their labels only (`attribute_logits`).

    Args:
      df_dim: base width.
      image_size: S.
      attribute_sizes: values per attribute for the attribute head (() = no head).

    Example:
      >>> d = Discriminator(df_dim=32, image_size=64)
      >>> uncond_logits, cond_logits = d(images, sentences)   # each [N]
    """

    def __init__(self, df_dim: int = 32, image_size: int = 64, attribute_sizes=(), **kwargs):
        super().__init__(**kwargs)
        self.df_dim = df_dim
        self.image_size = image_size
        self.attribute_sizes = [int(s) for s in attribute_sizes]
        n_down = num_doublings(4, image_size)
        self.downs = [
            down_block(df_dim * min(2**i, 8), name=f"down{i}", normalize=i > 0)
            for i in range(n_down)
        ]
        top = df_dim * min(2 ** (n_down - 1), 8)
        self.uncond_head = keras.layers.Conv2D(1, 4, padding="valid", name="uncond_head")
        self.text_proj = keras.layers.Dense(df_dim * 2, name="text_proj")
        self.joint = keras.layers.Conv2D(top, 3, padding="same", name="joint")
        self.cond_head = keras.layers.Conv2D(1, 4, padding="valid", name="cond_head")
        if self.attribute_sizes:
            self.attribute_hidden = keras.layers.Dense(top, name="attribute_hidden")
            self.attribute_head = keras.layers.Dense(
                sum(self.attribute_sizes), name="attribute_head"
            )

    def features(self, images):
        return self.feature_maps(images)[-1]

    def feature_maps(self, images):
        """Every down-sampling block's output, finest first; the last is `features(images)`
        (pix2pixHD's feature matching compares these between true and drawn images)."""
        maps, x = [], images
        for block in self.downs:
            x = block(x)
            maps.append(x)
        return maps

    def call(self, images, sentences):
        return self.heads(self.features(images), sentences)

    def heads(self, x, sentences):
        """(unconditional, conditional) logits from `features(images)`, so one image encoding
        can be judged against several sentences."""
        uncond = ops.reshape(self.uncond_head(x), (-1,))
        return uncond, self.conditional_logits(x, sentences)

    def attribute_logits(self, x):
        """[N, sum V] logits of each attribute's values from `features(images)`."""
        x = ops.reshape(x, (ops.shape(x)[0], -1))
        return self.attribute_head(keras.activations.leaky_relu(self.attribute_hidden(x), 0.2))

    def conditional_logits(self, x, sentences):
        t = keras.activations.leaky_relu(self.text_proj(sentences), 0.2)[:, None, None, :]
        t = ops.broadcast_to(t, (ops.shape(x)[0], 4, 4, self.df_dim * 2))
        j = keras.activations.leaky_relu(self.joint(ops.concatenate([x, t], axis=-1)), 0.2)
        return ops.reshape(self.cond_head(j), (-1,))

    def get_config(self):
        return {
            **super().get_config(),
            "df_dim": self.df_dim,
            "image_size": self.image_size,
            "attribute_sizes": self.attribute_sizes,
        }
