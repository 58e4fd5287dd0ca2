"""Small building blocks shared by the model parts (internal, not part of the public API).

Normalisation is per sample (GroupNormalization), never BatchNormalization: a batch statistic
would make a 2-replica step differ from a 1-replica step on the same global batch.
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf


def norm(channels: int, name: str | None = None) -> keras.layers.Layer:
    return keras.layers.GroupNormalization(groups=math.gcd(channels, 8), name=name)


@keras.saving.register_keras_serializable(package="seqgan_tf")
class ResidualBlock(keras.layers.Layer):
    """conv-norm-act-conv-norm + skip, same channels."""

    def __init__(self, channels: int, **kwargs):
        super().__init__(**kwargs)
        self.channels = channels
        self.conv1 = keras.layers.Conv2D(channels, 3, padding="same", use_bias=False)
        self.norm1 = norm(channels)
        self.conv2 = keras.layers.Conv2D(channels, 3, padding="same", use_bias=False)
        self.norm2 = norm(channels)

    def call(self, x):
        y = keras.activations.leaky_relu(self.norm1(self.conv1(x)), 0.2)
        y = self.norm2(self.conv2(y))
        return x + y

    def get_config(self):
        return {**super().get_config(), "channels": self.channels}


def up_block(channels: int, name: str) -> keras.Sequential:
    """Nearest x2 upsampling, 3x3 conv, norm, leaky ReLU."""
    return keras.Sequential(
        [
            keras.layers.UpSampling2D(2, interpolation="nearest"),
            keras.layers.Conv2D(channels, 3, padding="same", use_bias=False),
            norm(channels),
            keras.layers.LeakyReLU(0.2),
        ],
        name=name,
    )


def down_block(channels: int, name: str, normalize: bool = True) -> keras.Sequential:
    """Stride-2 4x4 conv, optional norm, leaky ReLU."""
    layers = [keras.layers.Conv2D(channels, 4, strides=2, padding="same", use_bias=not normalize)]
    if normalize:
        layers.append(norm(channels))
    layers.append(keras.layers.LeakyReLU(0.2))
    return keras.Sequential(layers, name=name)


def num_doublings(start: int, end: int) -> int:
    """How many x2 steps lead from `start` to `end` (both powers of two times the same base)."""
    n = int(round(math.log2(end / start)))
    if start * 2**n != end or n < 0:
        raise ValueError(f"cannot reach size {end} from {start} by doubling")
    return n


def compose_edit(drawn, mask, previous_image, attention, mask_threshold, compose, training):
    """An edit generator's output dict: x-hat = m * x_new + (1 - m) * x_{t-1}, with the hard
    mask m > mask_threshold at inference (0 = soft); compose=False returns the drawing itself
    (the single-turn baseline, mask of ones)."""
    if not compose:
        return {
            "image": drawn,
            "drawn": drawn,
            "mask": keras.ops.ones_like(mask),
            "attention": attention,
        }
    blend = mask
    if mask_threshold > 0 and not training:
        blend = keras.ops.cast(mask > mask_threshold, mask.dtype)
    image = blend * drawn + (1.0 - blend) * previous_image
    return {"image": image, "drawn": drawn, "mask": mask, "attention": attention}


def to_float32(x):
    """Casts a floating tensor, or each floating tensor of a dict, tuple or list, to float32
    (other values pass): what passes between the model's parts under a mixed-precision policy.
    A no-op under float32 (tf.cast returns its input)."""
    if isinstance(x, dict):
        return {k: to_float32(v) for k, v in x.items()}
    if isinstance(x, (tuple, list)):
        return type(x)(to_float32(v) for v in x)
    if isinstance(x, tf.Tensor) and x.dtype.is_floating:
        return tf.cast(x, tf.float32)
    return x


class Untracked:
    """Holds an object out of Keras's attribute tracking (and so out of save_weights)."""

    def __init__(self, value):
        self.value = value
