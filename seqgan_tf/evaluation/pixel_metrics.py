"""Pixel-level figures of an edit, beside the classifier's: no network judges them.

For each real turn t, with x_t the true target, x_{t-1} the true previous image, y the model's
output and i its input (x_0 at turn 1, the model's own previous output after):

- MAE(a, b): mean absolute difference over pixels and channels, on [0, 1] RGB.
- closer than previous: MAE(y, x_t) < MAE(x_{t-1}, x_t), i.e. the turn's output is nearer the
  truth than not editing the true previous image would be. "Previous image" is the TRUE
  x_{t-1} (the `copy_previous` row), so the figure means the same for every model; the same
  test against the model's own input i ("closer than its input") is reported beside it.
- edited pixels: those where x_t differs from x_{t-1} by more than CHANGE_THRESHOLD in some
  channel (what the edit had to change). Edit-region error = sum over those pixels of
  |y - x_t| / sum of |x_{t-1} - x_t|: 0 is a perfect edit, 1 is as far off as not editing.
  Pooled over the turns of a group (sums, not a mean of per-turn ratios, which small regions
  would dominate).
- edge and interior of the edited pixels: the edge is the edited pixels within EDGE_BAND
  pixels (in x or y) of an unchanged one: where a shape's outline moves and where a region's
  border is drawn. Edit-region error on each part apart: a high edge figure beside a low
  interior one says the outlines are drawn in the wrong place or blurred, the reverse that the
  colours and textures inside are wrong.
- unchanged pixels: the others. Their MAE(y, x_t) against the same figure for copying the
  true previous image, MAE(x_{t-1}, x_t) (0 on sets whose unchanged regions are pixel-identical,
  sensor noise and JPEG on photographs).
- untouched and carried pixels (when the session's first image x_0 is given): the unchanged
  pixels split by whether x_t still equals x_0 there (within CHANGE_THRESHOLD). Untouched: no
  turn so far has edited them, so an error above copying's is drift (a mask that leaks, a
  decoder that repaints). Carried: an earlier turn edited them and this one keeps them, so the
  error there is what earlier turns drew wrong and this turn did not correct. At turn 1 every
  unchanged pixel is untouched.

Example:
    rows = pixel_rows(outputs, targets, previous, inputs, first=x0)  # [-1, 1], [N, S, S, 3]
    group = pixel_group(rows, np.ones(len(targets), bool))
    group["closer_than_previous"], group["edit_region_error"]
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import scipy.ndimage

# 0.05 of the [0, 1] range (13 of 255): above JPEG / sensor-noise jitter, below any real edit.
CHANGE_THRESHOLD = 0.05
# Edited pixels within this many pixels of an unchanged one form the edit region's edge.
EDGE_BAND = 2

ROW_KEYS = (
    "mae",
    "mae_previous",
    "mae_input",
    "changed_error",
    "changed_previous_error",
    "changed_pixels",
    "edge_error",
    "edge_previous_error",
    "edge_pixels",
    "unchanged_error",
    "unchanged_previous_error",
    "unchanged_pixels",
    "untouched_error",
    "untouched_previous_error",
    "untouched_pixels",
)


def _unit(images) -> np.ndarray:
    return (np.asarray(images, np.float32) + 1.0) / 2.0


def changed_pixels(
    targets: np.ndarray, previous: np.ndarray, threshold: float = CHANGE_THRESHOLD
) -> np.ndarray:
    """The edited pixels, bool [..., S, S]: where some channel of x_t and x_{t-1} (in [-1, 1])
    differs by more than `threshold` on [0, 1]."""
    return (np.abs(_unit(targets) - _unit(previous)) > threshold).any(axis=-1)


def edge_of(changed: np.ndarray, band: int = EDGE_BAND) -> np.ndarray:
    """The edited pixels within `band` pixels (Chebyshev distance) of an unchanged one.
    changed: bool [N, S, S]. The image border is not an edge."""
    changed = np.asarray(changed, bool)
    square = np.ones((1, 2 * band + 1, 2 * band + 1), bool)  # per image, not across the batch
    interior = scipy.ndimage.binary_erosion(changed, structure=square, border_value=1)
    return changed & ~interior


def pixel_rows(
    outputs: np.ndarray,
    targets: np.ndarray,
    previous: np.ndarray,
    inputs: np.ndarray | None = None,
    threshold: float = CHANGE_THRESHOLD,
    first: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Per-image sums for `pixel_group`, from images in [-1, 1].

    Args:
      outputs: y, float [N, S, S, 3], the model's image of each turn.
      targets: x_t, same shape.
      previous: x_{t-1} (true), same shape.
      inputs: the model's input of each turn (None: the true previous image).
      threshold: a pixel is edited when some channel of x_t and x_{t-1} differs by more (on
        [0, 1]).
      first: x_0, the session's first image, for each turn (same shape), to split the
        unchanged pixels into untouched and carried ones; None: every unchanged pixel counts
        as untouched.

    Returns:
      {key: float [N]} for every key of ROW_KEYS (errors are sums over pixels of the channel
      mean; mae* are means over the image).

    Raises:
      ValueError: if the shapes differ.
    """
    y, x, prev = _unit(outputs), _unit(targets), _unit(previous)
    i = prev if inputs is None else _unit(inputs)
    x0_shape = y.shape if first is None else np.shape(first)
    if not (y.shape == x.shape == prev.shape == i.shape == x0_shape) or y.ndim != 4:
        raise ValueError(
            f"pixel_rows: outputs {y.shape}, targets {x.shape}, previous {prev.shape}, inputs "
            f"{i.shape} and first {x0_shape} must share one [N, S, S, C] shape"
        )
    error = np.abs(y - x).mean(axis=-1)  # [N, S, S]
    copy_error = np.abs(prev - x).mean(axis=-1)
    input_error = np.abs(i - x).mean(axis=-1)
    changed = changed_pixels(targets, previous, threshold)
    kept = ~changed
    untouched = kept if first is None else kept & ~changed_pixels(targets, first, threshold)
    edge = edge_of(changed)
    return {
        "mae": error.mean(axis=(1, 2)),
        "mae_previous": copy_error.mean(axis=(1, 2)),
        "mae_input": input_error.mean(axis=(1, 2)),
        "changed_error": (error * changed).sum(axis=(1, 2)),
        "changed_previous_error": (copy_error * changed).sum(axis=(1, 2)),
        "changed_pixels": changed.sum(axis=(1, 2)).astype(np.float64),
        "edge_error": (error * edge).sum(axis=(1, 2)),
        "edge_previous_error": (copy_error * edge).sum(axis=(1, 2)),
        "edge_pixels": edge.sum(axis=(1, 2)).astype(np.float64),
        "unchanged_error": (error * kept).sum(axis=(1, 2)),
        "unchanged_previous_error": (copy_error * kept).sum(axis=(1, 2)),
        "unchanged_pixels": kept.sum(axis=(1, 2)).astype(np.float64),
        "untouched_error": (error * untouched).sum(axis=(1, 2)),
        "untouched_previous_error": (copy_error * untouched).sum(axis=(1, 2)),
        "untouched_pixels": untouched.sum(axis=(1, 2)).astype(np.float64),
    }


def _ratio(numerator: float, denominator: float) -> float | None:
    return float(numerator / denominator) if denominator > 0 else None


def pixel_group(rows: Mapping[str, np.ndarray], select: np.ndarray) -> dict:
    """The pixel figures over the selected turns (see the module docstring).

    Args:
      rows: `pixel_rows` output (possibly concatenated over batches).
      select: bool [N], the turns of the group.

    Returns:
      {"num_turns", "closer_than_previous", "closer_than_input", "mae", "mae_copy",
       "edit_region_error", "edit_region_mae", "edge_share", "edge_error",
       "interior_error", "unchanged_mae", "unchanged_mae_copy", "untouched_mae",
       "untouched_mae_copy", "carried_share", "carried_mae", "carried_mae_copy"};
      figures are None when the group has no turn (or no pixel of that kind).
    """
    select = np.asarray(select, bool)
    n = int(select.sum())
    r = {k: np.asarray(v, np.float64)[select] for k, v in rows.items()}
    changed, kept = r["changed_pixels"].sum(), r["unchanged_pixels"].sum()
    untouched = r["untouched_pixels"].sum()
    untouched_error, untouched_copy = (
        r["untouched_error"].sum(),
        r["untouched_previous_error"].sum(),
    )
    return {
        "num_turns": n,
        "closer_than_previous": float(np.mean(r["mae"] < r["mae_previous"])) if n else None,
        "closer_than_input": float(np.mean(r["mae"] < r["mae_input"])) if n else None,
        "mae": float(r["mae"].mean()) if n else None,
        "mae_copy": float(r["mae_previous"].mean()) if n else None,
        "edit_region_error": _ratio(r["changed_error"].sum(), r["changed_previous_error"].sum()),
        "edit_region_mae": _ratio(r["changed_error"].sum(), changed),
        "edge_share": _ratio(r["edge_pixels"].sum(), changed),
        "edge_error": _ratio(r["edge_error"].sum(), r["edge_previous_error"].sum()),
        "interior_error": _ratio(
            r["changed_error"].sum() - r["edge_error"].sum(),
            r["changed_previous_error"].sum() - r["edge_previous_error"].sum(),
        ),
        "unchanged_mae": _ratio(r["unchanged_error"].sum(), kept),
        "unchanged_mae_copy": _ratio(r["unchanged_previous_error"].sum(), kept),
        "untouched_mae": _ratio(untouched_error, untouched),
        "untouched_mae_copy": _ratio(untouched_copy, untouched),
        "carried_share": _ratio(kept - untouched, kept),
        "carried_mae": _ratio(r["unchanged_error"].sum() - untouched_error, kept - untouched),
        "carried_mae_copy": _ratio(
            r["unchanged_previous_error"].sum() - untouched_copy, kept - untouched
        ),
    }
