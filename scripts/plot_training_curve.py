"""Figures against training time, drawn from evaluations of a run's snapshots.

    python scripts/evaluate.py --dataset=photo_zap_seq --data_dir=data --classifier=runs/judge \
        --slice=final --out=runs/eval_curve --models=copy_previous,\
e08=runs/longer@snapshots/epoch_008.weights.h5,e16=runs/longer@snapshots/epoch_016.weights.h5,\
e48=runs/longer
    python scripts/plot_training_curve.py --metrics=runs/eval_curve/metrics.json \
        --seconds_per_epoch=190 --caption="longer, photo_zap_seq final slice, 2-core AMD EPYC"

--metrics takes several evaluations of the same test sessions (a run evaluated in parts as it
trained); every trained model is a point of its run's curve, at the GAN epochs behind its
weights. Writes training_curve.png beside the first --metrics (or --out) and prints the points.
"""

from __future__ import annotations

import json
import os

from absl import app, flags

from seqgan_tf.evaluation.training_curve import PANELS, curve_points, draw_training_curve

FLAGS = flags.FLAGS
flags.DEFINE_list("metrics", None, "metrics.json files of scripts/evaluate.py.", required=True)
flags.DEFINE_string("out", None, "The PNG (default: training_curve.png beside --metrics).")
flags.DEFINE_float(
    "seconds_per_epoch",
    None,
    "Adds a minutes axis: one GAN epoch's seconds measured alone on the box (quote the box in "
    "--caption); the runs' own clocks include whatever else shared the machine.",
)
flags.DEFINE_string("caption", "", "The figure's title: what was evaluated, on which box.")
flags.DEFINE_list(
    "epochs",
    [],
    "name:N for models whose weights do not say their epochs (weights outside snapshots/ of a "
    "run folder that is not here).",
)

flags.DEFINE_list("skip", [], "Model names left out (e.g. a second row of the same weights).")
flags.DEFINE_list(
    "labels", [], "run_folder_name:label, the legend's name for a run (default: its folder name)."
)


def main(argv):
    del argv
    evaluations = []
    for path in FLAGS.metrics:
        try:
            with open(path, encoding="utf-8") as f:
                evaluations.append(json.load(f))
        except (OSError, json.JSONDecodeError) as error:
            raise app.UsageError(f"--metrics: cannot read {path!r}: {error}") from error
    epochs = {}
    for entry in FLAGS.epochs:
        name, sep, count = entry.partition(":")
        if not sep or not count.strip().isdigit():
            raise app.UsageError(f"--epochs: {entry!r} is not name:N")
        epochs[name.strip()] = int(count)
    labels = {}
    for entry in FLAGS.labels:
        run, sep, label = entry.partition(":")
        if not sep or not label.strip():
            raise app.UsageError(f"--labels: {entry!r} is not run_folder_name:label")
        labels[run.strip()] = label.strip()
    try:
        curves, baseline = curve_points(evaluations, epochs, FLAGS.skip)
        curves = {labels.get(run) or run: points for run, points in curves.items()}
        out = FLAGS.out or os.path.join(os.path.dirname(FLAGS.metrics[0]), "training_curve.png")
        draw_training_curve(curves, baseline, out, FLAGS.seconds_per_epoch, FLAGS.caption)
    except ValueError as error:
        raise app.UsageError(str(error)) from error
    titles = [title for title, _, _ in PANELS]
    print("| run | epochs | model | " + " | ".join(titles) + " |")
    print("|---|---|---|" + "---|" * len(titles))
    for label, points in curves.items():
        for p in points:
            cells = ["-" if v is None else f"{v:.3f}" for v in p.figures]
            print(f"| {label} | {p.epochs} | {p.model} | " + " | ".join(cells) + " |")
    print(f"written to {out}")


if __name__ == "__main__":
    app.run(main)
