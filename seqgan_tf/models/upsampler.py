"""Upsampler F: state (and noise) -> a feature map of N sub-regions (paper 4.2)."""

from __future__ import annotations

import keras
from keras import ops

from seqgan_tf.models.blocks import norm, num_doublings, up_block


@keras.saving.register_keras_serializable(package="seqgan_tf")
class Upsampler(keras.layers.Layer):
    """Maps [h_{t-1}; epsilon_t] to h-tilde of shape [N, S/4, S/4, 2 * gf_dim].

    Args:
      gf_dim: generator base width.
      image_size: S; the map has (S/4)^2 sub-regions.

    Example:
      >>> up = Upsampler(gf_dim=32, image_size=64)
      >>> h_tilde = up(ops.concatenate([h_prev, noise], -1))   # [N, 16, 16, 64]
    """

    def __init__(self, gf_dim: int = 32, image_size: int = 64, **kwargs):
        super().__init__(**kwargs)
        self.gf_dim = gf_dim
        self.image_size = image_size
        self.region_size = image_size // 4
        n_up = num_doublings(4, self.region_size)
        self.fc = keras.layers.Dense(4 * 4 * gf_dim * 8, use_bias=False, name="fc")
        self.fc_norm = norm(gf_dim * 8)
        channels = [max(gf_dim * 8 // 2 ** (i + 1), gf_dim * 2) for i in range(n_up)]
        self.ups = [up_block(c, name=f"up{i}") for i, c in enumerate(channels)]
        self.out = keras.layers.Conv2D(gf_dim * 2, 3, padding="same", name="out")

    @property
    def channels(self) -> int:
        return self.gf_dim * 2

    def call(self, z):
        x = self.fc(z)
        x = ops.reshape(x, (-1, 4, 4, self.gf_dim * 8))
        x = keras.activations.leaky_relu(self.fc_norm(x), 0.2)
        for up in self.ups:
            x = up(x)
        return self.out(x)

    def get_config(self):
        return {**super().get_config(), "gf_dim": self.gf_dim, "image_size": self.image_size}
