"""Atomic, sharded TFRecord writing.

Shards are named `{split}-{i:05d}-of-{n:05d}.tfrecord` under `<data_dir>/<dataset>/<version>/`.
Each shard is written to a hidden temporary file in the same directory
(`.tmp-<token>-<shard name>.partial`, which never matches the shard pattern) and renamed with
`os.replace` only once it is complete, so a killed build leaves no incomplete file under a
shard name. `dataset_info.json` is written last, also atomically: its presence marks a complete
build. `prepare_output_dir` removes leftovers of an earlier, interrupted or different build.

tf-models-official's `official/vision/data/tfrecord_lib.py` is not used: it imports `tf_keras`
(Keras 2) at module level and writes shards in place (no atomic rename), which is the property
this module exists for.
"""

from __future__ import annotations

import glob
import os
import secrets
from collections.abc import Mapping
from typing import Any

import tensorflow as tf

from common.atomic_files import TEMP_PREFIX, TEMP_SUFFIX, write_json_atomically
from tfrecords.build_fingerprint import FINGERPRINT_KEY, make_fingerprint

DATASET_INFO_FILENAME = "dataset_info.json"


def dataset_dir(data_dir: str, dataset: str, version: str) -> str:
    """Returns `<data_dir>/<dataset>/<version>`."""
    return os.path.join(data_dir, dataset, version)


def shard_filename(split: str, index: int, num_shards: int) -> str:
    """Returns `{split}-{index:05d}-of-{num_shards:05d}.tfrecord`."""
    return f"{split}-{index:05d}-of-{num_shards:05d}.tfrecord"


def shard_pattern(split: str) -> str:
    """Returns the glob pattern that matches every shard of a split."""
    return f"{split}-?????-of-?????.tfrecord"


def shard_sizes(num_examples: int, num_shards: int) -> list[int]:
    """Splits `num_examples` into `num_shards` contiguous, near-equal shard sizes."""
    if num_shards < 1:
        raise ValueError(f"num_shards must be >= 1, got {num_shards}")
    return [
        (i + 1) * num_examples // num_shards - i * num_examples // num_shards
        for i in range(num_shards)
    ]


def prepare_output_dir(directory: str) -> None:
    """Creates `directory` and removes what an earlier build left there.

    Removes `dataset_info.json` first (so the directory no longer counts as a complete build),
    then temporary files and shard files.
    """
    os.makedirs(directory, exist_ok=True)
    info = os.path.join(directory, DATASET_INFO_FILENAME)
    if os.path.exists(info):
        os.remove(info)
    leftovers = glob.glob(os.path.join(directory, TEMP_PREFIX + "*"))
    leftovers += glob.glob(os.path.join(directory, "*-?????-of-?????.tfrecord"))
    for path in leftovers:
        os.remove(path)


class ShardedWriter:
    """Writes a known number of serialized records into `num_shards` contiguous shards.

    Shard i holds records [sum(sizes[:i]), sum(sizes[:i+1])) in write order. Each shard goes to a
    temporary file that is renamed when its last record is written; `close()` checks that
    exactly `num_examples` were written. Use as a context manager: on an exception the open
    temporary file is deleted and no shard name is created for it.

    Args:
      directory: output directory (must exist).
      split: split name used in the shard file names.
      num_examples: how many records will be written.
      num_shards: how many shards to write (empty shards are allowed and written).

    Example:
      with ShardedWriter(out_dir, "train", num_examples=10, num_shards=2) as writer:
          for record in records:
              writer.write(record)
      writer.filenames  # ["train-00000-of-00002.tfrecord", "train-00001-of-00002.tfrecord"]
    """

    def __init__(self, directory: str, split: str, num_examples: int, num_shards: int):
        self.directory = directory
        self.split = split
        self.num_examples = num_examples
        self.num_shards = num_shards
        self.filenames: list[str] = []
        self._sizes = shard_sizes(num_examples, num_shards)
        self._token = secrets.token_hex(4)
        self._shard = -1
        self._in_shard = 0
        self._written = 0
        self._writer: tf.io.TFRecordWriter | None = None
        self._temp_path = ""
        self._open_next()

    def _open_next(self) -> None:
        # Opens the next shard, and completes empty shards on the way.
        while self._shard + 1 < self.num_shards:
            self._shard += 1
            self._in_shard = 0
            name = shard_filename(self.split, self._shard, self.num_shards)
            self._temp_path = os.path.join(
                self.directory, f"{TEMP_PREFIX}{self._token}-{name}{TEMP_SUFFIX}"
            )
            self._writer = tf.io.TFRecordWriter(self._temp_path)
            if self._sizes[self._shard] > 0:
                return
            self._finish_shard()
        self._writer = None

    def _finish_shard(self) -> None:
        assert self._writer is not None
        self._writer.close()
        name = shard_filename(self.split, self._shard, self.num_shards)
        os.replace(self._temp_path, os.path.join(self.directory, name))
        self.filenames.append(name)
        self._writer = None
        self._temp_path = ""

    def write(self, record: bytes) -> None:
        """Appends one serialized record.

        Raises:
          ValueError: if more than `num_examples` records are written.
        """
        if self._writer is None:
            raise ValueError(
                f"split {self.split!r}: more than the announced {self.num_examples} records"
            )
        self._writer.write(record)
        self._in_shard += 1
        self._written += 1
        if self._in_shard == self._sizes[self._shard]:
            self._finish_shard()
            self._open_next()

    def close(self) -> list[str]:
        """Checks the record count and returns the shard file names.

        Raises:
          ValueError: if fewer than `num_examples` records were written.
        """
        if self._written != self.num_examples:
            self.abort()
            raise ValueError(
                f"split {self.split!r}: wrote {self._written} of {self.num_examples} records"
            )
        return list(self.filenames)

    def abort(self) -> None:
        """Deletes the open temporary file (completed shards stay; no info file marks them)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._temp_path and os.path.exists(self._temp_path):
            os.remove(self._temp_path)
        self._temp_path = ""

    def __enter__(self) -> ShardedWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()
        else:
            self.close()


def write_dataset_info(directory: str, info: Mapping[str, Any]) -> str:
    """Writes `dataset_info.json` atomically (call it last: it marks the build complete).

    Adds the build's fingerprint (tfrecords/build_fingerprint.py: name, version, seed, split
    sizes, a sha256 over the shards' bytes and any held-out design rule) under "fingerprint",
    into `info` as well.
    """
    if isinstance(info, dict):
        info[FINGERPRINT_KEY] = make_fingerprint(info, directory)
    else:
        info = {**info, FINGERPRINT_KEY: make_fingerprint(info, directory)}
    path = os.path.join(directory, DATASET_INFO_FILENAME)
    write_json_atomically(path, info)
    return path
