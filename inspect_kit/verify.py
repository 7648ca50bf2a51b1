"""``inspect-kit verify``: is the evidence trail as it was written?

Three checks, each stopping at its first break:

- the audit chain: every row's hash is recomputed from the row before
  (:func:`inspect_kit.audit.row_hash`); a changed, deleted or re-ordered row
  breaks it;
- every finding's history: versions numbered 1… without gaps, each version's
  snapshot equal to what its audit row recorded, and the finding's current
  content equal to its latest version (a finding's text changed directly in
  SQLite is caught here);
- every judgement's history, the same way.

:func:`verify_file` says whether a file's sha256 matches a recorded manifest
(:mod:`inspect_kit.manifests`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from . import audit, manifests
from .findings import LINKS, SNAPSHOT_COLUMNS

# What a version of a finding must still match: its content, not its QA
# status (QA moves change qa_status without a new version).
FINDING_CONTENT = tuple(column for column in SNAPSHOT_COLUMNS if column != "qa_status")


@dataclass(frozen=True)
class Break:
    """The first place a check failed: the table and row, and what is wrong."""

    check: str
    table: str
    row_id: int
    message: str

    def __str__(self) -> str:
        return f"{self.check}: {self.table} row {self.row_id}: {self.message}"


@dataclass
class Verification:
    """The result of :func:`verify_store`: rows checked per check, and the breaks found (first of each check)."""

    checked: dict[str, int] = field(default_factory=dict)
    breaks: list[Break] = field(default_factory=list)
    head: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.breaks


def verify_store(db: Database) -> Verification:
    """Run every check on an evidence database, in one read transaction (one snapshot)."""
    result = Verification()
    own = not db.conn.in_transaction
    if own:
        db.conn.execute("BEGIN")
    try:
        for name, check in (("audit chain", _audit_chain), ("finding histories", _finding_histories),
                            ("judgement histories", _judgement_histories)):
            count, broken = check(db)
            result.checked[name] = count
            if broken is not None:
                result.breaks.append(broken)
        result.head = audit.head(db)
    finally:
        if own:
            db.conn.execute("COMMIT")
    return result


def _audit_chain(db: Database) -> tuple[int, Break | None]:
    previous = audit.GENESIS
    count = 0
    redactable = "redacted_by" in db["audit_log"].columns_dict
    columns = (*audit.HASHED_COLUMNS, "hash", *(("redacted_by",) if redactable else ()))
    # A purged review's rows keep their outline and hash but not their content
    # (inspect_kit.purge): their hash cannot be recomputed, so each is checked
    # against its purge certificate's digest instead, and the row after it
    # still chains from the hash it kept.
    redacted: dict[int, list[tuple[Any, ...]]] = {}
    certificates: dict[int, dict[str, Any]] = {}
    for values in db.execute(f"SELECT {', '.join(columns)} FROM audit_log ORDER BY id"):
        row = dict(zip(columns, values, strict=True))
        count += 1
        if row.get("redacted_by"):
            redacted.setdefault(row["redacted_by"], []).append(
                tuple(row[column] for column in audit.REDACTION_OUTLINE))
            previous = row["hash"]
            continue
        if row["action"] == "review.purge" and row["after"]:
            certificates[row["id"]] = json.loads(row["after"])
        expected = audit.row_hash(previous, row)
        if row["hash"] != expected:
            what = ("has no hash" if not row["hash"] else
                    "does not match its content and the row before it: it, or a row before it, was changed, "
                    "removed or inserted after it was written")
            return count, Break("audit chain", "audit_log", row["id"], f"hash {what} ({row['action']} at {row['at']})")
        previous = row["hash"]
    for certificate_id, rows in redacted.items():
        certificate = certificates.get(certificate_id)
        if certificate is None or certificate.get("redacted_digest") != audit.redaction_digest(rows) or \
                certificate.get("audit_rows_redacted") != len(rows):
            return count, Break("audit chain", "audit_log", rows[0][0],
                                f"redacted rows do not match the purge certificate (row {certificate_id}) they name: "
                                "a redacted row was changed, added or removed")
    return count, None


def _recorded_versions(db: Database, table: str, actions: tuple[str, ...]) -> dict[int, list[dict[str, Any]]]:
    """The ``after`` snapshots the audit log recorded per row of ``table``, in order."""
    recorded: dict[int, list[dict[str, Any]]] = {}
    marks = ", ".join("?" for _ in actions)
    for row_id, after in db.execute(f"SELECT row_id, after FROM audit_log WHERE table_name = ? AND action IN ({marks})"
                                    " ORDER BY id", [table, *actions]):
        recorded.setdefault(row_id, []).append(json.loads(after) if after else {})
    return recorded


def _finding_histories(db: Database) -> tuple[int, Break | None]:
    recorded = _recorded_versions(db, "findings", ("finding.create", "finding.edit"))
    versions: dict[int, list[tuple[int, dict[str, Any]]]] = {}
    for finding_id, version, snapshot in db.execute(
            "SELECT finding_id, version, snapshot FROM finding_versions ORDER BY finding_id, version"):
        versions.setdefault(finding_id, []).append((version, json.loads(snapshot)))
    criteria: dict[int, dict[str, str]] = {}
    for finding_id, code, relevance in db.execute(
            "SELECT finding_id, criteria.code, relevance FROM finding_criteria"
            " JOIN criteria ON criteria.id = finding_criteria.criterion_id"):
        criteria.setdefault(finding_id, {})[code] = relevance
    cited: dict[int, list[int]] = {}
    for finding_id, event_id in db.execute("SELECT finding_id, event_id FROM finding_events ORDER BY event_id"):
        cited.setdefault(finding_id, []).append(event_id)
    # A finding removed behind the application's back leaves its versions (and audit rows) behind.
    orphan = db.execute("SELECT min(finding_id) FROM finding_versions"
                        " WHERE finding_id NOT IN (SELECT id FROM findings)").fetchone()[0]
    if orphan is not None:
        return 0, Break("finding histories", "findings", orphan,
                        f"finding {orphan} has recorded versions but is no longer in the findings table")
    count = 0
    for row in db.query(f"SELECT id, public_id, {', '.join(FINDING_CONTENT)} FROM findings ORDER BY id"):
        count += 1
        label = f"({row['public_id']})"
        history = versions.get(row["id"], [])
        numbers = [number for number, _ in history]
        if numbers != list(range(1, len(numbers) + 1)) or not numbers:
            return count, Break("finding histories", "finding_versions", row["id"],
                                f"finding {row['id']} {label} has versions {numbers}, not 1 to {row['version']}")
        audited = recorded.get(row["id"], [])
        for (number, snapshot), after in zip(history, audited, strict=False):
            if _content(snapshot) != _content(after):
                return count, Break("finding histories", "finding_versions", row["id"],
                                    f"finding {row['id']} {label} version {number} differs from what the audit "
                                    "log recorded when it was written")
        if len(audited) != len(history):
            return count, Break("finding histories", "findings", row["id"],
                                f"finding {row['id']} {label} has {len(history)} versions but the audit log recorded "
                                f"{len(audited)}")
        latest = history[-1][1]
        current = {**{column: row[column] for column in FINDING_CONTENT}, "criteria": criteria.get(row["id"], {}),
                   "event_ids": cited.get(row["id"], [])}
        if _content(latest) != _content(current):
            changed = [column for column in (*FINDING_CONTENT, *LINKS)
                       if _content(latest).get(column) != _content(current).get(column)]
            return count, Break("finding histories", "findings", row["id"],
                                f"finding {row['id']} {label} does not match its latest version "
                                f"({', '.join(changed)} changed outside the application)")
    return count, None


def _content(snapshot: dict[str, Any]) -> dict[str, Any]:
    # Versions written before findings cited events have no ``event_ids``: they cited none.
    return {**{column: snapshot.get(column) for column in (*FINDING_CONTENT, "criteria")},
            "event_ids": snapshot.get("event_ids") or []}


def _judgement_histories(db: Database) -> tuple[int, Break | None]:
    from .judgements import current_snapshot

    latest: dict[int, tuple[int, dict[str, Any]]] = {}
    numbers: dict[int, list[int]] = {}
    for judgement_id, version, snapshot in db.execute(
            "SELECT judgement_id, version, snapshot FROM judgement_versions ORDER BY judgement_id, version"):
        numbers.setdefault(judgement_id, []).append(version)
        latest[judgement_id] = (version, json.loads(snapshot))
    count = 0
    for judgement_id, version in db.execute("SELECT id, version FROM judgements ORDER BY id").fetchall():
        count += 1
        if numbers.get(judgement_id) != list(range(1, version + 1)):
            return count, Break("judgement histories", "judgement_versions", judgement_id,
                                f"judgement {judgement_id} has versions {numbers.get(judgement_id, [])}, "
                                f"not 1 to {version}")
        if current_snapshot(db, judgement_id) != latest[judgement_id][1]:
            return count, Break("judgement histories", "judgements", judgement_id,
                                f"judgement {judgement_id} does not match its latest version (changed outside "
                                "the application)")
    return count, None


@dataclass(frozen=True)
class FileCheck:
    """Whether a file matches a recorded manifest."""

    path: Path
    sha256: str
    manifests: list[dict[str, Any]]

    @property
    def matches(self) -> bool:
        return bool(self.manifests)


def verify_file(db: Database, path: Path | str) -> FileCheck:
    """Look a file's sha256 up among the manifests in the audit log. :raises OSError: unreadable file."""
    digest = manifests.file_sha256(path)
    return FileCheck(path=Path(path), sha256=digest, manifests=manifests.manifests_for(db, digest))
