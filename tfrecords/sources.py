"""Sessions retrieved from the public source datasets, as the paper built Zap-Seq / DeepFashion-Seq.

    python scripts/build_dataset.py --dataset=zap_seq --source=ut_zap50k --source_dir=PATH
    python scripts/build_dataset.py --dataset=deepfashion_seq --source=deepfashion --source_dir=PATH

Readers (file layouts and the public documentation they follow are in the README, "Using the
real datasets"):

- `ut_zap50k`: `<source_dir>/ut-zap50k-images-square/<Category>/<SubCategory>/<Brand>/<pid>.<sku>.jpg`
  (or `ut-zap50k-images/`) and `<source_dir>/ut-zap50k-data/meta-data.csv` with the header
  `CID,Category,SubCategory,HeelHeight,Insole,Closure,Gender,Material,ToeStyle`; an image is
  found by its CID ("7965307-5291" -> "7965307.5291.jpg") anywhere under the image folder.
- `deepfashion`: the Category and Attribute Prediction benchmark: `Img/img/<item>/<file>.jpg`,
  `Anno/list_category_cloth.txt`, `Anno/list_category_img.txt`, `Anno/list_attr_cloth.txt`,
  `Anno/list_attr_img.txt`, `Eval/list_eval_partition.txt` (first row: a count, second row:
  the entry names, then the rows).

Retrieval (`retrieve`), per split pool of images (UT-Zap50K: a seeded 85/5/10 hash of the image
path; DeepFashion: its evaluation partition), so no image is in two splits: a session starts
at a random image and walks to an unused neighbour that differs in one or two attributes
(never an unknown one), changing coarse attributes before fine ones: every attribute a turn
changes is at least as fine as every attribute the turns before it changed. Images are not
reused within a session; across sessions of a split the least used neighbour is preferred.
Sessions have 3 to 5 images, as many sessions as asked are built per split (85/5/10 of
--num_sessions) when the pool allows, and everything is deterministic from the seed. What the
walk could not do (changes with no neighbour, dead ends, isolated images, a shortfall) is
reported in dataset_info.json ("retrieval") and on the console.

Descriptions are generated from each turn's attribute changes by the project's description
grammar (`tfrecords.synthetic.grammar.describe`, its three phrase types and paraphrases) over a
lexicon made from the attribute values, and marked as generated in dataset_info.json; a file of
human descriptions keyed by (session_id, turn) replaces them where it has one.

Bad input is reported with file and line and counted per reason (dataset_info.json
"source_problems"); a --source_dir without the expected layout fails at once. The sessions then
go through the raw builder (`raw_builder.scan_entries` / `write_sessions`): every raw check
(missing or corrupt images, paths outside the source folder, ...) applies.
"""

from __future__ import annotations

import collections
import csv
import dataclasses
import hashlib
import itertools
import json
import os
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from common.atomic_files import sha256_of_file, write_text_atomically
from tfrecords.dataset_info import SPLIT_FRACTIONS, SPLITS, split_sizes
from tfrecords.datasets import SOURCES
from tfrecords.image_paths import path_problem
from tfrecords.raw_builder import RawDatasetError, scan_entries, write_sessions
from tfrecords.shard_writer import dataset_dir
from tfrecords.synthetic import grammar
from tfrecords.synthetic.lexicon import AttributeWords, Lexicon

MIN_IMAGES, MAX_IMAGES = 3, 5
TWO_CHANGE_P = 0.35
UNKNOWN = "unknown"
NONE = "none"
REPORT_EXAMPLES = 5
RETRIEVED_SESSIONS_FILENAME = "retrieved_sessions.jsonl"

# Problem reasons.
UNREADABLE_ROW = "unreadable_row"
UNKNOWN_VALUE = "unknown_attribute_value"
MISSING_IMAGE = "missing_image"
MALFORMED_PATH = "malformed_path"
NOT_UTF8 = "not_utf8"
WRONG_FOLDER = "wrong_folder"
MISSING_ANNOTATION = "missing_annotation"
DUPLICATE_ROW = "duplicate_row"
COUNT_MISMATCH = "count_mismatch"
DESCRIPTION_ROW = "description_row"
DESCRIPTION_KEY = "description_unknown_session_turn"


class SourceLayoutError(RawDatasetError):
    """--source_dir does not hold the source dataset's layout (raised at once)."""


class ProblemReport:
    """Counts bad input per reason, keeping the first few "file:line: message" of each."""

    def __init__(self) -> None:
        self.counts: collections.Counter[str] = collections.Counter()
        self.examples: dict[str, list[str]] = collections.defaultdict(list)

    def add(self, reason: str, path: str, line: int, message: str) -> None:
        self.counts[reason] += 1
        if len(self.examples[reason]) < REPORT_EXAMPLES:
            self.examples[reason].append(f"{path}:{line}: {message}")

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            reason: {"count": count, "first": self.examples[reason]}
            for reason, count in sorted(self.counts.items())
        }

    def format(self) -> str:
        if not self.total:
            return "source: no bad input"
        lines = [f"source: {self.total} problem(s) in the input"]
        for reason, entry in self.as_dict().items():
            lines.append(f"  {reason}: {entry['count']}")
            lines.extend(f"    {example}" for example in entry["first"])
        return "\n".join(lines)


@dataclasses.dataclass
class Item:
    """One usable source image."""

    image: str  # path relative to source_dir
    values: dict[str, str]  # edit attribute -> value
    group: str  # value of the fixed attribute: a session never leaves its group
    pool: str  # split


@dataclasses.dataclass(frozen=True)
class SourceSpec:
    """How a source maps to sessions.

    Attributes:
      name: the --source name.
      attributes: the attributes retrieval may change, in schema order.
      coarseness: attribute -> 0 (coarse, changed first) .. 2 (fine, changed last).
      fixed: name of the attribute that stays fixed within a session (stored too).
      kinds: attribute -> grammar kind ("identity", "property" or "part").
      nouns: attribute -> the noun that names it in descriptions ("material").
      item_nouns: generic nouns for the item.
    """

    name: str
    attributes: tuple[str, ...]
    coarseness: Mapping[str, int]
    fixed: str
    kinds: Mapping[str, str]
    nouns: Mapping[str, str]
    item_nouns: tuple[str, ...]


ZAP_SPEC = SourceSpec(
    name="ut_zap50k",
    attributes=("category", "subcategory", "heel_height", "material", "closure", "toe_style"),
    coarseness={
        "category": 0,
        "subcategory": 0,
        "heel_height": 1,
        "material": 1,
        "closure": 2,
        "toe_style": 2,
    },
    fixed="gender",
    kinds={
        "category": "identity",
        "subcategory": "identity",
        "heel_height": "property",
        "material": "property",
        "closure": "part",
        "toe_style": "property",
    },
    nouns={
        "category": "kind",
        "subcategory": "style",
        "heel_height": "heel",
        "material": "material",
        "closure": "closure",
        "toe_style": "toe",
    },
    item_nouns=("shoe", "pair", "one"),
)
DEEPFASHION_ATTRIBUTE_TYPES = {1: "texture", 2: "fabric", 3: "shape", 4: "part", 5: "style"}
DEEPFASHION_CATEGORY_TYPES = {1: "upper_body", 2: "lower_body", 3: "full_body"}
DEEPFASHION_SPEC = SourceSpec(
    name="deepfashion",
    attributes=("category", "fabric", "shape", "texture", "part", "style"),
    coarseness={"category": 0, "fabric": 1, "shape": 1, "texture": 2, "part": 2, "style": 2},
    fixed="category_type",
    kinds={
        "category": "identity",
        "fabric": "property",
        "shape": "property",
        "texture": "property",
        "part": "part",
        "style": "property",
    },
    nouns={
        "category": "kind",
        "fabric": "fabric",
        "shape": "cut",
        "texture": "pattern",
        "part": "detail",
        "style": "style",
    },
    item_nouns=("piece", "garment", "one"),
)
SPECS = {"ut_zap50k": ZAP_SPEC, "deepfashion": DEEPFASHION_SPEC}


def normalize_value(text: str) -> str:
    """ "Knee High" -> "knee_high"; "=" and "," (which the attribute strings use) are dropped."""
    text = re.sub(r"[=,]", " ", text.strip().lower())
    return re.sub(r"\s+", "_", text.strip())


def _pool(seed: int, key: str) -> str:
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    if u < SPLIT_FRACTIONS["train"]:
        return "train"
    return "val" if u < SPLIT_FRACTIONS["train"] + SPLIT_FRACTIONS["val"] else "test"


def _layout_error(source: str, source_dir: str, missing: Sequence[str], expected: str) -> None:
    try:
        found = sorted(os.listdir(source_dir))[:12]
    except OSError:
        found = []
    raise SourceLayoutError(
        f"--source_dir={source_dir!r} is not a {source} download: missing "
        f"{', '.join(missing)}\nexpected:\n{expected}\nfound: {found or 'nothing'}"
    )


# ----------------------------------------------------------------------------- UT-Zap50K

ZAP_DATA_DIR = "ut-zap50k-data"
ZAP_METADATA = "meta-data.csv"
ZAP_IMAGE_DIRS = ("ut-zap50k-images-square", "ut-zap50k-images")
ZAP_COLUMNS = (
    "CID",
    "Category",
    "SubCategory",
    "HeelHeight",
    "Insole",
    "Closure",
    "Gender",
    "Material",
    "ToeStyle",
)
ZAP_CATEGORIES = ("Boots", "Sandals", "Shoes", "Slippers")
ZAP_ATTRIBUTE_COLUMNS = {
    "category": "Category",
    "subcategory": "SubCategory",
    "heel_height": "HeelHeight",
    "material": "Material",
    "closure": "Closure",
    "toe_style": "ToeStyle",
}
ZAP_EXPECTED = (
    "  <source_dir>/ut-zap50k-images-square/<Category>/<SubCategory>/<Brand>/<pid>.<sku>.jpg\n"
    "  <source_dir>/ut-zap50k-data/meta-data.csv  (CID,Category,SubCategory,HeelHeight,"
    "Insole,Closure,Gender,Material,ToeStyle)"
)


def zap_layout(source_dir: str) -> tuple[str, str]:
    """(image folder, meta-data.csv path) of a UT-Zap50K download; raises SourceLayoutError."""
    metadata = os.path.join(source_dir, ZAP_DATA_DIR, ZAP_METADATA)
    images = next(
        (
            os.path.join(source_dir, d)
            for d in ZAP_IMAGE_DIRS
            if os.path.isdir(os.path.join(source_dir, d))
        ),
        None,
    )
    missing = []
    if not os.path.isfile(metadata):
        missing.append(f"{ZAP_DATA_DIR}/{ZAP_METADATA}")
    if images is None:
        missing.append(f"{ZAP_IMAGE_DIRS[0]}/")
    if missing:
        _layout_error("UT-Zap50K", source_dir, missing, ZAP_EXPECTED)
    return images, metadata


def read_ut_zap50k(source_dir: str, seed: int) -> tuple[list[Item], ProblemReport, list[str]]:
    """Reads a UT-Zap50K download into items (see the module docstring).

    Multi-valued fields ("Leather;Rubber") keep their first value, the prominent one; an empty
    field is the value "unknown", which retrieval never changes to or from.

    Returns:
      (items, problems, metadata files read).
    """
    images_dir, metadata = zap_layout(source_dir)
    problems = ProblemReport()
    by_name: dict[str, list[str]] = collections.defaultdict(list)
    for root, dirs, files in os.walk(images_dir):
        dirs.sort()
        for name in sorted(files):
            if name.lower().endswith(".jpg"):
                by_name[name].append(os.path.relpath(os.path.join(root, name), source_dir))
    relative_metadata = os.path.relpath(metadata, source_dir)
    items: list[Item] = []
    seen: set[str] = set()
    # Bytes that are not UTF-8 come back as lone surrogates; such a row is reported, not fatal.
    with open(metadata, encoding="utf-8", errors="surrogateescape", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None or any(column not in header for column in ZAP_COLUMNS):
            raise SourceLayoutError(
                f"{metadata}: header {header} lacks columns "
                f"{[c for c in ZAP_COLUMNS if c not in (header or [])]}; expected "
                f"{','.join(ZAP_COLUMNS)}"
            )
        index = {column: header.index(column) for column in ZAP_COLUMNS}
        for row in reader:
            line = reader.line_num
            if not row:
                continue
            if not _is_utf8(",".join(row)):
                problems.add(
                    NOT_UTF8, relative_metadata, line, "row holds bytes that are not UTF-8"
                )
                continue
            if len(row) != len(header):
                problems.add(
                    UNREADABLE_ROW,
                    relative_metadata,
                    line,
                    f"{len(row)} fields, the header has {len(header)}",
                )
                continue
            cid = row[index["CID"]].strip()
            if not re.fullmatch(r"[0-9A-Za-z]+-[0-9A-Za-z]+", cid):
                problems.add(
                    UNREADABLE_ROW, relative_metadata, line, f"CID {cid!r} is not <pid>-<sku>"
                )
                continue
            if cid in seen:
                problems.add(DUPLICATE_ROW, relative_metadata, line, f"CID {cid} seen before")
                continue
            seen.add(cid)
            category = row[index["Category"]].strip()
            if category not in ZAP_CATEGORIES:
                problems.add(
                    UNKNOWN_VALUE,
                    relative_metadata,
                    line,
                    f"Category {category!r} is not one of {ZAP_CATEGORIES}",
                )
                continue
            file_name = cid.replace("-", ".") + ".jpg"
            paths = by_name.get(file_name)
            if not paths:
                problems.add(
                    MISSING_IMAGE, relative_metadata, line, f"no image {file_name} for CID {cid}"
                )
                continue
            in_category = [p for p in paths if p.split(os.sep)[1:2] == [category]]
            if not in_category:
                problems.add(
                    WRONG_FOLDER,
                    relative_metadata,
                    line,
                    f"{paths[0]} is not under the folder of its Category {category!r}",
                )
                continue
            values = {}
            for attribute, column in ZAP_ATTRIBUTE_COLUMNS.items():
                raw = row[index[column]].split(";")[0]
                values[attribute] = normalize_value(raw) or UNKNOWN
            gender = normalize_value(row[index["Gender"]].split(";")[0]) or UNKNOWN
            items.append(Item(in_category[0], values, gender, _pool(seed, in_category[0])))
    return items, problems, [metadata]


# ---------------------------------------------------------------------------- DeepFashion

DEEPFASHION_FILES = {
    "category_cloth": ("Anno/list_category_cloth.txt", ("category_name", "category_type")),
    "category_img": ("Anno/list_category_img.txt", ("image_name", "category_label")),
    "attr_cloth": ("Anno/list_attr_cloth.txt", ("attribute_name", "attribute_type")),
    "attr_img": ("Anno/list_attr_img.txt", ("image_name", "attribute_labels")),
    "partition": ("Eval/list_eval_partition.txt", ("image_name", "evaluation_status")),
}
DEEPFASHION_EXPECTED = "\n".join(
    ["  <source_dir>/Img/img/<item folder>/<image>.jpg"]
    + [
        f"  <source_dir>/{path}  (second row: {' '.join(h)})"
        for path, h in DEEPFASHION_FILES.values()
    ]
)


def deepfashion_layout(source_dir: str) -> dict[str, str]:
    """Paths of the benchmark's files; raises SourceLayoutError when any is missing."""
    paths = {key: os.path.join(source_dir, rel) for key, (rel, _) in DEEPFASHION_FILES.items()}
    missing = [DEEPFASHION_FILES[k][0] for k, p in paths.items() if not os.path.isfile(p)]
    if not os.path.isdir(os.path.join(source_dir, "Img")):
        missing.append("Img/")
    if missing:
        _layout_error(
            "DeepFashion Category and Attribute Prediction",
            source_dir,
            missing,
            DEEPFASHION_EXPECTED,
        )
    return paths


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _listing(
    path: str, header: Sequence[str], source_dir: str, problems: ProblemReport
) -> list[tuple[int, list[str]]]:
    """Rows (line number, whitespace tokens) of a "count / entry names / rows" file."""
    relative = os.path.relpath(path, source_dir)
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        lines = f.read().splitlines()
    if len(lines) < 2 or not lines[0].strip().isdigit() or lines[1].split() != list(header):
        raise SourceLayoutError(
            f"{path}: expected a count on line 1 and the entry names {' '.join(header)!r} on "
            f"line 2, found {lines[:2]}"
        )
    rows = []
    for n, line in enumerate(lines[2:], start=3):
        if not line.strip():
            continue
        if not _is_utf8(line):  # bytes that are not UTF-8 come back as lone surrogates
            problems.add(NOT_UTF8, relative, n, "row holds bytes that are not UTF-8")
            continue
        rows.append((n, line.split()))
    if int(lines[0]) != len(rows):
        problems.add(COUNT_MISMATCH, relative, 1, f"count {lines[0].strip()} but {len(rows)} rows")
    return rows


def read_deepfashion(source_dir: str, seed: int) -> tuple[list[Item], ProblemReport, list[str]]:
    """Reads the Category and Attribute Prediction benchmark into items.

    Each attribute type (texture, fabric, shape, part, style) becomes one attribute whose value
    is the image's positive attribute of that type, "+"-joined when it has several, "none"
    when it has none ("0", unknown, counts as not positive). The category type (upper, lower,
    full body) stays fixed within a session. The split pool is the evaluation partition.
    """
    del seed  # The pools come from the benchmark's own partition.
    paths = deepfashion_layout(source_dir)
    problems = ProblemReport()
    rel = {k: os.path.relpath(p, source_dir) for k, p in paths.items()}
    rows = {k: _listing(p, DEEPFASHION_FILES[k][1], source_dir, problems) for k, p in paths.items()}

    categories: list[tuple[str, str] | None] = []
    for line, tokens in rows["category_cloth"]:
        kind = tokens[-1] if len(tokens) >= 2 else ""
        if not kind.isdigit() or int(kind) not in DEEPFASHION_CATEGORY_TYPES:
            problems.add(UNKNOWN_VALUE, rel["category_cloth"], line, f"category type {kind!r}")
            categories.append(None)
            continue
        name = normalize_value(" ".join(tokens[:-1]))
        categories.append((name, DEEPFASHION_CATEGORY_TYPES[int(kind)]))
    attributes: list[tuple[str, str] | None] = []
    for line, tokens in rows["attr_cloth"]:
        kind = tokens[-1] if len(tokens) >= 2 else ""
        if not kind.isdigit() or int(kind) not in DEEPFASHION_ATTRIBUTE_TYPES:
            problems.add(UNKNOWN_VALUE, rel["attr_cloth"], line, f"attribute type {kind!r}")
            attributes.append(None)
            continue
        attributes.append(
            (normalize_value(" ".join(tokens[:-1])), DEEPFASHION_ATTRIBUTE_TYPES[int(kind)])
        )

    rejected: set[str] = set()  # images whose row was reported already (reported once)
    category_of: dict[str, tuple[int, tuple[str, str]]] = {}
    for line, tokens in rows["category_img"]:
        if len(tokens) != 2 or not tokens[1].isdigit():
            problems.add(UNREADABLE_ROW, rel["category_img"], line, f"{len(tokens)} fields")
            continue
        label = int(tokens[1])
        if not 1 <= label <= len(categories) or categories[label - 1] is None:
            problems.add(UNKNOWN_VALUE, rel["category_img"], line, f"category label {label}")
            rejected.add(tokens[0])
            continue
        category_of[tokens[0]] = (line, categories[label - 1])
    labels_of: dict[str, dict[str, str]] = {}
    for line, tokens in rows["attr_img"]:
        if len(tokens) != len(attributes) + 1:
            problems.add(
                UNREADABLE_ROW,
                rel["attr_img"],
                line,
                f"{len(tokens) - 1} labels for {len(attributes)} attributes",
            )
            rejected.add(tokens[0] if tokens else "")
            continue
        if any(t not in ("-1", "0", "1") for t in tokens[1:]):
            bad = next(t for t in tokens[1:] if t not in ("-1", "0", "1"))
            problems.add(UNKNOWN_VALUE, rel["attr_img"], line, f"attribute label {bad!r}")
            rejected.add(tokens[0])
            continue
        positives: dict[str, list[str]] = collections.defaultdict(list)
        for label, attribute in zip(tokens[1:], attributes):
            if label == "1" and attribute is not None:
                positives[attribute[1]].append(attribute[0])
        labels_of[tokens[0]] = {
            kind: "+".join(sorted(positives[kind])) or NONE
            for kind in DEEPFASHION_ATTRIBUTE_TYPES.values()
        }
    split_of: dict[str, str] = {}
    for line, tokens in rows["partition"]:
        if len(tokens) != 2:
            problems.add(UNREADABLE_ROW, rel["partition"], line, f"{len(tokens)} fields")
            rejected.add(tokens[0] if tokens else "")
        elif tokens[1] not in SPLITS:
            problems.add(UNKNOWN_VALUE, rel["partition"], line, f"evaluation status {tokens[1]!r}")
            rejected.add(tokens[0])
        else:
            split_of[tokens[0]] = tokens[1]

    items = []
    for image, (line, (category, category_type)) in category_of.items():
        where = (rel["category_img"], line)
        if image in rejected:
            continue
        if image not in labels_of or image not in split_of:
            lacking = "list_attr_img.txt" if image not in labels_of else "list_eval_partition.txt"
            problems.add(MISSING_ANNOTATION, *where, f"{image} has no row in {lacking}")
            continue
        problem = path_problem(image, source_dir)
        if problem is not None:
            problems.add(MALFORMED_PATH, *where, problem)
            continue
        if not re.fullmatch(r"img/[^/]+/[^/]+\.jpg", image):
            problems.add(WRONG_FOLDER, *where, f"{image} is not img/<item folder>/<file>.jpg")
            continue
        path = os.path.join("Img", image)
        if not os.path.isfile(os.path.join(source_dir, path)):
            problems.add(MISSING_IMAGE, *where, f"{path} not found")
            continue
        values = {"category": category, **labels_of[image]}
        items.append(Item(path, values, category_type, split_of[image]))
    return items, problems, list(paths.values())


READERS = {"ut_zap50k": read_ut_zap50k, "deepfashion": read_deepfashion}


# ------------------------------------------------------------------------------ retrieval


@dataclasses.dataclass
class Retrieved:
    """One retrieved session: item indices and, per turn, the changed attributes."""

    split: str
    items: list[int]
    changes: list[list[str]]


def _change_sets(spec: SourceSpec) -> list[tuple[str, ...]]:
    return [(a,) for a in spec.attributes] + list(itertools.combinations(spec.attributes, 2))


def retrieve(
    items: Sequence[Item], spec: SourceSpec, num_sessions: int, seed: int
) -> tuple[list[Retrieved], dict[str, Any]]:
    """Retrieves sessions per split pool (see the module docstring).

    Returns:
      (sessions in split order, the retrieval report for dataset_info.json).
    """
    change_sets = _change_sets(spec)
    level = spec.coarseness
    wanted = split_sizes(num_sessions)
    sessions: list[Retrieved] = []
    report: dict[str, Any] = {"requested": dict(wanted), "built": {}, "per_split": {}}
    no_neighbour: collections.Counter[str] = collections.Counter()
    for split_index, split in enumerate(SPLITS):
        pool = [i for i, item in enumerate(items) if item.pool == split]
        # For each change set S: (group, values outside S) -> items.
        buckets: dict[tuple[str, ...], dict[tuple, list[int]]] = {}
        for change in change_sets:
            table: dict[tuple, list[int]] = collections.defaultdict(list)
            for i in pool:
                item = items[i]
                key = (item.group,) + tuple(
                    item.values[a] for a in spec.attributes if a not in change
                )
                table[key].append(i)
            buckets[change] = table

        def neighbours(
            i: int, change: tuple[str, ...], buckets: dict = buckets
        ) -> tuple[list[int], list[str]]:
            item = items[i]
            key = (item.group,) + tuple(item.values[a] for a in spec.attributes if a not in change)
            found = []
            for j in buckets[change].get(key, ()):
                other = items[j]
                changed = [a for a in change if other.values[a] != item.values[a]]
                if changed and all(
                    UNKNOWN not in (item.values[a], other.values[a]) for a in changed
                ):
                    found.append(j)
            return found, list(change)

        isolated = [i for i in pool if not any(neighbours(i, c)[0] for c in change_sets)]
        isolated_set = set(isolated)
        starts = [i for i in pool if i not in isolated_set]
        rng = np.random.default_rng([seed, split_index])
        usage: collections.Counter[int] = collections.Counter()
        built: list[Retrieved] = []
        attempts = dead_ends = 0
        max_attempts = 20 * wanted[split] + 100
        while starts and len(built) < wanted[split] and attempts < max_attempts:
            attempts += 1
            length = int(rng.integers(MIN_IMAGES, MAX_IMAGES + 1))
            chain = [starts[int(rng.integers(len(starts)))]]
            turn_changes: list[list[str]] = []
            floor = 0
            while len(chain) < length:
                sizes = (2, 1) if rng.random() < TWO_CHANGE_P else (1, 2)
                options = [c for c in change_sets if min(level[a] for a in c) >= floor]
                order = sorted(
                    options,
                    key=lambda c: (sizes.index(len(c)), max(level[a] for a in c) + rng.random()),
                )
                step = None
                for change in order:
                    found, _ = neighbours(chain[-1], change)
                    found = [j for j in found if j not in chain]
                    if not found:
                        no_neighbour["+".join(change)] += 1
                        continue
                    least = min(usage[j] for j in found)
                    found = [j for j in found if usage[j] == least]
                    step = found[int(rng.integers(len(found)))]
                    changed = [
                        a for a in change if items[step].values[a] != items[chain[-1]].values[a]
                    ]
                    break
                if step is None:
                    break
                chain.append(step)
                turn_changes.append(changed)
                floor = max(level[a] for a in changed)
            if len(chain) < MIN_IMAGES:
                dead_ends += 1
                continue
            usage.update(chain)
            built.append(Retrieved(split, chain, turn_changes))
        sessions.extend(built)
        report["built"][split] = len(built)
        report["per_split"][split] = {
            "pool_images": len(pool),
            "isolated_images": len(isolated),
            "attempts": attempts,
            "dead_end_starts": dead_ends,
            "shortfall": wanted[split] - len(built),
            "distinct_images_used": len(usage),
            "max_sessions_per_image": max(usage.values(), default=0),
        }
    report["changes_without_neighbour"] = dict(no_neighbour.most_common())
    report["turns_histogram"] = dict(
        sorted(collections.Counter(str(len(s.changes)) for s in sessions).items())
    )
    report["shortfall"] = sum(wanted.values()) - len(sessions)
    return sessions, report


def format_retrieval(report: Mapping[str, Any]) -> str:
    lines = [
        f"retrieval: built {report['built']} of requested {report['requested']} sessions"
        + (f" (short by {report['shortfall']})" if report["shortfall"] else "")
    ]
    for split, entry in report["per_split"].items():
        lines.append(
            f"  {split}: {entry['pool_images']} images in the pool, {entry['isolated_images']} "
            f"with no neighbour, {entry['dead_end_starts']} dead-end starts"
        )
    missing = list(report["changes_without_neighbour"].items())[:8]
    if missing:
        lines.append(
            "  changes with no unused neighbour (times): "
            + ", ".join(f"{name} {count}" for name, count in missing)
        )
    return "\n".join(lines)


# ---------------------------------------------------------------------------- descriptions


def _display(value: str) -> str:
    return value.replace("_", " ").replace("+", " and ")


def _singular(text: str) -> str:
    return text[:-1] if text.endswith("s") and not text.endswith("ss") else text


def build_lexicon(spec: SourceSpec, schema: Mapping[str, Sequence[str]]) -> Lexicon:
    """A grammar Lexicon for the source's attribute values (templated phrases per value)."""
    words = {}
    for attribute in spec.attributes:
        kind, noun = spec.kinds[attribute], spec.nouns[attribute]
        adjectives, nouns, propositions, removal_nouns = {}, {}, {}, {}
        for value in schema[attribute]:
            text = _display(value)
            if value in (NONE, UNKNOWN):
                adjectives[value] = ("plain",) if value == NONE else ()
                nouns[value] = (f"no particular {noun}", f"a plain {noun}")
                propositions[value] = (f"a {noun} that is plain",)
                continue
            propositions[value] = (f"a {noun} that is {text}", f"a {noun} which is {text}")
            removal_nouns[value] = (f"{text} {noun}",)
            if kind == "identity":
                single = _singular(text)
                article = "an" if single[:1] in "aeiou" else "a"
                nouns[value] = (f"{article} {single}", f"{article} {single} {noun}")
                adjectives[value] = ()
            elif kind == "part":
                nouns[value] = (f"a {text} {noun}", f"{text}")
            else:
                adjectives[value] = (text,)
                nouns[value] = (f"a {text} {noun}",)
        words[attribute] = AttributeWords(
            kind=kind,
            adjectives=adjectives,
            nouns=nouns,
            propositions=propositions,
            removal=(NONE,) if NONE in schema[attribute] else (),
            removal_nouns=removal_nouns,
        )
    return Lexicon(item_nouns=spec.item_nouns, attributes=words)


def read_human_descriptions(path: str, problems: ProblemReport) -> dict[tuple[str, int], str]:
    """Reads human descriptions keyed by (session_id, turn); turn 1 is the first edit.

    Formats: JSON lines {"session_id", "turn", "description"}, or CSV / TSV (by extension) with
    the header session_id,turn,description. Bad rows are counted in `problems`.
    """
    result: dict[tuple[str, int], str] = {}
    name = os.path.basename(path)

    def add(line: int, session_id: Any, turn: Any, text: Any) -> None:
        try:
            turn = int(turn)
        except (TypeError, ValueError):
            problems.add(DESCRIPTION_ROW, name, line, f"turn {turn!r} is not an integer")
            return
        if not isinstance(session_id, str) or not isinstance(text, str) or not text.strip():
            problems.add(
                DESCRIPTION_ROW, name, line, "needs a session_id and a non-empty description"
            )
            return
        if (session_id, turn) in result:
            problems.add(DESCRIPTION_ROW, name, line, f"({session_id}, {turn}) given twice")
            return
        result[(session_id, turn)] = text.strip()

    with open(path, encoding="utf-8", newline="") as f:
        if path.endswith((".csv", ".tsv")):
            reader = csv.DictReader(f, delimiter="\t" if path.endswith(".tsv") else ",")
            if not {"session_id", "turn", "description"} <= set(reader.fieldnames or ()):
                raise RawDatasetError(f"{path}: header must have session_id, turn, description")
            for row in reader:
                add(reader.line_num, row["session_id"], row["turn"], row["description"])
        else:
            for line, text in enumerate(f, start=1):
                if not text.strip():
                    continue
                try:
                    row = json.loads(text)
                except json.JSONDecodeError as e:
                    problems.add(DESCRIPTION_ROW, name, line, f"invalid JSON: {e}")
                    continue
                if not isinstance(row, dict):
                    problems.add(DESCRIPTION_ROW, name, line, "not a JSON object")
                    continue
                add(line, row.get("session_id"), row.get("turn"), row.get("description"))
    return result


# ----------------------------------------------------------------------------------- build


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


def source_build_params(
    source: str,
    dataset: str,
    source_dir: str,
    num_sessions: int,
    seed: int,
    image_size: int,
    num_shards: Mapping[str, int] | int | None,
    strict: bool,
    allow_outside_paths: bool,
    descriptions_file: str | None,
) -> dict[str, Any]:
    """The parameters that identify a source build (checks the layout first)."""
    check_source(source, dataset, source_dir)
    if source == "ut_zap50k":
        metadata = [zap_layout(source_dir)[1]]
    else:
        metadata = list(deepfashion_layout(source_dir).values())
    return {
        "dataset": dataset,
        "source": source,
        "source_dir": os.path.abspath(source_dir),
        "num_sessions": num_sessions,
        "seed": seed,
        "image_size": image_size,
        "num_shards": dict(num_shards) if isinstance(num_shards, Mapping) else num_shards,
        "strict": strict,
        "allow_outside_paths": allow_outside_paths,
        "descriptions_file": os.path.abspath(descriptions_file) if descriptions_file else None,
        "descriptions_sha256": sha256_of_file(descriptions_file) if descriptions_file else None,
        "metadata_sha256": {os.path.relpath(p, source_dir): sha256_of_file(p) for p in metadata},
        "grammar_version": _grammar_version(),
    }


def _grammar_version() -> str:
    from tfrecords.synthetic import GENERATOR_VERSION

    return GENERATOR_VERSION


def build_from_source(
    source: str,
    dataset: str,
    source_dir: str,
    data_dir: str,
    num_sessions: int,
    seed: int = 0,
    num_shards: Mapping[str, int] | int | None = None,
    version: str = "1.0.0",
    image_size: int = 64,
    strict: bool = False,
    allow_outside_paths: bool = False,
    descriptions_file: str | None = None,
) -> dict[str, Any]:
    """Reads a source download, retrieves sessions, describes them and builds the shards.

    Returns:
      The dataset_info dict that was written.

    Raises:
      SourceLayoutError: --source_dir without the source's layout (before anything is read).
      RawDatasetError: with `strict`, for the first bad input; or no session could be built.
      ValueError: unknown source, or a source that does not build `dataset`.
    """
    start_time = time.time()
    if num_sessions < 1:
        raise ValueError(f"num_sessions must be >= 1, got {num_sessions}")
    params = source_build_params(
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
    spec = SPECS[source]
    items, problems, _ = READERS[source](source_dir, seed)
    if strict and problems.total:
        raise RawDatasetError(f"--strict: bad input\n{problems.format()}", "source")
    print(problems.format())
    if not items:
        raise RawDatasetError(f"{source_dir}: no usable image\n{problems.format()}", "source")
    schema: dict[str, list[str]] = {
        a: sorted({item.values[a] for item in items}) for a in spec.attributes
    }
    schema[spec.fixed] = sorted({item.group for item in items})
    retrieved, retrieval = retrieve(items, spec, num_sessions, seed)
    print(format_retrieval(retrieval))
    if not retrieved:
        raise RawDatasetError(
            f"{source_dir}: retrieval built no session\n{format_retrieval(retrieval)}", "source"
        )

    human = read_human_descriptions(descriptions_file, problems) if descriptions_file else {}
    lexicon = build_lexicon(spec, schema)
    entries = []
    split_of: dict[str, str] = {}
    used_human: set[tuple[str, int]] = set()
    counters = collections.Counter()
    for index, session in enumerate(retrieved):
        session_id = f"{source}-{session.split}-{index:06d}"
        rng = np.random.default_rng([seed, 7, index])
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
        problems.add(
            DESCRIPTION_KEY, os.path.basename(descriptions_file or ""), 0, f"no turn {key}"
        )

    raw_sessions, report = scan_entries(
        entries, source_dir, schema, strict, allow_outside_paths, total=len(entries)
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
        dataset=dataset,
        data_dir=data_dir,
        params=params,
        seed=seed,
        num_shards=num_shards,
        version=version,
        image_size=image_size,
        schema=schema,
        schema_source=source,
        source=source,
        extra={
            "source_dataset": {
                "name": source,
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
    _write_retrieved(dataset_dir(data_dir, dataset, version), [e for _, e in entries])
    return info


def _write_retrieved(directory: str, entries: Sequence[Mapping[str, Any]]) -> None:
    """Writes the retrieved sessions (paths relative to --source_dir) for annotators."""
    path = os.path.join(directory, RETRIEVED_SESSIONS_FILENAME)
    write_text_atomically(path, "".join(json.dumps(entry) + "\n" for entry in entries))
