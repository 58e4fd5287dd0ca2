"""The FeatureExtractor interface: images -> features (for FID) and class probabilities (for IS)."""

from __future__ import annotations

import abc
import dataclasses

import numpy as np


@dataclasses.dataclass
class Features:
    """What a FeatureExtractor returns for a batch of images.

    Attributes:
      features: float [N, D] embedding used for FID.
      class_probs: one [N, K] probability array per classification head used for IS
        (one head for InceptionV3's 1000 ImageNet classes; one per attribute for the domain
        classifier); empty if the extractor has no classifier top.
    """

    features: np.ndarray
    class_probs: list[np.ndarray]


class FeatureExtractor(abc.ABC):
    """Maps images in [-1, 1] to `Features`. `label` names the source in every report.

    Every FID / IS figure is reported as f"FID ({extractor.label})", so a number computed
    from domain features is never mistaken for an InceptionV3 figure.
    """

    label: str = ""

    @abc.abstractmethod
    def __call__(self, images) -> Features:
        """Args: images float32 [N, S, S, 3] in [-1, 1]. Returns: Features."""

    @property
    def has_class_probs(self) -> bool:
        """Whether IS can be computed from this extractor."""
        return True
