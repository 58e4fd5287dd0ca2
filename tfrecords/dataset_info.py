"""`dataset_info.json`: what a build contains, and the statistics gathered while writing it.

The file sits beside the shards in `<data_dir>/<dataset>/<version>/` and is written last
(atomically): a directory without it is not a complete build. Keys:

- `name`, `version`, `format_version`, `source` ("synthetic" or "raw"), `image_size`
- `splits`: {split: {"num_sessions", "num_shards", "files": [shard names]}}
- `split_sizes`: {split: num_sessions}
- `attribute_schema`: {name: [values]} ({} when the dataset has none),
  `attribute_schema_source` ("generator", "file", "inferred" or "none")
- `vocabulary`: unique words, words per description (mean/max), number of descriptions
- `statistics`: the paper's Table-1 figures (sessions, images, descriptions, turns per session,
  words per description, vocabulary size) plus turn and phrase-type histograms
- `generator` (synthetic: module, version, seed) or `raw` (raw_dir, sessions.jsonl sha256)
- `fingerprint`: the build's identity (tfrecords/build_fingerprint.py: name, version, seed,
  sizes, sha256 of the shards, the held-out design rule if any), which runs, classifiers, reports and exports record
- `build_params`: the parameters a rebuild is compared against (raw-folder and synthetic builds
  record `split_rule`; synthetic builds from the sets' own generator from 1.3.0 / photo-1.3.0 on
  also `design_holdout`, tfrecords/design_holdout.py, which the fingerprint repeats)
- `skipped` (raw builds): {reason: {"count", "first_session_ids"}}
"""

from __future__ import annotations

import collections
import json
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

from tfrecords.session import Session
from tfrecords.shard_writer import DATASET_INFO_FILENAME, dataset_dir
from tfrecords.split_rule import SPLIT_FRACTIONS, SPLITS  # noqa: F401 (re-exported)

FORMAT_VERSION = 1
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def tokenize(text: str) -> list[str]:
    """Lower-cases and splits a description into words (for statistics only)."""
    return _WORD.findall(text.lower())


def split_sizes(num_sessions: int) -> dict[str, int]:
    """Returns the nominal 85/5/10 split sizes; val and test get >= 1 session when
    num_sessions >= 3. (Builders split by tfrecords/split_rule.py, whose sizes are near these;
    the source retrieval uses these as its targets.)"""
    val = round(num_sessions * SPLIT_FRACTIONS["val"])
    test = round(num_sessions * SPLIT_FRACTIONS["test"])
    if num_sessions >= 3:
        val, test = max(val, 1), max(test, 1)
    return {"train": num_sessions - val - test, "val": val, "test": test}


class StatisticsAccumulator:
    """Collects vocabulary and Table-1 statistics from the sessions of a build."""

    def __init__(self) -> None:
        self.num_sessions = 0
        self.num_images = 0
        self.words: collections.Counter[str] = collections.Counter()
        self.description_lengths: list[int] = []
        self.turns: collections.Counter[int] = collections.Counter()
        self.phrase_types: collections.Counter[str] = collections.Counter()

    def add(self, session: Session) -> None:
        self.num_sessions += 1
        self.num_images += len(session.images)
        self.turns[session.num_turns] += 1
        for description in session.descriptions:
            words = tokenize(description)
            self.words.update(words)
            self.description_lengths.append(len(words))
        for phrase_type in session.phrase_types:
            self.phrase_types[phrase_type or "unknown"] += 1

    def vocabulary(self) -> dict[str, Any]:
        lengths = self.description_lengths
        return {
            "unique_words": len(self.words),
            "num_descriptions": len(lengths),
            "words_per_description_mean": round(sum(lengths) / len(lengths), 3) if lengths else 0,
            "words_per_description_max": max(lengths, default=0),
            "most_common": [[w, c] for w, c in self.words.most_common(20)],
        }

    def statistics(self) -> dict[str, Any]:
        lengths = self.description_lengths
        return {
            "num_sessions": self.num_sessions,
            "num_images": self.num_images,
            "num_descriptions": len(lengths),
            "turns_per_session_mean": round(len(lengths) / self.num_sessions, 3)
            if self.num_sessions
            else 0,
            "words_per_description_mean": round(sum(lengths) / len(lengths), 3) if lengths else 0,
            "vocabulary_size": len(self.words),
            "turns_histogram": {str(k): v for k, v in sorted(self.turns.items())},
            "phrase_type_counts": dict(sorted(self.phrase_types.items())),
        }


def make_info(
    *,
    name: str,
    version: str,
    source: str,
    image_size: int,
    splits: Mapping[str, Sequence[str]],
    sizes: Mapping[str, int],
    schema: Mapping[str, Sequence[str]] | None,
    schema_source: str,
    stats: StatisticsAccumulator,
    build_params: Mapping[str, Any],
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Assembles the dataset_info.json content (see the module docstring)."""
    info: dict[str, Any] = {
        "name": name,
        "version": version,
        "format_version": FORMAT_VERSION,
        "source": source,
        "image_size": image_size,
        "splits": {
            split: {"num_sessions": sizes[split], "num_shards": len(files), "files": list(files)}
            for split, files in splits.items()
        },
        "split_sizes": dict(sizes),
        "num_sessions": sum(sizes.values()),
        "attribute_schema": {k: list(v) for k, v in (schema or {}).items()},
        "attribute_schema_source": schema_source,
        "vocabulary": stats.vocabulary(),
        "statistics": stats.statistics(),
        "build_params": dict(build_params),
    }
    info.update(extra or {})
    return info


def read_info(directory: str) -> dict[str, Any] | None:
    """Returns the parsed dataset_info.json of a build directory, or None if it has none."""
    path = os.path.join(directory, DATASET_INFO_FILENAME)
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _version_key(version: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in version.split("."))


def find_build(data_dir: str, dataset: str, version: str | None = None) -> str | None:
    """Returns the directory of a complete build (the newest version if none is given)."""
    if version is not None:
        directory = dataset_dir(data_dir, dataset, version)
        return directory if os.path.exists(os.path.join(directory, DATASET_INFO_FILENAME)) else None
    root = os.path.join(data_dir, dataset)
    if not os.path.isdir(root):
        return None
    versions = [
        v for v in os.listdir(root) if os.path.exists(os.path.join(root, v, DATASET_INFO_FILENAME))
    ]
    if not versions:
        return None
    return os.path.join(root, max(versions, key=_version_key))
