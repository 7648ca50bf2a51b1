"""A tiny run of bench/excel.py, so the benchmark cannot rot."""

from __future__ import annotations

import json

import pytest


@pytest.mark.slow
def test_bench_excel_smoke(run_bench):
    completed = run_bench("excel.py", "--sizes", "300,600", "--import-rows", "150", "--repeat", "1", timeout=600)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    lines = completed.stdout.strip().splitlines()
    report = json.loads(lines[-1])
    assert "CPU ratio" in completed.stdout and "peak MiB" in completed.stdout
    assert [entry["findings"] for entry in report["exports"]] == [300, 600]
    for entry in report["exports"]:
        assert entry["ours"]["rows"] == entry["plain"]["rows"] == entry["findings"]
        assert entry["ours"]["counts_ok"] is True
        assert entry["time_ratio"] > 0 and entry["ours"]["peak_mib"] > 0
    assert report["import"]["ours"]["stored"] == report["import"]["plain"]["stored"] == 150
    assert set(report["targets_met"]) == {"export_time", "export_memory_flat", "import_time"}
    assert report["targets"] == {"export_time_ratio_max": 1.3, "export_memory_growth_max": 1.2,
                                 "import_time_ratio_max": 1.5}
