"""Benchmark: cross-reading a large store in Datasette, against the same SQL run raw.

Build a store with 1,000,000 findings (and proportional
chronology events: 1.5 per finding, as in the demo review), serve it with
``inspect-kit serve`` and time over HTTP, as a signed-in lead:

- the findings table with its 3 default facets (strand, type, QA status);
- a full-text search of findings (facets included);
- a filtered findings page (strand + type + QA status, facets included);
- the criterion × strand coverage matrix (canned query 6);
- one case's merged chronology (canned query 2, an index case of 62 events);
- two empty pages, the fixed overhead: the findings page and a canned query with no rows.

In the same run the exact SQL each page ran (captured with Datasette's
``_trace=1`` from an in-process Datasette on the same file, schema look-ups
left out) is replayed with plain ``sqlite3`` on the same file, alternating
with the HTTP requests so that both see the same load on a shared machine. For every page
it prints the median and p95 over HTTP (JSON, the figures the target is on,
and HTML for the page a lead sees), the raw SQL median, and the ratio
``(page − empty page) / raw``; the target is page ≤ 2 × raw + overhead, i.e.
a ratio ≤ 2. On a small store a page's SQL can take less than 5 ms or less than the empty
page's jitter (its p95 - median): the ratio then measures Datasette's own
per-page work or the jitter, not SQL, so such a page is held to a 100 ms JSON
median instead and the report says why.
Every canned question of the lead's is also timed as raw SQL (the first 1,001
rows, what Datasette reads); the target is under 500 ms each. The
slow questions' former SQL (tests/questions_before.py) runs once each in the same
run, the baseline beside them (``--no-before`` skips it: minutes at 1,000,000).
Any "took too long" (SQL time limit) or a facet that timed out
(Datasette omits it silently, HTTP 200) is reported and fails the run. The last
line printed is one JSON object with every figure.

Building the store: the real schema (``Store.init``), the review set up
through the library, then plain ``executemany`` into the tables in ONE
transaction, with the FTS triggers and secondary indexes dropped first and
restored after: FTS5 populated in bulk after a load is 2.3x faster than
through triggers, and ``CREATE INDEX`` sorts once instead of updating 12
indexes per row (docs/architecture.md §9). ``schema.ensure_fts`` then rebuilds both
full-text indexes and puts the triggers back, so the store behaves exactly
as a live one afterwards.

Measured on this 2-core machine (2026-11-25, 1,000,000 findings, 1,500,000
events, 1.95 GB; 25 runs each; JSON median / raw SQL median / ratio):
findings with 3 facets 196 / 182 ms / 1.04; full-text search 27 / 39 ms /
0.54; filtered page 23 / 12 ms / 1.48 (1.2 s of SQL before index m004);
coverage matrix 2,213 / 2,193 ms / 1.01; case chronology 2.5 / 0.4 ms / 1.11.
Empty pages (the fixed overhead): findings page 6.1 ms, canned query 2.1 ms.
No time-limit errors, no facet timed out. Building took ~7 min while the
machine was shared (load 333 s, indexes 28 s, FTS 39 s).

    python bench/datasette.py                         # 1,000,000 findings (~7 min to build)
    python bench/datasette.py --findings 20000 --repeat 5
    python bench/datasette.py --work-dir /tmp/big --reuse   # time an existing bench store again
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import importlib.util
import json
import os
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx


def _load_common():
    """bench/_common.py, imported by path: this script is called datasette.py, so its
    folder must not be on sys.path, or ``import datasette`` would find this file."""
    here = Path(__file__).resolve().parent
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != here]
    spec = importlib.util.spec_from_file_location("bench_common", here / "_common.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


_common = _load_common()
HOST, free_port, inspect_kit_command = _common.HOST, _common.free_port, _common.inspect_kit_command
spawn_server, wait_ready = _common.spawn_server, _common.wait_ready

from inspect_kit import reviews, schema  # noqa: E402
from inspect_kit.actors import SYSTEM  # noqa: E402
from inspect_kit.datasette_plugin.session import login_session, sign_session  # noqa: E402
from inspect_kit.store import Store, connect, write_transaction  # noqa: E402

SECRET = "bench-datasette-secret"
LEAD = "benchlead"
INDEX_CASE = "C-000017"
INDEX_CASE_EVENTS = 62
EVENTS_PER_FINDING = 1.5  # the demo review: ~1,100 events for ~720 findings
FINDINGS_PER_CASE = 4  # the demo review: ~720 findings for 180 children
SEARCH_TERM = "locum"  # planted in ~0.1 % of findings
RARE_SHARE = 0.001
STRANDS = {"ofsted": 0.50, "health": 0.26, "police": 0.24}
INSPECTORS = {"ofsted": ["OFS-01", "OFS-02", "OFS-03", "OFS-04"], "health": ["HLT-01", "HLT-02"],
              "police": ["POL-01", "POL-02"]}
AGENCIES = [
    ("MASH", "mash", "ofsted"), ("Safeguarding team 1", "childrens_social_care", "ofsted"),
    ("Safeguarding team 2", "childrens_social_care", "ofsted"), ("Legal", "legal_services", "ofsted"),
    ("Police MASH desk", "police", "police"), ("CAIT", "police_cait", "police"), ("Response", "police", "police"),
    ("ED", "emergency_department", "health"), ("Paediatrics", "paediatrics", "health"),
    ("Maternity", "maternity", "health"), ("Health visiting", "health_visiting", "health"),
    ("School nursing", "school_nursing", "health"), ("Child development clinic", "child_development", "health"),
    *[(f"GP practice {n}", "gp", "health") for n in range(1, 7)],
    *[(f"School {n}", "school", "ofsted") for n in range(1, 5)],
    ("Nursery 1", "nursery", "ofsted"), ("Nursery 2", "nursery", "ofsted"), ("Housing", "housing", "ofsted"),
]
FINDING_TYPES = {"strength": 0.35, "area_for_improvement": 0.45, "serious_weakness": 0.08, "context": 0.12}
QA_STATUSES = {"accepted": 0.55, "submitted": 0.25, "draft": 0.12, "returned": 0.06, "withdrawn": 0.02}
ACTIVITIES = ["case_file_review", "case_tracking", "interview", "observation", "child_family_conversation",
              "document_review", "data_analysis", "meeting"]
EVENT_TYPES = ["referral", "ed_attendance", "gp_appointment", "home_visit", "child_seen_alone",
               "strategy_discussion", "s47_enquiry", "conference", "core_group", "assessment", "police_incident",
               "medical_examination", "clinic_appointment", "health_visit", "school_contact", "information_shared"]
WORDS = (
    "the child was seen at home with mother and the social worker recorded that risks were not identified "
    "agencies shared information late health visitor noted bruising referral made to the MASH strategy "
    "discussion held without police plan reviewed at core group conference decided child protection "
    "school reported concerns attendance poor neglect domestic abuse father unknown adult present "
    "assessment completed within timescale management oversight supervision recorded chronology "
    "missing records transferred late emergency department attendance injury explanation inconsistent "
    "paediatrician examined fracture skeletal survey escalation threshold early help family support"
).split()

PAGES = {
    # name: (path, kind): kind tells which empty page is its fixed overhead.
    "findings_3_facets": ("/data/evidence/findings", "table"),
    "full_text_search": (f"/data/evidence/findings?_search={SEARCH_TERM}", "table"),
    "filtered_page": ("/data/evidence/findings?strand_id=3&finding_type=area_for_improvement&qa_status=submitted",
                      "table"),
    "coverage_matrix": ("/data/evidence/coverage_matrix", "query"),
    "case_chronology": (f"/data/evidence/case_chronology?case_ref={INDEX_CASE}", "query"),
}
# The fixed overhead: the same kinds of page with nothing to find, so their SQL
# costs next to nothing (the findings page with its facets on no rows; a canned
# query page with no rows) and what is left is Datasette, the plugin and HTTP.
EMPTY_PAGES = {"table": "/data/evidence/findings?id=0", "query": "/data/evidence/case_chronology?case_ref=C-0"}


# ----------------------------------------------------------------- building the store


def _pick(rng: random.Random, shares: dict[str, float], n: int) -> list[str]:
    return rng.choices(list(shares), weights=list(shares.values()), k=n)


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choices(WORDS, k=words)).capitalize() + "."


def build_store(home: Path, findings: int, seed: int = 17) -> dict[str, float]:
    """Create a bench store in ``home`` with ``findings`` findings; returns phase timings (s)."""
    rng = random.Random(seed)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    store = Store(home)
    store.init()
    with contextlib.closing(store.evidence()) as db:
        review = reviews.create_review(db, slug="bench", title="Benchmark review", area="Benchshire",
                                       review_type="special_jar", framework="sjar-2008", actor=SYSTEM,
                                       fieldwork_start="2026-01-05", fieldwork_end="2026-01-16")
        rid = review["id"]
        agencies: dict[str, list[int]] = {code: [] for code in STRANDS}
        all_agencies = []
        for name, agency_type, strand in AGENCIES:
            agency_id = reviews.add_agency(db, review_id=rid, name=name, agency_type=agency_type,
                                           lead_strand=strand, actor=SYSTEM)
            agencies[strand].append(agency_id)
            all_agencies.append(agency_id)
        inspectors: dict[str, list[tuple[int, str, int]]] = {}
        for strand, codes in INSPECTORS.items():
            strand_id = reviews.strand_id_for(db, strand)
            inspectors[strand] = [
                (reviews.add_inspector(db, review_id=rid, code=code, strand=strand, role="team", actor=SYSTEM),
                 code, strand_id) for code in codes]
        criteria = {code: cid for cid, code in db.execute("SELECT id, code FROM criteria WHERE review_id = ?",
                                                          [rid])}
    with contextlib.closing(store.private()) as private:
        private.execute("INSERT INTO accounts (username, role, password_hash, created_at)"
                        " VALUES (?, 'lead', 'bench-placeholder', '2026-01-01T00:00:00+00:00')", [LEAD])
    timings["setup_s"] = time.perf_counter() - started

    conn = sqlite3.connect(store.evidence_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")  # a bench build: a crash means building again
    conn.execute("PRAGMA cache_size = -400000")
    tables = ("findings", "finding_criteria", "chronology_events", "cases")
    indexes = conn.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        f" AND tbl_name IN {tuple(tables)}").fetchall()
    triggers = [name for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name GLOB '*_a[idu]'")]
    started = time.perf_counter()
    conn.execute("BEGIN")
    for name in triggers:
        conn.execute(f"DROP TRIGGER {name}")
    # The coverage counts are rebuilt in one GROUP BY after the load (below),
    # not upserted once per link by their triggers.
    for name in (*schema.COVERAGE_TRIGGER_NAMES, *schema.IDENTIFIER_TRIGGER_NAMES, *schema.QUESTION_TRIGGER_NAMES):
        conn.execute(f"DROP TRIGGER IF EXISTS {name}")
    for name, _ in indexes:
        conn.execute(f"DROP INDEX {name}")

    n_cases = max(50, findings // FINDINGS_PER_CASE)
    conn.executemany(
        "INSERT INTO cases (id, review_id, case_ref, age_band, legal_status, selection_route)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        ((i, rid, f"C-{i:06d}", rng.choice(["under_1", "1_4", "5_9", "10_15"]),
          rng.choice(["child_in_need", "cp_plan", "looked_after", "early_help"]),
          "index" if i == 17 else rng.choice(["listed", "sampled", "tracked"])) for i in range(1, n_cases + 1)))

    seq = {code: 0 for codes in INSPECTORS.values() for code in codes}
    stamp = "2026-01-10T12:00:00+00:00"
    start_day = dt.date(2026, 1, 5)
    banned = {("police", "3.3"), ("health", "3.1")}  # the demo's coverage gaps
    codes = list(criteria)

    def finding_rows():
        for fid, (strand, ftype, qa) in enumerate(zip(_pick(rng, STRANDS, findings), _pick(rng, FINDING_TYPES,
                                                  findings), _pick(rng, QA_STATUSES, findings), strict=True), 1):
            inspector_id, code, strand_id = rng.choice(inspectors[strand])
            seq[code] += 1
            text = _text(rng, 40)
            if rng.random() < RARE_SHARE:
                text += f" A {SEARCH_TERM} worked without the previous records."
            yield (fid, f"EF-{code}-{seq[code]:04d}", str(uuid.UUID(int=rng.getrandbits(128))), "bench", rid,
                   strand_id, inspector_id, seq[code], rng.choice(agencies[strand]) if rng.random() < 0.9 else None,
                   rng.randint(1, n_cases) if rng.random() < 0.7 else None, rng.choice(ACTIVITIES),
                   (start_day + dt.timedelta(days=rng.randrange(12))).isoformat(), text, _text(rng, 15), ftype,
                   rng.choice(["positive", "negative", "none_identified", "not_known"]), qa, stamp, stamp,
                   None if qa == "draft" else stamp)

    conn.executemany(
        "INSERT INTO findings (id, public_id, client_uuid, content_hash, review_id, strand_id, inspector_id,"
        " inspector_seq, agency_id, case_id, activity, collected_on, evidence_text, evaluation_text, finding_type,"
        " impact_on_child, qa_status, created_at, updated_at, submitted_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", finding_rows())
    strand_of = dict(conn.execute("SELECT findings.id, strands.code FROM findings"
                                  " JOIN strands ON strands.id = findings.strand_id"))

    def criteria_rows():
        for fid in range(1, findings + 1):
            chosen = rng.sample(codes, rng.choice((1, 1, 2)))
            for position, code in enumerate(chosen):
                if (strand_of[fid], code) not in banned:
                    yield fid, criteria[code], "primary" if position == 0 else "secondary"

    conn.executemany("INSERT INTO finding_criteria (finding_id, criterion_id, relevance) VALUES (?, ?, ?)",
                     criteria_rows())
    strand_of.clear()
    n_events = int(findings * EVENTS_PER_FINDING)
    first = dt.date(2025, 3, 1)

    def event_rows():
        for eid in range(1, n_events + 1):
            case_id = 17 if eid <= INDEX_CASE_EVENTS else rng.randint(1, n_cases)
            if case_id == 17 and eid > INDEX_CASE_EVENTS:
                case_id = 18
            agency = all_agencies[eid % 8] if case_id == 17 else rng.choice(all_agencies)
            yield (eid, str(uuid.UUID(int=rng.getrandbits(128))), "bench", rid, case_id, agency, "social worker",
                   (first + dt.timedelta(days=rng.randrange(300))).isoformat(), rng.choice(EVENT_TYPES),
                   _text(rng, 18), "case record", int(rng.random() < 0.05), int(rng.random() < 0.03),
                   int(rng.random() < 0.03), stamp)

    conn.executemany(
        "INSERT INTO chronology_events (id, client_uuid, content_hash, review_id, case_id, agency_id,"
        " practitioner_role, event_date, event_type, description, source_of_information, key_event,"
        " missed_opportunity, good_practice, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        event_rows())
    conn.execute("COMMIT")
    timings["load_s"] = time.perf_counter() - started

    started = time.perf_counter()
    conn.execute("BEGIN")
    for _, sql in indexes:
        conn.execute(sql)
    conn.execute("COMMIT")
    timings["indexes_s"] = time.perf_counter() - started
    conn.close()

    started = time.perf_counter()
    with contextlib.closing(connect(store.evidence_path)) as db:
        schema.ensure_fts(db)  # triggers missing: rebuilds each FTS index in bulk, then restores the triggers
        with write_transaction(db):
            schema.rebuild_coverage_counts(db)  # counts from scratch, triggers back
            schema.rebuild_identifier_flags(db)
            schema.rebuild_question_aggregates(db)
        restored = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        expected = set(triggers) | set(schema.COVERAGE_TRIGGER_NAMES) | set(schema.IDENTIFIER_TRIGGER_NAMES) \
            | set(schema.QUESTION_TRIGGER_NAMES)
        assert expected <= restored, expected - restored
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    timings["fts_s"] = time.perf_counter() - started
    timings["findings"] = findings
    timings["chronology_events"] = n_events
    timings["cases"] = n_cases
    timings["size_mb"] = round(store.evidence_path.stat().st_size / 2**20, 1)
    return timings


# ----------------------------------------------------------------- the SQL each page runs


def capture_page_sql(store: Store, path: str) -> list[tuple[str, Any]]:
    """The SQL a JSON page runs on the evidence DB, from Datasette's own trace (schema look-ups left out)."""
    from inspect_kit.datasette_plugin.app import make_datasette

    ds = make_datasette(store, SECRET, settings={"trace_debug": True})
    cookies = {"inspect_kit_session": sign_session(login_session(LEAD, "lead"), SECRET)}
    local = json_path(path).removeprefix("/data")
    local += ("&" if "?" in local else "?") + "_trace=1"

    async def fetch():
        await ds.invoke_startup()
        return await ds.client.get(local, cookies=cookies)

    response = asyncio.run(fetch())
    response.raise_for_status()
    statements = []
    for trace in response.json()["_trace"]["traces"]:
        sql = trace["sql"]
        lowered = " ".join(sql.lower().split())
        if trace.get("database") != "evidence" or "sqlite_master" in lowered or lowered.startswith("pragma"):
            continue
        statements.append((sql, trace.get("params")))
    return statements


class RawRunner:
    """Runs a page's captured SQL with plain sqlite3 on the same file (read only)."""

    def __init__(self, path: Path):
        from inspect_kit import fulltext

        self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        # The SQL functions our Datasette connections have: escape_fts for _search=, ik_fts_phrase
        # for the canned queries' search (inspect_kit.datasette_plugin.search).
        fulltext.register(self.conn)
        self.conn.create_function("escape_fts", 1, fulltext.phrase_query)
        # The review Datasette binds to :_ik_review / :_ik_review_id (the lead's, the latest):
        # Datasette's trace lists a statement's parameters without those it resolved itself.
        review_id, slug = self.conn.execute("SELECT id, slug FROM reviews ORDER BY id DESC LIMIT 1").fetchone()
        self.review = {"_ik_review": slug, "_ik_review_id": review_id}

    def run(self, statements: list[tuple[str, Any]]) -> float:
        """Seconds to run every statement in turn, fetching all rows."""
        started = time.perf_counter()
        for sql, params in statements:
            if ":_ik_review" in sql:
                params = {**self.review, **(params or {})}
            self.conn.execute(sql, params or []).fetchall()
        return time.perf_counter() - started

    def close(self) -> None:
        self.conn.close()


# ----------------------------------------------------------------- over HTTP


def json_path(path: str) -> str:
    base, _, query = path.partition("?")
    return base + ".json" + ("?" + query if query else "")


def get(client: httpx.Client, path: str) -> tuple[float, list[str]]:
    """Seconds for one GET of ``path``, and any problem seen in the response."""
    started = time.perf_counter()
    response = client.get(path)
    elapsed = time.perf_counter() - started
    problems = []
    if response.status_code != 200:
        problems.append(f"HTTP {response.status_code}")
    if "took too long" in response.text:  # Datasette's SQL time limit message
        problems.append("query took too long")
    if path.split("?")[0].endswith(".json") and response.status_code == 200:
        timed_out = response.json().get("facets_timed_out")
        if timed_out:  # Datasette drops these facets silently (HTTP 200)
            problems.append(f"facets timed out: {timed_out}")
    return elapsed, problems


def time_http(client: httpx.Client, path: str, repeat: int, warmup: int = 2) -> tuple[list[float], list[str]]:
    """Seconds per GET of ``path`` (sequential, after ``warmup`` untimed ones), and problems seen."""
    samples: list[float] = []
    problems: set[str] = set()
    for round_ in range(warmup + repeat):
        elapsed, seen = get(client, path)
        problems.update(seen)
        if round_ >= warmup:
            samples.append(elapsed)
    return samples, sorted(problems)


def time_page(client: httpx.Client, raw: RawRunner, path: str, statements: list[tuple[str, Any]], repeat: int,
              warmup: int = 2, as_json: bool = True) -> tuple[list[float], list[float], list[str]]:
    """JSON page (``path`` as it is, without ``as_json``) and raw SQL timed in alternation,
    so both see the same machine load."""
    page_samples: list[float] = []
    raw_samples: list[float] = []
    problems: set[str] = set()
    for round_ in range(warmup + repeat):
        elapsed, seen = get(client, json_path(path) if as_json else path)
        problems.update(seen)
        raw_elapsed = raw.run(statements)
        if round_ >= warmup:
            page_samples.append(elapsed)
            raw_samples.append(raw_elapsed)
    return page_samples, raw_samples, sorted(problems)


# The ratio target is about SQL-heavy pages; a page whose SQL takes less than
# this (a small store) is held to SMALL_PAGE_TARGET_MS instead: there its time is
# Datasette's own rendering (a 62-event chronology: ~10 ms against 0.4 ms of SQL,
# 20,000 findings, load ~5), which no query change could bring to 2x the SQL.
RATIO_MIN_SQL_MS = 5.0
# What a person perceives as instant.
SMALL_PAGE_TARGET_MS = 100.0
# Each of the lead's canned questions under half a second of SQL.
QUESTION_TARGET_MS = 500.0
# Datasette reads max_returned_rows + 1 rows of a canned query.
QUESTION_ROWS = 1_001


def _questions_before() -> dict[str, str]:
    """The slow questions' SQL as written before they were made fast (tests/questions_before.py)."""
    path = Path(__file__).resolve().parent.parent / "tests" / "questions_before.py"
    spec = importlib.util.spec_from_file_location("questions_before", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.BEFORE


def time_questions(store: Store, raw: RawRunner, repeat: int = 3, before: bool = True) -> dict[str, dict[str, Any]]:
    """Every canned question's SQL with plain sqlite3 (the lead's view: the first
    case, strand health, defaults elsewhere), median of ``repeat``; with ``before``,
    the slow questions' former SQL too, once each, in the same run: the baseline
    the speed-up is measured against."""
    from inspect_kit.datasette_plugin import catalogue, questions

    with contextlib.closing(store.evidence()) as db:
        strands = catalogue.review_strands(db)
        (case_ref,) = db.execute("SELECT case_ref FROM cases ORDER BY id LIMIT 1").fetchone()
    # raw.review: the review Datasette binds to :_ik_review (the one chosen in the intake app).
    values = {"case_ref": case_ref, "strand": "health", "_actor_strand": "health", "_actor_id": LEAD, **raw.review}
    former = _questions_before() if before else {}

    def run(sql: str) -> tuple[float, int]:
        names = set(re.findall(r":(\w+)", sql))
        params = {name: values.get(name, "") for name in names}
        started = time.perf_counter()
        rows = raw.conn.execute(sql, params).fetchmany(QUESTION_ROWS)
        return time.perf_counter() - started, len(rows)

    timed: dict[str, dict[str, Any]] = {}
    for question in questions.questions(strands):
        samples = []
        for _ in range(repeat):
            elapsed, rows = run(question.sql)
            samples.append(elapsed)
        median = statistics.median(samples) * 1000
        timed[question.name] = {"median_ms": round(median, 2), "best_ms": round(min(samples) * 1000, 2),
                                "rows": rows, "meets_target": median < QUESTION_TARGET_MS}
        if question.name in former:
            elapsed, _ = run(former[question.name])
            timed[question.name]["before_ms"] = round(elapsed * 1000, 1)
            timed[question.name]["speed_up"] = round(elapsed * 1000 / median, 1) if median else None
    return timed


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return {"median_ms": round(statistics.median(ordered) * 1000, 2), "p95_ms": round(p95 * 1000, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--findings", type=int, default=1_000_000, help="Findings to load (default 1,000,000).")
    parser.add_argument("--repeat", type=int, default=25, help="Timed requests per page (default 25).")
    parser.add_argument("--work-dir", type=Path, help="Where to build the store (default: a temporary folder).")
    parser.add_argument("--reuse", action="store_true", help="Time the bench store already in --work-dir.")
    parser.add_argument("--no-before", action="store_true",
                        help="Skip timing the slow questions' former SQL (the baseline; ~40 s at 1,000,000 findings).")
    args = parser.parse_args(argv)
    load_at_start = os.getloadavg()

    with contextlib.ExitStack() as stack:
        work = args.work_dir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-datasette-")))
        work.mkdir(parents=True, exist_ok=True)
        store = Store(work / "evidence")
        if args.reuse and store.exists():
            with contextlib.closing(store.evidence()) as db:
                count = db.execute("SELECT count(*) FROM findings").fetchone()[0]
            build = {"findings": count, "reused": True}
            print(f"Reusing the bench store at {store.home} ({count:,} findings).")
        else:
            if store.home.exists() and any(store.home.iterdir()):
                raise SystemExit(f"{store.home} is not empty: use --reuse, or another --work-dir.")
            print(f"Building a store with {args.findings:,} findings in {store.home} …", flush=True)
            build = build_store(store.home, args.findings)
            print("  " + ", ".join(f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v:,}"
                                   for k, v in build.items()), flush=True)

        port = free_port()
        server = spawn_server("inspect-kit serve", [*inspect_kit_command(), "serve", "--home", str(store.home),
                                                    "--port", str(port)], port, work / "serve.log",
                              env={"INSPECT_KIT_SECRET_KEY": SECRET})
        stack.callback(server.stop)
        wait_ready(server, "/healthz", timeout=120)
        client = stack.enter_context(httpx.Client(base_url=f"http://{HOST}:{port}", timeout=120, cookies={
            "inspect_kit_session": sign_session(login_session(LEAD, "lead"), SECRET)}))

        empty = {}
        for kind, path in EMPTY_PAGES.items():
            samples, problems = time_http(client, json_path(path), args.repeat)
            empty[kind] = {"path": path, **summary(samples), "problems": problems}
        pages = {}
        failures = []
        raw_runner = RawRunner(store.evidence_path)
        stack.callback(raw_runner.close)
        for name, (path, kind) in PAGES.items():
            statements = capture_page_sql(store, path)
            json_samples, raw_samples, json_problems = time_page(client, raw_runner, path, statements, args.repeat)
            raw = summary(raw_samples)
            html_samples, html_problems = time_http(client, path, max(3, args.repeat // 3))
            page = {"path": path, "statements": len(statements), "raw_sql": raw,
                    "json": summary(json_samples), "html": summary(html_samples),
                    "problems": sorted(set(json_problems + html_problems))}
            overhead = empty[kind]["median_ms"]
            jitter = round(empty[kind]["p95_ms"] - overhead, 2)
            page["overhead_ms"] = overhead
            page["ratio"] = round((page["json"]["median_ms"] - overhead) / raw["median_ms"], 2) \
                if raw["median_ms"] else None
            # The ratio target needs SQL that takes longer than the fixed overhead
            # wobbles between requests (its p95 - median): below that, on a small
            # store, (page - overhead) / raw measures the wobble, not Datasette's
            # cost (20,000 findings: 0.3 ms of SQL against 10-20 ms of jitter on a
            # shared machine). Such a page is held to the empty page's p95 plus
            # twice its SQL instead, and the report says so.
            page["ratio_target_applies"] = raw["median_ms"] >= max(jitter, RATIO_MIN_SQL_MS)
            if page["ratio_target_applies"]:
                page["target_ms"] = round(2 * raw["median_ms"] + overhead, 2)
                page["target"] = "JSON median <= 2 x raw SQL + empty page median"
            else:
                page["target_ms"] = SMALL_PAGE_TARGET_MS
                page["target"] = (f"raw SQL {raw['median_ms']} ms is under {RATIO_MIN_SQL_MS:g} ms or the empty "
                                  f"page's jitter ({jitter} ms), so the ratio measures Datasette's fixed per-page "
                                  f"work, not its SQL: JSON median <= {SMALL_PAGE_TARGET_MS:g} ms instead")
            page["meets_target"] = page["json"]["median_ms"] <= page["target_ms"] and not page["problems"]
            if not page["meets_target"]:
                failures.append(name)
            pages[name] = page
        questions_sql = time_questions(store, raw_runner, before=not args.no_before)
        failures += [f"question {name}" for name, figures in questions_sql.items() if not figures["meets_target"]]

    print()
    print(f"{'page':<20} {'JSON median':>12} {'JSON p95':>10} {'HTML median':>12} {'raw SQL':>9} "
          f"{'overhead':>9} {'target':>9} {'ratio':>6}  verdict")
    for kind, figures in empty.items():
        print(f"{'empty ' + kind:<20} {figures['median_ms']:>10.1f}ms {figures['p95_ms']:>8.1f}ms {'':>12} "
              f"{'':>9} {'':>9} {'':>9} {'':>6}  {'; '.join(figures['problems']) or 'fixed overhead'}")
    for name, page in pages.items():
        verdict = ("ok (≤ 2× raw + overhead)" if page["ratio_target_applies"] else
                   f"ok (SQL < {RATIO_MIN_SQL_MS:g} ms or the jitter: ratio n/a, ≤ {SMALL_PAGE_TARGET_MS:g} ms)") \
            if page["meets_target"] \
            else "MISSED " + "; ".join(page["problems"])
        print(f"{name:<20} {page['json']['median_ms']:>10.1f}ms {page['json']['p95_ms']:>8.1f}ms "
              f"{page['html']['median_ms']:>10.1f}ms {page['raw_sql']['median_ms']:>7.1f}ms "
              f"{page['overhead_ms']:>7.1f}ms {page['target_ms']:>7.1f}ms {page['ratio'] or 0:>6.2f}  {verdict}")
    print(f"\nthe lead's questions, raw SQL (first {QUESTION_ROWS} rows, as Datasette reads them), target "
          f"< {QUESTION_TARGET_MS:.0f} ms each; 'before' is the former SQL of the slow ones in this run:")
    for name, figures in questions_sql.items():
        before = f"{figures['before_ms']:>9.1f} ms before, {figures['speed_up']:>6.1f}x" if "before_ms" in figures \
            else " " * 27
        print(f"  {name:<40} {figures['median_ms']:>9.1f} ms  {before}  "
              f"{'ok' if figures['meets_target'] else 'MISSED'}")
    report = {"build": build, "empty_pages": empty, "pages": pages, "failures": failures,
              "questions_raw_sql": questions_sql, "question_target_ms": QUESTION_TARGET_MS,
              "load_average_start": load_at_start, "load_average_end": os.getloadavg(),
              "settings": _settings(), "repeat": args.repeat, "cpus": os.cpu_count()}
    print(json.dumps(report, sort_keys=True))
    return 1 if failures else 0


def _settings() -> dict[str, Any]:
    from inspect_kit.datasette_plugin.app import SETTINGS

    return dict(SETTINGS)


if __name__ == "__main__":
    raise SystemExit(main())
