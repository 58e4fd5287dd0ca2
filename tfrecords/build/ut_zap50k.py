"""The UT-Zap50K reader: `<source_dir>/ut-zap50k-images-square/<Category>/<SubCategory>/<Brand>/
<pid>.<sku>.jpg` (or `ut-zap50k-images/`) and `<source_dir>/ut-zap50k-data/meta-data.csv` with
the header `CID,Category,SubCategory,HeelHeight,Insole,Closure,Gender,Material,ToeStyle`; an
image is found by its CID ("7965307-5291" -> "7965307.5291.jpg") anywhere under the image
folder. Layout and sources: docs/own_data.md."""

from __future__ import annotations

import collections
import csv
import os
import re

from tfrecords.build.input_report import ROWS, InputReport
from tfrecords.build.source_spec import (
    DUPLICATE_ROW,
    MISSING_IMAGE,
    UNKNOWN,
    UNKNOWN_VALUE,
    UNREADABLE_ROW,
    WRONG_FOLDER,
    Item,
    SourceLayoutError,
    layout_error,
    normalize_value,
    split_pool,
    utf8_row,
)

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
        layout_error("UT-Zap50K", source_dir, missing, ZAP_EXPECTED)
    return images, metadata


def read_ut_zap50k(source_dir: str, seed: int) -> tuple[list[Item], InputReport, list[str]]:
    """Reads a UT-Zap50K download into items (see the module docstring).

    Multi-valued fields ("Leather;Rubber") keep their first value, the prominent one; an empty
    field is the value "unknown", which retrieval never changes to or from.

    Returns:
      (items, problems, metadata files read).
    """
    images_dir, metadata = zap_layout(source_dir)
    problems = InputReport(ROWS)
    by_name: dict[str, list[str]] = collections.defaultdict(list)
    for root, dirs, files in os.walk(images_dir):
        dirs.sort()
        for name in sorted(files):
            if name.lower().endswith(".jpg"):
                by_name[name].append(os.path.relpath(os.path.join(root, name), source_dir))
    relative_metadata = os.path.relpath(metadata, source_dir)
    items: list[Item] = []
    seen: set[str] = set()
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
            if not utf8_row(",".join(row), problems, relative_metadata, line):
                continue
            if len(row) != len(header):
                problems.add_row(
                    UNREADABLE_ROW,
                    relative_metadata,
                    line,
                    f"{len(row)} fields, the header has {len(header)}",
                )
                continue
            cid = row[index["CID"]].strip()
            if not re.fullmatch(r"[0-9A-Za-z]+-[0-9A-Za-z]+", cid):
                problems.add_row(
                    UNREADABLE_ROW, relative_metadata, line, f"CID {cid!r} is not <pid>-<sku>"
                )
                continue
            if cid in seen:
                problems.add_row(DUPLICATE_ROW, relative_metadata, line, f"CID {cid} seen before")
                continue
            seen.add(cid)
            category = row[index["Category"]].strip()
            if category not in ZAP_CATEGORIES:
                problems.add_row(
                    UNKNOWN_VALUE,
                    relative_metadata,
                    line,
                    f"Category {category!r} is not one of {ZAP_CATEGORIES}",
                )
                continue
            file_name = cid.replace("-", ".") + ".jpg"
            paths = by_name.get(file_name)
            if not paths:
                problems.add_row(
                    MISSING_IMAGE, relative_metadata, line, f"no image {file_name} for CID {cid}"
                )
                continue
            in_category = [p for p in paths if p.split(os.sep)[1:2] == [category]]
            if not in_category:
                problems.add_row(
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
            items.append(Item(in_category[0], values, gender, split_pool(seed, in_category[0])))
    return items, problems, [metadata]
