"""ImageEncoder: image -> region features and a global feature v (paper 4.1)."""

from __future__ import annotations

import os

import keras
from keras import ops

from seqgan_tf.models.blocks import ResidualBlock, down_block, norm


@keras.saving.register_keras_serializable(package="seqgan_tf")
class ImageEncoder(keras.layers.Layer):
    """A ResNet-style CNN trained here, or ImageNet ResNet-101 when its weights file is on disk.

    Input: float images [N, S, S, 3] in [-1, 1]. Output: region features [N, S/8, S/8, out_dim]
    (for the ResNet-101: its 7x7 grid at 224x224) and a global feature [N, out_dim].

    Args:
      out_dim: feature width.
      base_channels: width of the first stage of the CNN.
      image_size: S.
      resnet101_weights: path to `resnet101_weights_tf_dim_ordering_tf_kernels_notop.h5`; empty
        string means "train a CNN here". A path that does not exist raises FileNotFoundError (no
        downloads happen on these machines).
      return_regions: False skips the region features (returns None for them).

    Example:
      >>> enc = ImageEncoder(out_dim=128, base_channels=32, image_size=64)
      >>> regions, global_feature = enc(images)
    """

    def __init__(
        self,
        out_dim: int = 128,
        base_channels: int = 32,
        image_size: int = 64,
        resnet101_weights: str = "",
        return_regions: bool = True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.out_dim = out_dim
        self.base_channels = base_channels
        self.image_size = image_size
        self.resnet101_weights = resnet101_weights
        self.return_regions = return_regions
        if resnet101_weights:
            if not os.path.exists(resnet101_weights):
                raise FileNotFoundError(
                    f"ResNet-101 weights file {resnet101_weights!r} does not exist; pass a local "
                    "ImageNet weights file (no-top .h5) or leave it empty to train a CNN here"
                )
            self.backbone = keras.applications.ResNet101(
                include_top=False, weights=resnet101_weights, input_shape=(224, 224, 3)
            )
            self.backbone.trainable = False
            self.stages = []
        else:
            self.backbone = None
            self.stem = keras.layers.Conv2D(base_channels, 3, padding="same", name="stem")
            self.stages = []
            if image_size % 8:
                raise ValueError(f"image_size must be a multiple of 8, got {image_size}")
            ch = base_channels
            for i in range(3):
                self.stages.append(down_block(ch * 2, name=f"down{i}"))
                ch *= 2
                self.stages.append(ResidualBlock(ch, name=f"res{i}"))
            self.final_norm = norm(ch)
        self.region_proj = (
            keras.layers.Conv2D(out_dim, 1, name="region_proj") if return_regions else None
        )
        self.global_proj = keras.layers.Dense(out_dim, name="global_proj")

    def call(self, images, training=False):
        if self.backbone is not None:
            x = ops.image.resize((images + 1.0) * 127.5, (224, 224))
            x = keras.applications.resnet.preprocess_input(x)
            features = self.backbone(x, training=False)
        else:
            x = self.stem(images)
            for layer in self.stages:
                x = layer(x)
            features = keras.activations.leaky_relu(self.final_norm(x), 0.2)
        global_feature = self.global_proj(ops.mean(features, axis=(1, 2)))
        if self.region_proj is None:
            return None, global_feature
        return self.region_proj(features), global_feature

    def get_config(self):
        return {
            **super().get_config(),
            "out_dim": self.out_dim,
            "base_channels": self.base_channels,
            "image_size": self.image_size,
            "resnet101_weights": self.resnet101_weights,
            "return_regions": self.return_regions,
        }
