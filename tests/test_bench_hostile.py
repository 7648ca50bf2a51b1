"""A small run of bench/hostile_uploads.py, so the benchmark cannot rot."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench" / "hostile_uploads.py"


@pytest.mark.slow
def test_bench_hostile_uploads_smoke(tmp_path):
    completed = subprocess.run(
        [sys.executable, str(BENCH), "--only", "sst-bomb,valid", "--concurrency", "2", "--no-baseline",
         "--work-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    rounds = {entry["workbook"]: entry for entry in report["rounds"]}
    assert rounds["sst-bomb"]["statuses"] == [400, 400]
    assert "at most 16.0 MiB" in rounds["sst-bomb"]["message"]
    assert rounds["valid"]["statuses"] == [302, 302]  # imported once, replayed once
    assert report["peak_rss_mib"] >= rounds["sst-bomb"]["idle_rss_mib"] > 0
    assert "peak MiB" in completed.stdout
