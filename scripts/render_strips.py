"""Draws a trained run's validation strips again (model row over truth row), as training does
after every epoch, for the run's final weights and optionally another inference setting.

    python scripts/render_strips.py --run_dir=runs/quick_synth_zap_seq --out=strip.png
    python scripts/render_strips.py --run_dir=runs/quick_synth_zap_seq --mask_threshold=0 \
        --out=strip_soft_mask.png

The sessions are the first --sessions of the split, the ones the training strips show. With
--failures_from=CLASSIFIER_DIR the strip shows failure cases instead: of the first
--search_sessions sessions, those whose turns the attribute classifier (the evaluation's judge)
finds furthest from the target, worst first:

    python scripts/render_strips.py --run_dir=runs/quick_synth_zap_seq --split=test \
        --failures_from=runs/attr_clf_synth_zap_seq --out=docs/failures.png
"""

from __future__ import annotations

import os

from absl import app, flags

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

FLAGS = flags.FLAGS
flags.DEFINE_string("run_dir", None, "Trained run folder.")
flags.DEFINE_string("out", None, "PNG to write.")
flags.DEFINE_string("data_dir", None, "Root of the shard folders (default: the run's).")
flags.DEFINE_string("split", "val", "Split to draw sessions from.")
flags.DEFINE_integer("sessions", None, "Sessions to draw (default: the run's strip_sessions).")
flags.DEFINE_float(
    "mask_threshold",
    None,
    "Override the run's inference edit-mask threshold (0 = soft mask; default: the run's config).",
)
flags.DEFINE_string("title", None, "Title above the strip.")
flags.DEFINE_string("failures_from", None, "Attribute-classifier folder: draw failure cases.")
flags.DEFINE_integer("search_sessions", 100, "Sessions searched for failure cases.")
flags.mark_flags_as_required(["run_dir", "out"])


def main(argv: list[str]) -> None:
    del argv
    from seqgan_tf.data.input_pipeline import make_dataset
    from seqgan_tf.training import runs
    from seqgan_tf.training.callbacks import validation_strip

    model, config = runs.load_model(FLAGS.run_dir, mask_threshold=FLAGS.mask_threshold)
    d = config.data
    n = FLAGS.sessions or config.train.strip_sessions
    batch = next(
        iter(
            make_dataset(
                FLAGS.data_dir or d.data_dir,
                d.dataset,
                FLAGS.split,
                FLAGS.search_sessions if FLAGS.failures_from else n,
                False,
                repeat=False,
                max_turns=d.max_turns,
                image_size=d.image_size,
                seed=d.seed,
            )
        )
    )
    if FLAGS.failures_from:
        batch = _worst_sessions(model, batch, FLAGS.failures_from, n)
    threshold = model.mask_threshold if model.edit_mode else None
    kind = "failure cases" if FLAGS.failures_from else "sessions"
    title = FLAGS.title or (
        f"{os.path.basename(os.path.normpath(FLAGS.run_dir))}: {FLAGS.split} {kind} "
        f"(model row, truth row)"
        + (
            ""
            if threshold is None
            else f", mask {'soft' if threshold == 0 else f'> {threshold:g}'}"
        )
    )
    strip = validation_strip(model, batch, title)
    os.makedirs(os.path.dirname(os.path.abspath(FLAGS.out)), exist_ok=True)
    strip.save(FLAGS.out)
    print(f"[render_strips] wrote {FLAGS.out} ({strip.width}x{strip.height}, {n} sessions)")


def _worst_sessions(model, batch: dict, classifier_dir: str, n: int) -> dict:
    """The n sessions of `batch` with the most attributes the judge reads wrong, worst first."""
    import numpy as np
    import tensorflow as tf

    from seqgan_tf.evaluation.classifier_files import load_attribute_classifier

    classifier = load_attribute_classifier(classifier_dir)
    images = model.generate_session(
        {"images": batch["images"], "descriptions": batch["descriptions"]}
    )["images"].numpy()
    b, t = images.shape[:2]
    read = classifier.predict_ids(images.reshape((b * t,) + images.shape[2:])).reshape(b, t, -1)
    target = batch["attribute_ids"].numpy()[:, 1:]
    mask = batch["turn_mask"].numpy()[..., None]
    errors = ((read != target) & (target >= 0) & (mask > 0)).sum(axis=(1, 2))
    order = np.argsort(-errors, kind="stable")[:n]
    print(
        f"[render_strips] wrong attributes per session (worst {n} of {b}): {errors[order].tolist()}"
    )
    return {k: tf.gather(v, order) for k, v in batch.items()}


if __name__ == "__main__":
    app.run(main)
