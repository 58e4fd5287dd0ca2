"""How much of an edit one colour transform can draw: an oracle fitted on the truth.

For a pair (x_{t-1}, x_t), the edited pixels (pixel_metrics.CHANGE_THRESHOLD) are redrawn as
ONE colour transform of x_{t-1} fitted to x_t by least squares over those pixels, and the
edit-region error is measured as `evaluate.py` does (the sum of |y - x_t| over the edited
pixels, over the same sum for not editing). It bounds from below what a generator that
recolours by a single transform per image could reach, and says how far a set's recolours are
from one: shading, specular light and trims that change with the colour all break it.

Kinds: "gain" (x_t = g * x_{t-1} per channel), "gain_bias" (g * x_{t-1} + b per channel) and
"affine" (a 3x3 matrix and a bias, HDRNet's 3x4 map over the whole region).

Example:
    error, previous_error = oracle_errors(previous01, target01)["affine"]
"""

from __future__ import annotations

import numpy as np

from seqgan_tf.evaluation.pixel_metrics import CHANGE_THRESHOLD, pixel_rows

KINDS = ("gain", "gain_bias", "affine")


def _fit(inputs: np.ndarray, targets: np.ndarray, kind: str) -> np.ndarray:
    """The least-squares prediction of targets [P, 3] from inputs [P, 3]."""
    ones = np.ones((len(inputs), 1))
    if kind == "affine":
        design = np.concatenate([inputs, ones], axis=1)
        return design @ np.linalg.lstsq(design, targets, rcond=None)[0]
    columns = []
    for c in range(3):
        design = (
            inputs[:, c : c + 1]
            if kind == "gain"
            else np.concatenate([inputs[:, c : c + 1], ones], axis=1)
        )
        columns.append(design @ np.linalg.lstsq(design, targets[:, c], rcond=None)[0])
    return np.stack(columns, axis=1)


def oracle_errors(
    previous: np.ndarray, target: np.ndarray, threshold: float = CHANGE_THRESHOLD
) -> dict[str, tuple[float, float]]:
    """Per kind, (sum of the oracle's error, sum of not editing's error) over the edited pixels.

    Args:
      previous: x_{t-1}, float [S, S, 3] in [0, 1].
      target: x_t, same shape.
      threshold: a pixel is edited when some channel differs by more.

    Returns:
      {kind: (error_sum, previous_error_sum)}; both 0 when no pixel is edited. Errors are
      per-pixel channel means, as in pixel_metrics.

    Raises:
      ValueError: if the shapes differ or are not [S, S, 3].
    """
    previous, target = np.asarray(previous, np.float64), np.asarray(target, np.float64)
    if previous.shape != target.shape or previous.ndim != 3 or previous.shape[-1] != 3:
        raise ValueError(
            f"oracle_errors: previous {previous.shape} and target {target.shape} must both be "
            "[S, S, 3]"
        )
    changed = (np.abs(target - previous) > threshold).any(axis=-1)
    if not changed.any():
        return {kind: (0.0, 0.0) for kind in KINDS}
    errors = {}
    for kind in KINDS:
        drawn = previous.copy()
        drawn[changed] = _fit(previous[changed], target[changed], kind)
        # Measured by evaluate.py's own definition, on its [-1, 1] images.
        rows = pixel_rows(
            *(x[None] * 2.0 - 1.0 for x in (drawn, target, previous)), None, threshold
        )
        errors[kind] = (float(rows["changed_error"][0]), float(rows["changed_previous_error"][0]))
    return errors
