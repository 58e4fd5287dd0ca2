"""Trains SeqAttnGAN.

    python scripts/train.py --dataset=deepfashion_seq                  # quick config, all GPUs
    python scripts/train.py --dataset=synth_zap_seq --config=paper --run_dir=runs/paper_zap
    TF_CONFIG=... python scripts/train.py ...                           # one process per worker

Run the same command again after a crash or kill: it resumes from the last backup. A second
train.py on a run folder that a live process trains is refused, naming that process. A run
resumes with the config it was started with (<run_dir>/config.json); only the flags given
again are applied, and one that would change what the run trains is refused.
"""

from __future__ import annotations

import os
import sys

from absl import app, flags, logging

from seqgan_tf.configs import EXPERIMENTS
from seqgan_tf.configs.experiment import MIXED_PRECISION_POLICIES
from tfrecords.datasets import DATASETS, DEFAULT_DATASET

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Before TensorFlow loads: oneDNN kernels also on AVX2-only CPUs (see scripts/setup_env.sh).
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

FLAGS = flags.FLAGS
flags.DEFINE_enum("dataset", DEFAULT_DATASET, list(DATASETS), "Dataset to train on.")
flags.DEFINE_enum("config", "quick", sorted(EXPERIMENTS), "Named experiment.")
flags.DEFINE_string(
    "run_dir",
    None,
    "Run folder (default runs/<config>_<dataset>, plus "
    "_noattention / _nodamsm / _nohistory / _noedit / _noattribute_state / _noown_output for "
    "ablations and _seed<N> for other seeds).",
)
flags.DEFINE_string("data_dir", "data", "Root of the shard folders.")
flags.DEFINE_enum(
    "strategy",
    "auto",
    ["auto", "mirrored", "multi_worker", "default"],
    "auto: multi-worker from TF_CONFIG, else all GPUs, else CPU.",
)
flags.DEFINE_integer(
    "cpu_replicas",
    0,
    "Split the CPU into this many logical devices (for MirroredStrategy without GPUs).",
)
flags.DEFINE_integer("epochs", None, "Override the config's epochs.")
flags.DEFINE_integer("steps_per_epoch", None, "Override the config's steps per epoch.")
flags.DEFINE_integer("batch_size", None, "Override the global batch size.")
flags.DEFINE_integer("num_sessions", None, "Sessions to generate if a synthetic set is built.")
flags.DEFINE_bool("attention", True, "Word attention (False: the no-attention ablation).")
flags.DEFINE_bool("damsm", True, "DAMSM loss (False: the no-DAMSM ablation).")
flags.DEFINE_bool("history", True, "Carry the state over turns (False: single-turn baseline).")
flags.DEFINE_bool(
    "edit",
    None,
    "The edit generator over the image each turn edits (beyond "
    "the paper; default: the config's choice).",
)
flags.DEFINE_bool(
    "attribute_state",
    None,
    "Attribute slots in the state (beyond the paper; default: the config's choice).",
)
flags.DEFINE_enum(
    "edit_generator",
    None,
    ["unet", "templates"],
    "How an edit is drawn: unet (the default design) or templates (per-value templates "
    "placed by a shift of at most 2 px; fits the flat synthetic renderer only).",
)
flags.DEFINE_bool(
    "classify",
    None,
    "AttGAN's attribute classification on D (default: the config's choice).",
)
flags.DEFINE_float(
    "g_classify_weight",
    None,
    "Weight of AttGAN's attribute classification in G's loss (its lambda_2; default: the "
    "config's: quick sets 10 against D's 1, the measured best; 30 came apart on the "
    "photographic shoes, docs/results.md).",
)
flags.DEFINE_bool(
    "read_previous",
    None,
    "The generator edits from the design read off the image it edits (with compound-edit "
    "training); default: the config's choice.",
)
flags.DEFINE_bool(
    "own_output",
    None,
    "Half the training turns t >= 2 edit the model's own drawing of the turn before "
    "(scheduled sampling); default: the config's choice.",
)
flags.DEFINE_enum(
    "colour_transform",
    None,
    ["gain", "matrix"],
    "How the unet edit generator draws: a per-channel gain and bias per pixel, or a 3x3 "
    "colour matrix and a bias per pixel; default: the config's choice.",
)
flags.DEFINE_bool(
    "appearance_flow",
    None,
    "The unet edit generator also moves the pixels of the image it edits by a predicted dense "
    "flow before its colour transform; default: the config's choice.",
)
flags.DEFINE_bool(
    "anchor_first",
    None,
    "Every turn redraws the session's first image (carried in the serving state) with the "
    "whole design change so far, instead of the image before it; default: the config's choice.",
)
flags.DEFINE_float("word_dropout", None, "Share of training words replaced by the unknown-word id.")
flags.DEFINE_float(
    "terse_rate", None, "Share of training turns whose description loses its function words."
)
flags.DEFINE_float(
    "decay_share", None, "The last this share of the updates lowers the learning rates to 0."
)
flags.DEFINE_integer(
    "restart_epochs",
    None,
    "The last this many epochs restart the learning rates at full and lower them to 0 again "
    "(a warm restart; 0 = none).",
)
flags.DEFINE_float(
    "g_average_momentum",
    None,
    "Keep an exponential moving average of the generator's weights with this momentum and "
    "make it the trained model (final.weights.h5, exports; 0 = off, the configs' default: "
    "0.998 read fewer edits than the weights as trained after quick's 12 epochs, "
    "docs/results.md).",
)
flags.DEFINE_float("recon_weight", None, "Override the L1 weight (0 = paper objective).")
flags.DEFINE_float("g_learning_rate", None, "Override the generator's Adam learning rate.")
flags.DEFINE_float("d_learning_rate", None, "Override the discriminator's Adam learning rate.")
flags.DEFINE_float(
    "feature_match_weight",
    None,
    "Weight of feature matching on D's feature maps in G's loss (0 = off); default: the "
    "config's choice.",
)
flags.DEFINE_float(
    "gradient_weight",
    None,
    "Weight of the gradient difference loss (L1 between the drawn and the true image's "
    "neighbouring-pixel differences) in the reconstruction (0 = off); default: the config's.",
)
flags.DEFINE_float(
    "texture_weight",
    None,
    "Weight of the texture-energy term (L1 between the drawn and the true image's local "
    "contrast over 4- and 8-pixel windows: weaves and prints at any phase) in the "
    "reconstruction (0 = off); default: the config's.",
)
flags.DEFINE_integer("seed", None, "Override the training seed (weights, noise, data order).")
flags.DEFINE_bool("jit_compile", None, "XLA-compile the train step.")
flags.DEFINE_enum(
    "mixed_precision",
    "float32",
    MIXED_PRECISION_POLICIES,
    "Keras dtype policy "
    "of the model (for GPUs; bf16 is 7-13x slower on CPUs without AVX-512 BF16).",
)
flags.DEFINE_string("resnet101_weights", "", "Local ImageNet ResNet-101 no-top .h5 file.")
flags.DEFINE_bool("overwrite", False, "Discard an existing run in run_dir.")
flags.DEFINE_integer("verbose", 1, "Keras verbosity (1 = progress bar).")
flags.DEFINE_integer(
    "snapshot_every",
    0,
    "Also keep the weights every N epochs in "
    "<run_dir>/snapshots/ (for figures against training time; 0 = off).",
)


# Config field -> the flag that sets it; switches (seqgan_tf.configs.overrides) -> their flag.
FIELD_FLAGS = {
    "data.data_dir": "data_dir",
    "train.epochs": "epochs",
    "train.steps_per_epoch": "steps_per_epoch",
    "data.global_batch_size": "batch_size",
    "data.num_synthetic_sessions": "num_sessions",
    "train.recon_weight": "recon_weight",
    "train.g_learning_rate": "g_learning_rate",
    "train.d_learning_rate": "d_learning_rate",
    "train.feature_match_weight": "feature_match_weight",
    "train.gradient_weight": "gradient_weight",
    "train.texture_weight": "texture_weight",
    "train.decay_share": "decay_share",
    "train.restart_epochs": "restart_epochs",
    "train.g_average_momentum": "g_average_momentum",
    "train.seed": "seed",
    "train.jit_compile": "jit_compile",
    "train.mixed_precision": "mixed_precision",
    "model.use_attention": "attention",
    "model.use_history": "history",
    "edit.generator": "edit_generator",
    "edit.colour_transform": "colour_transform",
    "edit.appearance_flow": "appearance_flow",
    "edit.g_classify_weight": "g_classify_weight",
    "model.word_dropout": "word_dropout",
    "model.terse_rate": "terse_rate",
    "model.resnet101_weights": "resnet101_weights",
    "damsm.enabled": "damsm",
}
# In this order: a later switch can turn off what an earlier one set.
SWITCH_FLAGS = (
    *("edit", "anchor_first", "attribute_state", "read_previous", "classify", "own_output"),
)


def config_from_flags(stored_config: str | None = None):
    """The named experiment with every flag applied (seqgan_tf.configs.overrides).

    With stored_config (the config.json of the run being resumed), that config with only the
    flags given on the command line applied: a run resumes as it was trained even after a
    named config's defaults change. --config or --dataset naming another experiment than the
    stored one is refused; any other flag that changes the run's identity is refused by the
    trainer, naming the fields.
    """
    from seqgan_tf.configs import get_experiment
    from seqgan_tf.configs.experiment import ExperimentConfig
    from seqgan_tf.configs.overrides import override

    def given(name):
        return stored_config is None or bool(FLAGS[name].present)

    if stored_config is None:
        base = get_experiment(FLAGS.config, FLAGS.dataset)
    else:
        base = ExperimentConfig.load(stored_config)
        for flag, stored in (("config", base.name), ("dataset", base.data.dataset)):
            if given(flag) and FLAGS[flag].value != stored:
                raise app.UsageError(
                    f"{stored_config} is a --{flag}={stored} run, not --{flag}="
                    f"{FLAGS[flag].value}: pick a new --run_dir or pass --overwrite"
                )
    fields = {f: FLAGS[name].value for f, name in FIELD_FLAGS.items() if given(name)}
    switches = {name: FLAGS[name].value for name in SWITCH_FLAGS if given(name)}
    try:
        return override(base, fields, switches)
    except ValueError as e:
        raise app.UsageError(str(e)) from e


def main(argv):
    del argv
    logging.set_verbosity(logging.INFO)  # the run's progress messages are for the user
    from seqgan_tf.training.strategy import split_cpu

    split_cpu(FLAGS.cpu_replicas)  # before anything initialises TensorFlow's devices
    from seqgan_tf.training.strategy import make_strategy
    from seqgan_tf.training.trainer import train

    config = config_from_flags()
    from seqgan_tf.training.run_folder import CONFIG_FILE, default_run_dir

    run_dir = FLAGS.run_dir or default_run_dir(FLAGS.config, FLAGS.dataset, config, seed=FLAGS.seed)
    stored = os.path.join(run_dir, CONFIG_FILE)
    if os.path.exists(stored) and not FLAGS.overwrite:  # resuming: the run's own config
        config = config_from_flags(stored)
    from seqgan_tf.training.run_lock import RunFolderBusyError

    try:
        train(
            config,
            run_dir,
            make_strategy(FLAGS.strategy),
            verbose=FLAGS.verbose,
            overwrite=FLAGS.overwrite,
            snapshot_every=FLAGS.snapshot_every,
        )
    except RunFolderBusyError as e:
        sys.exit(f"train.py: {e}")


def run():
    app.run(main)


if __name__ == "__main__":
    run()
