"""Training throughput (sessions/s) of SeqAttnGAN's train_step for named configs.

    python scripts/benchmark.py --target=training
    python scripts/benchmark.py --target=training --configs=quick --jit=off --steps=20
    python scripts/benchmark.py --target=training --configs=quick --jit=off --flops \
        --session_turns=4,3,2,3

Synthetic in-memory batches in the pipeline's layout (so the figure is the model's, not the
input pipeline's; see --target=pipeline for that), one device, after warm-up steps that absorb
tracing and compilation. With --flops it also counts the step's FLOPs at the shapes it ran with
(`step_flops`) and sets the achieved FLOP/s against the machine's peak: a float32 matmul's,
measured in the same process with the same threads (a nominal peak from /proc/cpuinfo's clock
would not bound it: this machine's matmul reached 219 GFLOP/s where 2 cores x 2.6 GHz x 32
FLOP/cycle give 166, as the clock boosts). Ops in nested functions and loops are not counted;
their number is printed.
"""

from __future__ import annotations

import itertools
import sys
import time

import numpy as np
from absl import flags

from benchmarks import step_flops
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
    flags.DEFINE_list(
        "session_turns",
        [],
        "Real turns of the batch's sessions, cycled over the batch (e.g. 4,3,2,3: 3 on average, "
        "as the synthetic sets' 2.99); empty: every session has max_turns.",
    )
    flags.DEFINE_bool("flops", False, "Also count the step's FLOPs and report FLOP/s vs peak.")
    flags.DEFINE_list(
        "precisions",
        ["float32"],
        "Keras dtype policies the model is built under, timed in this order for each jit setting "
        "(e.g. float32,mixed_bfloat16,float32,mixed_bfloat16), as train.py --mixed_precision.",
    )


def cpu_times() -> tuple[float, float] | None:
    """(steal, total) jiffies of all CPUs from /proc/stat, or None off Linux. Steal is time the
    hypervisor gave this VM's virtual CPUs to someone else; the benchmark reports it so that a
    slow row can be told apart from a busy host (here it read 0% in every row, including the
    unexplained slow processes docs/performance.md mentions)."""
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


def turn_mask(batch: int, max_turns: int, session_turns: list[int]) -> np.ndarray:
    """[batch, max_turns] 1/0: session i has session_turns[i % len] real turns (all if empty)."""
    mask = np.ones((batch, max_turns), np.float32)
    for i in range(batch if session_turns else 0):
        n = session_turns[i % len(session_turns)]
        if not 1 <= n <= max_turns:
            raise ValueError(f"--session_turns: {n} is not in 1..{max_turns}")
        mask[i, n:] = 0.0
    return mask


def _batch(config, rng, session_turns=()):
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
        "turn_mask": tf.constant(turn_mask(b, t, list(session_turns))),
        "attribute_ids": tf.constant(
            np.stack([rng.integers(0, n, (b, t + 1)) for n in config.model.attribute_sizes], -1)
            .reshape(b, t + 1, -1)
            .astype(np.int32)
        ),
        "changed_mask": tf.constant(np.ones((b, t, len(config.model.attribute_sizes)), np.float32)),
        "session_id": tf.constant([f"bench-{i}" for i in range(b)]),
    }


def step_clock():
    """A Keras callback timing the steps of a `fit` call, from the first step's start to the last
    step's end (`.elapsed()`), not the whole call: in some processes here a `fit` call ended with
    seconds of teardown after its last step and after on_train_end (10 steps of 0.65-0.69 s took
    10.24 s in 3 of 4 processes, 6.6 s in the fourth). A training run pays that once per `fit`,
    not per step, so timing whole calls made this machine's step look bimodal."""
    import keras

    class StepClock(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.start = self.end = None

        def on_train_batch_begin(self, batch, logs=None):
            if self.start is None:
                self.start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            self.end = time.perf_counter()

        def elapsed(self) -> float:
            return self.end - self.start

    return StepClock()


def time_config(
    name: str,
    jit: bool,
    steps: int,
    warmup: int,
    damsm: bool,
    session_turns: list[int] = (),
    count_flops: bool = False,
    precision: str = "float32",
) -> dict:
    import keras
    import tensorflow as tf

    from seqgan_tf.configs import get_experiment
    from seqgan_tf.configs.overrides import override
    from seqgan_tf.training import runs

    # The synthetic shoes' schema sizes (the trainer derives them from dataset_info.json).
    shoe_schema_sizes = [6, 13, 4, 3, 3, 4, 5, 3]
    config = override(
        get_experiment(name, DEFAULT_DATASET), {"model.attribute_sizes": shoe_schema_sizes}
    )
    vocab = ["make", "it", "red", "has", "a", "higher", "heel", "laces", "boot", "blue"]
    keras.backend.clear_session()
    model = runs.build_model_under_policy(config, vocab, precision)  # as the trainer builds it
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
    batch = model.preprocessor(_batch(config, np.random.default_rng(0), session_turns))
    flops = None
    if count_flops:  # one step of its own (a tf.function of train_step), before the timing
        flops = step_flops.count_step_flops(model.train_step, batch)
    ds = tf.data.Dataset.from_tensors(batch).repeat()
    t0 = time.time()
    model.fit(ds, epochs=1, steps_per_epoch=warmup, verbose=0)
    warm = time.time() - t0
    clock = step_clock()
    cpu0 = cpu_times()
    model.fit(ds, epochs=1, steps_per_epoch=steps, verbose=0, callbacks=[clock])
    elapsed, cpu1 = clock.elapsed(), cpu_times()
    b = config.data.global_batch_size
    return {
        # What actually ran (Keras can turn jit_compile off).
        "config": name,
        "precision": precision,
        # The model's layers that compute in bfloat16 (0 under float32).
        "bf16_layers": sum(
            layer.dtype_policy.compute_dtype == "bfloat16" for layer in model._flatten_layers()
        ),
        "jit_compile": jit,
        "jit_effective": bool(model.jit_compile),
        "batch": b,
        "image_size": config.data.image_size,
        "steps": steps,
        "s_per_step": elapsed / steps,
        "sessions_per_s": b * steps / elapsed,
        "warmup_s": warm,
        "steal": steal_fraction(cpu0, cpu1),
        "turns": float(batch["turn_mask"].numpy().sum()),
        "gflop_per_step": None if flops is None else flops.total / 1e9,
        "gflop_by_type": None if flops is None else {k: v / 1e9 for k, v in flops.by_type.items()},
        "uncounted_nested": None if flops is None else flops.nested_calls,
    }


def matmul_peak_gflops(n: int = 2048, repeats: int = 8) -> float:
    """The best of `repeats` float32 [n, n] @ [n, n] products, in GFLOP/s: what this machine's
    TensorFlow reaches on the friendliest dense work, all cores."""
    import tensorflow as tf

    a = tf.random.normal([n, n])
    b = tf.random.normal([n, n])
    product = tf.function(lambda x, y: tf.reduce_sum(tf.matmul(x, y)))
    product(a, b).numpy()
    best = float("inf")
    for _ in range(repeats):
        tic = time.perf_counter()
        product(a, b).numpy()
        best = min(best, time.perf_counter() - tic)
    return 2.0 * n**3 / best / 1e9


def _percent(fraction: float | None) -> str:
    return "n/a" if fraction is None else f"{100 * fraction:.0f}%"


def check_precisions(precisions: list[str]) -> None:
    """Refuses a --precisions entry that is not a Keras policy train.py accepts, naming it."""
    from seqgan_tf.configs.experiment import MIXED_PRECISION_POLICIES

    for precision in precisions:
        if precision not in MIXED_PRECISION_POLICIES:
            raise ValueError(f"--precisions takes {MIXED_PRECISION_POLICIES}, got {precision!r}")


def main_with_flags(argv: list[str]) -> None:
    del argv
    session_turns = [int(n) for n in FLAGS.session_turns]
    check_precisions(FLAGS.precisions)
    rows = []
    for name in FLAGS.configs:
        for jit, precision in itertools.product(FLAGS.jit, FLAGS.precisions):
            if jit not in ("on", "off"):
                raise ValueError(f"--jit takes on/off, got {jit!r}")
            row = time_config(
                name,
                jit == "on",
                FLAGS.steps,
                FLAGS.warmup_steps,
                FLAGS.damsm,
                session_turns,
                FLAGS.flops,
                precision,
            )
            rows.append(row)
            print(
                f"  {name:6s} jit={jit:3s} {precision} (XLA in effect: {row['jit_effective']}): "
                f"{row['sessions_per_s']:.2f} sessions/s "
                f"({row['s_per_step']:.2f} s/step, warm-up {row['warmup_s']:.0f} s, "
                f"CPU steal {_percent(row['steal'])})",
                flush=True,
            )
    print()
    print(
        "| config | batch | precision | jit_compile asked | XLA in effect | s/step | sessions/s "
        "| CPU steal |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['config']} | {r['batch']} | {r['precision']} | {r['jit_compile']} | "
            f"{r['jit_effective']} | "
            f"{r['s_per_step']:.2f} | {r['sessions_per_s']:.2f} | {_percent(r['steal'])} |"
        )
    if FLAGS.flops:
        print_flops_table(rows)
    print()
    print("command: python " + " ".join(sys.argv))


def print_flops_table(rows: list[dict]) -> None:
    matmul = matmul_peak_gflops()
    print()
    print(f"peak: float32 matmul (2048^3, best of 8, this process) {matmul:.1f} GFLOP/s")
    print()
    print("| config | jit | real turns | GFLOP/step | s/step | GFLOP/s | of matmul peak |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        achieved = r["gflop_per_step"] / r["s_per_step"]
        print(
            f"| {r['config']} | {'on' if r['jit_compile'] else 'off'} | {r['turns']:.0f} | "
            f"{r['gflop_per_step']:.1f} | {r['s_per_step']:.2f} | {achieved:.1f} | "
            f"{100 * achieved / matmul:.0f}% |"
        )
    for r in rows:
        parts = ", ".join(
            f"{k} {v:.1f}" for k, v in sorted(r["gflop_by_type"].items(), key=lambda kv: -kv[1])
        )
        print(f"  {r['config']}: GFLOP by op: {parts}")
        print(
            f"  {r['config']}: not counted: {r['uncounted_nested']} nested functions or loops "
            "(e.g. the BiLSTM text encoders' while loops and their gradients)"
        )
