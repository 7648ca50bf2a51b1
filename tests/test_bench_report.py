"""A tiny run of bench/report.py, so the benchmark cannot rot."""

from __future__ import annotations

import json

import pytest


@pytest.mark.slow
def test_bench_report_smoke(run_bench):
    completed = run_bench("report.py", "--findings", "500", "--cite", "3", "--repeat", "1", timeout=600)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert report["bench"] == "report" and "ratio (CPU)" in completed.stdout
    assert report["results"]["demo"]["findings"] == 720 and report["results"]["demo"]["judgements"] == 13
    large = report["results"]["large"]
    assert large["findings"] == 500 and large["references"] > 0 and large["chronology_events"] == 60
    for result in report["results"].values():
        assert result["ours_cpu_s"] > 0 and result["plain_cpu_s"] > 0 and result["ratio_cpu"] > 0
