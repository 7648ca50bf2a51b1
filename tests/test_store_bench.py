"""A tiny run of bench/store.py, so the benchmark cannot rot."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_bench_store_smoke(tmp_path):
    completed = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "store.py"), "--attachments", "2", "--mb", "0.2", "--findings", "500",
         "--repeat", "1", "--work-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert "cp -r + sync" in completed.stdout
    assert report["findings"] == 500 and report["attachments"] == 2
    for key in ("backup_ratio", "check_ratio", "next_id_ratio"):
        assert report[key] > 0
