"""Domain features: the attribute classifier's penultimate layer and its per-head softmax."""

from __future__ import annotations

import numpy as np

from seqgan_tf.evaluation.attribute_classifier import AttributeClassifier
from seqgan_tf.evaluation.feature_extractor import FeatureExtractor, Features

DOMAIN_LABEL = "domain features"


class DomainFeatureExtractor(FeatureExtractor):
    """Features from a trained AttributeClassifier.

    FID uses the `feature_dim` penultimate activations; IS uses each attribute head's softmax
    ("IS (domain features)" = mean over heads of the per-head IS).

    Args:
      classifier: the trained AttributeClassifier.
      batch_size: images per forward pass.

    Example:
    ```python
    extractor = DomainFeatureExtractor(load_attribute_classifier("runs/attr_clf_synth_zap_seq"))
    out = extractor(images)   # out.features [N, 256], out.class_probs: one [N, K_a] per attribute
    ```
    """

    label = DOMAIN_LABEL

    def __init__(self, classifier: AttributeClassifier, batch_size: int = 256):
        self.classifier = classifier
        self.batch_size = batch_size

    def __call__(self, images) -> Features:
        features, probs = [], []
        for start in range(0, int(images.shape[0]), self.batch_size):
            chunk = self.classifier.prepare_images(images[start : start + self.batch_size])
            f, p = self.classifier.features_and_probs(chunk, training=False)
            features.append(np.asarray(f))
            probs.append([np.asarray(p[n]) for n in self.classifier.attribute_names])
        if not features:
            raise ValueError("DomainFeatureExtractor: no images given")
        heads = [np.concatenate([p[i] for p in probs]) for i in range(len(probs[0]))]
        return Features(features=np.concatenate(features), class_probs=heads)
