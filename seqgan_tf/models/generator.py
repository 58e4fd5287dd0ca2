"""Generator G: [h-tilde; c_t; h_t] -> image x-hat_t, shared across turns (paper 4.2)."""

from __future__ import annotations

import keras
from keras import ops

from seqgan_tf.models.blocks import ResidualBlock, norm, num_doublings, up_block


@keras.saving.register_keras_serializable(package="seqgan_tf")
class Generator(keras.layers.Layer):
    """Fuses the region map, the word-context map and the new state, then draws the image.

    Args:
      gf_dim: base width.
      image_size: S of the output (region maps are S/4).

    Example:
      >>> g = Generator(gf_dim=32, image_size=64)
      >>> image = g(h_tilde, context, h_t)  # [N, 64, 64, 3] in [-1, 1]
    """

    def __init__(self, gf_dim: int = 32, image_size: int = 64, **kwargs):
        super().__init__(**kwargs)
        self.gf_dim = gf_dim
        self.image_size = image_size
        ch = gf_dim * 2
        self.state_proj = keras.layers.Dense(ch, name="state_proj")
        self.fuse = keras.layers.Conv2D(ch, 3, padding="same", use_bias=False, name="fuse")
        self.fuse_norm = norm(ch)
        self.res = [ResidualBlock(ch, name=f"res{i}") for i in range(2)]
        n_up = num_doublings(image_size // 4, image_size)
        widths = [max(ch // 2 ** (i + 1), gf_dim) for i in range(n_up)]
        self.ups = [up_block(w, name=f"up{i}") for i, w in enumerate(widths)]
        self.to_rgb = keras.layers.Conv2D(3, 3, padding="same", name="to_rgb")

    def call(self, regions, context, state):
        s = self.state_proj(state)[:, None, None, :]
        s = ops.broadcast_to(s, ops.shape(regions))
        x = ops.concatenate([regions, context, s], axis=-1)
        x = keras.activations.leaky_relu(self.fuse_norm(self.fuse(x)), 0.2)
        for block in self.res:
            x = block(x)
        for up in self.ups:
            x = up(x)
        return ops.tanh(self.to_rgb(x))

    def get_config(self):
        return {**super().get_config(), "gf_dim": self.gf_dim, "image_size": self.image_size}
