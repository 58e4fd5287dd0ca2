"""Table 5 from one evaluation: rows of seeds, each as its mean and spread.

An evaluation (`scripts/evaluate.py --models=full=RUN,full_seed1=RUN1,noattention=RUN2,...`)
names each trained run; models whose names differ only by a `_seed<N>` suffix are one row.
Every figure is the mean over the row's seeds with its spread (min..max), so a difference
between rows can be read against the seed-to-seed noise.

    python scripts/ablation_table.py --metrics=docs/eval/synth_zap_seq_table5/metrics.json
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

SEED_SUFFIX = re.compile(r"_seed\d+$")

# (column title, path into a model's metrics, higher is better)
COLUMNS = (
    ("edit acc", ("edit", "overall", "edit_accuracy"), True),
    ("preservation", ("edit", "overall", "preservation"), True),
    ("exact match", ("edit", "overall", "exact_match"), True),
    ("SSIM", ("image", "all", "SSIM"), True),
    ("FID (domain)", ("image", "all", "FID (domain features)"), False),
    ("pres. drop t1->last", None, False),
)


@dataclass
class Row:
    name: str
    models: list[str]
    values: dict[str, list[float]]

    def cell(self, column: str) -> str:
        v = np.asarray(self.values[column], dtype=float)
        if len(v) == 1:
            return f"{v[0]:.3f}"
        return f"{v.mean():.3f} ({v.min():.3f}..{v.max():.3f})"


def _get(metrics: dict, path: tuple[str, ...]) -> float:
    for key in path:
        metrics = metrics[key]
    return float(metrics)


def _preservation_drop(model: dict) -> float:
    per_turn = model["edit"]["per_turn"]
    turns = sorted(per_turn, key=int)
    return per_turn[turns[0]]["preservation"] - per_turn[turns[-1]]["preservation"]


def rows_from_metrics(metrics: dict, skip: tuple[str, ...] = ("ground_truth",)) -> list[Row]:
    """Groups an evaluation's models into rows (seed suffix stripped), in first-seen order."""
    rows: dict[str, Row] = {}
    for name, model in metrics["models"].items():
        if name in skip or "edit" not in model:
            continue
        row = rows.setdefault(SEED_SUFFIX.sub("", name), Row(SEED_SUFFIX.sub("", name), [], {}))
        row.models.append(name)
        for title, path, _ in COLUMNS:
            value = _preservation_drop(model) if path is None else _get(model, path)
            row.values.setdefault(title, []).append(value)
    return list(rows.values())


def markdown_table(rows: list[Row]) -> str:
    """The table: one line per row, mean (min..max) over its seeds."""
    lines = [
        "| row | seeds | " + " | ".join(title for title, _, _ in COLUMNS) + " |",
        "|---|---|" + "---|" * len(COLUMNS),
    ]
    for row in rows:
        cells = " | ".join(row.cell(title) for title, _, _ in COLUMNS)
        lines.append(f"| {row.name} | {len(row.models)} | {cells} |")
    return "\n".join(lines)


def compare(rows: list[Row], better: str, worse: str, column: str) -> str:
    """'holds' when every seed of `better` beats every seed of `worse` on `column`, 'reversed'
    when the opposite holds, else 'within seed spread'. With a single seed on either side the
    spread is unknown, so the verdict only says which side is ahead ('ahead, 1 seed')."""
    higher = next(h for title, _, h in COLUMNS if title == column)
    by_name = {r.name: r for r in rows}
    a = np.asarray(by_name[better].values[column])
    b = np.asarray(by_name[worse].values[column])
    if not higher:
        a, b = -a, -b
    if min(len(a), len(b)) < 2:
        ahead = "full ahead" if a.mean() > b.mean() else "ablation ahead"
        return ahead.replace("full", better).replace("ablation", worse) + ", 1 seed"
    if a.min() > b.max():
        return "holds"
    if b.min() > a.max():
        return "reversed"
    return "within seed spread"
