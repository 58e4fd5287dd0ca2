"""One entry point for every dataset build: synthetic sets and raw-folder sets.

`build_synthetic` (tfrecords/synthetic_builder.py) and `build_raw` (tfrecords/raw_builder.py) do
the work; this module names the datasets, maps each real dataset to its synthetic stand-in and
writes the command lines that error messages quote.
"""

from __future__ import annotations

from tfrecords.raw_builder import RAW_DATASETS, RawDatasetError, build_raw, raw_build_params
from tfrecords.synthetic_builder import build_synthetic, synthetic_build_params

SYNTHETIC_DATASETS = ("synth_zap_seq", "synth_deepfashion_seq")
DATASETS = SYNTHETIC_DATASETS + RAW_DATASETS
DEFAULT_NUM_SYNTHETIC_SESSIONS = 10000

__all__ = [
    "DATASETS",
    "RAW_DATASETS",
    "SYNTHETIC_DATASETS",
    "RawDatasetError",
    "build_command",
    "build_raw",
    "build_synthetic",
    "raw_build_params",
    "synthetic_build_params",
    "synthetic_standin",
]


def synthetic_standin(dataset: str) -> str:
    """Returns the synthetic stand-in of a dataset ("zap_seq" -> "synth_zap_seq")."""
    return dataset if dataset in SYNTHETIC_DATASETS else f"synth_{dataset}"


def build_command(dataset: str, data_dir: str) -> str:
    """Returns the command line that builds `dataset` under `data_dir`."""
    if dataset in SYNTHETIC_DATASETS:
        return (
            f"python scripts/build_dataset.py --dataset={dataset} --data_dir={data_dir} "
            f"--num_sessions={DEFAULT_NUM_SYNTHETIC_SESSIONS} --seed=0"
        )
    return (
        f"python scripts/build_dataset.py --dataset={dataset} --raw_dir=/path/to/raw "
        f"--data_dir={data_dir}"
    )
