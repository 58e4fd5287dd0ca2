"""The DeepFashion reader (Category and Attribute Prediction benchmark): `Img/img/<item>/
<file>.jpg`, `Anno/list_category_cloth.txt`, `Anno/list_category_img.txt`,
`Anno/list_attr_cloth.txt`, `Anno/list_attr_img.txt`, `Eval/list_eval_partition.txt` (first
row: a count, second row: the entry names, then the rows). Layout and sources:
docs/own_data.md."""

from __future__ import annotations

import collections
import os
import re
from collections.abc import Mapping, Sequence

from tfrecords.build.input_report import ROWS, InputReport
from tfrecords.build.source_spec import (
    COUNT_MISMATCH,
    DEEPFASHION_ATTRIBUTE_TYPES,
    DEEPFASHION_CATEGORY_TYPES,
    MALFORMED_PATH,
    MISSING_ANNOTATION,
    MISSING_IMAGE,
    NONE,
    UNKNOWN_VALUE,
    UNREADABLE_ROW,
    WRONG_FOLDER,
    Item,
    SourceLayoutError,
    layout_error,
    normalize_value,
    utf8_row,
)
from tfrecords.dataset_info import SPLITS
from tfrecords.image_paths import path_problem

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
        layout_error(
            "DeepFashion Category and Attribute Prediction",
            source_dir,
            missing,
            DEEPFASHION_EXPECTED,
        )
    return paths


def _listing(
    path: str, header: Sequence[str], source_dir: str, problems: InputReport
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
        if not utf8_row(line, problems, relative, n):
            continue
        rows.append((n, line.split()))
    if int(lines[0]) != len(rows):
        problems.add_row(
            COUNT_MISMATCH, relative, 1, f"count {lines[0].strip()} but {len(rows)} rows"
        )
    return rows


def _typed_names(
    rows: Sequence[tuple[int, list[str]]],
    types: Mapping[int, str],
    what: str,
    relative: str,
    problems: InputReport,
) -> list[tuple[str, str] | None]:
    """(normalised name, type) of each "name words... type number" row of a list_*_cloth.txt
    file; None (and the row reported) where the type number is unknown. Labels index this list,
    so a bad row keeps its place."""
    named: list[tuple[str, str] | None] = []
    for line, tokens in rows:
        kind = tokens[-1] if len(tokens) >= 2 else ""
        if not kind.isdigit() or int(kind) not in types:
            problems.add_row(UNKNOWN_VALUE, relative, line, f"{what} type {kind!r}")
            named.append(None)
            continue
        named.append((normalize_value(" ".join(tokens[:-1])), types[int(kind)]))
    return named


def read_deepfashion(source_dir: str, seed: int) -> tuple[list[Item], InputReport, list[str]]:
    """Reads the Category and Attribute Prediction benchmark into items.

    Each attribute type (texture, fabric, shape, part, style) becomes one attribute whose value
    is the image's positive attribute of that type, "+"-joined when it has several, "none"
    when it has none ("0", unknown, counts as not positive). The category type (upper, lower,
    full body) stays fixed within a session. The split pool is the evaluation partition.
    """
    del seed  # The pools come from the benchmark's own partition.
    paths = deepfashion_layout(source_dir)
    problems = InputReport(ROWS)
    rel = {k: os.path.relpath(p, source_dir) for k, p in paths.items()}
    rows = {k: _listing(p, DEEPFASHION_FILES[k][1], source_dir, problems) for k, p in paths.items()}

    categories = _typed_names(
        rows["category_cloth"],
        DEEPFASHION_CATEGORY_TYPES,
        "category",
        rel["category_cloth"],
        problems,
    )
    attributes = _typed_names(
        rows["attr_cloth"], DEEPFASHION_ATTRIBUTE_TYPES, "attribute", rel["attr_cloth"], problems
    )

    rejected: set[str] = set()  # images whose row was reported already (reported once)
    category_of: dict[str, tuple[int, tuple[str, str]]] = {}
    for line, tokens in rows["category_img"]:
        if len(tokens) != 2 or not tokens[1].isdigit():
            problems.add_row(UNREADABLE_ROW, rel["category_img"], line, f"{len(tokens)} fields")
            continue
        label = int(tokens[1])
        if not 1 <= label <= len(categories) or categories[label - 1] is None:
            problems.add_row(UNKNOWN_VALUE, rel["category_img"], line, f"category label {label}")
            rejected.add(tokens[0])
            continue
        category_of[tokens[0]] = (line, categories[label - 1])
    labels_of: dict[str, dict[str, str]] = {}
    for line, tokens in rows["attr_img"]:
        if len(tokens) != len(attributes) + 1:
            problems.add_row(
                UNREADABLE_ROW,
                rel["attr_img"],
                line,
                f"{len(tokens) - 1} labels for {len(attributes)} attributes",
            )
            rejected.add(tokens[0] if tokens else "")
            continue
        if any(t not in ("-1", "0", "1") for t in tokens[1:]):
            bad = next(t for t in tokens[1:] if t not in ("-1", "0", "1"))
            problems.add_row(UNKNOWN_VALUE, rel["attr_img"], line, f"attribute label {bad!r}")
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
            problems.add_row(UNREADABLE_ROW, rel["partition"], line, f"{len(tokens)} fields")
            rejected.add(tokens[0] if tokens else "")
        elif tokens[1] not in SPLITS:
            problems.add_row(
                UNKNOWN_VALUE, rel["partition"], line, f"evaluation status {tokens[1]!r}"
            )
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
            problems.add_row(MISSING_ANNOTATION, *where, f"{image} has no row in {lacking}")
            continue
        problem = path_problem(image, source_dir)
        if problem is not None:
            problems.add_row(MALFORMED_PATH, *where, problem)
            continue
        if not re.fullmatch(r"img/[^/]+/[^/]+\.jpg", image):
            problems.add_row(WRONG_FOLDER, *where, f"{image} is not img/<item folder>/<file>.jpg")
            continue
        path = os.path.join("Img", image)
        if not os.path.isfile(os.path.join(source_dir, path)):
            problems.add_row(MISSING_IMAGE, *where, f"{path} not found")
            continue
        values = {"category": category, **labels_of[image]}
        items.append(Item(path, values, category_type, split_of[image]))
    return items, problems, list(paths.values())
