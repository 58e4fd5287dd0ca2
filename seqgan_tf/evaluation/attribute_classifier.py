"""A small CNN that reads the schema attributes off an image (one softmax head per attribute).

The evaluation's judge was this network until issue 20; it is now its residual subclass
(`ResidualAttributeClassifier`, a different architecture from the model's attribute reader).
This class stays for the classifiers saved before, and as the base that holds the heads and the
image preparation (saving and loading: `classifier_files`): a judge tells which attribute values a
generated image shows (edit accuracy / preservation), and its penultimate layer and per-head
softmax are the "domain features" for FID / IS.
"""

from __future__ import annotations

import re

import keras
import numpy as np
import tensorflow as tf


def _layer_safe(name: str) -> str:
    return re.sub(r"[^0-9A-Za-z_]", "_", name)


@keras.saving.register_keras_serializable(package="seqgan_tf")
class AttributeClassifier(keras.Model):
    """Multi-head attribute classifier for images in [-1, 1].

    Args:
      attribute_schema: ordered mapping attribute name -> ordered value strings; one softmax
        head per attribute, head `a` predicts the index into `attribute_schema[a]`.
      image_size: square input resolution.
      widths: channels of the conv stages (each: 3x3 conv, batch norm, ReLU, 2x2 max-pool).
      feature_dim: size of the penultimate ("domain features") layer.
      dropout: dropout rate before the heads (training only).
      noise_stddev: Gaussian input noise in training (robustness to GAN artefacts; off by
        default: it slowed convergence on 2 CPU cores).

    Example:
    ```python
    clf = AttributeClassifier({"color": ["red", "blue"], "heel": ["flat", "high"]})
    probs = clf(tf.zeros([2, 64, 64, 3]))        # {"color": [2, 2], "heel": [2, 2]}
    ids = clf.predict_ids(tf.zeros([2, 64, 64, 3]))  # int32 [2, 2]
    ```
    """

    def __init__(
        self,
        attribute_schema: dict[str, list[str]],
        image_size: int = 64,
        widths: tuple[int, ...] = (32, 64, 128, 128),
        feature_dim: int = 256,
        dropout: float = 0.0,
        noise_stddev: float = 0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not attribute_schema:
            raise ValueError("AttributeClassifier: attribute_schema is empty")
        for name, values in attribute_schema.items():
            if len(values) < 2:
                raise ValueError(f"AttributeClassifier: attribute {name!r} needs >= 2 values")
        self.attribute_schema = {k: list(v) for k, v in attribute_schema.items()}
        self.attribute_names = list(self.attribute_schema)
        self.image_size = int(image_size)
        self.widths = tuple(int(w) for w in widths)
        self.feature_dim = int(feature_dim)
        self.dropout = float(dropout)
        self.noise_stddev = float(noise_stddev)

        self.noise = keras.layers.GaussianNoise(self.noise_stddev)
        self.build_trunk()
        self.features_dense = keras.layers.Dense(
            self.feature_dim, activation="relu", name="features"
        )
        self.dropout_layer = keras.layers.Dropout(self.dropout)
        self.heads = [
            keras.layers.Dense(len(values), activation="softmax", name=f"head_{_layer_safe(name)}")
            for name, values in self.attribute_schema.items()
        ]

    def build_trunk(self) -> None:
        """Creates the convolutional trunk's layers (subclasses replace it)."""
        self.stages = []
        for i, width in enumerate(self.widths):
            # Stride-1 conv then 2x2 max-pool: pooling the full-resolution responses keeps the
            # fine textures (pattern) that a stride-2 conv aliases away.
            self.stages.append(
                [
                    keras.layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"conv{i}"),
                    keras.layers.BatchNormalization(name=f"bn{i}"),
                    keras.layers.MaxPooling2D(name=f"pool{i}"),
                ]
            )
        self.flatten = keras.layers.Flatten()
        self.global_pool = keras.layers.GlobalAveragePooling2D()

    def trunk(self, x, training: bool = False):
        """Images [B, S, S, 3] -> the pooled vector the features layer reads."""
        for conv, bn, pool in self.stages:
            x = pool(keras.ops.relu(bn(conv(x), training=training)))
        return keras.ops.concatenate([self.flatten(x), self.global_pool(x)], axis=-1)

    def features_and_probs(self, images, training: bool = False):
        """Returns (penultimate features [B, feature_dim], {attribute: probs [B, K_a]})."""
        x = self.noise(images, training=training)
        features = self.features_dense(self.trunk(x, training=training))
        h = self.dropout_layer(features, training=training)
        probs = {name: head(h) for name, head in zip(self.attribute_names, self.heads)}
        return features, probs

    def call(self, images, training: bool = False):
        return self.features_and_probs(images, training=training)[1]

    def predict_ids(self, images, batch_size: int = 256) -> np.ndarray:
        """Arg-max value index per attribute for images in [-1, 1].

        Args:
          images: float [N, S, S, 3] in [-1, 1] (resized to image_size if needed).
          batch_size: images per forward pass.

        Returns:
          int32 [N, A] value indices in schema order.
        """
        ids = []
        for start in range(0, int(images.shape[0]), batch_size):
            probs = self(self.prepare_images(images[start : start + batch_size]), training=False)
            ids.append(np.stack([np.argmax(probs[n], axis=-1) for n in self.attribute_names], -1))
        if not ids:
            return np.zeros([0, len(self.attribute_names)], np.int32)
        return np.concatenate(ids).astype(np.int32)

    def prepare_images(self, images):
        """Float32 images resized to image_size (values unchanged)."""
        images = tf.convert_to_tensor(images, tf.float32)
        if images.shape[1] != self.image_size or images.shape[2] != self.image_size:
            images = tf.image.resize(images, [self.image_size, self.image_size], antialias=True)
        return images

    def get_config(self):
        config = super().get_config()
        config.update(
            attribute_schema=self.attribute_schema,
            image_size=self.image_size,
            widths=list(self.widths),
            feature_dim=self.feature_dim,
            dropout=self.dropout,
            noise_stddev=self.noise_stddev,
        )
        return config
