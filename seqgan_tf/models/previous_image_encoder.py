"""PreviousImageEncoder: x_{t-1} -> region grid + finer skip features (beyond the paper)."""

from __future__ import annotations

import keras

from seqgan_tf.models.blocks import down_block, norm


@keras.saving.register_keras_serializable(package="seqgan_tf")
class PreviousImageEncoder(keras.layers.Layer):
    """Encodes the image being edited into the generator's S/4 x S/4 region grid, and keeps the
    S and S/2 feature maps on the way down for the generator's skip connections (a U-Net).

    The paper encodes only x0 (into h0); feeding each turn the image it edits makes "keep the
    rest of the design" a matter of copying, so the state and the words only have to carry the
    change. Used when `SeqAttnGAN(use_previous_image=True)`.

    Args:
      channels: output width (the generator's region width).

    Returns from call: (grid [N, S/4, S/4, channels], [features at S/2, features at S]), the
    skips ordered coarse to fine, as the generator upsamples.

    Example:
      >>> enc = PreviousImageEncoder(channels=64)
      >>> grid, skips = enc(images)   # grid [N, S/4, S/4, 64]
    """

    def __init__(self, channels: int, **kwargs):
        super().__init__(**kwargs)
        self.channels = channels
        self.stem = keras.layers.Conv2D(max(channels // 2, 4), 3, padding="same", name="stem")
        self.down1 = down_block(channels, name="down1")
        self.down2 = down_block(channels, name="down2")
        self.out = keras.layers.Conv2D(channels, 3, padding="same", name="out")
        self.out_norm = norm(channels)

    def call(self, images):
        full = keras.activations.leaky_relu(self.stem(images), 0.2)
        half = self.down1(full)
        grid = self.out_norm(self.out(self.down2(half)))
        return grid, [half, full]

    def get_config(self):
        return {**super().get_config(), "channels": self.channels}
