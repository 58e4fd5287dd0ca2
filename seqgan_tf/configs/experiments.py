"""Named experiments. Each is a function of the dataset that returns an ExperimentConfig.

python scripts/train.py --dataset=photo_zap_seq                    # quick: the default design
python scripts/train.py --dataset=photo_zap_seq --config=long      # the same design, 32 epochs
python scripts/train.py --dataset=photo_zap_seq --config=longer    # long + a 16-epoch restart
python scripts/train.py --dataset=deepfashion_seq --config=full    # the same design, GPU scale
python scripts/train.py --dataset=deepfashion_seq --config=paper   # the paper's own objective
(tests use `tiny`.)
"""

from __future__ import annotations

from collections.abc import Callable

from seqgan_tf.configs.experiment import (
    DamsmConfig,
    DataConfig,
    EditModeConfig,
    ExperimentConfig,
    InferenceConfig,
    ModelConfig,
    TrainConfig,
)
from tfrecords import datasets


def damsm_weight_for(dataset: str) -> float:
    """Lambda of eq. 8: the paper uses 2 for Zap-Seq and 2.5 for DeepFashion-Seq."""
    return 2.5 if datasets.entry(dataset).domain == datasets.GARMENTS else 2.0


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
    """The editor design at CPU scale: the default of train.py and the main job.

        python scripts/train.py --dataset=photo_zap_seq          # --config=quick is the default

    Beyond the paper (each a switch in `edit`, each with its own evaluation row): the edit
    generator over x_{t-1} (EditUNet: an encoder-decoder conditioned on the design change at
    every scale, drawing a per-pixel colour transform of x_{t-1} through a mask), the attribute
    slots in the state, the reconstruction terms and AttGAN's attribute classification on D.
    GAN + DAMSM stay as in the paper. Nothing in it knows how a renderer places or draws
    things; the paper's flips and crops are on.
    """
    return ExperimentConfig(
        name="quick",
        # Batch 16: more updates per CPU minute.
        data=DataConfig(dataset=dataset, global_batch_size=16, num_synthetic_sessions=20000),
        # 24 words: 8.9% of the grammar's descriptions are longer than 16 (0.03% than 24).
        model=ModelConfig(
            max_words=24,
            embedding_dim=64,
            text_dim=64,
            state_dim=128,
            noise_dim=16,
            gf_dim=16,
            df_dim=16,
            ef_dim=16,
            word_dropout=0.1,
        ),
        edit=EditModeConfig(
            enabled=True,
            attribute_state=True,
            edit_weight=10.0,
            attribute_weight=1.0,
            generator="unet",
            classify_weight=1.0,
            # AttGAN's weights: G's classification term 10, D's 1 (against the L1's 100). On
            # the photographic shoes at 12 epochs (D at 2e-4): edit accuracy 0.736 against
            # 0.612-0.617 with G's weight 1 (docs/results.md).
            g_classify_weight=10.0,
            read_previous=True,
            skip_turn_rate=0.25,
            # Half the other turns t >= 2 edit the model's own drawing of the turn before.
            own_output_rate=0.5,
        ),
        damsm=DamsmConfig(
            weight=damsm_weight_for(dataset),
            embedding_dim=64,
            feature_dim=64,
            pretrain_epochs=2,
            pretrain_steps_per_epoch=100,
            learning_rate=1e-3,
            init_text_encoder=True,
            max_pairs=16,
        ),
        # recon_weight 100 (pix2pix's L1 weight) against the adversarial and DAMSM terms.
        # The last third of the updates lowers both learning rates linearly (pix2pix's tail).
        # D at 1e-3 rather than 2e-4: on the photographs' final slices, edit accuracy 0.792 and
        # 0.780 (shoes, 2 seeds) against 0.754, 0.846 (garments) against 0.821; SSIM up to 0.01
        # lower per turn, the edit-region error 0.013-0.025 higher, and on the flat shoes no
        # gain (docs/results.md).
        train=TrainConfig(
            epochs=12,
            steps_per_epoch=180,
            validation_steps=2,
            recon_weight=100.0,
            g_learning_rate=1e-3,
            d_learning_rate=1e-3,
            decay_share=1 / 3,
        ),
        # Hard mask at inference: a pixel is redrawn or copied exactly.
        inference=InferenceConfig(mask_threshold=0.5),
    )


def long(dataset: str) -> ExperimentConfig:
    """`quick` trained 32 epochs instead of 12, the learning rates decaying over the last 4.

        python scripts/train.py --dataset=photo_zap_seq --config=long

    The main job's 45 minutes buy `quick` 12 epochs, and on photographs the edits keep
    improving well past that. On the photographic shoes' final slice (docs/results.md, "`long`
    with D at 1e-3"), seed 1: edit accuracy 0.761 at epoch 12, 0.879 at 24, 0.909 at 28 and
    0.923 after the 32, against 0.704, 0.822, 0.855 and 0.876 with D at 2e-4 (the rate
    `long` had before 2026-12-07, update for update the same schedule). About 103 minutes of a
    2-core AMD EPYC at the 169-224 s an epoch measured there (docs/training.md).
    """
    config = quick(dataset)
    config.name = "long"
    config.train.epochs = 32
    config.train.decay_share = 0.125
    return config


def longer(dataset: str) -> ExperimentConfig:
    """`long`'s 32 epochs with D at 2e-4, then 16 more with both learning rates back at their
    initial values and falling linearly to 0 over them (a warm restart), 48 in all.

        python scripts/train.py --dataset=photo_zap_seq --config=longer

    The first config measured at #21's classifier targets on photographs (docs/results.md,
    photographic shoes' final slice, seed 0: edit accuracy 0.902, preservation 0.954, exact
    match 0.723, against 0.893 / 0.944 / 0.685 for its first 32 epochs, on that run continued with this
    schedule; seed 1 started as `longer`: 0.898 / 0.938 / 0.682 through a judge that reads the
    truth lower, with the same pixel figures); the pixel targets are still missed. About 114
    minutes of a 2-core Xeon at 142 s an epoch, 162 of a 2-core AMD EPYC at
    202 s (measured), about 125 estimated at the 149-166 s an epoch of another day there.
    """
    config = long(dataset)
    config.name = "longer"
    config.train.epochs = 48
    config.train.restart_epochs = 16
    # The rate `longer` was measured with; D at quick's and long's 1e-3 over its 48 epochs and
    # the warm restart is unmeasured.
    config.train.d_learning_rate = 2e-4
    return config


def full(dataset: str) -> ExperimentConfig:
    """The editor design at the paper's scale, for GPUs (d_e = 300, d_h = 128, batch 50).

        python scripts/train.py --dataset=deepfashion_seq --config=full --jit_compile \
            --mixed_precision=mixed_bfloat16

    The same design as `quick` (so the same switches and rows apply), with the paper's widths
    and batch and a longer schedule; the learning rates are the paper's (2e-4).
    """
    config = quick(dataset)
    config.name = "full"
    config.data.global_batch_size = 50
    config.model = ModelConfig(
        max_words=24,
        text_dim=300,
        state_dim=128,
        embedding_dim=300,
        noise_dim=100,
        gf_dim=64,
        df_dim=64,
        word_dropout=0.1,
    )
    config.damsm = DamsmConfig(
        weight=damsm_weight_for(dataset),
        embedding_dim=300,
        feature_dim=300,
        pretrain_epochs=20,
        init_text_encoder=True,
    )
    config.train = TrainConfig(
        epochs=120, recon_weight=100.0, validation_steps=4, decay_share=1 / 3
    )
    return config


def tiny(dataset: str) -> ExperimentConfig:
    """For tests: 16x16 images, a few channels, a couple of steps."""
    return ExperimentConfig(
        name="tiny",
        data=DataConfig(
            dataset=dataset, image_size=16, global_batch_size=4, num_synthetic_sessions=40
        ),
        model=ModelConfig(
            max_words=8,
            embedding_dim=8,
            text_dim=8,
            state_dim=8,
            noise_dim=4,
            gf_dim=4,
            df_dim=4,
            ef_dim=4,
        ),
        damsm=DamsmConfig(
            weight=damsm_weight_for(dataset),
            embedding_dim=8,
            feature_dim=8,
            pretrain_epochs=1,
            pretrain_steps_per_epoch=2,
            batch_size=4,
            init_text_encoder=True,
        ),
        train=TrainConfig(
            epochs=1, steps_per_epoch=2, validation_steps=1, recon_weight=1.0, strip_sessions=2
        ),
    )


def tiny_edit(dataset: str) -> ExperimentConfig:
    """For tests: `tiny` with the edit design of `quick`."""
    config = tiny(dataset)
    config.name = "tiny_edit"
    config.edit = EditModeConfig(
        enabled=True,
        attribute_state=True,
        edit_weight=3.0,
        attribute_weight=1.0,
        generator="unet",
        classify_weight=1.0,
        read_previous=True,
        skip_turn_rate=0.25,
        own_output_rate=0.5,
    )
    config.inference = InferenceConfig(mask_threshold=0.5)
    config.train.decay_share = 0.5
    return config


EXPERIMENTS: dict[str, Callable[[str], ExperimentConfig]] = {
    "paper": paper,
    "quick": quick,
    "long": long,
    "longer": longer,
    "full": full,
    "tiny": tiny,
    "tiny_edit": tiny_edit,
}


def get_experiment(name: str, dataset: str) -> ExperimentConfig:
    """Returns the named experiment for `dataset`; raises ValueError naming the valid choices."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown config {name!r}; expected one of {sorted(EXPERIMENTS)}")
    return EXPERIMENTS[name](dataset).validate()
