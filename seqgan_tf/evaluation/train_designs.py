"""The designs (full attribute combinations) that occur in a build's training split.

A test turn whose target design is not among them asks for an item the model never saw in
training; the evaluation reports those turns apart. The set is read once from the training
shards (every image of every training session; attribute ids only, no image is decoded) and
cached beside the build as `.train_designs-<fingerprint id>.json`, so a rebuilt dataset never
reuses another build's set.

Example:
    designs = training_designs(load_dataset_info("data", "synth_zap_seq"))
    (0, 3, 1, 2, 0, 1) in designs
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import tensorflow as tf

from common.atomic_files import write_json_atomically
from tfrecords.build_fingerprint import fingerprint_of
from tfrecords.session_format import parse_session

CACHE_PREFIX = ".train_designs-"


def cache_path(info: Mapping[str, Any]) -> str:
    """Where the training designs of the build described by `info` are cached."""
    return os.path.join(info["build_dir"], f"{CACHE_PREFIX}{fingerprint_of(info)['id']}.json")


def read_training_designs(info: Mapping[str, Any]) -> set[tuple[int, ...]]:
    """Reads every attribute-id row of every image of the training split's shards."""
    files = [os.path.join(info["build_dir"], f) for f in info["splits"]["train"]["files"]]
    num_attributes = len(info.get("attribute_schema", {}))
    designs: set[tuple[int, ...]] = set()
    if not files or not num_attributes:
        return designs
    ds = tf.data.TFRecordDataset(files).map(
        lambda r: parse_session(r, num_attributes)["attribute_ids"],
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    for ids in ds.as_numpy_iterator():
        designs.update(tuple(int(v) for v in row) for row in ids)
    return designs


def training_designs(info: Mapping[str, Any]) -> set[tuple[int, ...]]:
    """The training split's designs, from the cache keyed by the build's fingerprint if present.

    Args:
      info: `load_dataset_info`'s dict (with "build_dir").

    Returns:
      A set of attribute-id tuples in schema order.
    """
    path = cache_path(info)
    if os.path.exists(path):
        with open(path) as f:
            return {tuple(row) for row in json.load(f)["designs"]}
    designs = read_training_designs(info)
    try:
        write_json_atomically(
            path, {"fingerprint": fingerprint_of(info), "designs": sorted(designs)}
        )
    except OSError:  # a read-only build folder: recompute next time
        pass
    return designs
