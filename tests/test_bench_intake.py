"""A tiny run of bench/intake.py, so the benchmark cannot rot (it drives the real server and wrk)."""

from __future__ import annotations

import json
import shutil

import pytest


@pytest.mark.slow
def test_bench_intake_smoke(run_bench):
    if not shutil.which("wrk"):
        pytest.fail("wrk is not installed: run `apt-get install -y wrk` (or `make bench`, which installs it).")
    completed = run_bench("intake.py", "--duration", "1", "--storage-seconds", "0.3", "--clients", "2,4",
                          "--check-clients", "4", "--check-records", "4", "--fault-rate", "0.5", timeout=180)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    lines = completed.stdout.strip().splitlines()
    report = json.loads(lines[-1])
    assert "req/s" in completed.stdout and "count check" in completed.stdout

    assert report["storage_floor"]["rows"] > 0
    assert [run["clients"] for run in report["runs"]] == [2, 4]
    # The cost of durable commits: the same server and storage floor at synchronous=NORMAL.
    assert report["synchronous"] == report["storage_floor"]["synchronous"] == "FULL"
    assert report["storage_floor_synchronous_normal"]["synchronous"] == "NORMAL"
    assert report["storage_floor_synchronous_normal"]["rows"] > 0 and report["storage_full_vs_normal"] > 0
    for run in report["runs"]:
        for side in ("http_floor", "server", "server_synchronous_normal"):
            assert run[side]["requests"] > 0
            assert run[side]["error_count"] == 0, run[side]
        assert run["throughput_vs_http_floor"] > 0 and run["p99_vs_http_floor"] > 0
        assert run["full_vs_normal_throughput"] > 0 and run["full_vs_normal_p99"] > 0
    check = report["correctness"]
    assert check["planned"] == 16
    assert (check["lost"], check["duplicated"], check["gave_up"]) == (0, 0, 0)
    assert report["targets"]["server_up_after"]["met"]
    assert set(report["targets"]) >= {"throughput_vs_http_floor", "p99_vs_http_floor", "lost", "duplicated"}
