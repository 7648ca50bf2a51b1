"""Benchmark: inspectors posting findings through the JSON API of the real server.

Drive ``inspect-kit serve --workers <cores>`` with 16 and 64
concurrent clients posting findings for a fixed time and, in the same run on
the same machine, measure three floors:

(a) storage: the same rows (finding, criteria links, version, audit row) written
    one transaction each with plain sqlite3 into the same schema, FTS triggers
    included;
(b) HTTP, the real peer: a minimal Flask app that only parses the JSON and does
    that insert, under gunicorn with sync workers, one per core: what a Flask
    user would deploy. The targets are against this floor;
(c) HTTP, the same stack: that endpoint under one process of uvicorn + a2wsgi,
    as the server first ran (kept to show what the stack costs).

Durability: the store commits with ``synchronous=FULL`` (a record is on disk
before it is acknowledged). The same run also serves a copy of the store with
``synchronous=NORMAL`` (survives a killed process, not a power cut) and runs
the storage floor both ways, so the cost of FULL is measured beside it; the
floors use the store's setting, as the server does.

Throughput and latency come from ``wrk`` (a Python load generator measures
itself, docs/architecture.md §9). A correctness pass then posts with 64 Python clients,
injecting client-side timeouts and disconnects and retrying with the SAME
client_uuid, and counts lost and duplicated records. Targets: at 16 clients at
least 0.5x the HTTP floor's requests/s and p99 no worse than 3x its p99; zero
lost and zero duplicated records. The last line printed is one JSON object with
every figure, ratio and target. Server CPU per request sums every process of
a server (its workers included).

    python bench/intake.py                      # 10 s per load run
    python bench/intake.py --duration 2 --clients 2,4 --check-clients 4 --check-records 3
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
import random
import socket
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    HOST,
    WRK_LUA,
    LoadResult,
    Server,
    free_port,
    inspect_kit_command,
    require_wrk,
    run_wrk,
    spawn_server,
    table,
    wait_ready,
)

# Run as a script, this folder is first on sys.path, and bench/datasette.py
# would then shadow the datasette package for everything imported later.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).resolve().parent]

# `--serve-normal` runs `inspect-kit serve` with the store's synchronous=NORMAL.
# uvicorn spawns its workers, and a spawned child imports this script again as
# __mp_main__ (multiprocessing re-imports the parent's main module), so the
# setting is made here, at import, from the environment, in every worker.
SYNCHRONOUS_ENV = "BENCH_INTAKE_SYNCHRONOUS"
if os.environ.get(SYNCHRONOUS_ENV):
    import inspect_kit.store

    inspect_kit.store.SYNCHRONOUS = os.environ[SYNCHRONOUS_ENV]

SECRET = "bench-secret-not-for-production"
GUNICORN_FLOOR = "HTTP floor (gunicorn)"
STACK_FLOOR = "stack floor (uvicorn+a2wsgi, 1 process)"
NORMAL_SERVER = "inspect-kit serve, synchronous=NORMAL"
TARGET_THROUGHPUT_RATIO = 0.5
TARGET_P99_RATIO = 3.0
INSPECTORS = [("OFS-01", "ofsted"), ("OFS-02", "ofsted"), ("OFS-03", "ofsted"), ("HLT-01", "health"),
              ("HLT-02", "health"), ("POL-01", "police"), ("POL-02", "police"), ("OFS-04", "ofsted")]
CRITERIA = {"2.1": "primary", "2.3": "secondary"}
# About 1 KB of evidence, like docs/architecture.md §9's measurements.
EVIDENCE = ("Case file review: the emergency department notes record a bruise to the forehead of a nine-month-old "
            "infant, explained by the mother as a fall from a sofa. The triage nurse recorded the explanation and "
            "the registrar examined the child. A referral to children's social care was made the same day by "
            "telephone and confirmed in writing; the MASH record shows it was received and screened within 24 "
            "hours. The health visitor was informed. There is no record that the child was seen alone or that a "
            "body map was completed, and no strategy discussion followed although the injury was to a non-mobile "
            "infant. The GP record for the previous month shows two attendances for minor ailments with no "
            "safeguarding concern noted. The notes name no one outside the household; the father is recorded as "
            "'not present'. ") * 1
EVALUATION = "Prompt referral and good recognition of risk by the ED; the absence of a strategy discussion for an " \
             "injury to a non-mobile infant is an area for improvement."


# ----------------------------------------------------------------- the store


def build_store(home: Path) -> dict[str, Any]:
    """A store with a review, agencies, cases, inspectors, an account and an API token each."""
    from inspect_kit import accounts, reviews
    from inspect_kit.actors import SYSTEM
    from inspect_kit.store import Store

    store = Store(home)
    store.init()
    with contextlib.closing(store.evidence()) as db:
        review = reviews.create_review(db, slug="bench", title="Benchmark review", area="Benchshire",
                                       review_type="special_jar", framework="sjar-2008", actor=SYSTEM)
        rid = review["id"]
        agency = reviews.add_agency(db, review_id=rid, name="Emergency department",
                                    agency_type="emergency_department", lead_strand="health", actor=SYSTEM)
        case = reviews.add_case(db, review_id=rid, case_ref="C-017", age_band="under_1", legal_status="cp_plan",
                                selection_route="index", actor=SYSTEM)
        inspector_ids = {code: reviews.add_inspector(db, review_id=rid, code=code, strand=strand, role="team",
                                                     actor=SYSTEM) for code, strand in INSPECTORS}
    tokens = []
    with contextlib.closing(store.private()) as db:
        for code, strand in INSPECTORS:
            username = code.lower().replace("-", "")
            accounts.add_account(db, username=username, password="bench-password-1", role="inspector",
                                 strand=strand, inspector_code=code)
            tokens.append(accounts.issue_token(db, username))
    return {"review_id": rid, "agency_id": agency, "case_id": case, "inspector_ids": inspector_ids,
            "tokens": tokens}


def finding_body(setup: dict[str, Any], client_uuid: str, marker: str = "") -> dict[str, Any]:
    return {
        "client_uuid": client_uuid, "agency_id": setup["agency_id"], "case_id": setup["case_id"],
        "activity": "case_file_review", "collected_on": "2008-11-20", "evidence_text": EVIDENCE + marker,
        "evaluation_text": EVALUATION, "finding_type": "area_for_improvement", "impact_on_child": "negative",
        "criteria": CRITERIA, "submit": False,
    }


# ----------------------------------------------------------------- the floors' insert


def connect(path: Path, synchronous: str | None = None) -> sqlite3.Connection:
    """A plain sqlite3 connection with the store's pragmas (inspect_kit.store.connect);
    ``synchronous`` overrides the store's setting."""
    from inspect_kit.store import SYNCHRONOUS

    conn = sqlite3.connect(str(path), timeout=5.0, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute(f"PRAGMA synchronous = {synchronous or SYNCHRONOUS}")
    return conn


def insert_finding(conn: sqlite3.Connection, body: dict[str, Any], review_id: int, inspector: tuple[str, int],
                   strand_id: int) -> str:
    """Write one finding as the library does (finding, criteria links, version, audit row) in one transaction."""
    code, inspector_id = inspector
    stamp = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    content = {k: body.get(k) for k in ("agency_id", "case_id", "activity", "collected_on", "evidence_text",
                                        "evaluation_text", "finding_type", "impact_on_child")}
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
    conn.execute("BEGIN IMMEDIATE")
    try:
        (seq,) = conn.execute("SELECT coalesce(max(inspector_seq), 0) + 1 FROM findings WHERE inspector_id = ?",
                              [inspector_id]).fetchone()
        public_id = f"EF-{code}-{seq:04d}"
        finding_id = conn.execute(
            "INSERT INTO findings (public_id, client_uuid, content_hash, review_id, strand_id, inspector_id,"
            " inspector_seq, agency_id, case_id, activity, collected_on, evidence_text, evaluation_text,"
            " finding_type, impact_on_child, qa_status, version, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'draft', 1, ?, ?)",
            [public_id, body["client_uuid"], digest, review_id, strand_id, inspector_id, seq, *content.values(),
             stamp, stamp]).lastrowid
        for criterion, relevance in body["criteria"].items():
            conn.execute("INSERT INTO finding_criteria (finding_id, criterion_id, relevance)"
                         " SELECT ?, id, ? FROM criteria WHERE review_id = ? AND code = ?",
                         [finding_id, relevance, review_id, criterion])
        snapshot = json.dumps({**content, "qa_status": "draft", "version": 1, "criteria": body["criteria"]},
                              sort_keys=True)
        conn.execute("INSERT INTO finding_versions (finding_id, version, snapshot, changed_by, changed_at)"
                     " VALUES (?, 1, ?, ?, ?)", [finding_id, snapshot, code, stamp])
        conn.execute("INSERT INTO audit_log (at, actor, action, table_name, row_id, after)"
                     " VALUES (?, ?, 'finding.create', 'findings', ?, ?)", [stamp, code, finding_id, snapshot])
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return public_id


def floor_targets(path: Path) -> tuple[int, list[tuple[str, int]], dict[int, int]]:
    """The review id, the inspectors (code, id) and each inspector's strand id, read from the store."""
    with contextlib.closing(connect(path)) as conn:
        (review_id,) = conn.execute("SELECT id FROM reviews WHERE slug = 'bench'").fetchone()
        rows = conn.execute("SELECT code, id, strand_id FROM inspectors WHERE review_id = ? ORDER BY id",
                            [review_id]).fetchall()
    return review_id, [(code, i) for code, i, _ in rows], {i: strand for _, i, strand in rows}


def storage_floor(path: Path, setup: dict[str, Any], seconds: float, synchronous: str | None = None
                  ) -> dict[str, Any]:
    """Floor (a): plain sqlite3, one transaction per finding, for ``seconds``."""
    review_id, inspectors, strands = floor_targets(path)
    template = finding_body(setup, "")
    rows = 0
    with contextlib.closing(connect(path, synchronous)) as conn:
        (mode,) = conn.execute("PRAGMA synchronous").fetchone()
        started = time.perf_counter()
        deadline = started + seconds
        while time.perf_counter() < deadline:
            inspector = inspectors[rows % len(inspectors)]
            insert_finding(conn, {**template, "client_uuid": str(uuid.uuid4())}, review_id, inspector,
                           strands[inspector[1]])
            rows += 1
        elapsed = time.perf_counter() - started
    return {"rows": rows, "seconds": round(elapsed, 3), "rows_per_s": round(rows / elapsed, 1),
            "synchronous": SYNCHRONOUS_NAMES[mode]}


SYNCHRONOUS_NAMES = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}


def serve_normal(home: Path, port: int, workers: int) -> None:
    """``inspect-kit serve`` unchanged but for the store's one pragma: synchronous=NORMAL (in every worker)."""
    from inspect_kit import store
    from inspect_kit.cli import cli

    os.environ[SYNCHRONOUS_ENV] = store.SYNCHRONOUS = "NORMAL"
    cli(["serve", "--home", str(home), "--port", str(port), "--workers", str(workers)])


def floor_app(home: Path):
    """The minimal Flask app of the HTTP floors: parse the JSON, do the insert, answer 201."""
    from flask import Flask, jsonify, request

    path = home / "evidence.db"
    review_id, inspectors, strands = floor_targets(path)
    app = Flask("http_floor")
    # One connection per thread, kept, as `inspect-kit serve` does (web/db.py,
    # REUSE_DB_CONNECTIONS): a floor must not pay a cost the server no longer pays.
    local = threading.local()

    @app.get("/healthz")
    def healthz():
        return jsonify({"status": "ok"})

    @app.post("/floor/findings")
    def record():
        body = request.get_json()
        inspector = inspectors[int(body["client_uuid"][-4:], 16) % len(inspectors)]
        if not hasattr(local, "conn"):
            local.conn = connect(path)
        public_id = insert_finding(local.conn, body, review_id, inspector, strands[inspector[1]])
        return jsonify({"public_id": public_id}), 201

    return app


def serve_floor(home: Path, port: int) -> None:
    """Floor (c): uvicorn + a2wsgi + the minimal Flask app, one process (the stack the server first ran on)."""
    import uvicorn
    from a2wsgi import WSGIMiddleware

    from inspect_kit.web.server import WSGI_WORKERS

    uvicorn.run(WSGIMiddleware(floor_app(home), workers=WSGI_WORKERS), host=HOST, port=port, log_level="warning",
                lifespan="off")


def serve_gunicorn_floor(home: Path, port: int, workers: int) -> None:
    """Floor (b): gunicorn, ``workers`` sync workers (one per core), the minimal Flask app in each."""
    from gunicorn.app.base import BaseApplication

    class FloorApplication(BaseApplication):
        def load_config(self):
            # Sync workers, gunicorn's default and its documented choice for a
            # CPU-bound app; the app is loaded in each worker after the fork.
            for key, value in {"bind": f"{HOST}:{port}", "workers": workers, "worker_class": "sync",
                               "loglevel": "warning", "accesslog": None}.items():
                self.cfg.set(key, value)

        def load(self):
            return floor_app(home)

    FloorApplication().run()


# ----------------------------------------------------------------- correctness pass


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts: dict[str, int] = {}

    def add(self, name: str, n: int = 1) -> None:
        with self.lock:
            self.counts[name] = self.counts.get(name, 0) + n


def _raw_post(url: str, token: str, payload: bytes, *, cut_body: bool) -> None:
    """Send a POST on a raw socket and hang up: before the body ends, or before reading the answer."""
    host_port = url.split("//", 1)[1].split("/", 1)[0]
    host, port = host_port.split(":")
    head = (f"POST /api/findings HTTP/1.1\r\nHost: {host_port}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\nConnection: close\r\n\r\n").encode()
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(head + (payload[: len(payload) // 2] if cut_body else payload))


def correctness_pass(url: str, setup: dict[str, Any], clients: int, records: int, fault_rate: float,
                     seed: int = 7) -> dict[str, Any]:
    """``clients`` threads each post ``records`` findings; a share of first attempts is sabotaged
    (a 2 ms client timeout, a hang-up after sending, a hang-up mid-body) and every record is retried
    with the same client_uuid until the server answers 201 or 200."""
    tally = Tally()
    planned: dict[str, str] = {}
    planned_lock = threading.Lock()
    failures: list[str] = []

    def client(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        token = setup["tokens"][index % len(setup["tokens"])]
        headers = {"Authorization": f"Bearer {token}"}
        last_latency = 0.05
        with httpx.Client(base_url=url, timeout=30, headers=headers) as http:
            for n in range(records):
                client_uuid = str(uuid.uuid4())
                marker = f" [bench record {index}-{n}]"
                with planned_lock:
                    planned[client_uuid] = marker
                payload = json.dumps(finding_body(setup, client_uuid, marker)).encode()
                if rng.random() < fault_rate:
                    fault = rng.choice(["timeout", "hangup", "cut_body"])
                    tally.add(f"injected_{fault}")
                    try:
                        if fault == "timeout":
                            # A read timeout between 0.3x and 1.2x this client's last answer time: some
                            # fire before the server reads the body, many after it has committed (the
                            # replays the count check is about), a few not at all.
                            read_timeout = max(0.001, rng.uniform(0.3, 1.2) * last_latency)
                            answer = httpx.post(url + "/api/findings", content=payload,
                                                timeout=httpx.Timeout(5, read=read_timeout),
                                                headers={**headers, "Content-Type": "application/json"})
                            tally.add(f"timeout_answered_anyway_{answer.status_code}")
                            fault = None
                        else:
                            _raw_post(url, token, payload, cut_body=fault == "cut_body")
                    except (httpx.HTTPError, OSError):
                        pass
                else:
                    fault = None
                for attempt in range(10):
                    try:
                        sent = time.perf_counter()
                        response = http.post("/api/findings", content=payload,
                                             headers={"Content-Type": "application/json"})
                        last_latency = time.perf_counter() - sent
                    except httpx.HTTPError:
                        tally.add("retry_after_error")
                        time.sleep(0.05 * (attempt + 1))
                        continue
                    if response.status_code in (200, 201):
                        tally.add("created" if response.status_code == 201 else "replayed")
                        if fault and response.status_code == 200:
                            # The server had stored the sabotaged attempt; the client never heard.
                            tally.add(f"stored_unseen_after_{fault}")
                        break
                    tally.add(f"status_{response.status_code}")
                    time.sleep(0.05 * (attempt + 1))
                else:
                    failures.append(client_uuid)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {"clients": clients, "records": len(planned), "seconds": round(elapsed, 2),
            "counts": dict(sorted(tally.counts.items())), "gave_up": len(failures), "planned": planned}


def count_check(path: Path, planned: dict[str, str]) -> dict[str, int]:
    """Lost: planned records with no row. Duplicated: rows beyond one per planned record
    (matched by client_uuid and, independently, by the record's marker in its text)."""
    with contextlib.closing(connect(path)) as conn:
        conn.execute("CREATE TEMP TABLE planned (client_uuid TEXT PRIMARY KEY, marker TEXT)")
        conn.executemany("INSERT INTO temp.planned VALUES (?, ?)", planned.items())
        (stored,) = conn.execute("SELECT count(DISTINCT findings.client_uuid) FROM findings"
                                 " JOIN temp.planned USING (client_uuid)").fetchone()
        (by_marker,) = conn.execute(
            "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM findings"
            " WHERE evidence_text LIKE '%[bench record %' GROUP BY substr(evidence_text, instr(evidence_text,"
            " '[bench record '))) WHERE n > 1").fetchone()
        (rows,) = conn.execute("SELECT count(*) FROM findings WHERE evidence_text LIKE '%[bench record %'"
                               ).fetchone()
    return {"planned": len(planned), "stored": stored, "rows": rows, "lost": len(planned) - stored,
            "duplicated": max(by_marker, rows - stored)}


# ----------------------------------------------------------------- the run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=10, help="Seconds per load run (default 10).")
    parser.add_argument("--clients", default="16,64", help="Concurrent connections per load run (default 16,64).")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2).")
    parser.add_argument("--storage-seconds", type=float, help="Seconds for the storage floor (default --duration).")
    parser.add_argument("--check-clients", type=int, default=64, help="Python clients in the correctness pass.")
    parser.add_argument("--check-records", type=int, default=20, help="Findings per client in that pass.")
    parser.add_argument("--fault-rate", type=float, default=0.3, help="Share of first attempts sabotaged.")
    parser.add_argument("--work-dir", type=Path, help="Keep the stores and logs here (default: a temp folder).")
    parser.add_argument("--workers", type=int, default=_cores(),
                        help="Worker processes for our server and the gunicorn floor (default: the cores).")
    parser.add_argument("--serve-floor", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--serve-gunicorn-floor", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--serve-normal", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_floor:
        serve_floor(args.serve_floor, args.port)
        return 0
    if args.serve_gunicorn_floor:
        serve_gunicorn_floor(args.serve_gunicorn_floor, args.port, args.workers)
        return 0
    if args.serve_normal:
        serve_normal(args.serve_normal, args.port, args.workers)
        return 0
    require_wrk()
    clients = [int(c) for c in args.clients.split(",") if c.strip()]
    if args.work_dir and args.work_dir.exists() and any(args.work_dir.iterdir()):
        parser.error(f"--work-dir {args.work_dir} is not empty: give a new or empty folder")
    with contextlib.ExitStack() as stack:
        work = args.work_dir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-intake-")))
        work.mkdir(parents=True, exist_ok=True)
        return run(args, clients, work)


def run(args, clients: list[int], work: Path) -> int:
    import shutil

    started = time.monotonic()
    setup = build_store(work / "server-store")
    for name in ("storage-floor", "storage-floor-normal", "http-floor", "gunicorn-floor", "server-store-normal"):
        shutil.copytree(work / "server-store", work / name)
    template = work / "finding.json"
    template.write_text(json.dumps(finding_body(setup, "__UUID__")))
    lua = work / "findings.lua"
    lua.write_text(WRK_LUA)

    print(f"storage floor: plain sqlite3, one transaction per finding, {args.storage_seconds or args.duration:g} s",
          file=sys.stderr)
    storage = storage_floor(work / "storage-floor" / "evidence.db", setup, args.storage_seconds or args.duration)
    print("storage floor at synchronous=NORMAL", file=sys.stderr)
    storage_normal = storage_floor(work / "storage-floor-normal" / "evidence.db", setup,
                                   args.storage_seconds or args.duration, "NORMAL")

    servers: list[Server] = []
    try:
        floor_port, gunicorn_port, real_port, normal_port = free_port(), free_port(), free_port(), free_port()
        this = [sys.executable, str(Path(__file__).resolve())]
        # All start at once (Datasette's import is the slow part); each must answer before any load.
        floor = spawn_server(STACK_FLOOR, [*this, "--serve-floor", str(work / "http-floor"), "--port",
                                           str(floor_port)], floor_port, work / "http-floor.log")
        servers.append(floor)
        gunicorn = spawn_server(GUNICORN_FLOOR, [*this, "--serve-gunicorn-floor", str(work / "gunicorn-floor"),
                                                 "--port", str(gunicorn_port), "--workers", str(args.workers)],
                                gunicorn_port, work / "gunicorn-floor.log")
        servers.append(gunicorn)
        real = spawn_server("inspect-kit serve", [*inspect_kit_command(), "serve", "--home",
                                                  str(work / "server-store"), "--port", str(real_port),
                                                  "--workers", str(args.workers)],
                            real_port, work / "server.log", env={"INSPECT_KIT_SECRET_KEY": SECRET})
        servers.append(real)
        normal = spawn_server(NORMAL_SERVER, [*this, "--serve-normal", str(work / "server-store-normal"), "--port",
                                              str(normal_port), "--workers", str(args.workers)],
                              normal_port, work / "server-normal.log", env={"INSPECT_KIT_SECRET_KEY": SECRET})
        servers.append(normal)
        for server in servers:
            wait_ready(server, "/healthz")
        loads: list[LoadResult] = []
        for n in clients:
            for server, path, tokens in ((gunicorn, "/floor/findings", []),
                                         (floor, "/floor/findings", []),
                                         (real, "/api/findings", setup["tokens"]),
                                         (normal, "/api/findings", setup["tokens"])):
                print(f"{server.name}: {n} clients, {args.duration:g} s", file=sys.stderr)
                env = {"BENCH_TEMPLATE": str(template), "BENCH_TOKENS": ",".join(tokens),
                       "BENCH_RUN_TAG": uuid.uuid4().hex[:8], "BENCH_PATH": path}
                loads.append(run_wrk(server.name, server.url + path, lua, clients=n, seconds=args.duration,
                                     server=server, threads=args.threads, env=env))
        print(f"correctness: {args.check_clients} clients x {args.check_records} findings, retries with the same "
              "uuid", file=sys.stderr)
        check = correctness_pass(real.url, setup, args.check_clients, args.check_records, args.fault_rate)
        health = httpx.get(real.url + "/healthz", timeout=10).status_code
    finally:
        for server in servers:
            server.stop()
    counts = count_check(work / "server-store" / "evidence.db", check.pop("planned"))
    floor_counts = {name: floor_count(work / name / "evidence.db") for name in ("gunicorn-floor", "http-floor")}
    report = summarise(storage, storage_normal, loads, check, counts, health, clients, args,
                       time.monotonic() - started, floor_counts)
    print_report(report)
    print(json.dumps(report, sort_keys=True))
    return 0


def summarise(storage, storage_normal, loads, check, counts, health, clients, args, elapsed,
              floor_counts) -> dict[str, Any]:
    by = {(load.name, load.clients): load for load in loads}
    runs = []
    for n in clients:
        floor, stack = by[(GUNICORN_FLOOR, n)], by[(STACK_FLOOR, n)]
        real, normal = by[("inspect-kit serve", n)], by[(NORMAL_SERVER, n)]
        runs.append({
            "clients": n, "http_floor": floor.as_dict(), "stack_floor": stack.as_dict(), "server": real.as_dict(),
            "server_synchronous_normal": normal.as_dict(),
            "full_vs_normal_throughput": _ratio(real.rps, normal.rps),
            "full_vs_normal_p99": _ratio(real.p99_ms, normal.p99_ms),
            "throughput_vs_http_floor": _ratio(real.rps, floor.rps),
            "p50_vs_http_floor": _ratio(real.p50_ms, floor.p50_ms),
            "p99_vs_http_floor": _ratio(real.p99_ms, floor.p99_ms),
            "cpu_per_request_vs_http_floor": _ratio(real.server_cpu_ms_per_request, floor.server_cpu_ms_per_request),
            "throughput_vs_stack_floor": _ratio(real.rps, stack.rps),
            "p50_vs_stack_floor": _ratio(real.p50_ms, stack.p50_ms),
            "p99_vs_stack_floor": _ratio(real.p99_ms, stack.p99_ms),
            "cpu_per_request_vs_stack_floor": _ratio(real.server_cpu_ms_per_request,
                                                     stack.server_cpu_ms_per_request),
            "throughput_vs_storage_floor": _ratio(real.rps, storage["rows_per_s"]),
            "http_floor_vs_storage_floor": _ratio(floor.rps, storage["rows_per_s"]),
            "stack_floor_vs_storage_floor": _ratio(stack.rps, storage["rows_per_s"]),
        })
    target_run = next((r for r in runs if r["clients"] == 16), runs[0])
    targets = {
        "clients": target_run["clients"],
        "throughput_vs_http_floor": {"value": target_run["throughput_vs_http_floor"],
                                     "target": f">= {TARGET_THROUGHPUT_RATIO}",
                                     "met": (target_run["throughput_vs_http_floor"] or 0) >= TARGET_THROUGHPUT_RATIO},
        "p99_vs_http_floor": {"value": target_run["p99_vs_http_floor"], "target": f"<= {TARGET_P99_RATIO}",
                              "met": (target_run["p99_vs_http_floor"] or 1e9) <= TARGET_P99_RATIO},
        "lost": {"value": counts["lost"], "target": "0", "met": counts["lost"] == 0},
        "duplicated": {"value": counts["duplicated"], "target": "0", "met": counts["duplicated"] == 0},
        "server_up_after": {"value": health, "target": "200", "met": health == 200},
    }
    return {
        "benchmark": "intake", "duration_s": args.duration, "wrk_threads": args.threads, "workers": args.workers,
        "http_floor_server": f"gunicorn {args.workers} sync workers + Flask",
        "storage_floor": storage, "storage_floor_synchronous_normal": storage_normal,
        "storage_full_vs_normal": _ratio(storage["rows_per_s"], storage_normal["rows_per_s"]),
        "synchronous": storage["synchronous"], "runs": runs, "correctness": {**check, **counts},
        "floor_rows": floor_counts, "targets": targets,
        "all_targets_met": all(t["met"] for k, t in targets.items() if isinstance(t, dict)),
        "elapsed_s": round(elapsed, 1), "load_average": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
    }


def _ratio(ours: float, theirs: float) -> float | None:
    return round(ours / theirs, 3) if theirs else None


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:
        return os.cpu_count() or 1


def floor_count(path: Path) -> dict[str, int]:
    """Rows a floor stored and, of them, duplicated client_uuids (the floors must not cheat either)."""
    with contextlib.closing(connect(path)) as conn:
        rows, distinct = conn.execute("SELECT count(*), count(DISTINCT client_uuid) FROM findings").fetchone()
    return {"rows": rows, "duplicated": rows - distinct}


def print_report(report: dict[str, Any]) -> None:
    storage, storage_normal = report["storage_floor"], report["storage_floor_synchronous_normal"]
    rows = []
    for floor in (storage, storage_normal):
        rows.append([f"storage floor (sqlite3, 1 tx/finding, {floor['synchronous']})", "1",
                     f"{floor['rows_per_s']:,.0f}", "", "", "", "", "", "", "", "",
                     f"{1000 / floor['rows_per_s']:.2f}" if floor["rows_per_s"] else ""])
    for run in report["runs"]:
        for key, label in (("http_floor", f"HTTP floor (gunicorn, {report['workers']} sync workers)"),
                           ("stack_floor", "stack floor (uvicorn+a2wsgi, 1 process)"),
                           ("server", f"inspect-kit serve /api ({report['synchronous']}, "
                                      f"{report['workers']} workers)"),
                           ("server_synchronous_normal", "inspect-kit serve /api (NORMAL)")):
            load = run[key]
            ratio = f"{run['throughput_vs_http_floor']:.2f}x" if key == "server" else ""
            p99_ratio = f"{run['p99_vs_http_floor']:.2f}x" if key == "server" else ""
            stack_ratio = f"{run['throughput_vs_stack_floor']:.2f}x" if key == "server" else ""
            storage_ratio = {"server": f"{run['throughput_vs_storage_floor']:.2f}x",
                             "http_floor": f"{run['http_floor_vs_storage_floor']:.2f}x",
                             "stack_floor": f"{run['stack_floor_vs_storage_floor']:.2f}x"}.get(key, "")
            rows.append([label, str(run["clients"]), f"{load['requests_per_s']:,.0f}", f"{load['p50_ms']:.1f}",
                         f"{load['p99_ms']:.1f}", str(load["error_count"]), ratio, p99_ratio, stack_ratio,
                         storage_ratio, f"{load['server_cpu_percent']:.0f}/{load['wrk_cpu_percent']:.0f}",
                         f"{load['server_cpu_ms_per_request']:.2f}"])
    print(table(rows, ["", "clients", "req/s", "p50 ms", "p99 ms", "errors", "vs HTTP floor", "p99 vs floor",
                       "vs stack floor", "vs storage floor", "CPU% server/wrk", "CPU ms/req"]))
    print("\n" + "; ".join(
        f"{run['clients']} clients: CPU per request {run['cpu_per_request_vs_http_floor']}x the gunicorn floor's, "
        f"p50 {run['p50_vs_http_floor']}x" for run in report["runs"]))
    print(f"\ncost of synchronous={report['synchronous']} over NORMAL: storage floor "
          f"{report['storage_full_vs_normal']}x the rows/s; " + "; ".join(
              f"{run['clients']} clients: {run['full_vs_normal_throughput']}x the req/s, "
              f"{run['full_vs_normal_p99']}x the p99" for run in report["runs"]))
    print(f"machine load average at the end: {report['load_average']}; other work on the machine skews req/s, "
          "CPU ms/req less so")
    check = report["correctness"]
    print(f"\ncorrectness: {check['clients']} clients posted {check['planned']} findings in {check['seconds']} s "
          f"with retries using the same uuid; {check['counts']}")
    print(f"count check: stored {check['stored']} of {check['planned']}, lost {check['lost']}, duplicated "
          f"{check['duplicated']}, gave up {check['gave_up']}; floors' rows {report['floor_rows']}")
    print("\ntargets (at {} clients):".format(report["targets"]["clients"]))
    for name, target in report["targets"].items():
        if isinstance(target, dict):
            print(f"  {name:<26} {target['value']!s:<8} target {target['target']:<6} "
                  f"{'met' if target['met'] else 'NOT MET'}")


if __name__ == "__main__":
    raise SystemExit(main())
