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
      use_skip: edit mode (beyond the paper). call() then takes the edited image
        (`previous_image`) and its encoder's skip features (`skips`, coarse to fine, one per
        upsampling step). Each upsampling step concatenates the matching skip (a U-Net), and
        the output is composed as m * x_new + (1 - m) * x_{t-1} with a predicted mask m: pixels
        the words do not touch are copied exactly, so they stay sharp over many turns. The
        conditioning vector `state` also modulates every upsampled map (FiLM:
        x * (1 + gamma(state)) + beta(state)), so what the words ask for (a colour, say)
        reaches every pixel directly; SeqAttnGAN passes [h_t; e-bar_t] there.
      mask_threshold: edit mode, inference only (training composes with the soft mask, whose
        gradient it needs): 0 composes with the soft mask m; t > 0 composes with m > t, so a
        pixel is either redrawn or copied exactly, and no faint blur is blended into pixels the
        words do not touch (it would pile up over the turns of a session).

    Example:
      >>> g = Generator(gf_dim=32, image_size=64)
      >>> image = g(h_tilde, context, h_t)  # [N, 64, 64, 3] in [-1, 1]
      >>> g = Generator(gf_dim=32, image_size=64, use_skip=True)
      >>> image = g(h_tilde, context, h_t, previous_image=x_prev, skips=skips)
    """

    def __init__(self, gf_dim: int = 32, image_size: int = 64, use_skip: bool = False,
                 mask_threshold: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= mask_threshold < 1.0:
            raise ValueError(f"mask_threshold must be in [0, 1), got {mask_threshold}")
        self.use_skip = use_skip
        self.mask_threshold = float(mask_threshold)
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
        if use_skip:
            self.merges = [
                keras.layers.Conv2D(w, 3, padding="same", name=f"merge{i}")
                for i, w in enumerate(widths)
            ]
            self.films = [keras.layers.Dense(2 * w, name=f"film{i}") for i, w in enumerate(widths)]
            self.to_mask = keras.layers.Conv2D(1, 3, padding="same", name="to_mask")
        else:
            self.merges, self.films, self.to_mask = [], [], None

    def call(self, regions, context, state, previous_image=None, skips=None, return_parts=False,
             training=None):
        """previous_image [N,S,S,3] and skips (list, coarse to fine): required when use_skip.

        With use_skip and return_parts, returns (image, drawn x_new, soft mask m [N,S,S,1]) so
        that training can supervise where to edit and what to draw separately."""
        if self.use_skip and (previous_image is None or skips is None):
            raise ValueError("Generator(use_skip=True) needs previous_image and skips")
        s = self.state_proj(state)[:, None, None, :]
        s = ops.broadcast_to(s, ops.shape(regions))
        x = ops.concatenate([regions, context, s], axis=-1)
        x = keras.activations.leaky_relu(self.fuse_norm(self.fuse(x)), 0.2)
        for block in self.res:
            x = block(x)
        for i, up in enumerate(self.ups):
            x = up(x)
            if self.use_skip:
                x = self.merges[i](ops.concatenate([x, skips[i]], axis=-1))
                gamma, beta = ops.split(self.films[i](state)[:, None, None, :], 2, axis=-1)
                x = keras.activations.leaky_relu(x * (1.0 + gamma) + beta, 0.2)
        new = ops.tanh(self.to_rgb(x))
        if not self.use_skip:
            return new
        mask = ops.sigmoid(self.to_mask(x))
        blend = mask
        if self.mask_threshold > 0 and not training:
            blend = ops.cast(mask > self.mask_threshold, mask.dtype)
        image = blend * new + (1.0 - blend) * previous_image
        return (image, new, mask) if return_parts else image

    def get_config(self):
        return {
            **super().get_config(),
            "gf_dim": self.gf_dim,
            "image_size": self.image_size,
            "use_skip": self.use_skip,
            "mask_threshold": self.mask_threshold,
        }
