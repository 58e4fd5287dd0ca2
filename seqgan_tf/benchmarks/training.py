"""Training throughput (sessions/s) of SeqAttnGAN's train_step for named configs.

    python scripts/benchmark.py --target=training
    python scripts/benchmark.py --target=training --configs=quick --jit=off --steps=20

Synthetic in-memory batches in the pipeline's layout (so the figure is the model's, not the
input pipeline's; see --target=pipeline for that), one device, after warm-up steps that absorb
tracing and compilation.
"""

from __future__ import annotations

import sys
import time

import numpy as np
from absl import flags

from tfrecords.datasets import DEFAULT_DATASET

FLAGS = flags.FLAGS


def define_flags() -> None:
    flags.DEFINE_list("configs", ["quick", "paper"], "Named experiments to time.")
    flags.DEFINE_list(
        "jit",
        ["off", "on"],
        "jit_compile settings to time, in this order "
        "(off, on; repeat to interleave, e.g. off,on,off,on).",
    )
    flags.DEFINE_integer("steps", 10, "Timed steps per setting.")
    flags.DEFINE_integer("warmup_steps", 2, "Untimed steps first (tracing, XLA compilation).")
    flags.DEFINE_bool("damsm", True, "Include the (frozen) DAMSM loss, as training does.")


def cpu_times() -> tuple[float, float] | None:
    """(steal, total) jiffies of all CPUs from /proc/stat, or None off Linux. Steal is time the
    hypervisor gave this VM's virtual CPUs to someone else; the benchmark reports it so that a
    slow row can be told apart from a busy host (here it read 0% in every row, including the
    unexplained slow processes the README mentions)."""
    try:
        with open("/proc/stat") as f:
            fields = [float(x) for x in f.readline().split()[1:]]
    except OSError:
        return None
    steal = fields[7] if len(fields) > 7 else 0.0
    return steal, sum(fields[:8])


def steal_fraction(before, after) -> float | None:
    if before is None or after is None or after[1] <= before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1])


def _batch(config, rng):
    import tensorflow as tf

    d = config.data
    b, t, s = d.global_batch_size, d.max_turns, d.image_size
    words = ["make", "it", "red", "has", "a", "higher", "heel", "laces", "boot", "blue"]

    def sentence():
        return " ".join(rng.choice(words, size=int(rng.integers(3, 9))))

    return {
        "images": tf.constant(rng.uniform(-1, 1, (b, t + 1, s, s, 3)).astype(np.float32)),
        "descriptions": tf.constant([[sentence() for _ in range(t)] for _ in range(b)]),
        "prev_attribute_text": tf.constant([[sentence() for _ in range(t)] for _ in range(b)]),
        "turn_mask": tf.constant(np.ones((b, t), np.float32)),
        "attribute_ids": tf.constant(
            np.stack([rng.integers(0, n, (b, t + 1)) for n in config.model.attribute_sizes], -1)
            .reshape(b, t + 1, -1)
            .astype(np.int32)
        ),
        "changed_mask": tf.constant(np.ones((b, t, len(config.model.attribute_sizes)), np.float32)),
        "session_id": tf.constant([f"bench-{i}" for i in range(b)]),
    }


def time_config(name: str, jit: bool, steps: int, warmup: int, damsm: bool) -> dict:
    import keras
    import tensorflow as tf

    from seqgan_tf.configs import get_experiment
    from seqgan_tf.training import runs

    config = get_experiment(name, DEFAULT_DATASET)
    # The synthetic shoes' schema sizes (the trainer derives them from dataset_info.json).
    config.model.attribute_sizes = [6, 13, 4, 3, 3, 4, 5, 3]
    vocab = ["make", "it", "red", "has", "a", "higher", "heel", "laces", "boot", "blue"]
    keras.backend.clear_session()
    model = runs.build_model(config, vocab)
    if damsm and config.damsm.enabled:
        model.attach_damsm(runs.build_damsm(config, vocab))
    model.compile(
        d_optimizer=keras.optimizers.Adam(2e-4, 0.5),
        g_optimizer=keras.optimizers.Adam(2e-4, 0.5),
        loss=runs.build_loss(config),
        jit_compile=jit,
    )
    model.build_optimizers()
    # Tokenized and hashed outside the step, as the trainer's input pipeline does.
    batch = model.preprocessor(_batch(config, np.random.default_rng(0)))
    ds = tf.data.Dataset.from_tensors(batch).repeat()
    t0 = time.time()
    model.fit(ds, epochs=1, steps_per_epoch=warmup, verbose=0)
    warm = time.time() - t0
    t0, cpu0 = time.time(), cpu_times()
    model.fit(ds, epochs=1, steps_per_epoch=steps, verbose=0)
    elapsed, cpu1 = time.time() - t0, cpu_times()
    b = config.data.global_batch_size
    return {
        # What actually ran (Keras can turn jit_compile off).
        "config": name,
        "jit_compile": jit,
        "jit_effective": bool(model.jit_compile),
        "batch": b,
        "image_size": config.data.image_size,
        "steps": steps,
        "s_per_step": elapsed / steps,
        "sessions_per_s": b * steps / elapsed,
        "warmup_s": warm,
        "steal": steal_fraction(cpu0, cpu1),
    }


def _percent(fraction: float | None) -> str:
    return "n/a" if fraction is None else f"{100 * fraction:.0f}%"


def main_with_flags(argv: list[str]) -> None:
    del argv
    rows = []
    for name in FLAGS.configs:
        for jit in FLAGS.jit:
            if jit not in ("on", "off"):
                raise ValueError(f"--jit takes on/off, got {jit!r}")
            row = time_config(name, jit == "on", FLAGS.steps, FLAGS.warmup_steps, FLAGS.damsm)
            rows.append(row)
            print(
                f"  {name:6s} jit={jit:3s} (XLA in effect: {row['jit_effective']}): "
                f"{row['sessions_per_s']:.2f} sessions/s "
                f"({row['s_per_step']:.2f} s/step, warm-up {row['warmup_s']:.0f} s, "
                f"CPU steal {_percent(row['steal'])})",
                flush=True,
            )
    print()
    print(
        "| config | batch | jit_compile asked | XLA in effect | s/step | sessions/s | CPU steal |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['config']} | {r['batch']} | {r['jit_compile']} | {r['jit_effective']} | "
            f"{r['s_per_step']:.2f} | {r['sessions_per_s']:.2f} | {_percent(r['steal'])} |"
        )
    print()
    print("command: python " + " ".join(sys.argv))
