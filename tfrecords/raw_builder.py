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

import collections
import dataclasses
import json
import os
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from PIL import Image, ImageOps
from tqdm import tqdm

from common.atomic_files import sha256_of_file
from tfrecords.build_common import (
    assign_splits,
    resolve_num_shards,
    serialize_sessions,
    write_splits,
)
from tfrecords.build_marker import clear_marker, write_marker
from tfrecords.dataset_info import SPLITS, StatisticsAccumulator, make_info
from tfrecords.datasets import RAW_DATASETS
from tfrecords.image_paths import file_system_limits, path_problem, shown
from tfrecords.session import PHRASE_TYPES, Session
from tfrecords.session_format import split_attribute
from tfrecords.shard_writer import dataset_dir, prepare_output_dir, write_dataset_info
from tfrecords.split_rule import SPLIT_RULE

SESSIONS_FILENAME = "sessions.jsonl"
SCHEMA_FILENAME = "attribute_schema.json"
DEFAULT_VERSION = "1.0.0"
REPORT_FIRST_IDS = 5
# Transparent pixels are composited on white: the source datasets' products are shot on white.
TRANSPARENCY_BACKGROUND = (255, 255, 255)
_SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N")

# Skip reasons, in the order they are checked.
MALFORMED_JSON = "malformed_json"
DUPLICATE_SESSION_ID = "duplicate_session_id"
TOO_FEW_IMAGES = "too_few_images"
DESCRIPTION_COUNT = "description_count"
EMPTY_DESCRIPTION = "empty_description"
ATTRIBUTE_COUNT = "attribute_count"
UNKNOWN_ATTRIBUTE = "unknown_attribute"
MALFORMED_PATH = "malformed_path"
MISSING_IMAGE = "missing_image"
CORRUPT_IMAGE = "corrupt_image"
OUTSIDE_RAW_DIR = "outside_raw_dir"
SKIP_REASONS = (
    MALFORMED_JSON,
    DUPLICATE_SESSION_ID,
    TOO_FEW_IMAGES,
    DESCRIPTION_COUNT,
    EMPTY_DESCRIPTION,
    ATTRIBUTE_COUNT,
    UNKNOWN_ATTRIBUTE,
    MALFORMED_PATH,
    OUTSIDE_RAW_DIR,
    MISSING_IMAGE,
    CORRUPT_IMAGE,
)


class RawDatasetError(ValueError):
    """A problem in the raw folder; `reason` is one of SKIP_REASONS (or "layout")."""

    def __init__(self, message: str, reason: str = "layout"):
        super().__init__(message)
        self.reason = reason


@dataclasses.dataclass
class RawSession:
    """A validated sessions.jsonl entry (image paths resolved, images not loaded)."""

    session_id: str
    image_paths: list[str]
    descriptions: list[str]
    attributes: list[list[str]]
    phrase_types: list[str] = dataclasses.field(default_factory=list)


class SkipReport:
    """Counts skipped sessions per reason, keeping the first few session ids of each."""

    def __init__(self) -> None:
        self.counts: collections.Counter[str] = collections.Counter()
        self.first_ids: dict[str, list[str]] = collections.defaultdict(list)
        self.messages: dict[str, str] = {}

    def add(self, reason: str, session_id: str, message: str) -> None:
        self.counts[reason] += 1
        if len(self.first_ids[reason]) < REPORT_FIRST_IDS:
            self.first_ids[reason].append(session_id)
        self.messages.setdefault(reason, message)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            reason: {
                "count": self.counts[reason],
                "first_session_ids": self.first_ids[reason],
                "first_message": self.messages[reason],
            }
            for reason in SKIP_REASONS
            if self.counts[reason]
        }

    def format(self) -> str:
        if not self.total:
            return "raw build: no session skipped"
        lines = [f"raw build: {self.total} session(s) skipped"]
        for reason, entry in self.as_dict().items():
            lines.append(
                f"  {reason}: {entry['count']} (first: {', '.join(entry['first_session_ids'])})"
                f" e.g. {entry['first_message']}"
            )
        return "\n".join(lines)


def load_schema(raw_dir: str) -> dict[str, list[str]] | None:
    """Reads `attribute_schema.json` if present.

    Raises:
      RawDatasetError: if it is not a JSON object of name -> list of distinct strings.
    """
    path = os.path.join(raw_dir, SCHEMA_FILENAME)
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            schema = json.load(f)
    except json.JSONDecodeError as e:
        raise RawDatasetError(f"{path}: not valid JSON: {e}") from e
    if not isinstance(schema, dict) or not schema:
        raise RawDatasetError(f"{path}: expected a non-empty object {{name: [values]}}")
    for name, values in schema.items():
        if (
            not isinstance(values, list)
            or not values
            or not all(isinstance(v, str) for v in values)
            or len(set(values)) != len(values)
        ):
            raise RawDatasetError(
                f"{path}: attribute {name!r} must map to a non-empty list of distinct strings"
            )
    return schema


def _is_inside(path: str, root: str) -> bool:
    return os.path.commonpath([path, root]) == root


def _resolve_image(raw_dir: str, path: str, allow_outside: bool) -> tuple[str | None, str, str]:
    """Finds an image file: relative to raw_dir, or to raw_dir/images.

    Each candidate is resolved (symbolic links included); one that resolves outside raw_dir is
    refused unless `allow_outside`.

    Returns:
      (path to read or None, skip reason, message).
    """
    problem = path_problem(path, raw_dir, *file_system_limits(raw_dir))
    if problem is not None:
        return None, MALFORMED_PATH, problem
    root = os.path.realpath(raw_dir)
    candidates = [os.path.join(raw_dir, path), os.path.join(raw_dir, "images", path)]
    escaped = ""
    for candidate in candidates:
        try:
            real = os.path.realpath(candidate)
            if not allow_outside and not _is_inside(real, root):
                escaped = escaped or real
                continue
            if os.path.isfile(candidate):
                return candidate, "", ""
        except (OSError, ValueError) as error:  # whatever path_problem did not foresee
            return None, MALFORMED_PATH, f"image path {shown(path)} cannot name a file ({error})"
    if escaped:
        return (
            None,
            OUTSIDE_RAW_DIR,
            f"image path {shown(path)} resolves to {shown(escaped)}, outside the raw folder "
            f"{shown(root)} (pass --allow_outside_paths to allow it)",
        )
    return None, MISSING_IMAGE, f"image file {shown(path)} not found"


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


def _is_text(text: str) -> bool:
    """Valid Unicode (no lone surrogate) without NUL or other control characters."""
    return _is_utf8(text) and text.isprintable()


def _check_entry(
    entry: Any,
    raw_dir: str,
    schema: Mapping[str, Sequence[str]] | None,
    allow_outside: bool = False,
) -> tuple[RawSession | None, str, str]:
    """Validates one parsed JSON line; returns (session or None, reason, message)."""
    if not isinstance(entry, dict):
        return None, MALFORMED_JSON, "line is not a JSON object"
    session_id = entry.get("session_id")
    images = entry.get("images")
    descriptions = entry.get("descriptions")
    attributes = entry.get("attributes")
    if not isinstance(session_id, str) or not session_id:
        return None, MALFORMED_JSON, "'session_id' must be a non-empty string"
    if not _is_text(session_id):
        return (
            None,
            MALFORMED_JSON,
            f"'session_id' {shown(session_id)} holds a NUL, a control character or a lone "
            "surrogate",
        )
    if not isinstance(images, list) or not all(isinstance(p, str) for p in images):
        return None, MALFORMED_JSON, "'images' must be a list of paths"
    if not isinstance(descriptions, list) or not all(isinstance(d, str) for d in descriptions):
        return None, MALFORMED_JSON, "'descriptions' must be a list of strings"
    if attributes is not None and (
        not isinstance(attributes, list)
        or not all(isinstance(a, list) and all(isinstance(s, str) for s in a) for a in attributes)
    ):
        return None, MALFORMED_JSON, "'attributes' must be a list of lists of strings"
    phrase_types = entry.get("phrase_types")
    if phrase_types is not None and (
        not isinstance(phrase_types, list)
        or len(phrase_types) != len(descriptions)
        or not all(p in PHRASE_TYPES or p == "" for p in phrase_types)
    ):
        return (
            None,
            MALFORMED_JSON,
            f"'phrase_types' must be one of {PHRASE_TYPES} (or '') per description",
        )
    if len(images) < 2:
        return None, TOO_FEW_IMAGES, f"{len(images)} image(s); a session needs at least 2"
    if len(descriptions) != len(images) - 1:
        return (
            None,
            DESCRIPTION_COUNT,
            f"{len(descriptions)} descriptions for {len(images)} images (expected {len(images) - 1})",
        )
    for t, description in enumerate(descriptions):
        if not description.strip():
            return None, EMPTY_DESCRIPTION, f"description {t} is empty"
    texts = [*descriptions, *(a for image in attributes or [] for a in image)]
    texts += list(phrase_types or [])
    if not all(_is_utf8(text) for text in texts):
        return None, MALFORMED_JSON, "a description or attribute holds a lone surrogate"
    attributes = attributes if attributes is not None else [[] for _ in images]
    if len(attributes) != len(images):
        return (
            None,
            ATTRIBUTE_COUNT,
            f"{len(attributes)} attribute lists for {len(images)} images",
        )
    if schema is not None:
        for image_attributes in attributes:
            for attribute in image_attributes:
                parts = split_attribute(attribute)
                if parts is None or parts[0] not in schema or parts[1] not in schema[parts[0]]:
                    return None, UNKNOWN_ATTRIBUTE, f"attribute {attribute!r} not in the schema"
    paths = []
    for path in images:
        resolved, reason, message = _resolve_image(raw_dir, path, allow_outside)
        if resolved is None:
            return None, reason, message
        paths.append(resolved)
    for path in paths:
        try:
            with Image.open(path) as image:
                image.load()
        except Exception as e:  # Pillow raises several types for broken files.
            return None, CORRUPT_IMAGE, f"image file {path!r} cannot be decoded ({e})"
    session = RawSession(
        session_id, paths, list(descriptions), attributes, list(phrase_types or [])
    )
    return session, "", ""


def scan_entries(
    entries: Iterable[tuple[str, Any]],
    raw_dir: str,
    schema: Mapping[str, Sequence[str]] | None,
    strict: bool,
    allow_outside: bool = False,
    total: int | None = None,
) -> tuple[list[RawSession], SkipReport]:
    """Validates session entries (decoding every image once).

    Args:
      entries: (location, parsed entry) pairs; location ("file:line") goes into messages. An
        entry that is a `json.JSONDecodeError` is a malformed line.
      raw_dir: the folder image paths are relative to (and must stay inside).
      schema: the attribute schema, if any.
      strict: raise on the first problem instead of skipping.
      allow_outside: accept image paths that resolve outside raw_dir.
      total: number of entries, for the progress bar.

    Returns:
      (valid sessions in order, skip report).

    Raises:
      RawDatasetError: (strict) for the first bad session, with its location, session id and
        reason in the message.
    """
    report = SkipReport()
    valid: list[RawSession] = []
    seen: set[str] = set()
    for location, entry in tqdm(entries, total=total, desc="validate", unit="session"):
        if isinstance(entry, json.JSONDecodeError):
            session, reason, message = None, MALFORMED_JSON, f"invalid JSON: {entry}"
            entry = None
        elif isinstance(entry, UnicodeDecodeError):
            session, reason, message = None, MALFORMED_JSON, f"line is not UTF-8: {entry}"
            entry = None
        else:
            session, reason, message = _check_entry(entry, raw_dir, schema, allow_outside)
        session_id = entry.get("session_id") if isinstance(entry, dict) else None
        line = location.rpartition(":")[2]
        fallback = f"line {line}" if line.isdigit() else location
        named = isinstance(session_id, str) and session_id and _is_text(session_id)
        label = session_id if named else fallback
        if session is not None and session.session_id in seen:
            session, reason, message = None, DUPLICATE_SESSION_ID, "session id seen before"
        if session is None:
            if strict:
                raise RawDatasetError(
                    f"{location}: session {shown(label)}: {reason}: {message}",
                    reason,
                )
            where = f"{label} ({fallback})" if named else fallback
            report.add(reason, label, f"{where}: {message}")
            continue
        seen.add(session.session_id)
        valid.append(session)
    return valid, report


def _jsonl_entries(sessions_path: str) -> Iterator[tuple[str, Any]]:
    """(location, parsed entry); the entry is the JSONDecodeError or UnicodeDecodeError of a
    line that is not JSON or not UTF-8 (each line is decoded on its own)."""
    with open(sessions_path, "rb") as f:
        lines = f.read().split(b"\n")
    for line_number, raw in enumerate(lines, start=1):
        entry: Any
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            entry = e
        else:
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError as e:
                entry = e
        yield f"{sessions_path}:{line_number}", entry


def scan_raw_dir(
    raw_dir: str,
    schema: Mapping[str, Sequence[str]] | None,
    strict: bool,
    allow_outside: bool = False,
) -> tuple[list[RawSession], SkipReport]:
    """Reads and validates sessions.jsonl (see `scan_entries`).

    Raises:
      RawDatasetError: if sessions.jsonl is missing, or (strict) for the first bad session.
    """
    sessions_path = os.path.join(raw_dir, SESSIONS_FILENAME)
    if not os.path.isfile(sessions_path):
        raise RawDatasetError(
            f"{sessions_path} not found: a raw folder needs images/ and {SESSIONS_FILENAME} "
            "(see tfrecords/raw_builder.py)"
        )
    return scan_entries(_jsonl_entries(sessions_path), raw_dir, schema, strict, allow_outside)


def infer_schema(sessions: Sequence[RawSession]) -> dict[str, list[str]] | None:
    """Infers {name: sorted values} when every attribute string is "name=value", else None."""
    values: dict[str, set[str]] = {}
    for session in sessions:
        for image_attributes in session.attributes:
            for attribute in image_attributes:
                parts = split_attribute(attribute)
                if parts is None:
                    return None
                values.setdefault(parts[0], set()).add(parts[1])
    return {name: sorted(v) for name, v in values.items()} or None


def changed_attributes(attributes: Sequence[Sequence[str]]) -> list[list[str]]:
    """Names of the "name=value" attributes whose value differs between consecutive images."""

    def as_dict(items: Sequence[str]) -> dict[str, str]:
        return dict(p for p in (split_attribute(a) for a in items) if p is not None)

    result = []
    for before, after in zip(attributes[:-1], attributes[1:]):
        a, b = as_dict(before), as_dict(after)
        result.append([name for name in dict.fromkeys([*a, *b]) if a.get(name) != b.get(name)])
    return result


def _gray_to_rgb(values: np.ndarray) -> Image.Image:
    gray = np.clip(np.rint(values), 0, 255).astype(np.uint8)
    return Image.fromarray(np.dstack([gray] * 3), mode="RGB")


def to_rgb(image: Image.Image) -> Image.Image:
    """Converts a decoded image to 8-bit RGB the way a viewer would show it.

    - EXIF orientation is applied first (`ImageOps.exif_transpose`).
    - 16-bit grayscale ("I;16*") is scaled to 8 bits (v / 257), not clipped; 32-bit integer
      ("I") is read as 16-bit when its values fit 0..65535 (how Pillow opens 16-bit PNG/TIFF
      data), else stretched from its min..max; float ("F") is scaled from 0..1 when it fits,
      else stretched from its min..max.
    - Transparency (RGBA, LA, PA, a palette or "transparency" entry) is composited on
      TRANSPARENCY_BACKGROUND (white), not dropped (which shows black or stray colours).
    - Everything else (palette, CMYK, YCbCr, L, 1, ...) goes through Pillow's convert("RGB").
    """
    image = ImageOps.exif_transpose(image)
    mode = image.mode
    if mode in _SIXTEEN_BIT_MODES or mode in ("I", "F"):
        values = np.asarray(image).astype(np.float64)
        low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
        if mode == "F" and 0.0 <= low and high <= 1.0:
            scaled = values * 255.0
        elif mode != "F" and 0.0 <= low and high <= 65535.0:
            scaled = values / 257.0
        else:
            scaled = (values - low) * (255.0 / max(high - low, 1e-12))
        return _gray_to_rgb(scaled)
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
    if has_alpha:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (*TRANSPARENCY_BACKGROUND, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def load_image(path: str, image_size: int) -> np.ndarray:
    """Loads an image as RGB (see `to_rgb`), center-crops it to a square and resizes it."""
    with Image.open(path) as image:
        image = to_rgb(image)
        width, height = image.size
        side = min(width, height)
        left, top = (width - side) // 2, (height - side) // 2
        image = image.crop((left, top, left + side, top + side))
        if side != image_size:
            image = image.resize((image_size, image_size), Image.Resampling.BICUBIC)
        return np.asarray(image, dtype=np.uint8)


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
    report: SkipReport,
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
