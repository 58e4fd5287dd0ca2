"""InceptionV3 (ImageNet) features for FID / IS, from a local weights file only."""

from __future__ import annotations

import os

import keras
import numpy as np
import tensorflow as tf

from seqgan_tf.evaluation.feature_extractor import FeatureExtractor, Features

INCEPTION_LABEL = "InceptionV3"
INCEPTION_SIZE = 299


class InceptionFeatureExtractor(FeatureExtractor):
    """keras.applications.InceptionV3 with weights loaded from a local .h5 file.

    Nothing is downloaded. With the full ("...kernels.h5") weights, FID uses the 2048-d
    average-pool features and IS the 1000-way softmax; with the "..._notop.h5" weights only
    FID is available (IS is reported as missing). Images are resized to 299x299.

    Args:
      weights_path: path to the InceptionV3 weights file on disk.
      batch_size: images per forward pass.
      include_top: whether the file has the classifier top; default: guessed from the file
        name ("notop" means no top).

    Raises:
      FileNotFoundError: if weights_path does not exist.
    """

    label = INCEPTION_LABEL

    def __init__(self, weights_path: str, batch_size: int = 32, include_top: bool | None = None):
        if not weights_path or not os.path.exists(weights_path):
            raise FileNotFoundError(
                f"InceptionV3 weights file not found: {weights_path!r} (nothing is downloaded; "
                "pass a local inception_v3 .h5 file)"
            )
        if include_top is None:
            include_top = "notop" not in os.path.basename(weights_path)
        self.weights_path = weights_path
        self.batch_size = batch_size
        self.include_top = include_top
        if include_top:
            full = keras.applications.InceptionV3(weights=weights_path, include_top=True)
            pool = full.get_layer("avg_pool").output
            self.model = keras.Model(full.input, [pool, full.output])
        else:
            self.model = keras.applications.InceptionV3(
                weights=weights_path, include_top=False, pooling="avg"
            )

    @property
    def has_class_probs(self) -> bool:
        return self.include_top

    def __call__(self, images) -> Features:
        features, probs = [], []
        for start in range(0, int(images.shape[0]), self.batch_size):
            chunk = tf.convert_to_tensor(images[start : start + self.batch_size], tf.float32)
            # InceptionV3 expects [-1, 1] inputs (its preprocess_input), as our images are.
            chunk = tf.image.resize(chunk, [INCEPTION_SIZE, INCEPTION_SIZE], method="bilinear")
            out = self.model(chunk, training=False)
            if self.include_top:
                features.append(np.asarray(out[0]))
                probs.append(np.asarray(out[1]))
            else:
                features.append(np.asarray(out))
        if not features:
            raise ValueError("InceptionFeatureExtractor: no images given")
        class_probs = [np.concatenate(probs)] if probs else []
        return Features(features=np.concatenate(features), class_probs=class_probs)
