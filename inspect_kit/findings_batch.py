"""Record many findings at once, for imports: the rows ``findings.record_finding``
writes, in the caller's one transaction, with prepared statements run by
``executemany`` instead of a dozen round trips per row.

Each finding gets exactly what :func:`inspect_kit.findings.record_finding`
gives it (draft, version 1): its ``public_id`` and store-wide number, content
hash, criteria links, version 1 snapshot and a ``finding.create`` audit row on
the hash chain, carrying ``audit_detail``. A uuid already stored with the same
content is counted as existing; with other content it is a conflict, never
overwritten. Full-text search stays correct because the FTS triggers stay on:
a load that drops them and populates FTS in bulk afterwards is 2.3x faster on
an empty table (docs/architecture.md §9), but an import adds to a live store,
where the rebuild would cost the whole table, and the triggers' cost is in the
plain ``executemany`` baseline too (bench/excel.py).

Measured with bench/excel.py (50,000 rows, CPU seconds, same run): see the
figures in the commit that made this module; the per-row path read every new
finding back, looked up the author, the next number and the audit chain's head
for every row, and normalised every row twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from . import audit, findings, lifecycle
from .actors import Actor
from .store import now, write_transaction

# Host parameters per IN (...) look-up: SQLite's default limit is 32,766; stay well under it.
LOOKUP_CHUNK = 500


@dataclass(frozen=True)
class NewFinding:
    """One finding to record: its uuid, the values ``findings.normalise`` returned
    (``require_criteria=False``) and the detail for its audit row."""

    client_uuid: str
    values: Mapping[str, Any]
    audit_detail: str | None = None


@dataclass
class BatchResult:
    """What :func:`record_findings` did, by position in the input."""

    created: list[int] = field(default_factory=list)
    existing: list[int] = field(default_factory=list)
    conflicts: list[int] = field(default_factory=list)


def record_findings(db: Database, actor: Actor, review_id: int, rows: Sequence[NewFinding]) -> BatchResult:
    """Record ``rows`` as draft findings authored by ``actor``, in one transaction.

    The rows must already be checked by ``findings.normalise`` and carry
    distinct uuids. Returns which positions were created, already stored
    (same uuid, same content) or conflicting (same uuid, other content);
    conflicting rows are not written. Joins the caller's transaction when
    there is one (the importer's), else opens its own.

    :raises Forbidden: the actor is not an inspector of this review.
    :raises EvidenceClosed: new rows, and the review's status takes no new evidence.
    """
    result = BatchResult()
    if not rows:
        return result
    with write_transaction(db):
        author = findings._author(db, actor, review_id)
        digests = [findings.content_digest(review_id, author["id"], row.values) for row in rows]
        stored = _stored_hashes(db, [row.client_uuid for row in rows])
        new: list[int] = []
        for index, row in enumerate(rows):
            known = stored.get(row.client_uuid)
            if known is None:
                new.append(index)
            elif known == digests[index]:
                result.existing.append(index)
            else:
                result.conflicts.append(index)
        if not new:
            return result
        # After the replays, as record_finding: a workbook imported again is still acknowledged after fieldwork.
        lifecycle.require_new_evidence_allowed(db, review_id)
        stamp = now()
        code = author["code"]
        taken = {public_id for (public_id,) in db.execute(
            "SELECT public_id FROM findings WHERE public_id GLOB ?", [f"EF-{code}-*"])}
        seq = findings._next_seq(db, author)
        (last_id,) = db.execute("SELECT coalesce(max(id), 0) FROM findings").fetchone()
        criteria_ids = dict(db.execute("SELECT code, id FROM criteria WHERE review_id = ?", [review_id]))
        head = audit.head(db)
        columns: list[str] | None = None
        finding_rows, links, cited, versions, audits = [], [], [], [], []
        for index in new:
            row = rows[index]
            while findings.public_id(code, seq) in taken:  # ids written out of step by another tool
                seq += 1
            finding_id = last_id + 1
            last_id = finding_id
            content = {key: value for key, value in row.values.items() if key not in findings.LINKS}
            record = {
                "id": finding_id, "public_id": findings.public_id(code, seq), "client_uuid": row.client_uuid,
                "content_hash": digests[index], "review_id": review_id, "strand_id": author["strand_id"],
                "inspector_id": author["id"], "inspector_seq": seq, **content, "qa_status": "draft", "version": 1,
                "created_at": stamp, "updated_at": stamp, "submitted_at": None,
            }
            seq += 1
            if columns is None:
                columns = list(record)
            finding_rows.append([record.get(column) for column in columns])
            criteria = dict(row.values.get("criteria") or {})
            links.extend((finding_id, criteria_ids[code_], relevance) for code_, relevance in criteria.items()
                         if code_ in criteria_ids)
            event_ids = list(row.values.get("event_ids") or [])
            cited.extend((finding_id, event_id) for event_id in event_ids)
            snapshot = {**{key: record[key] for key in findings.SNAPSHOT_COLUMNS}, "criteria": criteria,
                        "event_ids": event_ids}
            versions.append((finding_id, json.dumps(snapshot, sort_keys=True), actor.username, stamp))
            entry = {"id": head["id"] + 1, "at": stamp, "actor": actor.username, "action": "finding.create",
                     "table_name": "findings", "row_id": finding_id, "before": None,
                     "after": json.dumps(snapshot, sort_keys=True, default=str), "detail": row.audit_detail}
            entry["hash"] = audit.row_hash(head["hash"], entry)
            head = {"id": entry["id"], "hash": entry["hash"]}
            audits.append(tuple(entry.values()))
            result.created.append(index)
        assert columns is not None
        db.conn.executemany(f"INSERT INTO findings ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                            finding_rows)
        db.conn.executemany("INSERT INTO finding_criteria (finding_id, criterion_id, relevance) VALUES (?, ?, ?)",
                            links)
        db.conn.executemany("INSERT INTO finding_events (finding_id, event_id) VALUES (?, ?)", cited)
        db.conn.executemany("INSERT INTO finding_versions (finding_id, version, snapshot, changed_by, changed_at,"
                            " reason) VALUES (?, 1, ?, ?, ?, NULL)", versions)
        db.conn.executemany("INSERT INTO audit_log (id, at, actor, action, table_name, row_id, before, after, detail,"
                            " hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", audits)
    return result


def _stored_hashes(db: Database, uuids: Iterable[str]) -> dict[str, str]:
    """client_uuid → content_hash of the findings already stored under these uuids."""
    uuids = list(uuids)
    found: dict[str, str] = {}
    for start in range(0, len(uuids), LOOKUP_CHUNK):
        chunk = uuids[start:start + LOOKUP_CHUNK]
        found.update(db.execute(f"SELECT client_uuid, content_hash FROM findings WHERE client_uuid IN "
                                f"({', '.join('?' * len(chunk))})", chunk).fetchall())
    return found
