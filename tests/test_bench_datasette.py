"""A tiny run of bench/datasette.py, so the benchmark cannot rot (it builds a store and drives the real server)."""

from __future__ import annotations

import json

import pytest


@pytest.mark.slow
def test_bench_datasette_smoke(run_bench, tmp_path):
    completed = run_bench("datasette.py", "--findings", "3000", "--repeat", "3", timeout=300)
    assert completed.returncode in (0, 1), completed.stdout + completed.stderr
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert report["build"]["findings"] == 3000 and report["build"]["chronology_events"] == 4500
    assert set(report["pages"]) == {"findings_3_facets", "full_text_search", "filtered_page", "coverage_matrix",
                                    "case_chronology"}
    for name, page in report["pages"].items():
        assert page["problems"] == [], (name, page["problems"])
        assert page["statements"] >= 1 and page["raw_sql"]["median_ms"] > 0
        assert page["json"]["median_ms"] > 0 and page["html"]["median_ms"] > 0
    assert report["empty_pages"]["table"]["median_ms"] > 0
    # The store built in bulk behaves as a live one: FTS triggers restored, search finds the planted term.
    from inspect_kit.store import connect

    db = connect(tmp_path / "evidence" / "evidence.db")
    try:
        triggers = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        assert {"findings_ai", "findings_ad", "findings_au", "chronology_events_ai"} <= triggers
        hits = db.execute("SELECT count(*) FROM findings_fts WHERE findings_fts MATCH 'locum'").fetchone()[0]
        assert hits == db.execute("SELECT count(*) FROM findings WHERE evidence_text LIKE '%locum%'").fetchone()[0]
        (case_events,) = db.execute("SELECT count(*) FROM chronology_events JOIN cases ON cases.id = case_id"
                                    " WHERE case_ref = 'C-000017'").fetchone()
        assert case_events == 62
    finally:
        db.close()
