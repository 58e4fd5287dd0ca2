"""Descriptions of retrieved sessions: generated from each turn's attribute changes by the
project's description grammar (`tfrecords.synthetic.grammar.describe`) over a lexicon made from
the attribute values, or read from a file of human descriptions keyed by (session_id, turn)."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

from tfrecords.build.input_report import InputReport
from tfrecords.build.raw_format import RawDatasetError
from tfrecords.build.source_spec import DESCRIPTION_ROW, NONE, UNKNOWN, SourceSpec
from tfrecords.synthetic.lexicon import AttributeWords, Lexicon


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


def read_human_descriptions(path: str, problems: InputReport) -> dict[tuple[str, int], str]:
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
            problems.add_row(DESCRIPTION_ROW, name, line, f"turn {turn!r} is not an integer")
            return
        if not isinstance(session_id, str) or not isinstance(text, str) or not text.strip():
            problems.add_row(
                DESCRIPTION_ROW, name, line, "needs a session_id and a non-empty description"
            )
            return
        if (session_id, turn) in result:
            problems.add_row(DESCRIPTION_ROW, name, line, f"({session_id}, {turn}) given twice")
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
                    problems.add_row(DESCRIPTION_ROW, name, line, f"invalid JSON: {e}")
                    continue
                if not isinstance(row, dict):
                    problems.add_row(DESCRIPTION_ROW, name, line, "not a JSON object")
                    continue
                add(line, row.get("session_id"), row.get("turn"), row.get("description"))
    return result
