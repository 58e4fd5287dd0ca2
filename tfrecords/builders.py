"""One entry point for every dataset build: `build(BuildRequest)`, for synthetic sets, raw folders
and public source downloads alike.

`build_synthetic` (tfrecords/synthetic_builder.py), `build_raw` (tfrecords/build/raw_build.py)
and `build_from_source` (tfrecords/build/source_build.py) do the work; the dataset names come
from the registry (tfrecords/datasets.py). This module writes the command lines that error
messages quote.
"""

from __future__ import annotations

import json
import sys

from common.file_lock import FileLock, describe_holder
from tfrecords.build import source_build
from tfrecords.build.raw_build import build_raw, raw_build_params
from tfrecords.build.raw_format import RawDatasetError
from tfrecords.build.request import (
    DEFAULT_NUM_SYNTHETIC_SESSIONS,
    SOURCE,
    SYNTHETIC,
    BuildRequest,
)
from tfrecords.dataset_info import read_info
from tfrecords.datasets import DATASETS, RAW_DATASETS, SYNTHETIC_DATASETS, synthetic_standin
from tfrecords.shard_writer import dataset_dir
from tfrecords.synthetic_builder import build_synthetic, synthetic_build_params

__all__ = [
    "DATASETS",
    "DEFAULT_NUM_SYNTHETIC_SESSIONS",
    "RAW_DATASETS",
    "SYNTHETIC_DATASETS",
    "BuildRequest",
    "RawDatasetError",
    "build",
    "build_command",
    "build_raw",
    "build_lock_path",
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


def build(request: BuildRequest) -> tuple[dict, bool]:
    """Builds a dataset unless a complete build with the same parameters exists.

    Every build goes through here: scripts/build_dataset.py, the trainer's build of a missing
    synthetic set and the pipeline benchmark's.

    Args:
      request: what to build, from what and how (`overwrite`: rebuild a matching build too).
        While another process builds the same directory, this waits for it (saying so on
        stderr) and then reuses its build if the parameters match.

    Returns:
      (dataset_info dict, whether it was built now (False: reused)).

    Raises:
      ValueError: missing --raw_dir for a raw dataset, or an existing complete build with other
        parameters and no `overwrite`, or `retrieved` for a dataset that is not synthetic.
    """
    if request.retrieved and request.dataset not in SYNTHETIC_DATASETS:
        raise ValueError(
            f"retrieved sessions are a synthetic-build option; {request.dataset} is not synthetic"
        )
    params = _build_params(request)
    directory = dataset_dir(request.data_dir, request.dataset, request.version)
    # A complete build with these parameters is reused without writing anything (no lock
    # file either: the data folder may be read-only).
    existing = _reusable_build(directory, params, request.overwrite)
    if existing is not None:
        return existing, False

    def say_waiting(holder: dict) -> None:
        print(
            f"{directory} is being built by {describe_holder(holder)}; waiting for that build "
            "to finish (a complete build with these parameters is then reused)",
            file=sys.stderr,
            flush=True,
        )

    # One build of a directory at a time: a second one would clear the first's shards while it
    # writes them. It waits, then finds the first's complete build and reuses it.
    with FileLock(build_lock_path(directory), wait=True, on_wait=say_waiting):
        existing = _reusable_build(directory, params, request.overwrite)
        if existing is not None:
            return existing, False
        return _write(request), True


def _reusable_build(directory: str, params: dict, overwrite: bool) -> dict | None:
    """The dataset_info of a complete build in `directory` with `params`, or None (no complete
    build, or `overwrite`).

    Raises:
      ValueError: a complete build with other parameters and no `overwrite`.
    """
    existing = read_info(directory)
    if existing is None or overwrite:
        return None
    if json.loads(json.dumps(params)) == existing.get("build_params"):
        return existing
    raise ValueError(
        f"{directory} holds a complete build with other parameters\n"
        f"  existing:  {existing.get('build_params')}\n  requested: {params}\n"
        "pass --overwrite to replace it (or use another --data_dir / --version)"
    )


def build_lock_path(directory: str) -> str:
    """The lock file that one build of `directory` holds, beside it (not inside: the build
    directory holds only shards and dataset_info.json)."""
    return directory.rstrip("/") + ".build.lock"


def _build_params(request: BuildRequest) -> dict:
    """The parameters a complete build is compared against (checks the inputs first)."""
    r = request
    if r.kind == SOURCE:
        if not r.source_dir:
            raise ValueError(f"--source={r.source} needs --source_dir (the download's folder)")
        return source_build.source_build_params(r)
    if r.kind == SYNTHETIC:
        return synthetic_build_params(
            r.dataset, r.num_sessions, r.seed, r.image_size, r.num_shards, retrieved=r.retrieved
        )
    if not r.raw_dir:
        raise ValueError(
            f"--raw_dir is required for {r.dataset}: "
            f"{build_command(r.dataset, r.data_dir)}\n"
            f"(no raw data? use the synthetic stand-in: "
            f"{build_command(synthetic_standin(r.dataset), r.data_dir)})"
        )
    return raw_build_params(
        r.raw_dir, r.dataset, r.seed, r.image_size, r.num_shards, r.strict, r.allow_outside_paths
    )


def _write(request: BuildRequest) -> dict:
    """Runs the builder of the request's kind; returns the dataset_info it wrote."""
    r = request
    if r.kind == SOURCE:
        return source_build.build_from_source(r)
    if r.kind == SYNTHETIC:
        return build_synthetic(
            r.dataset,
            r.data_dir,
            r.num_sessions,
            r.seed,
            num_shards=r.num_shards,
            version=r.version,
            image_size=r.image_size,
            num_workers=r.num_workers,
            retrieved=r.retrieved,
        )
    return build_raw(
        r.raw_dir,
        r.dataset,
        r.data_dir,
        r.seed,
        num_shards=r.num_shards,
        version=r.version,
        image_size=r.image_size,
        strict=r.strict,
        allow_outside_paths=r.allow_outside_paths,
    )
