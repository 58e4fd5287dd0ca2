"""What the source readers share: the problem kinds (reasons of an `InputReport` of rows), the
item read from a source, and each source's attribute spec (coarse to fine)."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from collections.abc import Mapping, Sequence

from tfrecords.build.input_report import InputReport
from tfrecords.build.raw_format import RawDatasetError, is_utf8
from tfrecords.dataset_info import SPLIT_FRACTIONS

TWO_CHANGE_P = 0.35
UNKNOWN = "unknown"
NONE = "none"
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


def split_pool(seed: int, key: str) -> str:
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    if u < SPLIT_FRACTIONS["train"]:
        return "train"
    return "val" if u < SPLIT_FRACTIONS["train"] + SPLIT_FRACTIONS["val"] else "test"


def layout_error(source: str, source_dir: str, missing: Sequence[str], expected: str) -> None:
    try:
        found = sorted(os.listdir(source_dir))[:12]
    except OSError:
        found = []
    raise SourceLayoutError(
        f"--source_dir={source_dir!r} is not a {source} download: missing "
        f"{', '.join(missing)}\nexpected:\n{expected}\nfound: {found or 'nothing'}"
    )


def utf8_row(text: str, problems: InputReport, path: str, line: int) -> bool:
    """Whether a row of a source file is UTF-8 text; a row that is not is reported (NOT_UTF8).

    The readers open their files with errors="surrogateescape": bytes that are not UTF-8 come
    back as lone surrogates, so such a row is reported and skipped, not fatal.
    """
    if is_utf8(text):
        return True
    problems.add_row(NOT_UTF8, path, line, "row holds bytes that are not UTF-8")
    return False
