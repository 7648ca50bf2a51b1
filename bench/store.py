"""Benchmark: the store's upkeep and public ids.

- ``inspect-kit backup`` (copy both databases with SQLite's backup API, the
  attachments with sendfile, fsync, then read everything back to verify
  integrity, foreign keys, sizes and sha256) against ``cp -r`` of the same
  store followed by ``sync`` (a copy with no verification at all).
- ``inspect-kit check`` (integrity and foreign-key checks, every attachment's
  size and sha256) against ``sha256sum`` of the attachment files (coreutils).
- The next public id of a finding, counted store-wide per inspector code, on a
  store of ``--findings`` findings over two reviews, against the old count per
  inspector (which collided across reviews).

Each command runs as the real ``inspect-kit`` in a subprocess; times are wall
seconds (the work is I/O as much as CPU), best of ``--repeat``, alternating
ours and the baseline. The last line printed is one JSON object.

    python bench/store.py                                  # 30 × 10 MB attachments, 100,000 findings
    python bench/store.py --attachments 3 --mb 1 --findings 2000 --repeat 1
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import inspect_kit_command, table  # noqa: E402

from inspect_kit import attachments, findings  # noqa: E402
from inspect_kit.store import Store  # noqa: E402
from tests.library_fixtures import new_uuid, small_review  # noqa: E402


def build_store(home: Path, count: int, size: int) -> Store:
    store = Store(home)
    store.init()
    with contextlib.closing(store.evidence()) as db:
        review = small_review(db)
        finding = findings.record_finding(db, review.health, review.finding(), client_uuid=new_uuid()).record
        for number in range(count):
            attachments.add_attachment(db, store, review.health, finding["id"], filename=f"scan-{number}.pdf",
                                       content=b"%PDF-1.4\n" + os.urandom(size - 9), max_bytes=size)
    return store


def timed(command: list[str], **kwargs) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, **kwargs)
    return time.perf_counter() - start


def best(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    return min(ours for ours, _ in pairs), min(plain for _, plain in pairs)


def bench_upkeep(store: Store, work: Path, repeat: int) -> dict:
    backups, checks = [], []
    blobs = sorted(str(path) for path in store.attachments_dir.iterdir())
    for run in range(repeat):
        ours = timed([*inspect_kit_command(), "backup", "--home", str(store.home), str(work / f"ours-{run}")])
        plain = timed(["sh", "-c", f"cp -r {store.home} {work / f'plain-{run}'} && sync"])
        backups.append((ours, plain))
        shutil.rmtree(work / f"ours-{run}")
        shutil.rmtree(work / f"plain-{run}")
        ours = timed([*inspect_kit_command(), "check", "--home", str(store.home)])
        plain = timed(["sha256sum", *blobs])
        checks.append((ours, plain))
    (backup, cp), (check, sha256sum) = best(backups), best(checks)
    return {"backup_s": round(backup, 3), "cp_sync_s": round(cp, 3), "backup_ratio": round(backup / cp, 2),
            "check_s": round(check, 3), "sha256sum_s": round(sha256sum, 3),
            "check_ratio": round(check / sha256sum, 2)}


def bench_public_ids(count: int, repeat: int) -> dict:
    from inspect_kit.store import memory_db

    db = memory_db()
    first, second = small_review(db, "testshire"), small_review(db, "otherton")
    seed = findings.record_finding(db, first.police, first.finding(), client_uuid=new_uuid()).record
    # The same inspector code in both reviews, its findings alternating between them.
    db.execute(
        """WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
        INSERT INTO findings (public_id, client_uuid, content_hash, review_id, strand_id, inspector_id, inspector_seq,
                              activity, collected_on, evidence_text, finding_type, created_at, updated_at)
        SELECT printf('EF-POL-02-%04d', i), printf('%08d-0000-4000-8000-000000000000', i), 'x',
               CASE WHEN i % 2 THEN ? ELSE ? END, strand_id, CASE WHEN i % 2 THEN ? ELSE ? END, i, activity,
               collected_on, evidence_text, finding_type, created_at, updated_at FROM findings, n WHERE findings.id = ?""",
        [count, first.review_id, second.review_id, first.police.inspector_id, second.police.inspector_id, seed["id"]])
    author = {"id": second.police.inspector_id, "code": "POL-02"}
    old = "SELECT coalesce(max(inspector_seq), 0) + 1 FROM findings WHERE inspector_id = ?"
    calls = 5_000
    pairs = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(calls):
            findings._next_seq(db, author)
        ours = (time.perf_counter() - start) / calls
        start = time.perf_counter()
        for _ in range(calls):
            db.execute(old, [author["id"]]).fetchone()
        pairs.append((ours, (time.perf_counter() - start) / calls))
    ours, plain = best(pairs)
    assert findings._next_seq(db, author) == count + 1
    return {"findings": count, "next_id_us": round(ours * 1e6, 1), "per_inspector_us": round(plain * 1e6, 1),
            "next_id_ratio": round(ours / plain, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attachments", type=int, default=30)
    parser.add_argument("--mb", type=float, default=10, help="Size of each attachment in MB (10 is the upload limit).")
    parser.add_argument("--findings", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work-dir", type=Path, help="Where to build the store (default: a temporary folder).")
    args = parser.parse_args()
    size = int(args.mb * 1_000_000)
    with tempfile.TemporaryDirectory(dir=args.work_dir) as folder:
        work = Path(folder)
        store = build_store(work / "evidence", args.attachments, size)
        upkeep = bench_upkeep(store, work, args.repeat)
    ids = bench_public_ids(args.findings, args.repeat)
    total_mb = args.attachments * size / 1_000_000
    print(table(
        [[f"backup of {total_mb:,.0f} MB (s)", upkeep["backup_s"], upkeep["cp_sync_s"], upkeep["backup_ratio"]],
         [f"check of {total_mb:,.0f} MB (s)", upkeep["check_s"], upkeep["sha256sum_s"], upkeep["check_ratio"]],
         [f"next public id, {args.findings:,} findings (µs)", ids["next_id_us"], ids["per_inspector_us"],
          ids["next_id_ratio"]]], ["measure", "ours", "baseline", "ratio"]))
    print("baselines: cp -r + sync (no verification); sha256sum of the attachments; the old per-inspector count")
    # No ratio targets are set for these: the figures are for the record.
    targets = {name: {"value": value, "target": None, "met": None, "note": "no target set"}
               for name, value in (("backup_ratio", upkeep["backup_ratio"]), ("check_ratio", upkeep["check_ratio"]),
                                   ("next_id_ratio", ids["next_id_ratio"]))}
    print("targets: none set (ratios for the record)")
    print(json.dumps({"bench": "store", "attachments": args.attachments, "attachment_mb": args.mb, **upkeep, **ids,
                      "targets": targets, "load_average": os.getloadavg()}))


if __name__ == "__main__":
    main()
