"""Reading and checking a raw folder's sessions.jsonl (and attribute_schema.json) entry by
entry: every bad session is a counted skip, or a RawDatasetError with strict=True."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from PIL import Image
from tqdm import tqdm

from tfrecords.build.input_report import SESSIONS, InputReport
from tfrecords.build.raw_format import (
    ATTRIBUTE_COUNT,
    CORRUPT_IMAGE,
    DESCRIPTION_COUNT,
    DUPLICATE_SESSION_ID,
    EMPTY_DESCRIPTION,
    MALFORMED_JSON,
    MALFORMED_PATH,
    MISSING_IMAGE,
    OUTSIDE_RAW_DIR,
    SCHEMA_FILENAME,
    SESSIONS_FILENAME,
    SKIP_REASONS,
    TOO_FEW_IMAGES,
    UNKNOWN_ATTRIBUTE,
    RawDatasetError,
    RawSession,
    is_utf8,
)
from tfrecords.image_paths import file_system_limits, path_problem, shown
from tfrecords.session import PHRASE_TYPES
from tfrecords.session_format import split_attribute


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


def _is_text(text: str) -> bool:
    """Valid Unicode (no lone surrogate) without NUL or other control characters."""
    return is_utf8(text) and text.isprintable()


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
    if not all(is_utf8(text) for text in texts):
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
) -> tuple[list[RawSession], InputReport]:
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
    report = InputReport(SESSIONS, SKIP_REASONS)
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
) -> tuple[list[RawSession], InputReport]:
    """Reads and validates sessions.jsonl (see `scan_entries`).

    Raises:
      RawDatasetError: if sessions.jsonl is missing, or (strict) for the first bad session.
    """
    sessions_path = os.path.join(raw_dir, SESSIONS_FILENAME)
    if not os.path.isfile(sessions_path):
        raise RawDatasetError(
            f"{sessions_path} not found: a raw folder needs images/ and {SESSIONS_FILENAME} "
            "(see tfrecords/build/raw_build.py)"
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
