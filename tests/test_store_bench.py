"""A tiny run of bench/store.py, so the benchmark cannot rot."""

from __future__ import annotations

import json

import pytest


@pytest.mark.slow
def test_bench_store_smoke(run_bench):
    completed = run_bench("store.py", "--attachments", "2", "--mb", "0.2", "--findings", "500", "--repeat", "1", timeout=300)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert "cp -r + sync" in completed.stdout
    assert report["findings"] == 500 and report["attachments"] == 2
    for key in ("backup_ratio", "check_ratio", "next_id_ratio"):
        assert report[key] > 0
