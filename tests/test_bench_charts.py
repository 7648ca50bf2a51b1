"""A tiny run of bench/charts.py, so the benchmark cannot rot (it builds a store and drives the real server)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench" / "charts.py"


@pytest.mark.slow
def test_bench_charts_smoke(tmp_path):
    command = [sys.executable, str(BENCH), "--findings", "2000", "--repeat", "2", "--work-dir", str(tmp_path)]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert completed.returncode in (0, 1), completed.stdout + completed.stderr
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert report["build"]["findings"] == 2000 and report["build"]["chronology_events"] == 3000
    assert report["build"]["reused"] is False
    assert set(report["pages"]) == {"case_page", "coverage_page", "coverage_data"}
    for name, page in report["pages"].items():
        assert page["problems"] == [], (name, page["problems"])
        assert page["statements"] >= 1 and page["raw_sql"]["median_ms"] > 0 and page["page"]["median_ms"] > 0
    assert report["empty_page"]["median_ms"] > 0 and len(report["load_average_end"]) == 3
    # A second run keeps the store: nothing is built again.
    again = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert json.loads(again.stdout.strip().splitlines()[-1])["build"]["reused"] is True
