"""Default run folders (scripts/train.py) keep ablations apart from the full model."""

import os

import pytest

from seqgan_tf.configs import get_experiment
from seqgan_tf.configs.overrides import override
from seqgan_tf.training.run_folder import default_run_dir


def test_ablations_get_their_own_default_run_folder():
    full = get_experiment("quick", "synth_zap_seq")
    assert default_run_dir("quick", "synth_zap_seq", full) == os.path.join(
        "runs", "quick_synth_zap_seq"
    )
    ablation = get_experiment("quick", "synth_zap_seq")
    ablation.model.use_attention = False
    ablation.damsm.enabled = False
    assert default_run_dir("quick", "synth_zap_seq", ablation).endswith(
        "quick_synth_zap_seq_noattention_nodamsm"
    )
    single = get_experiment("quick", "synth_zap_seq")
    single.model.use_history = False
    single.edit.attribute_state = False
    assert default_run_dir("quick", "synth_zap_seq", single, seed=1).endswith(
        "_nohistory_noattribute_state_seed1"
    )
    # paper has no edit mode: turning it off there is no ablation.
    paper = get_experiment("paper", "zap_seq")
    assert default_run_dir("paper", "zap_seq", paper).endswith("paper_zap_seq")


def test_resuming_ignores_runtime_settings_but_not_the_model(tmp_path):
    from seqgan_tf.training.trainer import _check_config

    config = get_experiment("tiny", "synth_zap_seq")
    _check_config(config, str(tmp_path), overwrite=False)
    config.data.data_dir = "/elsewhere"
    config.train.jit_compile = True
    config.inference.mask_threshold = 0.0
    _check_config(config, str(tmp_path), overwrite=False)  # resumes: same trained model
    config.model.gf_dim += 1
    with pytest.raises(ValueError, match="model.gf_dim"):
        _check_config(config, str(tmp_path), overwrite=False)


def test_edit_mode_settings_that_do_nothing_are_refused():
    config = get_experiment("paper", "synth_zap_seq")
    config.edit.edit_weight = 3.0
    with pytest.raises(ValueError, match="edit.edit_weight only act in edit mode"):
        config.validate()
    quick = get_experiment("quick", "synth_zap_seq")
    quick.edit.attribute_weight = 0.0
    with pytest.raises(ValueError, match="needs edit.attribute_weight"):
        quick.validate()


def test_paper_config_is_the_papers_objective():
    paper = get_experiment("paper", "synth_deepfashion_seq")
    assert (paper.model.text_dim, paper.model.state_dim) == (300, 128)
    assert paper.damsm.enabled and paper.damsm.weight == 2.5
    assert paper.train.recon_weight == 0.0 and paper.data.augment
    assert not paper.edit.enabled and paper.inference.mask_threshold == 0.0


def test_the_other_edit_generator_and_no_classification_get_their_own_folders():
    templates = get_experiment("quick", "photo_zap_seq")
    templates.edit.generator = "templates"
    templates.edit.classify_weight = 0.0
    assert default_run_dir("quick", "photo_zap_seq", templates).endswith(
        "quick_photo_zap_seq_noclassify_templates"
    )
    anchored = override(get_experiment("quick", "photo_zap_seq"), switches={"anchor_first": True})
    assert (anchored.edit.anchor, anchored.edit.own_output_rate) == ("first", 0.0)
    assert default_run_dir("quick", "photo_zap_seq", anchored).endswith(
        "quick_photo_zap_seq_anchor_first"
    )
    no_own = override(get_experiment("quick", "photo_zap_seq"), switches={"own_output": False})
    assert no_own.edit.own_output_rate == 0.0
    assert default_run_dir("quick", "photo_zap_seq", no_own).endswith(
        "quick_photo_zap_seq_noown_output"
    )
    flow = override(get_experiment("quick", "photo_zap_seq"), {"edit.appearance_flow": True})
    assert default_run_dir("quick", "photo_zap_seq", flow).endswith("quick_photo_zap_seq_flow")
    terse = override(get_experiment("quick", "photo_zap_seq"), {"model.terse_rate": 0.3})
    assert default_run_dir("quick", "photo_zap_seq", terse).endswith("quick_photo_zap_seq_terse0.3")


def test_full_is_the_quick_design_at_the_papers_scale():
    quick, full = (get_experiment(n, "deepfashion_seq") for n in ("quick", "full"))
    assert full.edit == quick.edit and full.edit.generator == "unet"
    assert full.inference == quick.inference and full.data.augment
    assert full.data.global_batch_size == 50
    assert (full.model.text_dim, full.model.state_dim) == (300, 128)


def test_long_is_quick_trained_longer_with_a_four_epoch_decaying_tail():
    quick, long = (get_experiment(n, "photo_zap_seq") for n in ("quick", "long"))
    assert (long.edit, long.model, long.data) == (quick.edit, quick.model, quick.data)
    assert long.train.epochs == 32 and long.train.epochs * long.train.decay_share == 4
    assert long.train.steps_per_epoch == quick.train.steps_per_epoch
    assert default_run_dir("long", "photo_zap_seq", long) == os.path.join(
        "runs", "long_photo_zap_seq"
    )


def test_train_script_defaults_to_the_editor_design():
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = "from absl import flags\nfrom scripts import train\nprint(flags.FLAGS['config'].default)"
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert out.stdout.strip().splitlines()[-1] == "quick", out.stderr


def test_a_runs_attribute_schema_comes_from_the_run_or_its_dataset(tmp_path):
    import json

    from seqgan_tf.training.run_folder import (
        ATTRIBUTE_SCHEMA_FILE,
        CONFIG_FILE,
        load_attribute_schema,
    )
    from tfrecords.synthetic_builder import build_synthetic

    data_dir = str(tmp_path / "data")
    build_synthetic("synth_zap_seq", data_dir, 12, seed=0, image_size=16)
    with open(os.path.join(data_dir, "synth_zap_seq", "1.0.0", "dataset_info.json")) as f:
        dataset_schema = json.load(f)["attribute_schema"]
    config = get_experiment("tiny_edit", "synth_zap_seq")
    config.data.data_dir = data_dir
    config.model.attribute_sizes = [len(v) for v in dataset_schema.values()]
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    config.save(str(run_dir / CONFIG_FILE))
    # A run trained before the schema was saved with it: read from its dataset.
    assert load_attribute_schema(str(run_dir)) == dataset_schema
    saved = {name: list(reversed(values)) for name, values in dataset_schema.items()}
    (run_dir / ATTRIBUTE_SCHEMA_FILE).write_text(json.dumps(saved))
    assert load_attribute_schema(str(run_dir)) == saved  # the run's own copy wins
    (run_dir / ATTRIBUTE_SCHEMA_FILE).write_text(json.dumps({"colour": ["red"]}))
    with pytest.raises(ValueError, match="sizes"):
        load_attribute_schema(str(run_dir))
    config.edit.attribute_state = False
    config.save(str(run_dir / CONFIG_FILE))
    assert load_attribute_schema(str(run_dir)) is None


def test_a_missing_synthetic_set_is_built_through_builders_build(tmp_path, monkeypatch):
    from seqgan_tf.training import trainer
    from tfrecords import builders
    from tfrecords.build.request import BuildRequest

    requests = []
    real_build = builders.build

    def build(request):
        requests.append(request)
        return real_build(request)

    monkeypatch.setattr(builders, "build", build)
    config = get_experiment("tiny", "synth_zap_seq")
    config.data.data_dir = str(tmp_path)
    config.data.num_synthetic_sessions = 12
    info = trainer.ensure_dataset(config)
    expected = BuildRequest("synth_zap_seq", str(tmp_path), num_sessions=12, seed=config.data.seed)
    assert requests == [expected]
    assert sum(info["split_sizes"].values()) == 12
    assert trainer.ensure_dataset(config)["fingerprint"] == info["fingerprint"]  # reused
    assert len(requests) == 1
    config.data.dataset = "zap_seq"  # no raw folder to build it from: the error, no build
    with pytest.raises(FileNotFoundError, match="raw folder"):
        trainer.ensure_dataset(config)
    assert len(requests) == 1
