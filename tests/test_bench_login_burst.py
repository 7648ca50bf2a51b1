"""A tiny run of bench/login_burst.py, so the benchmark cannot rot (it drives the real server)."""

from __future__ import annotations

import json

import pytest


@pytest.mark.slow
def test_bench_login_burst_smoke(run_bench):
    completed = run_bench("login_burst.py", "--quiet-seconds", "0.5", "--threads", "4", "--attempts", "9",
                          "--owner-delay", "0.1", timeout=240)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert "p99 x floor" in completed.stdout and "load average" in completed.stdout
    assert report["quiet"]["requests"] > 0
    assert set(report["bursts"]) == {"floor_no_password", "one_address", "thirty_addresses"}
    assert report["bursts"]["floor_no_password"]["statuses"] == {"422": 36}
    one_address = report["bursts"]["one_address"]["statuses"]
    assert sum(one_address.values()) == 36
    # 36 guesses from one address: the address limit (30) refuses the rest before any hash.
    assert one_address.get("429", 0) >= 6 and one_address.get("401", 0) <= 30
    for burst in report["bursts"].values():
        assert burst["owner_sign_in"]["signed_in"], burst["owner_sign_in"]
        assert burst["signed_in_page"]["statuses"] == {"200": burst["signed_in_page"]["requests"]}
    assert report["targets"]["server_up_after"]["met"]
    assert {"one_address_signed_in_page_p99_s", "thirty_addresses_signed_in_page_p99_s"} <= set(report["targets"])
