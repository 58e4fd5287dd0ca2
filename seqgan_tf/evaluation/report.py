"""Writes an evaluation report folder: report.md, metrics.json, figure4_grid.png, attention.png.

The text is `report_markdown.render_markdown`, the figures `report_figures`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np

from common.atomic_files import write_json_atomically, write_text_atomically
from seqgan_tf.evaluation.report_figures import attention_figure, figure4_grid
from seqgan_tf.evaluation.report_markdown import render_markdown

REPORT_FILENAME = "report.md"
METRICS_FILENAME = "metrics.json"
GRID_FILENAME = "figure4_grid.png"
ATTENTION_FILENAME = "attention.png"


def write_report(
    result: Mapping,
    out_dir: str,
    title: str = "Evaluation",
    grid_models: Sequence[str] | None = None,
    attention: Mapping | None = None,
) -> dict[str, str]:
    """Writes report.md, metrics.json and (when examples / attention are given) the figures.

    Args:
      result: the dict of `evaluate_generators` ({"metrics", "examples"}); "examples" optional.
      out_dir: the report folder (created).
      title: report heading.
      grid_models: models drawn in figure4_grid.png (default: all).
      attention: optional kwargs for `attention_figure` (images, attention, tokens,
        descriptions) for one session of a model that provides attention maps.

    Returns:
      {"report": path, "metrics": path, ["grid": path], ["attention": path]}.
    """
    os.makedirs(out_dir, exist_ok=True)
    metrics = result["metrics"]
    paths = {
        "report": os.path.join(out_dir, REPORT_FILENAME),
        "metrics": os.path.join(out_dir, METRICS_FILENAME),
    }
    markdown = render_markdown(metrics, title)
    examples = result.get("examples") or {}
    if len(examples.get("first", [])):
        paths["grid"] = figure4_grid(examples, os.path.join(out_dir, GRID_FILENAME), grid_models)
        markdown += f"\n## Examples\n\n![Figure 4 layout]({GRID_FILENAME})\n"
    if attention is not None:
        paths["attention"] = attention_figure(
            path=os.path.join(out_dir, ATTENTION_FILENAME), **attention
        )
        markdown += f"\n## Attention\n\n![attention maps]({ATTENTION_FILENAME})\n"
    write_text_atomically(paths["report"], markdown)
    write_json_atomically(paths["metrics"], metrics, default=_json_default)
    return paths


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serializable: {type(value)}")
