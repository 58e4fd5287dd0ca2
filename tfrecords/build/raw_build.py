"""Builds the real datasets (zap_seq, deepfashion_seq) from a raw folder into session shards.

Raw layout (the user supplies it; the paper's datasets are not public):

    <raw_dir>/
      images/...                   image files of any size and format Pillow reads
      sessions.jsonl               one JSON object per line, one line per session
      attribute_schema.json        optional: {"name": ["value", ...], ...}

    {"session_id": "s1",
     "images": ["images/a.jpg", "b.jpg", ...],     # relative to raw_dir, or to raw_dir/images
     "descriptions": ["is red", ...],               # len(images) - 1 non-empty strings
     "attributes": [["color=black", ...], ...]}     # optional: one list per image

With `attribute_schema.json`, every attribute string must be "name=value" with a known name and
value. Without it, a schema is inferred when every attribute string is "name=value" (names in
order of first appearance, values sorted); otherwise attributes are stored as plain strings and
the dataset has no schema (attribute ids have width 0). When attributes are "name=value", the
attributes changed by each turn are derived from consecutive images.

Images are converted to 8-bit RGB (EXIF orientation applied, high bit depths scaled,
transparency composited on white: see `to_rgb`), center-cropped to a square and resized to
`image_size`.

Validation: a malformed JSON line, a duplicate session id, fewer than two images, a description
count != len(images) - 1, an empty description, an attribute list count != len(images), an
unknown attribute (with a schema), a malformed image path (empty, a NUL or control character,
a lone surrogate or bytes that are not UTF-8, a name or path too long for the file system: see
`tfrecords.image_paths`), a path outside the raw folder, a missing image file and a corrupt
image file are each a `RawDatasetError` with `strict=True`, and otherwise a counted skip: the
report (count and first session ids per reason, with a message naming the line or session) is
printed and stored in dataset_info.json under "skipped". A line that is not UTF-8 or not JSON
is a malformed line, skipped the same way.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from common.atomic_files import sha256_of_file
from tfrecords.build.input_report import InputReport
from tfrecords.build.raw_folder import changed_attributes, infer_schema, load_schema, scan_raw_dir
from tfrecords.build.raw_format import (
    DEFAULT_VERSION,
    SCHEMA_FILENAME,
    SESSIONS_FILENAME,
    RawDatasetError,
    RawSession,
)
from tfrecords.build.raw_images import load_image
from tfrecords.build_common import (
    assign_splits,
    resolve_num_shards,
    serialize_sessions,
    write_splits,
)
from tfrecords.build_marker import clear_marker, write_marker
from tfrecords.dataset_info import SPLITS, StatisticsAccumulator, make_info
from tfrecords.datasets import RAW_DATASETS
from tfrecords.session import Session
from tfrecords.session_format import split_attribute
from tfrecords.shard_writer import dataset_dir, prepare_output_dir, write_dataset_info
from tfrecords.split_rule import SPLIT_RULE


def _load_sessions(
    raw_sessions: Sequence[RawSession], image_size: int, derive_changes: bool
) -> Iterator[Session]:
    for raw in raw_sessions:
        yield Session(
            session_id=raw.session_id,
            images=[load_image(p, image_size) for p in raw.image_paths],
            descriptions=raw.descriptions,
            attributes=raw.attributes,
            changed_attributes=changed_attributes(raw.attributes) if derive_changes else [],
            phrase_types=list(raw.phrase_types),
        )


def raw_build_params(
    raw_dir: str,
    dataset: str,
    seed: int,
    image_size: int,
    num_shards: Mapping[str, int] | int | None,
    strict: bool,
    allow_outside_paths: bool = False,
) -> dict[str, Any]:
    """The parameters that identify a raw build (compared before skipping a rebuild)."""
    schema_path = os.path.join(raw_dir, SCHEMA_FILENAME)
    sessions_path = os.path.join(raw_dir, SESSIONS_FILENAME)
    return {
        "dataset": dataset,
        "raw_dir": os.path.abspath(raw_dir),
        "sessions_sha256": sha256_of_file(sessions_path) if os.path.exists(sessions_path) else None,
        "schema_sha256": sha256_of_file(schema_path) if os.path.exists(schema_path) else None,
        "seed": seed,
        "image_size": image_size,
        "num_shards": dict(num_shards) if isinstance(num_shards, Mapping) else num_shards,
        "strict": strict,
        "allow_outside_paths": allow_outside_paths,
        "split_rule": SPLIT_RULE,
    }


def write_sessions(
    raw_sessions: Sequence[RawSession],
    report: InputReport,
    *,
    dataset: str,
    data_dir: str,
    params: Mapping[str, Any],
    seed: int,
    num_shards: Mapping[str, int] | int | None,
    version: str,
    image_size: int,
    schema: Mapping[str, Sequence[str]] | None,
    schema_source: str,
    source: str,
    extra: Mapping[str, Any],
    split_of: Mapping[str, str] | None = None,
    start_time: float | None = None,
) -> dict[str, Any]:
    """Writes validated sessions as shards plus dataset_info.json (the raw builds' common end).

    Args:
      raw_sessions: sessions from `scan_entries`.
      report: their skip report (printed, and stored under "skipped").
      split_of: session id -> split; None assigns 85/5/10 by tfrecords.split_rule (seed, id).
      schema: the attribute schema, or None to infer it from "name=value" attributes.
      Others: as for `build_raw`; `params` are the build_params, `extra` more info keys.

    Raises:
      RawDatasetError: when no valid session remains.
    """
    start_time = time.time() if start_time is None else start_time
    print(report.format())
    if not raw_sessions:
        raise RawDatasetError(f"{dataset}: no valid session\n{report.format()}")
    if schema is None:
        schema = infer_schema(raw_sessions)
        schema_source = "inferred" if schema else "none"
    derive_changes = all(
        split_attribute(a) is not None for s in raw_sessions for i in s.attributes for a in i
    ) and any(s.attributes[0] for s in raw_sessions)

    directory = dataset_dir(data_dir, dataset, version)
    prepare_output_dir(directory)
    write_marker(directory, params, data_dir, version)
    if split_of is None:
        assignment, sizes = assign_splits([s.session_id for s in raw_sessions], seed)
    else:
        assignment = [split_of[s.session_id] for s in raw_sessions]
        sizes = {split: assignment.count(split) for split in SPLITS}
    shards = resolve_num_shards(sizes, num_shards)
    stats = StatisticsAccumulator()
    records = serialize_sessions(
        _load_sessions(raw_sessions, image_size, derive_changes), dataset, schema
    )
    files = write_splits(records, assignment, sizes, shards, directory, stats, dataset)
    info = make_info(
        name=dataset,
        version=version,
        source=source,
        image_size=image_size,
        splits=files,
        sizes=sizes,
        schema=schema,
        schema_source=schema_source,
        stats=stats,
        build_params=params,
        extra={
            **extra,
            "skipped": report.as_dict(),
            "num_skipped": report.total,
            "build_seconds": round(time.time() - start_time, 2),
        },
    )
    write_dataset_info(directory, info)
    clear_marker(directory)
    return info


def build_raw(
    raw_dir: str,
    dataset: str,
    data_dir: str,
    seed: int = 0,
    num_shards: Mapping[str, int] | int | None = None,
    version: str = DEFAULT_VERSION,
    image_size: int = 64,
    strict: bool = False,
    allow_outside_paths: bool = False,
) -> dict[str, Any]:
    """Validates a raw folder and writes its sessions as shards plus dataset_info.json.

    Args:
      raw_dir: the raw folder (layout in the module docstring).
      dataset: "zap_seq" or "deepfashion_seq".
      data_dir: root data directory; output goes to `<data_dir>/<dataset>/<version>/`.
      seed: split seed (85/5/10 by session).
      num_shards: shards per split ({split: n}), one count, or None for one per 256 sessions.
      version: dataset version directory name.
      image_size: side of the square output images.
      strict: raise on the first bad session instead of skipping it.
      allow_outside_paths: accept image paths that resolve (symbolic links followed) outside
        raw_dir; by default they are skipped with reason "outside_raw_dir".

    Returns:
      The dataset_info dict that was written (its "skipped" entry is the skip report).

    Raises:
      ValueError: for an unknown dataset.
      RawDatasetError: for a bad layout, with `strict` for any bad session, or when no valid
        session remains.
    """
    if dataset not in RAW_DATASETS:
        raise ValueError(f"unknown raw dataset {dataset!r}; expected one of {RAW_DATASETS}")
    if not os.path.isdir(raw_dir):
        raise RawDatasetError(f"raw_dir {raw_dir!r} is not a directory")
    start_time = time.time()
    params = raw_build_params(
        raw_dir, dataset, seed, image_size, num_shards, strict, allow_outside_paths
    )
    schema = load_schema(raw_dir)
    raw_sessions, report = scan_raw_dir(raw_dir, schema, strict, allow_outside_paths)
    return write_sessions(
        raw_sessions,
        report,
        dataset=dataset,
        data_dir=data_dir,
        params=params,
        seed=seed,
        num_shards=num_shards,
        version=version,
        image_size=image_size,
        schema=schema,
        schema_source="file" if schema else "none",
        source="raw",
        extra={"raw": {"raw_dir": params["raw_dir"], "sessions_sha256": params["sessions_sha256"]}},
        start_time=start_time,
    )
