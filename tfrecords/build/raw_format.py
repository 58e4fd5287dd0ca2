"""The raw folder's format: file names, skip reasons, the error, one raw session and the report
of skipped sessions. The layout is described in `tfrecords/build/raw_build.py`."""

from __future__ import annotations

import collections
import dataclasses
from typing import Any

SESSIONS_FILENAME = "sessions.jsonl"
SCHEMA_FILENAME = "attribute_schema.json"
DEFAULT_VERSION = "1.0.0"
REPORT_FIRST_IDS = 5
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
