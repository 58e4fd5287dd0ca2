"""Random test-split examples for the editor, read straight from the session shards.

Shards are `<data_dir>/<dataset>/<version>/test-XXXXX-of-YYYYY.tfrecord`, one
`tf.train.SequenceExample` per session (see DESIGN.md). Only the first image and the
session's recorded descriptions are read; the keys are the shard format's.
"""

from __future__ import annotations

import glob
import io
import os
import random
import threading

import numpy as np
import tensorflow as tf
from PIL import Image

IMAGE_KEY = "image/encoded"
DESCRIPTION_KEY = "turn/description"
SESSION_ID_KEY = "session/id"
MAX_EXAMPLES = 5000


def find_test_shards(data_dir: str, dataset: str) -> list[str]:
    """The test shards of the newest version folder of `dataset` under `data_dir`."""
    if not data_dir or not dataset:
        return []
    versions = sorted(
        glob.glob(os.path.join(data_dir, dataset, "*", "test-*-of-*.tfrecord")),
        key=lambda p: (os.path.dirname(p), p),
    )
    if not versions:
        return []
    newest = max(os.path.dirname(p) for p in versions)
    return [p for p in versions if os.path.dirname(p) == newest]


class ExampleSource:
    """First images of test sessions, loaded on first use.

    Args:
        data_dir: the shards' root (as for scripts/train.py).
        dataset: dataset name.
        seed: seed of the random choice (None: random).
    """

    def __init__(self, data_dir: str, dataset: str, seed: int | None = None):
        self.data_dir = data_dir
        self.dataset = dataset
        self._shards = find_test_shards(data_dir, dataset)
        self._examples: list[tuple[str, bytes, list[str]]] | None = None
        self._lock = threading.Lock()
        self._random = random.Random(seed)

    @property
    def available(self) -> bool:
        return bool(self._shards)

    def describe(self) -> str:
        if self._shards:
            return f"{len(self._shards)} test shard(s) in {os.path.dirname(self._shards[0])}"
        return f"no test shards of {self.dataset!r} under {self.data_dir!r}"

    def _load(self) -> list[tuple[str, bytes, list[str]]]:
        with self._lock:
            if self._examples is None:
                examples = []
                for record in tf.data.TFRecordDataset(self._shards).take(MAX_EXAMPLES):
                    session = tf.train.SequenceExample.FromString(record.numpy())
                    lists = session.feature_lists.feature_list
                    images = lists[IMAGE_KEY].feature
                    if not images:
                        continue
                    texts = [
                        f.bytes_list.value[0].decode("utf-8")
                        for f in lists[DESCRIPTION_KEY].feature
                        if f.bytes_list.value
                    ]
                    ids = session.context.feature[SESSION_ID_KEY].bytes_list.value
                    session_id = ids[0].decode("utf-8") if ids else str(len(examples))
                    examples.append((session_id, images[0].bytes_list.value[0], texts))
                self._examples = examples
            return self._examples

    def sample(self) -> tuple[str, np.ndarray, list[str]]:
        """(session id, first image uint8 HxWx3, the session's recorded edits).

        Raises:
            LookupError: there is no test example.
        """
        examples = self._load() if self._shards else []
        if not examples:
            raise LookupError(self.describe())
        session_id, encoded, texts = self._random.choice(examples)
        with Image.open(io.BytesIO(encoded)) as image:
            return session_id, np.asarray(image.convert("RGB")), texts
