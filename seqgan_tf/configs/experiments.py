"""Named experiments. Each is a function of the dataset that returns an ExperimentConfig.

    python scripts/train.py --dataset=deepfashion_seq --config=paper   # the paper's setting (GPU)
    python scripts/train.py --dataset=synth_zap_seq --config=quick     # minutes on a 2-core CPU
    (tests use `tiny`.)
"""

from __future__ import annotations

from collections.abc import Callable

from seqgan_tf.configs.experiment import (
    DamsmConfig,
    DataConfig,
    ExperimentConfig,
    ModelConfig,
    TrainConfig,
)

DATASETS = ("synth_zap_seq", "synth_deepfashion_seq", "zap_seq", "deepfashion_seq")


def damsm_weight_for(dataset: str) -> float:
    """Lambda of eq. 8: the paper uses 2 for Zap-Seq and 2.5 for DeepFashion-Seq."""
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {DATASETS}")
    return 2.5 if "deepfashion" in dataset else 2.0


def paper(dataset: str) -> ExperimentConfig:
    """Paper section 4/5: d_e=300, d_h=128, 64x64, Adam, batch 50, DAMSM gammas 4/5/10."""
    return ExperimentConfig(
        name="paper",
        data=DataConfig(dataset=dataset, global_batch_size=50, num_synthetic_sessions=10000),
        model=ModelConfig(text_dim=300, state_dim=128, embedding_dim=300, gf_dim=64, df_dim=64),
        damsm=DamsmConfig(weight=damsm_weight_for(dataset), pretrain_epochs=20),
        train=TrainConfig(epochs=120, recon_weight=0.0),
    )


def quick(dataset: str) -> ExperimentConfig:
    """Shows learning on a 2-core CPU within minutes: narrower nets, short DAMSM pretraining.

    Beyond the paper, so that about a thousand CPU steps already edit recognisably: an L1 term
    (recon_weight) and the previous image fed into each turn (use_previous_image, which also
    turns G into a U-Net that composes its drawing over the previous image through a mask).
    What did not work here, for the record: decoding the whole item from the 128-d state alone
    collapsed to one mean image after 200 steps; with the previous image and plain L1, 500
    steps learned to copy it (hence edit_weight, L1 up-weighted on the changed pixels); with a
    mask but no mask target, the mask closed before colours were learned (hence the edit-mask
    term and the L1 on the drawing itself). The generator's text encoder starts from the
    pretrained DAMSM's, as in AttnGAN.
    """
    return ExperimentConfig(
        name="quick",
        # Batch 20 instead of 50: ~2.5x more updates in the same CPU minutes.
        data=DataConfig(dataset=dataset, global_batch_size=20, num_synthetic_sessions=3000),
        model=ModelConfig(
            max_words=16, embedding_dim=64, text_dim=64, state_dim=128, noise_dim=32,
            gf_dim=16, df_dim=16, ef_dim=16, use_previous_image=True,
            # Chosen on the validation split by exact match (0.5 / 0.7 / 0.85 vs soft): see
            # the README's evaluation section.
            mask_threshold=0.7,
        ),
        damsm=DamsmConfig(
            weight=damsm_weight_for(dataset), embedding_dim=64, feature_dim=64,
            pretrain_epochs=2, pretrain_steps_per_epoch=100, learning_rate=1e-3,
            init_text_encoder=True,
        ),
        # recon_weight 100 (pix2pix's L1 weight): with lambda * DAMSM at its chance level (~45 per
        # session early on) and the adversarial terms, a weight of 10 left L1 flat for 500 steps.
        train=TrainConfig(
            epochs=12, steps_per_epoch=100, validation_steps=2, recon_weight=100.0,
            edit_weight=10.0, g_learning_rate=1e-3, d_learning_rate=2e-4, own_output_prob=0.5,
        ),
    )


def tiny(dataset: str) -> ExperimentConfig:
    """For tests: 16x16 images, a few channels, a couple of steps."""
    return ExperimentConfig(
        name="tiny",
        data=DataConfig(dataset=dataset, image_size=16, global_batch_size=4,
                        num_synthetic_sessions=40),
        model=ModelConfig(
            max_words=8, embedding_dim=8, text_dim=8, state_dim=8, noise_dim=4,
            gf_dim=4, df_dim=4, ef_dim=4,
        ),
        damsm=DamsmConfig(
            weight=damsm_weight_for(dataset), embedding_dim=8, feature_dim=8,
            pretrain_epochs=1, pretrain_steps_per_epoch=2, batch_size=4, init_text_encoder=True,
        ),
        train=TrainConfig(epochs=1, steps_per_epoch=2, validation_steps=1, recon_weight=1.0,
                          strip_sessions=2),
    )


EXPERIMENTS: dict[str, Callable[[str], ExperimentConfig]] = {
    "paper": paper,
    "quick": quick,
    "tiny": tiny,
}


def get_experiment(name: str, dataset: str) -> ExperimentConfig:
    """Returns the named experiment for `dataset`; raises ValueError naming the valid choices."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown config {name!r}; expected one of {sorted(EXPERIMENTS)}")
    return EXPERIMENTS[name](dataset)
