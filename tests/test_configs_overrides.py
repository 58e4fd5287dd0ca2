"""The one config-override function, and scripts/train.py's flags through it."""

import json
import os
import subprocess
import sys

import pytest

from seqgan_tf.configs import EditModeConfig, ExperimentConfig, get_experiment
from seqgan_tf.configs.overrides import override


def _quick():
    return get_experiment("quick", "synth_zap_seq")


def test_fields_are_set_and_none_keeps_the_config():
    config = override(_quick(), {"train.epochs": 3, "train.seed": None, "data.data_dir": "d"})
    assert (config.train.epochs, config.train.seed, config.data.data_dir) == (3, 0, "d")


def test_an_unknown_field_or_switch_is_named():
    with pytest.raises(ValueError, match="no setting 'epoch'"):
        override(_quick(), {"train.epoch": 3})
    with pytest.raises(ValueError, match="unknown config field 'epochs'"):
        override(_quick(), {"epochs": 3})
    with pytest.raises(ValueError, match="unknown switch 'attention'"):
        override(_quick(), switches={"attention": False})


def test_switches_take_what_only_acts_with_them():
    latent = override(_quick(), switches={"attribute_state": False})
    e = latent.edit
    assert (e.attribute_state, e.attribute_weight, e.classify_weight) == (False, 0.0, 0.0)
    assert (e.read_previous, e.skip_turn_rate) == (False, 0.0)
    assert e.generator == "unet" and e.enabled

    kept = override(_quick(), switches={"read_previous": True})
    assert kept.edit.skip_turn_rate == _quick().edit.skip_turn_rate > 0
    off = override(_quick(), switches={"read_previous": False, "classify": False})
    assert (off.edit.read_previous, off.edit.skip_turn_rate, off.edit.classify_weight) == (
        False,
        0.0,
        0.0,
    )

    heavy = override(_quick(), {"edit.g_classify_weight": 10.0})
    off = override(heavy, switches={"classify": False})
    assert (off.edit.classify_weight, off.edit.g_classify_weight) == (0.0, None)
    with pytest.raises(ValueError, match="g_classify_weight needs edit.classify_weight"):
        override(_quick(), {"edit.classify_weight": 0.0, "edit.g_classify_weight": 10.0})

    paper_generator = override(_quick(), switches={"edit": False})
    assert paper_generator.edit == EditModeConfig()
    assert paper_generator.inference.mask_threshold == 0.0


def test_a_refused_combination_raises():
    with pytest.raises(ValueError, match="attribute_state"):
        override(_quick(), switches={"edit": False, "attribute_state": True})
    with pytest.raises(ValueError, match="appearance_flow applies to edit.generator='unet'"):
        override(_quick(), {"edit.generator": "templates", "edit.appearance_flow": True})
    with pytest.raises(ValueError, match="train.feature_match_weight must be >= 0"):
        override(_quick(), {"train.feature_match_weight": -1.0})
    with pytest.raises(ValueError, match="train.g_learning_rate must be > 0, got 0.0"):
        override(_quick(), {"train.g_learning_rate": 0.0})
    with pytest.raises(ValueError, match="train.gradient_weight must be >= 0"):
        override(_quick(), {"train.gradient_weight": -1.0})
    with pytest.raises(ValueError, match="gradient_weight is part of the reconstruction"):
        override(_quick(), {"train.gradient_weight": 1.0, "train.recon_weight": 0.0})


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# scripts/train.py's flags are parsed in a process of their own: absl defines them on the global
# flag registry, where another script's flags of the same name (--dataset) would collide.
_PARSE = """
import json, sys
from absl import flags
from scripts import train
stored = sys.argv[1] or None
flags.FLAGS(["train.py", *sys.argv[2:]])
try:
    print(json.dumps(train.config_from_flags(stored).to_dict()))
except Exception as error:
    print("REFUSED", error)
"""


def _config_from(argv, stored=""):
    out = subprocess.run(
        [sys.executable, "-c", _PARSE, stored, *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    last = out.stdout.strip().splitlines()[-1]
    if last.startswith("REFUSED"):
        return last
    return ExperimentConfig.from_dict(json.loads(last))


def test_train_flags_map_to_the_same_config_as_their_fields():
    config = _config_from(
        ["--epochs=2", "--seed=1", "--batch_size=8", "--noattention", "--nodamsm",
         "--edit_generator=templates", "--noread_previous", "--noclassify", "--decay_share=0.25",
         "--feature_match_weight=10", "--gradient_weight=0.5", "--g_learning_rate=2e-3",
         "--d_learning_rate=4e-4", "--texture_weight=3"]
    )  # fmt: skip
    assert (config.train.epochs, config.train.seed, config.data.global_batch_size) == (2, 1, 8)
    assert (config.train.decay_share, config.train.feature_match_weight) == (0.25, 10.0)
    assert (config.train.gradient_weight, config.train.texture_weight) == (0.5, 3.0)
    assert (config.train.g_learning_rate, config.train.d_learning_rate) == (2e-3, 4e-4)
    assert _config_from(["--appearance_flow"]).edit.appearance_flow
    assert not config.model.use_attention and not config.damsm.enabled
    assert config.edit.generator == "templates"
    assert (config.edit.read_previous, config.edit.skip_turn_rate) == (False, 0.0)
    assert config.edit.classify_weight == 0.0
    assert config.edit.attribute_state  # untouched

    noedit = _config_from(["--noedit", "--edit_generator=templates"])
    assert not noedit.edit.enabled and noedit.edit.generator == "templates"
    assert _config_from([]).to_dict() == _quick().to_dict()  # no flag: the default config


def test_a_resumed_run_keeps_its_own_config_when_the_defaults_change(tmp_path):
    # A run started when quick read 16 words and kept its rates constant, resumed after
    # those defaults changed: it resumes as it was trained, with the flags given applied.
    old = _quick()
    old.model.max_words, old.train.decay_share, old.data.data_dir = 16, 0.0, "/elsewhere"
    stored = str(tmp_path / "config.json")
    old.save(stored)
    resumed = _config_from(["--epochs=20"], stored=stored)
    assert resumed.model.max_words == 16 and resumed.train.decay_share == 0.0
    assert resumed.data.data_dir == "/elsewhere"  # where it trained, unless --data_dir says
    assert resumed.train.epochs == 20
    assert _config_from(["--data_dir=/data"], stored=stored).data.data_dir == "/data"
    # A flag given again is applied (the trainer then refuses a change of identity).
    assert _config_from(["--seed=3"], stored=stored).train.seed == 3
    # Another named experiment or dataset than the run's is refused, naming both.
    refused = _config_from(["--config=paper"], stored=stored)
    assert refused.startswith("REFUSED") and "--config=quick run, not --config=paper" in refused
    refused = _config_from(["--dataset=photo_zap_seq"], stored=stored)
    assert "--dataset=synth_zap_seq run, not --dataset=photo_zap_seq" in refused
