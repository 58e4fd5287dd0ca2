"""Image-quality metrics: SSIM, Frechet distance (FID) and Inception Score (IS).

The feature-based metrics (FID, IS) take features / class probabilities from a
`FeatureExtractor`; which one produced them is part of the metric's name in every
report ("FID (domain features)" vs "FID (InceptionV3)").
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg
import tensorflow as tf


def ssim(
    images_a: tf.Tensor | np.ndarray, images_b: tf.Tensor | np.ndarray, max_val: float = 1.0
) -> np.ndarray:
    """Per-image SSIM (tf.image.ssim, 11x11 Gaussian window, averaged over channels).

    Args:
      images_a: [N, H, W, C] images, float in [0, max_val] or uint8 with max_val=255.
      images_b: same shape and dtype as `images_a`.
      max_val: dynamic range of the pixel values (1.0 for [0, 1] floats, 255 for uint8).

    Returns:
      float64 array [N] of SSIM values (1.0 for identical images).

    Raises:
      ValueError: if the shapes differ, are not rank 4, or are smaller than 11x11.
    """
    a = tf.convert_to_tensor(images_a)
    b = tf.convert_to_tensor(images_b)
    if a.shape != b.shape:
        raise ValueError(f"ssim: image shapes differ: {a.shape} vs {b.shape}")
    if a.shape.rank != 4:
        raise ValueError(f"ssim: expected [N, H, W, C] images, got shape {a.shape}")
    if a.shape[1] < 11 or a.shape[2] < 11:
        raise ValueError(f"ssim: images must be at least 11x11, got {a.shape[1]}x{a.shape[2]}")
    return tf.image.ssim(a, b, max_val=max_val).numpy().astype(np.float64)


def minus_one_one_to_unit(images: tf.Tensor | np.ndarray) -> tf.Tensor:
    """Maps float images in [-1, 1] to [0, 1] (clipped)."""
    images = tf.convert_to_tensor(images, tf.float32)
    return tf.clip_by_value((images + 1.0) * 0.5, 0.0, 1.0)


def feature_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (unbiased) covariance of a feature set.

    Args:
      features: [N, D] features, N >= 2.

    Returns:
      (mu [D], sigma [D, D]) as float64.

    Raises:
      ValueError: if features is not [N, D] with N >= 2.
    """
    features = np.asarray(features, np.float64)
    if features.ndim != 2 or features.shape[0] < 2:
        raise ValueError(f"feature_statistics: need [N>=2, D] features, got {features.shape}")
    return features.mean(axis=0), np.cov(features, rowvar=False).reshape(features.shape[1], -1)


def frechet_distance(
    mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray, eps: float = 1e-6
) -> float:
    """Frechet distance between Gaussians N(mu1, sigma1) and N(mu2, sigma2).

    d^2 = |mu1 - mu2|^2 + Tr(sigma1 + sigma2 - 2 sqrt(sigma1 sigma2)).
    The matrix square root comes from scipy.linalg.sqrtm; if it is not finite or scipy warns
    that the product is singular, an `eps` ridge is added to both covariances; the imaginary part that numeric
    noise leaves (negative / complex eigenvalues) is dropped.

    Args:
      mu1, mu2: [D] means.
      sigma1, sigma2: [D, D] covariances.
      eps: ridge added to the diagonals when the product is singular.

    Returns:
      The distance (a float >= 0 up to numeric noise; clipped at 0).

    Raises:
      ValueError: on mismatched shapes.
    """
    mu1, mu2 = np.atleast_1d(mu1).astype(np.float64), np.atleast_1d(mu2).astype(np.float64)
    sigma1, sigma2 = (
        np.atleast_2d(sigma1).astype(np.float64),
        np.atleast_2d(sigma2).astype(np.float64),
    )
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != mu1.shape * 2:
        raise ValueError(
            f"frechet_distance: shape mismatch mu {mu1.shape}/{mu2.shape}, "
            f"sigma {sigma1.shape}/{sigma2.shape}"
        )
    diff = mu1 - mu2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", scipy.linalg.LinAlgWarning)
        covmean = scipy.linalg.sqrtm(sigma1 @ sigma2)
    if caught or not np.isfinite(covmean).all():
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = scipy.linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    distance = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean)
    return float(max(distance, 0.0))


def fid_from_features(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """FID between two feature sets [N, D] and [M, D] (Gaussian fit to each).

    Raises:
      ValueError: if the feature dimensions differ or a set has fewer than 2 rows.
    """
    features_a, features_b = np.asarray(features_a), np.asarray(features_b)
    if features_a.ndim != 2 or features_b.ndim != 2 or features_a.shape[1] != features_b.shape[1]:
        raise ValueError(f"fid_from_features: shapes {features_a.shape} vs {features_b.shape}")
    return frechet_distance(*feature_statistics(features_a), *feature_statistics(features_b))


def inception_score(probs: np.ndarray, splits: int = 1, eps: float = 1e-12) -> tuple[float, float]:
    """Inception Score exp(E_x KL(p(y|x) || p(y))) from class probabilities.

    Args:
      probs: [N, K] rows of class probabilities (each row sums to 1).
      splits: the rows are cut into this many equal parts; the score is computed per part
        (p(y) is the part's marginal) and the mean and std over parts are returned.
      eps: guards log(0).

    Returns:
      (mean, std) over splits. 1.0 for identical predictions; K for confident predictions
      spread uniformly over K classes.

    Raises:
      ValueError: if probs is not [N, K] or there are fewer rows than splits.
    """
    probs = np.asarray(probs, np.float64)
    if probs.ndim != 2:
        raise ValueError(f"inception_score: expected [N, K] probabilities, got {probs.shape}")
    if splits < 1 or probs.shape[0] < splits:
        raise ValueError(f"inception_score: {probs.shape[0]} rows cannot make {splits} splits")
    scores = []
    for part in np.array_split(probs, splits):
        marginal = part.mean(axis=0, keepdims=True)
        kl = np.sum(part * (np.log(part + eps) - np.log(marginal + eps)), axis=1)
        scores.append(float(np.exp(kl.mean())))
    return float(np.mean(scores)), float(np.std(scores))


def mean_head_inception_score(head_probs: list[np.ndarray], splits: int = 1) -> tuple[float, float]:
    """IS over domain classes: the mean over classifier heads of each head's IS.

    Each head (one per schema attribute) gives p(value | x); its IS says how confidently
    and how diversely that attribute is drawn. The mean over heads is the reported
    "IS (domain features)"; the per-head values are reported next to it.

    Args:
      head_probs: one [N, K_a] probability array per attribute head.
      splits: as in `inception_score`.

    Returns:
      (mean over heads of the per-head IS mean, mean over heads of the per-head std).

    Raises:
      ValueError: if head_probs is empty.
    """
    if not head_probs:
        raise ValueError("mean_head_inception_score: no heads given")
    scores = [inception_score(p, splits) for p in head_probs]
    return float(np.mean([s[0] for s in scores])), float(np.mean([s[1] for s in scores]))
