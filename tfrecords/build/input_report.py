"""The report of the bad input a build meets: a count per reason and the first few places.

One report for both kinds of bad input: the rows of a source download's files that could not
be used (`ROWS`: a place is "file:line", `add_row`) and the sessions of a raw folder that were
skipped (`SESSIONS`: a place is the session's id, or its line). Each kind keeps the shape
dataset_info.json has always stored for it: rows under "source_problems"
({reason: {"count", "first": ["file:line: message", ...]}}), sessions under "skipped"
({reason: {"count", "first_session_ids", "first_message"}}).
"""

from __future__ import annotations

import collections
from collections.abc import Sequence
from typing import Any

FIRST_PLACES = 5  # places kept per reason

ROWS = "rows"
SESSIONS = "sessions"
# kind -> (the line when nothing was wrong, the heading over the reasons)
_HEADINGS = {
    ROWS: ("source: no bad input", "source: {} problem(s) in the input"),
    SESSIONS: ("raw build: no session skipped", "raw build: {} session(s) skipped"),
}


class InputReport:
    """Counts bad input per reason, keeping the first few places and messages of each.

    Args:
      kind: ROWS (a source's bad rows) or SESSIONS (skipped raw sessions).
      reasons: the order of the reasons in `as_dict` and `format`; a reason outside it is
        counted in `total` only. None: every reason met, sorted.

    Example:
    ```python
    report = InputReport(ROWS)
    report.add_row("missing_image", "meta-data.csv", 12, "no image 7965307.5291.jpg")
    report.as_dict()  # {"missing_image": {"count": 1, "first": ["meta-data.csv:12: no ..."]}}
    ```
    """

    def __init__(self, kind: str = ROWS, reasons: Sequence[str] | None = None) -> None:
        if kind not in _HEADINGS:
            raise ValueError(f"kind must be one of {sorted(_HEADINGS)}, got {kind!r}")
        self.kind = kind
        self.reasons = None if reasons is None else tuple(reasons)
        self.counts: collections.Counter[str] = collections.Counter()
        self.first: dict[str, list[tuple[str, str]]] = collections.defaultdict(list)

    def add(self, reason: str, place: str, message: str) -> None:
        self.counts[reason] += 1
        if len(self.first[reason]) < FIRST_PLACES:
            self.first[reason].append((place, message))

    def add_row(self, reason: str, path: str, line: int, message: str) -> None:
        """A bad row: line `line` of the file `path`."""
        self.add(reason, f"{path}:{line}", message)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def as_dict(self) -> dict[str, Any]:
        """What dataset_info.json stores, by reason (the shape of the report's kind)."""
        reasons = sorted(self.counts) if self.reasons is None else self.reasons
        return {reason: self._entry(reason) for reason in reasons if self.counts[reason]}

    def _entry(self, reason: str) -> dict[str, Any]:
        first = self.first[reason]
        if self.kind == ROWS:
            return {
                "count": self.counts[reason],
                "first": [f"{place}: {message}" for place, message in first],
            }
        return {
            "count": self.counts[reason],
            "first_session_ids": [place for place, _ in first],
            "first_message": first[0][1],
        }

    def format(self) -> str:
        """The report for the console."""
        nothing, heading = _HEADINGS[self.kind]
        if not self.total:
            return nothing
        lines = [heading.format(self.total)]
        for reason, entry in self.as_dict().items():
            if self.kind == ROWS:
                lines.append(f"  {reason}: {entry['count']}")
                lines.extend(f"    {example}" for example in entry["first"])
            else:
                lines.append(
                    f"  {reason}: {entry['count']} (first: {', '.join(entry['first_session_ids'])})"
                    f" e.g. {entry['first_message']}"
                )
        return "\n".join(lines)
