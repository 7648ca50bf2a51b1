"""Benchmark: hostile workbook uploads against the real server.

Starts ``inspect-kit serve`` on a fresh store and, for each kind of workbook,
uploads it from ``--concurrency`` (default 4) signed-in clients at once to
``POST /excel/``, measuring each upload's wall time and answer, and the
server's peak resident memory during the round (``VmHWM`` from
``/proc/PID/status``, reset before each round through ``clear_refs``; sampled
``VmRSS`` where that is not allowed).

The workbooks (tests/hostile_workbooks.py):

- ``sst-bomb``: 1.35 MiB whose shared strings inflate to 201 MiB (151×);
- ``formatted``: 20 rows filled, the Findings sheet formatted to row 1,048,576;
- ``many-rows``: 1,048,575 rows;
- ``strings-at-limit``: shared strings just inside the limits (16 MiB, 199,000
  strings), which openpyxl does load;
- ``rows-at-limit``: a sheet just inside the limits (10,821 rows of 22
  inline-text cells, 46 MiB), every row wrong, so 10,000 are read and checked
  before the filled-row limit refuses it;
- ``valid``: the 20-row workbook, imported (the first client) or replayed.

The raw baseline (on unless ``--no-baseline``) is the importer with the part limits
switched off (no per-part limits, as the importer first was) importing one ``sst-bomb`` and one
``formatted`` workbook in a subprocess, its peak ``ru_maxrss`` and time (the
bomb takes minutes). The last line is one JSON object.

    python bench/hostile_uploads.py
    python bench/hostile_uploads.py --no-baseline   # without the slow baseline
"""

from __future__ import annotations

import argparse
import contextlib
import html
import json
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import free_port, inspect_kit_command, spawn_server, table, wait_ready  # noqa: E402

from inspect_kit import accounts  # noqa: E402
from inspect_kit.excel.safety import ImportLimits  # noqa: E402
from inspect_kit.store import Store  # noqa: E402
from tests import hostile_workbooks as hostile  # noqa: E402
from tests.library_fixtures import small_review  # noqa: E402

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
MiB = 1024 * 1024


def build(work: Path) -> tuple[Store, dict[str, Path]]:
    store = Store(work / "evidence")
    store.init()
    with contextlib.closing(store.evidence()) as db:
        review = small_review(db)
        base = hostile.filled_capture(db, review.review_id, work / "valid.xlsx", agency="Emergency department",
                                      case_ref="C-017")
    with contextlib.closing(store.private()) as db:
        accounts.add_account(db, username="health1", password=PASSWORD, role="inspector", strand="health",
                             inspector_code="HLT-01")
    limits = ImportLimits()
    files = {
        "sst-bomb": hostile.shared_strings_bomb(base, work / "sst-bomb.xlsx"),
        "formatted": hostile.formatted_to_last_row(base, work / "formatted.xlsx"),
        "many-rows": hostile.many_rows(base, work / "many-rows.xlsx"),
        "strings-at-limit": hostile.strings_at_limit(
            base, work / "strings-at-limit.xlsx", strings=limits.max_shared_strings - 1_000,
            total_bytes=limits.max_shared_strings_bytes - 64 * 1024),
        "rows-at-limit": hostile.rows_at_limit(
            base, work / "rows-at-limit.xlsx", rows=limits.max_sheet_rows - 179, cells_per_row=limits.cells_per_row - 2,
            total_bytes=limits.max_sheet_bytes - 2 * MiB),
        "valid": base,
    }
    return store, files


def memory(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def reset_peak(pid: int) -> bool:
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def signed_in(url: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=600)
    page = client.get("/login").text
    response = client.post("/login", data={"csrf_token": CSRF.search(page).group(1), "username": "health1",
                                           "password": PASSWORD})
    if response.status_code != 302:
        raise RuntimeError(f"login failed: {response.status_code}")
    return client


def upload(session: httpx.Client, path: Path) -> tuple[int, float, str]:
    # A new connection for every upload, closed afterwards: on a connection
    # that has sent a body big enough to pause uvicorn's reading, later
    # requests can run in a stale Flask context (seen when these limits were written),
    # which would fail the next round for a reason that is not the workbook's.
    with httpx.Client(base_url=session.base_url, cookies=session.cookies, timeout=600) as client:
        return _upload(client, path)


def _upload(client: httpx.Client, path: Path) -> tuple[int, float, str]:
    page = client.get("/excel/")
    found = CSRF.search(page.text)
    if found is None:
        raise RuntimeError(f"GET /excel/ answered {page.status_code} without a form: {page.text[:300]}")
    started = time.monotonic()
    with open(path, "rb") as handle:
        response = client.post("/excel/", data={"csrf_token": found.group(1)},
                               files={"workbook": (path.name, handle, hostile_type())})
    seconds = time.monotonic() - started
    message = (re.search(r'govuk-error-summary__list.*?<a [^>]*>(.*?)</a>', response.text, re.S)
               or re.search(r'id="import-problems".*?<h2[^>]*>(.*?)</h2>', response.text, re.S))
    text = html.unescape(message.group(1)).strip() if message else ""
    return response.status_code, seconds, " ".join(text.split())[:160]


def hostile_type() -> str:
    return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def round_of(name: str, path: Path, clients: list[httpx.Client], pid: int) -> dict:
    exact = reset_peak(pid)
    idle = memory(pid, "VmRSS")
    sampled = [idle]
    results: list[tuple[int, float, str]] = [None] * len(clients)  # type: ignore[list-item]
    done = threading.Event()

    def sample():
        while not done.is_set():
            sampled.append(memory(pid, "VmRSS"))
            time.sleep(0.01)

    def send(index: int):
        results[index] = upload(clients[index], path)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.monotonic()
    workers = [threading.Thread(target=send, args=(i,)) for i in range(len(clients))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    wall = time.monotonic() - started
    done.set()
    sampler.join()
    peak = memory(pid, "VmHWM") if exact else max(sampled)
    return {
        "workbook": name, "file_mib": round(path.stat().st_size / MiB, 2), "clients": len(clients),
        "statuses": sorted(r[0] for r in results), "slowest_s": round(max(r[1] for r in results), 2),
        "round_s": round(wall, 2), "idle_rss_mib": round(idle / MiB, 1), "peak_rss_mib": round(peak / MiB, 1),
        "peak_exact": exact, "message": results[0][2],
    }


BASELINE_SCRIPT = r"""
import json, resource, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from inspect_kit.actors import Actor
from inspect_kit.errors import InspectKitError
from inspect_kit.excel.importer import import_capture_workbook
from inspect_kit.excel.safety import ImportLimits
from inspect_kit.store import Store
db = Store(Path(sys.argv[2])).evidence()
review_id = db.execute("SELECT id FROM reviews ORDER BY id DESC").fetchone()[0]
inspector_id = db.execute("SELECT id FROM inspectors WHERE code = 'HLT-01'").fetchone()[0]
big = 1 << 40
# The limits as they first were: no per-part limits.
limits = ImportLimits(max_sheet_bytes=big, spare_rows=2_000_000, cells_per_row=big,
                      max_shared_strings_bytes=big, max_shared_strings=big, max_other_xml_bytes=big)
started = time.monotonic()
try:
    report = import_capture_workbook(db, Actor("health1", "inspector", "health", inspector_id), review_id,
                                     sys.argv[3], limits=limits)
    outcome = report.summary()
except InspectKitError as error:
    outcome = error.message
print(json.dumps({"seconds": round(time.monotonic() - started, 2),
                  "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                  "outcome": outcome[:140]}))
"""


def baseline(store: Store, path: Path, work: Path) -> dict:
    copy = work / f"baseline-{path.stem}"
    subprocess.run(["cp", "-r", str(store.home), str(copy)], check=True)
    completed = subprocess.run([sys.executable, "-c", BASELINE_SCRIPT, str(ROOT), str(copy), str(path)],
                               capture_output=True, text=True, timeout=1800)
    if completed.returncode != 0:
        raise RuntimeError(completed.stderr)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrency", type=int, default=4)
    # On by default (every bench prints its raw baseline in the same run); --no-baseline skips it.
    parser.add_argument("--baseline", action=argparse.BooleanOptionalAction, default=True,
                        help="also run the importer without part limits (default: on; takes minutes)")
    parser.add_argument("--only", help="comma-separated workbook names")
    parser.add_argument("--work-dir", type=Path)
    parser.add_argument("--show-log", action="store_true", help="print the server's log at the end")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.work_dir) as folder:
        work = Path(folder)
        store, files = build(work)
        if args.only:
            files = {name: files[name] for name in args.only.split(",")}
        port = free_port()
        server = spawn_server("inspect-kit", [*inspect_kit_command(), "serve", "--home", str(store.home),
                                              "--port", str(port)], port, work / "server.log")
        rounds = []
        try:
            wait_ready(server, "/healthz")
            clients = [signed_in(server.url) for _ in range(args.concurrency)]
            for name, path in files.items():
                rounds.append(round_of(name, path, clients, server.process.pid))
            final_rss = memory(server.process.pid, "VmRSS")
        finally:
            server.stop()
            if args.show_log:
                print(server.log(), file=sys.stderr)
        print(table([[r["workbook"], r["file_mib"], r["clients"], " ".join(map(str, r["statuses"])),
                      r["slowest_s"], r["idle_rss_mib"], r["peak_rss_mib"], r["message"][:70]] for r in rounds],
                    ["workbook", "MiB", "clients", "statuses", "slowest s", "idle MiB", "peak MiB", "answer"]),
              flush=True)
        baselines = {}
        if args.baseline:
            for name in ("formatted", "sst-bomb"):
                if name in files:
                    baselines[name] = baseline(store, files[name], work)
    if baselines:
        print()
        print(table([[name, b["seconds"], b["peak_rss_mib"], b["outcome"][:70]] for name, b in baselines.items()],
                    ["baseline (no part limits, 1 import)", "seconds", "peak MiB", "outcome"]))
    worst = max(rounds, key=lambda r: r["peak_rss_mib"]) if rounds else None
    print()
    if worst:
        print(f"Peak server RSS over every round: {worst['peak_rss_mib']} MiB ({worst['workbook']}, "
              f"{args.concurrency} concurrent uploads; idle {rounds[0]['idle_rss_mib']} MiB).")
    print(json.dumps({"concurrency": args.concurrency, "rounds": rounds, "baseline": baselines,
                      "peak_rss_mib": worst["peak_rss_mib"] if worst else None,
                      "final_rss_mib": round(final_rss / MiB, 1) if rounds else None}))


if __name__ == "__main__":
    main()
