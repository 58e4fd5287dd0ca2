"""Draws a trained run's validation strips again (model row over truth row), as training does
after every epoch, for the run's final weights and optionally another inference setting.

    python scripts/render_strips.py --run_dir=runs/quick_synth_zap_seq --out=strip.png
    python scripts/render_strips.py --run_dir=runs/quick_synth_zap_seq --mask_threshold=0 \
        --out=strip_soft_mask.png

The sessions are the first --sessions of the split, the ones the training strips show.
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
flags.DEFINE_float("mask_threshold", None, "Override the run's inference edit-mask threshold "
                   "(0 = soft mask; default: the run's config).")
flags.DEFINE_string("title", None, "Title above the strip.")
flags.mark_flags_as_required(["run_dir", "out"])


def main(argv: list[str]) -> None:
    del argv
    from seqgan_tf.data.input_pipeline import make_dataset
    from seqgan_tf.training import runs
    from seqgan_tf.training.callbacks import validation_strip

    model, config = runs.load_model(FLAGS.run_dir, mask_threshold=FLAGS.mask_threshold)
    d = config.data
    n = FLAGS.sessions or config.train.strip_sessions
    batch = next(iter(make_dataset(
        FLAGS.data_dir or d.data_dir, d.dataset, FLAGS.split, n, False, repeat=False,
        max_turns=d.max_turns, image_size=d.image_size, seed=d.seed)))
    threshold = model.mask_threshold if model.edit_mode else None
    title = FLAGS.title or (
        f"{os.path.basename(os.path.normpath(FLAGS.run_dir))}: {FLAGS.split} sessions "
        f"(model row, truth row)"
        + ("" if threshold is None else
           f", mask {'soft' if threshold == 0 else f'> {threshold:g}'}"))
    strip = validation_strip(model, batch, title)
    os.makedirs(os.path.dirname(os.path.abspath(FLAGS.out)), exist_ok=True)
    strip.save(FLAGS.out)
    print(f"[render_strips] wrote {FLAGS.out} ({strip.width}x{strip.height}, {n} sessions)")


if __name__ == "__main__":
    app.run(main)
