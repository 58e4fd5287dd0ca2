"""Dataset statistics in the shape of the paper's Table 1."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from tfrecords.session import Session

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def tokenize(text: str) -> list[str]:
    """Splits a description into lower-case words (punctuation dropped)."""
    return _WORD.findall(text.lower())


def compute_statistics(sessions: Iterable[Session]) -> dict:
    """Returns Table-1 statistics of a set of sessions.

    Args:
      sessions: the sessions (consumed once).

    Returns:
      dict with "sessions", "turns_mean", "turns_min", "turns_max" (turns = descriptions per
      session), "descriptions", "words_per_description", "unique_words", "images" and
      "phrase_types" (phrase type -> count).

    Raises:
      ValueError: no sessions.
    """
    num_sessions = num_descriptions = num_words = num_images = 0
    turns: list[int] = []
    vocabulary: set[str] = set()
    phrase_types: dict[str, int] = {}
    for session in sessions:
        num_sessions += 1
        num_images += len(session.images)
        turns.append(session.num_turns)
        for description in session.descriptions:
            words = tokenize(description)
            num_descriptions += 1
            num_words += len(words)
            vocabulary.update(words)
        for phrase_type in session.phrase_types:
            phrase_types[phrase_type] = phrase_types.get(phrase_type, 0) + 1
    if num_sessions == 0:
        raise ValueError("compute_statistics needs at least one session")
    return {
        "sessions": num_sessions,
        "images": num_images,
        "turns_mean": sum(turns) / num_sessions,
        "turns_min": min(turns),
        "turns_max": max(turns),
        "descriptions": num_descriptions,
        "words_per_description": num_words / max(1, num_descriptions),
        "unique_words": len(vocabulary),
        "phrase_types": dict(sorted(phrase_types.items())),
    }


def format_table(stats_by_dataset: Mapping[str, Mapping]) -> str:
    """Returns a Markdown table (one row per dataset) of compute_statistics outputs.

    Raises:
      ValueError: a statistics dict misses a Table-1 column.
    """
    header = (
        "| dataset | sessions | turns per session (mean / min / max) | descriptions "
        "| words per description | unique words |\n|---|---:|---:|---:|---:|---:|"
    )
    rows = [header]
    for name, stats in stats_by_dataset.items():
        keys = (
            "sessions",
            "turns_mean",
            "turns_min",
            "turns_max",
            "descriptions",
            "words_per_description",
            "unique_words",
        )
        missing = [k for k in keys if k not in stats]
        if missing:
            raise ValueError(f"statistics of {name!r} miss {missing}")
        rows.append(
            f"| {name} | {stats['sessions']} | {stats['turns_mean']:.2f} / {stats['turns_min']} / "
            f"{stats['turns_max']} | {stats['descriptions']} | {stats['words_per_description']:.2f} "
            f"| {stats['unique_words']} |"
        )
    return "\n".join(rows)
