"""A small run of bench/hostile_uploads.py, so the benchmark cannot rot."""

from __future__ import annotations

import json

import pytest


@pytest.mark.slow
def test_bench_hostile_uploads_smoke(run_bench):
    completed = run_bench("hostile_uploads.py", "--only", "sst-bomb,valid", "--concurrency", "2", "--no-baseline",
                          timeout=600)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    rounds = {entry["workbook"]: entry for entry in report["rounds"]}
    assert rounds["sst-bomb"]["statuses"] == [400, 400]
    assert "at most 16.0 MiB" in rounds["sst-bomb"]["message"]
    assert rounds["valid"]["statuses"] == [302, 302]  # imported once, replayed once
    assert report["peak_rss_mib"] >= rounds["sst-bomb"]["idle_rss_mib"] > 0
    assert "peak MiB" in completed.stdout
