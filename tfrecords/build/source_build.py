"""Sessions retrieved from the public source datasets, as the paper built Zap-Seq / DeepFashion-Seq.

    python scripts/build_dataset.py --dataset=zap_seq --source=ut_zap50k --source_dir=PATH
    python scripts/build_dataset.py --dataset=deepfashion_seq --source=deepfashion --source_dir=PATH

Readers (file layouts and the public documentation they follow: docs/own_data.md):

- `ut_zap50k`: `<source_dir>/ut-zap50k-images-square/<Category>/<SubCategory>/<Brand>/<pid>.<sku>.jpg`
  (or `ut-zap50k-images/`) and `<source_dir>/ut-zap50k-data/meta-data.csv` with the header
  `CID,Category,SubCategory,HeelHeight,Insole,Closure,Gender,Material,ToeStyle`; an image is
  found by its CID ("7965307-5291" -> "7965307.5291.jpg") anywhere under the image folder.
- `deepfashion`: the Category and Attribute Prediction benchmark: `Img/img/<item>/<file>.jpg`,
  `Anno/list_category_cloth.txt`, `Anno/list_category_img.txt`, `Anno/list_attr_cloth.txt`,
  `Anno/list_attr_img.txt`, `Eval/list_eval_partition.txt` (first row: a count, second row:
  the entry names, then the rows).

Retrieval (`retrieval.retrieve`) chains neighbouring images into sessions per split pool, so no
image is in two splits, coarse attributes changing before fine ones (its module says how);
what the walk could not do is reported in dataset_info.json ("retrieval") and on the console.

Descriptions are generated from each turn's attribute changes by the project's description
grammar (`tfrecords.synthetic.grammar.describe`, its three phrase types and paraphrases) over a
lexicon made from the attribute values, and marked as generated in dataset_info.json; a file of
human descriptions keyed by (session_id, turn) replaces them where it has one.

Bad input is reported with file and line and counted per reason (dataset_info.json
"source_problems"); a --source_dir without the expected layout fails at once. The sessions then
go through the raw builder (`raw_folder.scan_entries` / `raw_build.write_sessions`): every raw check
(missing or corrupt images, paths outside the source folder, ...) applies.
"""

from __future__ import annotations

import collections
import json
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from common.atomic_files import sha256_of_file, write_text_atomically
from tfrecords.build.deepfashion import deepfashion_layout, read_deepfashion
from tfrecords.build.descriptions import build_lexicon, read_human_descriptions
from tfrecords.build.raw_build import write_sessions
from tfrecords.build.raw_folder import scan_entries
from tfrecords.build.raw_format import RawDatasetError
from tfrecords.build.request import BuildRequest
from tfrecords.build.retrieval import format_retrieval, retrieve
from tfrecords.build.source_spec import (
    DESCRIPTION_KEY,
    RETRIEVED_SESSIONS_FILENAME,
    SPECS,
    SourceLayoutError,
)
from tfrecords.build.ut_zap50k import read_ut_zap50k, zap_layout
from tfrecords.datasets import SOURCES
from tfrecords.shard_writer import dataset_dir
from tfrecords.synthetic import grammar

READERS = {"ut_zap50k": read_ut_zap50k, "deepfashion": read_deepfashion}


def check_source(source: str, dataset: str, source_dir: str) -> None:
    """Fails at once on an unknown source, a source/dataset mismatch or a wrong layout."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; expected one of {sorted(SOURCES)}")
    if SOURCES[source] != dataset:
        raise ValueError(f"--source={source} builds --dataset={SOURCES[source]}, not {dataset}")
    if not os.path.isdir(source_dir):
        raise SourceLayoutError(f"--source_dir={source_dir!r} is not a directory")
    if source == "ut_zap50k":
        zap_layout(source_dir)
    else:
        deepfashion_layout(source_dir)


def source_build_params(request: BuildRequest) -> dict[str, Any]:
    """The parameters that identify a source build (checks the layout first)."""
    r, human = request, request.descriptions_file
    check_source(r.source, r.dataset, r.source_dir)
    if r.source == "ut_zap50k":
        metadata = [zap_layout(r.source_dir)[1]]
    else:
        metadata = list(deepfashion_layout(r.source_dir).values())
    return {
        "dataset": r.dataset,
        "source": r.source,
        "source_dir": os.path.abspath(r.source_dir),
        "num_sessions": r.num_sessions,
        "seed": r.seed,
        "image_size": r.image_size,
        "num_shards": dict(r.num_shards) if isinstance(r.num_shards, Mapping) else r.num_shards,
        "strict": r.strict,
        "allow_outside_paths": r.allow_outside_paths,
        "descriptions_file": os.path.abspath(human) if human else None,
        "descriptions_sha256": sha256_of_file(human) if human else None,
        "metadata_sha256": {os.path.relpath(p, r.source_dir): sha256_of_file(p) for p in metadata},
        "grammar_version": _grammar_version(),
    }


def _grammar_version() -> str:
    from tfrecords.synthetic import GRAMMAR_VERSION

    return GRAMMAR_VERSION


def build_from_source(request: BuildRequest) -> dict[str, Any]:
    """Reads a source download, retrieves sessions, describes them and builds the shards.

    Args:
      request: a build of kind SOURCE (`tfrecords.builders.build` hands it on).

    Returns:
      The dataset_info dict that was written.

    Raises:
      SourceLayoutError: --source_dir without the source's layout (before anything is read).
      RawDatasetError: with `strict`, for the first bad input; or no session could be built.
      ValueError: unknown source, or a source that does not build `dataset`.
    """
    r = request
    start_time = time.time()
    if r.num_sessions < 1:
        raise ValueError(f"num_sessions must be >= 1, got {r.num_sessions}")
    params = source_build_params(r)
    spec = SPECS[r.source]
    items, problems, _ = READERS[r.source](r.source_dir, r.seed)
    if r.strict and problems.total:
        raise RawDatasetError(f"--strict: bad input\n{problems.format()}", "source")
    print(problems.format())
    if not items:
        raise RawDatasetError(f"{r.source_dir}: no usable image\n{problems.format()}", "source")
    schema: dict[str, list[str]] = {
        a: sorted({item.values[a] for item in items}) for a in spec.attributes
    }
    schema[spec.fixed] = sorted({item.group for item in items})
    retrieved, retrieval = retrieve(items, spec, r.num_sessions, r.seed)
    print(format_retrieval(retrieval))
    if not retrieved:
        raise RawDatasetError(
            f"{r.source_dir}: retrieval built no session\n{format_retrieval(retrieval)}", "source"
        )

    human = read_human_descriptions(r.descriptions_file, problems) if r.descriptions_file else {}
    lexicon = build_lexicon(spec, schema)
    entries = []
    split_of: dict[str, str] = {}
    used_human: set[tuple[str, int]] = set()
    counters = collections.Counter()
    for index, session in enumerate(retrieved):
        session_id = f"{r.source}-{session.split}-{index:06d}"
        rng = np.random.default_rng([r.seed, 7, index])
        descriptions, phrase_types = [], []
        for turn, (a, b, changed) in enumerate(
            zip(session.items[:-1], session.items[1:], session.changes), start=1
        ):
            # Generated first, always, so a human description leaves the other turns' text as is.
            changes = [grammar.Change(c, items[a].values[c], items[b].values[c]) for c in changed]
            text, phrase_type = grammar.describe(lexicon, changes, rng)
            key = (session_id, turn)
            if key in human:
                text, phrase_type = human[key], ""
                used_human.add(key)
                counters["human"] += 1
            else:
                counters["generated"] += 1
            descriptions.append(text)
            phrase_types.append(phrase_type)
        entries.append(
            (
                f"retrieved session {index}",
                {
                    "session_id": session_id,
                    "images": [items[i].image for i in session.items],
                    "descriptions": descriptions,
                    "phrase_types": phrase_types,
                    "attributes": [
                        [f"{a}={items[i].values[a]}" for a in spec.attributes]
                        + [f"{spec.fixed}={items[i].group}"]
                        for i in session.items
                    ],
                },
            )
        )
        split_of[session_id] = session.split
    for key in sorted(set(human) - used_human):
        problems.add_row(
            DESCRIPTION_KEY, os.path.basename(r.descriptions_file or ""), 0, f"no turn {key}"
        )

    raw_sessions, report = scan_entries(
        entries, r.source_dir, schema, r.strict, r.allow_outside_paths, total=len(entries)
    )
    descriptions_info = {
        "generated": counters["generated"],
        "human": counters["human"],
        "source": "generated"
        if not counters["human"]
        else ("human" if not counters["generated"] else "mixed"),
        "generator": "tfrecords.synthetic.grammar.describe over attribute differences",
        "grammar_version": params["grammar_version"],
        "human_file": params["descriptions_file"],
    }
    print(
        f"descriptions: {counters['generated']} generated by the grammar, {counters['human']} human"
    )
    info = write_sessions(
        raw_sessions,
        report,
        dataset=r.dataset,
        data_dir=r.data_dir,
        params=params,
        seed=r.seed,
        num_shards=r.num_shards,
        version=r.version,
        image_size=r.image_size,
        schema=schema,
        schema_source=r.source,
        source=r.source,
        extra={
            "source_dataset": {
                "name": r.source,
                "source_dir": params["source_dir"],
                "metadata_sha256": params["metadata_sha256"],
                "usable_images": len(items),
                "attribute_coarseness": dict(spec.coarseness),
                "fixed_attribute": spec.fixed,
            },
            "source_problems": problems.as_dict(),
            "num_source_problems": problems.total,
            "retrieval": retrieval,
            "descriptions": descriptions_info,
        },
        split_of=split_of,
        start_time=start_time,
    )
    _write_retrieved(dataset_dir(r.data_dir, r.dataset, r.version), [e for _, e in entries])
    return info


def _write_retrieved(directory: str, entries: Sequence[Mapping[str, Any]]) -> None:
    """Writes the retrieved sessions (paths relative to --source_dir) for annotators."""
    path = os.path.join(directory, RETRIEVED_SESSIONS_FILENAME)
    write_text_atomically(path, "".join(json.dumps(entry) + "\n" for entry in entries))
