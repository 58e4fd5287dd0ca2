"""DAMSM pretraining runs the steps it is configured for, validates on the whole val split and
leaves no Keras warning (no "input ran out of data", no ignored shuffle)."""

import warnings

import pytest
import tensorflow as tf

from seqgan_tf.configs import get_experiment
from seqgan_tf.data.input_pipeline import count_turns
from seqgan_tf.text.normalization import build_vocabulary
from seqgan_tf.training.damsm_pretraining import pretrain_damsm
from seqgan_tf.training.trainer import training_texts
from tfrecords.synthetic_builder import build_synthetic

DATASET = "synth_zap_seq"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("data"))
    build_synthetic(DATASET, root, 60, seed=0, image_size=16)
    return root


@pytest.mark.parametrize("steps_per_epoch", [0, 3])
def test_pretraining_runs_the_configured_steps_without_warnings(
    data_dir, tmp_path, steps_per_epoch
):
    config = get_experiment("tiny", DATASET)
    config.data.data_dir = data_dir
    config.damsm.pretrain_epochs = 2
    config.damsm.pretrain_steps_per_epoch = steps_per_epoch
    vocabulary = build_vocabulary(training_texts(config))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, metrics = pretrain_damsm(
            config, vocabulary, str(tmp_path), tf.distribute.get_strategy(), verbose=0
        )
    data_warnings = [
        str(w.message)
        for w in caught
        if "ran out of data" in str(w.message) or "shuffle" in str(w.message)
    ]
    assert not data_warnings
    pool = config.damsm.batch_size
    one_pass = count_turns(data_dir, DATASET, "train", config.data.max_turns) // pool
    assert metrics["steps_per_epoch"] == (steps_per_epoch or one_pass)
    assert count_turns(data_dir, DATASET, "val", config.data.max_turns) >= pool
    assert "val_loss" in metrics
