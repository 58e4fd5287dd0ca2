"""A record of the build under way, so an interrupted build can be named and rerun.

Every builder writes `<data_dir>/<dataset>/<version>.build_in_progress.json` (beside the build
directory, so the directory holds only shards and dataset_info.json) right after clearing the
directory, and removes it after `dataset_info.json` is written. A build directory with a marker
and no dataset_info.json is a build that was killed or failed: its marker holds the build's
parameters and the command that reruns it, which error messages quote (instead of a generic
command with default parameters).
"""

from __future__ import annotations

import datetime
import glob
import json
import os
import shlex
from collections.abc import Mapping
from typing import Any

from common.atomic_files import write_json_atomically
from tfrecords.shard_writer import DATASET_INFO_FILENAME

BUILD_MARKER_SUFFIX = ".build_in_progress.json"
DEFAULT_VERSION = "1.0.0"


def command_line(params: Mapping[str, Any], data_dir: str, version: str) -> str:
    """The build_dataset.py command that builds exactly `params` (a builder's build_params)."""
    args = [f"--dataset={params['dataset']}"]
    if params.get("source"):
        args += [f"--source={params['source']}", f"--source_dir={params['source_dir']}"]
        args.append(f"--num_sessions={params['num_sessions']}")
        if params.get("descriptions_file"):
            args.append(f"--descriptions_file={params['descriptions_file']}")
    elif params.get("raw_dir"):
        args.append(f"--raw_dir={params['raw_dir']}")
    else:
        args.append(f"--num_sessions={params['num_sessions']}")
    args.append(f"--data_dir={data_dir}")
    args.append(f"--seed={params['seed']}")
    args.append(f"--image_size={params['image_size']}")
    num_shards = params.get("num_shards")
    if isinstance(num_shards, int):
        args.append(f"--num_shards={num_shards}")
    if version != DEFAULT_VERSION:
        args.append(f"--version={version}")
    if params.get("strict"):
        args.append("--strict")
    if params.get("allow_outside_paths"):
        args.append("--allow_outside_paths")
    return "python scripts/build_dataset.py " + " ".join(shlex.quote(a) for a in args)


def marker_path(directory: str) -> str:
    """`<data_dir>/<dataset>/<version>.build_in_progress.json` for a build directory."""
    return os.path.normpath(directory) + BUILD_MARKER_SUFFIX


def write_marker(
    directory: str, params: Mapping[str, Any], data_dir: str, version: str
) -> dict[str, Any]:
    """Records the build that starts in `directory` (call after `prepare_output_dir`)."""
    marker = {
        "build_params": dict(params),
        "command": command_line(params, data_dir, version),
        "started_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "pid": os.getpid(),
    }
    write_json_atomically(marker_path(directory), marker)
    return marker


def clear_marker(directory: str) -> None:
    """Removes the marker (call after dataset_info.json is written)."""
    path = marker_path(directory)
    if os.path.exists(path):
        os.remove(path)


def read_marker(directory: str) -> dict[str, Any] | None:
    """The marker of `directory`, or None (no marker, or an unreadable one)."""
    try:
        with open(marker_path(directory), encoding="utf-8") as f:
            marker = json.load(f)
    except (OSError, json.JSONDecodeError):
        return None
    return marker if isinstance(marker, dict) else None


def _describe_params(params: Mapping[str, Any]) -> str:
    keys = [k for k in params if not k.endswith("sha256") and params[k] not in (None, False)]
    return ", ".join(f"{k}={params[k]}" for k in keys)


def interrupted_build_note(data_dir: str, dataset: str) -> str | None:
    """Names each interrupted build of `dataset` under `data_dir` and the command that reruns it.

    Returns:
      The text, or None when no version directory holds shards or a marker without a
      dataset_info.json.
    """
    root = os.path.join(data_dir, dataset)
    lines = []
    for directory in sorted(glob.glob(os.path.join(root, "*"))):
        if not os.path.isdir(directory):
            continue
        if os.path.exists(os.path.join(directory, DATASET_INFO_FILENAME)):
            continue
        marker = read_marker(directory)
        has_shards = bool(glob.glob(os.path.join(directory, "*.tfrecord")))
        if marker is None and not has_shards:
            continue
        if marker is None:
            lines.append(
                f"{directory} has shards but no dataset_info.json: an interrupted build whose "
                "parameters were not recorded; rerun the command that started it"
            )
            continue
        params = marker.get("build_params", {})
        lines.append(
            f"{directory} holds an interrupted build (no dataset_info.json), started "
            f"{marker.get('started_at', '?')} with {_describe_params(params)}; "
            f"rerun it with:\n  {marker.get('command', '?')}"
        )
    return "\n".join(lines) or None
