"""Table 5 (ablations) from an evaluation that names each seed's run.

    python scripts/evaluate.py --dataset=synth_zap_seq --data_dir=data \
        --classifier=runs/attr_clf_synth_zap_seq --max_sessions=300 \
        --out=docs/eval/synth_zap_seq_table5 --models=copy_previous,\
full=runs/quick_synth_zap_seq,full_seed1=runs/quick_synth_zap_seq_seed1,\
noattention=runs/quick_synth_zap_seq_noattention,...
    python scripts/ablation_table.py --metrics=docs/eval/synth_zap_seq_table5/metrics.json

--metrics takes several evaluations of the same split and sessions (each run evaluated once,
when it finished); their models are merged by name. Writes <first metrics folder>/table5.md: mean (min..max) over seeds per row, and for each of the
paper's orderings (the full model above each ablation) whether it holds beyond the seed spread.
"""

from __future__ import annotations

import json
import os

from absl import app, flags

from seqgan_tf.evaluation.ablation_table import COLUMNS, compare, markdown_table, rows_from_metrics

FLAGS = flags.FLAGS
flags.DEFINE_list("metrics", None, "metrics.json files of scripts/evaluate.py.", required=True)
flags.DEFINE_list("skip", ["ground_truth"], "Model names that are not rows.")
flags.DEFINE_string("full", "full", "Row name of the full model.")
flags.DEFINE_string("out", None, "Markdown file (default: table5.md beside --metrics).")


def main(argv):
    del argv
    metrics = {"models": {}}
    for path in FLAGS.metrics:
        with open(path) as f:
            models = json.load(f)["models"]
        for name, model in models.items():
            if name in metrics["models"] and name not in ("copy_previous", "ground_truth"):
                raise app.UsageError(f"model {name!r} appears in two --metrics files")
            metrics["models"][name] = model
    rows = rows_from_metrics(metrics, skip=tuple(FLAGS.skip))
    lines = [markdown_table(rows), ""]
    names = [r.name for r in rows]
    if FLAGS.full in names:
        lines += [
            "| paper's ordering | " + " | ".join(t for t, _, _ in COLUMNS) + " |",
            "|---|" + "---|" * len(COLUMNS),
        ]
        for row in names:
            if row in (FLAGS.full, "copy_previous"):
                continue
            verdicts = [compare(rows, FLAGS.full, row, title) for title, _, _ in COLUMNS]
            lines.append(f"| {FLAGS.full} > {row} | " + " | ".join(verdicts) + " |")
    text = "\n".join(lines) + "\n"
    out = FLAGS.out or os.path.join(os.path.dirname(FLAGS.metrics[0]), "table5.md")
    with open(out + ".tmp", "w") as f:
        f.write(text)
    os.replace(out + ".tmp", out)
    print(text)
    print(f"written to {out}")


if __name__ == "__main__":
    app.run(main)
