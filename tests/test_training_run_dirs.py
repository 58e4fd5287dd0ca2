"""Default run folders (scripts/train.py) keep ablations apart from the full model."""

import os

from seqgan_tf.configs import get_experiment
from seqgan_tf.training.runs import default_run_dir


def test_ablations_get_their_own_default_run_folder():
    full = get_experiment("quick", "synth_zap_seq")
    assert default_run_dir("quick", "synth_zap_seq", full) == os.path.join(
        "runs", "quick_synth_zap_seq")
    ablation = get_experiment("quick", "synth_zap_seq")
    ablation.model.use_attention = False
    ablation.damsm.enabled = False
    assert default_run_dir("quick", "synth_zap_seq", ablation).endswith(
        "quick_synth_zap_seq_noattention_nodamsm")
    single = get_experiment("quick", "synth_zap_seq")
    single.model.use_history = False
    single.model.use_previous_image = False
    assert default_run_dir("quick", "synth_zap_seq", single).endswith(
        "_nohistory_noprevious_image")
    # paper does not use the previous image: turning it off there is no ablation.
    paper = get_experiment("paper", "zap_seq")
    assert default_run_dir("paper", "zap_seq", paper).endswith("paper_zap_seq")
