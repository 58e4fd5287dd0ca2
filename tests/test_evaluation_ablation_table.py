"""Table 5 rows: seeds grouped by name, mean and spread, and the orderings judged on the spread."""

from seqgan_tf.evaluation.ablation_table import compare, markdown_table, rows_from_metrics


def _model(edit_acc, ssim, fid, pres_first=0.99, pres_last=0.97):
    per_turn = {"1": {"preservation": pres_first}, "2": {"preservation": pres_last}}
    return {
        "edit": {
            "overall": {"edit_accuracy": edit_acc, "preservation": 0.98, "exact_match": 0.8},
            "per_turn": per_turn,
        },
        "image": {"all": {"SSIM": ssim, "FID (domain features)": fid}},
    }


def _metrics():
    return {
        "models": {
            "ground_truth": _model(1.0, 1.0, 0.0),
            "full": _model(0.96, 0.93, 40.0),
            "full_seed1": _model(0.94, 0.91, 44.0),
            "noattention": _model(0.50, 0.92, 60.0),
            "noattention_seed1": _model(0.52, 0.90, 62.0),
        }
    }


def test_seeds_are_one_row_with_mean_and_spread():
    rows = rows_from_metrics(_metrics())
    assert [r.name for r in rows] == ["full", "noattention"]  # ground truth is not a row
    full = rows[0]
    assert full.models == ["full", "full_seed1"]
    assert full.cell("edit acc") == "0.950 (0.940..0.960)"
    assert abs(full.values["pres. drop t1->last"][0] - 0.02) < 1e-9
    table = markdown_table(rows)
    assert "| full | 2 | 0.950 (0.940..0.960) |" in table


def test_ordering_is_judged_against_the_seed_spread():
    rows = rows_from_metrics(_metrics())
    assert compare(rows, "full", "noattention", "edit acc") == "holds"
    assert compare(rows, "full", "noattention", "FID (domain)") == "holds"  # lower is better
    assert compare(rows, "full", "noattention", "SSIM") == "within seed spread"
    assert compare(rows, "noattention", "full", "edit acc") == "reversed"


def test_a_single_seed_is_not_judged_against_a_spread():
    metrics = _metrics()
    del metrics["models"]["noattention_seed1"]
    rows = rows_from_metrics(metrics)
    assert compare(rows, "full", "noattention", "edit acc") == "full ahead, 1 seed"
    assert compare(rows, "noattention", "full", "edit acc") == "full ahead, 1 seed"
