"""Configs as code: typed dataclasses and named experiments."""

from seqgan_tf.configs.experiment import (
    DamsmConfig,
    DataConfig,
    EditModeConfig,
    ExperimentConfig,
    InferenceConfig,
    ModelConfig,
    TrainConfig,
)
from seqgan_tf.configs.experiments import EXPERIMENTS, damsm_weight_for, get_experiment

__all__ = [
    "DamsmConfig",
    "DataConfig",
    "EditModeConfig",
    "EXPERIMENTS",
    "InferenceConfig",
    "ExperimentConfig",
    "ModelConfig",
    "TrainConfig",
    "damsm_weight_for",
    "get_experiment",
]
