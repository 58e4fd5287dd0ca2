"""Figures against training time: evaluations of a run's snapshots drawn as curves.

    python scripts/evaluate.py ... --models=copy_previous,\
e08=runs/longer@snapshots/epoch_008.weights.h5,e16=runs/longer@snapshots/epoch_016.weights.h5,\
e48=runs/longer
    python scripts/plot_training_curve.py --metrics=<out>/metrics.json --seconds_per_epoch=190

Each trained model of the evaluations is a point: its run is the curve it belongs to, the GAN
epochs behind its weights the x-axis (metrics.json's `trained_models`, which evaluate.py
records; for reports written before that, the `@snapshots/epoch_NNN` of the command). Six
panels: edit accuracy, preservation, exact match, SSIM, the edit-region error and the edit
accuracy on unseen designs, with #21's targets dashed and `copy_previous` dotted.
"""

from __future__ import annotations

import dataclasses
import os
import shlex
from collections.abc import Callable, Mapping, Sequence

from common.atomic_files import write_atomically
from seqgan_tf.training.run_folder import describe_model_entries

# (title, figure of one model's metrics, issue #21's target or None)
PANELS: tuple[tuple[str, Callable[[Mapping], float | None], float | None], ...] = (
    ("edit accuracy", lambda m: m["edit"]["overall"]["edit_accuracy"], 0.90),
    ("preservation", lambda m: m["edit"]["overall"]["preservation"], 0.95),
    ("exact match", lambda m: m["edit"]["overall"]["exact_match"], 0.60),
    ("SSIM", lambda m: m["image"]["all"]["SSIM"], None),
    ("edit-region error (of not editing)", lambda m: m["pixel"]["all"]["edit_region_error"], 0.25),
    (
        "unseen designs: edit accuracy",
        lambda m: (m["edit"].get("unseen_designs") or {}).get("edit_accuracy"),
        0.85,
    ),
)
BASELINE = "copy_previous"


@dataclasses.dataclass(frozen=True)
class CurvePoint:
    """One evaluated model: the GAN epochs behind its weights and its figures per panel."""

    model: str
    epochs: int
    figures: tuple[float | None, ...]


def _sources_from_command(command: str) -> dict[str, dict]:
    """The trained rows of an evaluation from before `trained_models` was recorded, read off
    its recorded command line."""
    models = next(
        (arg.partition("=")[2] for arg in shlex.split(command) if arg.startswith("--models=")), ""
    )
    return describe_model_entries([entry for entry in models.split(",") if entry])


def _figures(model_metrics: Mapping) -> tuple[float | None, ...]:
    values = []
    for _, figure, _ in PANELS:
        try:
            value = figure(model_metrics)
        except (KeyError, TypeError):
            value = None
        values.append(None if value is None else float(value))
    return tuple(values)


def curve_points(
    evaluations: Sequence[Mapping],
    epochs: Mapping[str, int] | None = None,
    skip: Sequence[str] = (),
) -> tuple[dict[str, list[CurvePoint]], dict[str, float | None]]:
    """The curves of evaluations of the same test sessions.

    Args:
      evaluations: metrics.json dicts of scripts/evaluate.py.
      epochs: {model name: GAN epochs} for models whose weights do not say.
      skip: model names left out.

    Returns:
      ({run label: points sorted by epochs}, {panel title: copy_previous's figure}); the label
      is the run folder's name.

    Raises:
      ValueError: the evaluations judged different sessions, a model's epochs are unknown, or
        one run has two points at the same epoch.
    """
    epochs = dict(epochs or {})
    curves: dict[str, dict[int, CurvePoint]] = {}
    baseline: dict[str, float | None] = {}
    first = None
    for metrics in evaluations:
        info = metrics.get("info", {})
        where = (metrics.get("data_build", {}).get("id"), metrics.get("test_slice"))
        where += (metrics.get("num_sessions"), info.get("descriptions"))
        where += (info.get("each turn edits"),)
        if first is None:
            first = where
        elif where != first:
            raise ValueError(
                "the evaluations judged different sessions (build id, slice, sessions, "
                f"descriptions, previous image): {first} against {where}"
            )
        sources = metrics.get("trained_models") or _sources_from_command(info.get("command", ""))
        for name, model_metrics in metrics["models"].items():
            if name == BASELINE:
                baseline = dict(zip([p[0] for p in PANELS], _figures(model_metrics)))
            if name not in sources or name in skip:
                continue
            source = sources[name]
            count = epochs.get(name, source.get("epochs"))
            if count is None:
                raise ValueError(
                    f"model {name!r} ({source['run_dir']}): its weights do not say how many "
                    f"epochs they were trained; pass --epochs={name}:N"
                )
            label = os.path.basename(os.path.normpath(source["run_dir"]))
            points = curves.setdefault(label, {})
            if int(count) in points:
                raise ValueError(
                    f"run {label!r} has two models at epoch {count}: "
                    f"{points[int(count)].model!r} and {name!r}"
                )
            points[int(count)] = CurvePoint(name, int(count), _figures(model_metrics))
    return {label: [p[k] for k in sorted(p)] for label, p in curves.items()}, baseline


def draw_training_curve(
    curves: Mapping[str, Sequence[CurvePoint]],
    baseline: Mapping[str, float | None],
    path: str,
    seconds_per_epoch: float | None = None,
    caption: str = "",
) -> str:
    """Draws the six panels (matplotlib, written atomically) and returns `path`.

    Args:
      curves, baseline: as returned by `curve_points`.
      path: the PNG to write.
      seconds_per_epoch: adds a minutes axis on top (epochs x this / 60); quote the box.
      caption: the figure's title (what was evaluated, on which box).

    Raises:
      ValueError: no curve to draw.
    """
    if not any(curves.values()):
        raise ValueError("no trained model in the evaluations: nothing to draw")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(13, 7.5), constrained_layout=True)
    for index, (ax, (title, _, target)) in enumerate(zip(axes.flat, PANELS)):
        for label, points in curves.items():
            shown = [(p.epochs, p.figures[index]) for p in points if p.figures[index] is not None]
            if shown:
                ax.plot(*zip(*shown), marker="o", label=label)
        if target is not None:
            ax.axhline(target, color="tab:red", linestyle="--", linewidth=1, label="target")
        if baseline.get(title) is not None:
            ax.axhline(baseline[title], color="grey", linestyle=":", linewidth=1, label=BASELINE)
        ax.set_title(title)
        ax.set_xlabel("GAN epochs")
        ax.grid(alpha=0.3)
        if seconds_per_epoch:
            top = ax.secondary_xaxis(
                "top",
                functions=(
                    lambda e: e * seconds_per_epoch / 60.0,
                    lambda m: m * 60.0 / seconds_per_epoch,
                ),
            )
            top.set_xlabel(f"minutes of GAN training at {seconds_per_epoch:g} s an epoch")
    axes.flat[0].legend(fontsize="small")
    if caption:
        fig.suptitle(caption)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    write_atomically(path, lambda temp: fig.savefig(temp, format="png", dpi=90), ".png")
    plt.close(fig)
    return path
