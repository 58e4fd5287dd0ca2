"""The raw folder's format: file names, skip reasons, the error, one raw session and what counts
as text (`is_utf8`). Skipped sessions are reported by an `InputReport` of SESSIONS, in
SKIP_REASONS order. The layout is described in `tfrecords/build/raw_build.py`."""

from __future__ import annotations

import dataclasses

SESSIONS_FILENAME = "sessions.jsonl"
SCHEMA_FILENAME = "attribute_schema.json"
DEFAULT_VERSION = "1.0.0"
# Transparent pixels are composited on white: the source datasets' products are shot on white.

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


def is_utf8(text: str) -> bool:
    """Whether `text` encodes as UTF-8: no lone surrogate (what bytes that are not UTF-8 become
    when a file or a file name is decoded with surrogateescape)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
