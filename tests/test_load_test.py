"""The load test runs end to end with tiny bounds: sessions over loopback, one version swap,
one server restart, and a report with no failed request (issue 14.13)."""

from benchmarks.load_test import LoadTestConfig, format_report, run


def test_load_test_survives_a_swap_and_a_restart(tmp_path):
    report = run(
        LoadTestConfig(
            model_name="editor",
            num_sessions=2,
            duration_s=8.0,
            max_requests=20_000,
            swap_every_s=3.0,
            restart_at=0.5,
            timeout_s=120.0,
            grace_s=10.0,
            poll_interval_s=0.2,
            work_dir=str(tmp_path),
        )
    )
    text = format_report(report)
    assert report["failures"] == {}, text
    assert 0 < report["requests"] <= 20_000, text
    assert report["swaps"] >= 1 and report["restarts"] == 1, text
    assert report["server_exit_code"] == 0, text
    assert "AVAILABLE" in report["final_status"].values(), text
    assert set(report["rss_mb"]) >= {"server 1 before", "server 1 after", "server 2 after"}, text
    assert "TinyEditor" in report["model"]
