"""One entry point for every dataset build: synthetic sets and raw-folder sets.

`build_synthetic` (tfrecords/synthetic_builder.py) and `build_raw` (tfrecords/build/raw_build.py) do
the work; the dataset names come from the registry (tfrecords/datasets.py). This module writes
the command lines that error messages quote.
"""

from __future__ import annotations

import json

from tfrecords.build import source_build
from tfrecords.build.raw_build import build_raw, raw_build_params
from tfrecords.build.raw_format import RawDatasetError
from tfrecords.dataset_info import read_info
from tfrecords.datasets import DATASETS, RAW_DATASETS, SYNTHETIC_DATASETS, synthetic_standin
from tfrecords.shard_writer import dataset_dir
from tfrecords.synthetic_builder import build_synthetic, synthetic_build_params

DEFAULT_NUM_SYNTHETIC_SESSIONS = 10000

__all__ = [
    "DATASETS",
    "RAW_DATASETS",
    "SYNTHETIC_DATASETS",
    "RawDatasetError",
    "build",
    "build_command",
    "build_raw",
    "build_synthetic",
    "raw_build_params",
    "synthetic_build_params",
    "synthetic_standin",
]


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


def build(
    dataset: str,
    data_dir: str,
    *,
    raw_dir: str | None = None,
    num_sessions: int = DEFAULT_NUM_SYNTHETIC_SESSIONS,
    seed: int = 0,
    image_size: int = 64,
    num_shards: int | None = None,
    version: str = "1.0.0",
    strict: bool = False,
    overwrite: bool = False,
    num_workers: int | None = None,
    source: str | None = None,
    source_dir: str | None = None,
    descriptions_file: str | None = None,
    allow_outside_paths: bool = False,
    retrieved: bool = False,
) -> tuple[dict, bool]:
    """Builds a dataset unless a complete build with the same parameters exists.

    Args:
      dataset: one of tfrecords.DATASETS.
      data_dir: root data directory.
      raw_dir: raw folder (required for zap_seq / deepfashion_seq).
      num_sessions: sessions to generate (synthetic sets).
      seed: generator / split seed.
      image_size: stored image side.
      num_shards: shards per split, or None for the default.
      version: dataset version directory.
      strict: raw builds fail on the first bad session.
      overwrite: rebuild even when a matching build exists.
      num_workers: generator processes for synthetic builds (None: automatic).
      source: retrieve sessions from this public download ("ut_zap50k", "deepfashion").
      source_dir: the download's folder (required with `source`).
      descriptions_file: human descriptions keyed by (session_id, turn) for source builds.
      allow_outside_paths: accept image paths resolving outside the raw / source folder.
      retrieved: synthetic builds: sessions of different items retrieved as neighbours
        (tfrecords.synthetic.make_session) instead of one item edited turn by turn.

    Returns:
      (dataset_info dict, whether it was built now (False: reused)).

    Raises:
      ValueError: missing --raw_dir for a raw dataset, or an existing complete build with other
        parameters and no `overwrite`, or `retrieved` for a dataset that is not synthetic.
    """
    if retrieved and dataset not in SYNTHETIC_DATASETS:
        raise ValueError(
            f"retrieved sessions are a synthetic-build option; {dataset} is not synthetic"
        )
    if source is not None:
        if not source_dir:
            raise ValueError(f"--source={source} needs --source_dir (the download's folder)")
        params = source_build.source_build_params(
            source,
            dataset,
            source_dir,
            num_sessions,
            seed,
            image_size,
            num_shards,
            strict,
            allow_outside_paths,
            descriptions_file,
        )
    elif dataset in SYNTHETIC_DATASETS:
        params = synthetic_build_params(
            dataset, num_sessions, seed, image_size, num_shards, retrieved=retrieved
        )
    else:
        if not raw_dir:
            raise ValueError(
                f"--raw_dir is required for {dataset}: "
                f"{build_command(dataset, data_dir)}\n"
                f"(no raw data? use the synthetic stand-in: "
                f"{build_command(synthetic_standin(dataset), data_dir)})"
            )
        params = raw_build_params(
            raw_dir, dataset, seed, image_size, num_shards, strict, allow_outside_paths
        )
    directory = dataset_dir(data_dir, dataset, version)
    existing = read_info(directory)
    if existing is not None and not overwrite:
        if json.loads(json.dumps(params)) == existing.get("build_params"):
            return existing, False
        raise ValueError(
            f"{directory} holds a complete build with other parameters\n"
            f"  existing:  {existing.get('build_params')}\n  requested: {params}\n"
            "pass --overwrite to replace it (or use another --data_dir / --version)"
        )
    if source is not None:
        info = source_build.build_from_source(
            source,
            dataset,
            source_dir,
            data_dir,
            num_sessions,
            seed,
            num_shards=num_shards,
            version=version,
            image_size=image_size,
            strict=strict,
            allow_outside_paths=allow_outside_paths,
            descriptions_file=descriptions_file,
        )
    elif dataset in SYNTHETIC_DATASETS:
        info = build_synthetic(
            dataset,
            data_dir,
            num_sessions,
            seed,
            num_shards=num_shards,
            version=version,
            image_size=image_size,
            num_workers=num_workers,
            retrieved=retrieved,
        )
    else:
        info = build_raw(
            raw_dir,
            dataset,
            data_dir,
            seed,
            num_shards=num_shards,
            version=version,
            image_size=image_size,
            strict=strict,
            allow_outside_paths=allow_outside_paths,
        )
    return info, True
