"""Evidence records (findings): record, edit with versions, read with access rules.

A finding is authored by one inspector and belongs to their strand. Every
edit makes a new version (``finding_versions`` keeps a snapshot of each) and
an audit row; once a finding has been submitted, an edit needs a reason.
Submissions are idempotent by ``client_uuid``: the same uuid with the same
content returns the existing record, with other content it is a conflict.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from sqlite_utils import Database

from . import audit, lifecycle, policy, qa, references, validation, vocab
from .actors import Actor
from .errors import Conflict, Forbidden, InvalidTransition, ValidationError
from .fields import EDIT_REASON, FINDING, read_record

# Reading findings lives in finding_queries (so qa can read without importing
# this module); findings stays the one name callers use for both.
from .finding_queries import FIELDS as FIELDS
from .finding_queries import LINKS, criteria_of, event_ids_of
from .finding_queries import finding_history as finding_history
from .finding_queries import get_finding as get_finding
from .finding_queries import list_findings as list_findings
from .store import RecordResult as RecordResult
from .store import idempotent_write, insert_row, now, write_transaction


def normalise(db: Database, review_id: int, fields: Mapping[str, Any], *, require_criteria: bool = True,
              today: dt.date | None = None) -> dict[str, Any]:
    """Check an inspector's input and return the values to store.

    ``criteria`` may be a mapping of criterion code → relevance
    (``primary``/``secondary``) or a list of codes (all primary).
    ``event_ids`` are the chronology events the finding cites: events of the
    finding's own case (so a finding about no case cites none).

    :raises ValidationError: with ``field_errors`` naming every fault.
    """
    fields = dict(fields)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {
        **read_record(FINDING, fields, errors, db=db, review_id=review_id, today=today),
        "criteria": _criteria(db, review_id, fields.get("criteria"), errors, require_criteria),
    }
    if values["event_ids"] and "case_id" not in errors:
        _check_event_case(db, values["case_id"], values["event_ids"], errors)
    if errors:
        raise ValidationError(_summary(errors), field_errors=errors)
    return values


def _summary(errors: dict[str, str]) -> str:
    return "There is a problem: " + "; ".join(f"{field}: {message}" for field, message in errors.items())


def _check_event_case(db: Database, case_id: int | None, event_ids: list[int], errors: dict[str, str]) -> None:
    """Cited events must be of the finding's case: evidence about one child rests on that child's chronology."""
    if case_id is None:
        errors["event_ids"] = "Choose the case first: a finding cites events of its own case's chronology"
        return
    marks = ", ".join("?" for _ in event_ids)
    other = db.execute(
        f"SELECT chronology_events.id, cases.case_ref FROM chronology_events JOIN cases ON cases.id ="
        f" chronology_events.case_id WHERE chronology_events.id IN ({marks}) AND chronology_events.case_id != ?"
        " ORDER BY chronology_events.id LIMIT 1", [*event_ids, case_id]).fetchone()
    if other is not None:
        errors["event_ids"] = (f"Event {other[0]} is in the chronology of case {other[1]}: choose events of this "
                               "finding's case only")


def content_digest(review_id: int, inspector_id: int, values: Mapping[str, Any]) -> str:
    """The content hash of a submission (``store.idempotent_write``). Cited events count as content; a
    finding citing none hashes as before they existed, so a retry of a submission stored before then
    is still a replay."""
    content = {key: value for key, value in values.items() if key != "event_ids" or value}
    return validation.content_hash({"review_id": review_id, "inspector_id": inspector_id, **content})


def _criteria(db: Database, review_id: int, raw: Any, errors: dict[str, str], required: bool) -> dict[str, str]:
    if raw in (None, "", [], {}):
        if required:
            errors["criteria"] = "Select at least one framework criterion the evidence relates to"
        return {}
    if isinstance(raw, str):
        raw = [raw]
    if isinstance(raw, Mapping):
        pairs = list(raw.items())
    elif isinstance(raw, (list, tuple)):
        pairs = [(code, "primary") for code in raw]
    else:
        errors["criteria"] = "Criteria must be a list of criterion codes"
        return {}
    known = references.References(db, review_id)
    chosen: dict[str, str] = {}
    for typed, relevance in pairs:
        code = known.criterion_code(typed)
        if code is None:
            errors["criteria"] = f"Select criteria from this review's framework ({typed!r} is not one of them)"
            return {}
        if not isinstance(relevance, str) or relevance not in vocab.RELEVANCES:
            errors["criteria"] = f"Relevance of criterion {code} must be primary or secondary"
            return {}
        chosen[code] = relevance
    return dict(sorted(chosen.items()))


def record_finding(db: Database, actor: Actor, fields: Mapping[str, Any], *, client_uuid: str,
                   submit: bool = False, review_id: int | None = None,
                   audit_detail: str | None = None) -> RecordResult:
    """Record a new finding authored by ``actor`` (who must be an inspector of the review).

    ``review_id`` defaults to ``fields["review_id"]``; ``audit_detail`` is kept
    on the creation's audit row (an import names its workbook and row). With ``submit`` the
    finding goes straight to the QA queue (criteria are then required); a
    replay of the same uuid and content with ``submit`` submits the stored
    record if it is still a draft.

    :raises ValidationError: bad input (``field_errors`` per field), or a bad uuid.
    :raises Forbidden: the actor is not an inspector of this review.
    :raises Conflict: the uuid was already used for different content, or the
        review's status takes no new evidence (:mod:`inspect_kit.lifecycle`).
    """
    review_id = int(review_id if review_id is not None else fields.get("review_id") or 0)
    uuid = validation.submission_uuid(client_uuid)
    author = _author(db, actor, review_id)
    values = normalise(db, review_id, fields, require_criteria=submit)
    digest = content_digest(review_id, author["id"], values)
    with write_transaction(db):
        def create() -> int:
            # After the replay check: a record sent before the status moved on is
            # still acknowledged as stored when its outbox retries it.
            lifecycle.require_new_evidence_allowed(db, review_id)
            seq = _next_seq(db, author)
            stamp = now()
            # Recorded and submitted in one insert: the same rows as recording a draft
            # and then qa.submit (version 1 is the draft, then a submit action), without
            # reading the new record back twice (bench/intake.py: fewer statements per request).
            row = {
                "public_id": public_id(author["code"], seq), "client_uuid": uuid, "content_hash": digest,
                "review_id": review_id, "strand_id": author["strand_id"], "inspector_id": author["id"],
                "inspector_seq": seq, **{k: v for k, v in values.items() if k not in LINKS},
                "qa_status": "submitted" if submit else "draft", "version": 1, "created_at": stamp,
                "updated_at": stamp, "submitted_at": stamp if submit else None,
            }
            finding_id = insert_row(db, "findings", row)
            _write_criteria(db, review_id, finding_id, values["criteria"])
            _write_events(db, finding_id, values["event_ids"])
            snapshot = {**{key: row[key] for key in SNAPSHOT_COLUMNS}, "qa_status": "draft",
                        "criteria": values["criteria"], "event_ids": values["event_ids"]}
            _write_version(db, finding_id, 1, snapshot, actor, reason=None)
            audit.record(db, actor, "finding.create", table="findings", row_id=finding_id, after=snapshot,
                         detail=audit_detail)
            if submit:
                qa.record_action(db, actor, finding_id, "submit", "draft", "submitted", None, at=stamp)
            return finding_id

        written = idempotent_write(
            db, "findings", uuid, {"content_hash": digest}, create,
            conflict="This submission id was already used for a different record. Your text has not been saved "
                     "twice; reload the form to start a new record.")
        stored = get_finding(db, written.id)
        # A "submit" replaying a draft save (saved, then the submit button on the
        # same form) submits the stored record rather than refusing or ignoring it.
        if not written.created and submit and stored["qa_status"] == "draft":
            stored = _submit_if_open(db, actor, stored)
        return RecordResult(stored, created=written.created)


def edit_finding(db: Database, actor: Actor, finding_id: int, fields: Mapping[str, Any], *,
                 reason: str | None = None, expected_version: int | None = None,
                 submit: bool = False) -> dict[str, Any]:
    """Change a finding's content, keeping the old version.

    Only the author may edit. After submission an edit needs a ``reason``; an
    accepted finding that is edited goes back to the QA queue. An edit that
    changes nothing makes no new version. With ``submit`` a draft or returned
    finding is also submitted for QA (criteria then required), in the same
    transaction: either both happen or neither.

    :raises NotFound, Forbidden: as usual.
    :raises InvalidTransition: the finding is withdrawn.
    :raises Conflict: ``expected_version`` is stale (someone saved in between) and the
        content differs from what is stored (the same content again is a replay: the
        finding is returned unchanged).
    :raises ValidationError: bad input, or a missing reason.
    """
    with write_transaction(db):
        current = get_finding(db, finding_id)
        if not policy.may_edit_text(actor, current):
            raise Forbidden("Only the inspector who recorded this finding can edit it.")
        if current["qa_status"] == "withdrawn":
            raise InvalidTransition("This finding was withdrawn and can no longer be edited.")
        if expected_version is not None and int(expected_version) != current["version"]:
            if _same_content(db, current, fields):
                # The same save arriving twice (a double click, a retry after a lost
                # answer): it is stored already, so it is a replay, not a conflict.
                return current
            raise Conflict(
                f"This finding changed since you opened it (now version {current['version']}); "
                "your text is kept below — compare it with the current version before saving again.")
        values = normalise(db, current["review_id"], fields,
                           require_criteria=submit or current["qa_status"] != "draft")
        errors: dict[str, str] = {}
        reason = validation.text({"reason": reason}, "reason", errors, label=EDIT_REASON.message_name,
                                 required=current["qa_status"] != "draft", limit=EDIT_REASON.max_length or 0)
        if errors:
            raise ValidationError("Say why you are changing a submitted finding.", field_errors=errors)
        before = _snapshot(db, finding_id)
        changed = {k: v for k, v in values.items() if k not in LINKS and current[k] != v}
        if not changed and all(before[link] == values[link] for link in LINKS):
            return _submit_if_open(db, actor, current) if submit else current
        version = current["version"] + 1
        updates = {**changed, "version": version, "updated_at": now()}
        if current["qa_status"] == "accepted":
            updates["qa_status"] = "submitted"
        db.execute(
            f"UPDATE findings SET {', '.join(f'{k} = ?' for k in updates)} WHERE id = ?",
            [*updates.values(), finding_id],
        )
        if before["criteria"] != values["criteria"]:
            db.execute("DELETE FROM finding_criteria WHERE finding_id = ?", [finding_id])
            _write_criteria(db, current["review_id"], finding_id, values["criteria"])
        if before["event_ids"] != values["event_ids"]:
            # The whole set is replaced inside this transaction: a reader sees the old set or the new.
            db.execute("DELETE FROM finding_events WHERE finding_id = ?", [finding_id])
            _write_events(db, finding_id, values["event_ids"])
        if current["qa_status"] == "accepted":
            qa.reopen_after_edit(db, actor, finding_id, reason)
        after = _snapshot(db, finding_id)
        _write_version(db, finding_id, version, after, actor, reason=reason)
        audit.record(db, actor, "finding.edit", table="findings", row_id=finding_id, before=before, after=after,
                     detail=reason)
        updated = get_finding(db, finding_id)
        return _submit_if_open(db, actor, updated) if submit else updated


def _same_content(db: Database, current: dict[str, Any], fields: Mapping[str, Any]) -> bool:
    """Whether ``fields`` say what ``current`` already holds (criteria and cited events included)."""
    try:
        values = normalise(db, current["review_id"], fields, require_criteria=False)
    except ValidationError:
        return False
    return all(current[key] == value for key, value in values.items())


def _submit_if_open(db: Database, actor: Actor, finding: dict[str, Any]) -> dict[str, Any]:
    """Submit a draft or returned finding for QA (an edit's "save and submit"); others are left as they are."""
    if finding["qa_status"] not in ("draft", "returned"):
        return finding
    return qa.submit(db, actor, finding["id"])


def public_id(inspector_code: str, seq: int) -> str:
    """A finding's public id: ``EF-POL-02-0041`` (four digits at least)."""
    return f"EF-{inspector_code}-{seq:04d}"


def _next_seq(db: Database, author: Mapping[str, Any]) -> int:
    """The number of the author's next finding, unique store-wide for their code.

    An inspector code is only unique within a review (``POL-02`` is usually in
    every review), and ``/findings/<public_id>`` and the API look findings up
    by public id alone, so the number counts every finding whose inspector had
    this code, in any review: ``EF-POL-02-0006`` in a second review follows
    ``EF-POL-02-0005`` in the first. Counting per inspector (as before) gave
    the second review ``EF-POL-02-0001`` again and every new finding failed
    with a UNIQUE error. Existing ids keep their numbers.

    Call it inside the write transaction that inserts the finding, so that two
    writers cannot take the same number. Each per-inspector maximum is one
    look-up in the ``(inspector_id, inspector_seq)`` index, so the cost does
    not grow with the store. The last loop only matters for ids written by
    another tool out of step with ``inspector_seq``: the id is never reused.
    """
    (seq,) = db.execute(
        "SELECT coalesce(max((SELECT max(inspector_seq) FROM findings WHERE inspector_id = inspectors.id)), 0) + 1"
        " FROM inspectors WHERE code = ?", [author["code"]]).fetchone()
    while db.execute("SELECT 1 FROM findings WHERE public_id = ?", [public_id(author["code"], seq)]).fetchone():
        seq += 1
    return seq


def _author(db: Database, actor: Actor, review_id: int) -> dict[str, Any]:
    if not policy.may_record_findings(actor):
        raise Forbidden("Evidence is recorded by inspectors and leads linked to an inspector of the review; "
                        "this account is not one.")
    rows = list(db.query("SELECT inspectors.*, strands.code AS strand FROM inspectors JOIN strands"
                         " ON strands.id = inspectors.strand_id WHERE inspectors.id = ?", [actor.inspector_id]))
    if not rows or rows[0]["review_id"] != review_id:
        raise Forbidden("Your account is not an inspector of this review.")
    return rows[0]


def _write_criteria(db: Database, review_id: int, finding_id: int, criteria: dict[str, str]) -> None:
    for code, relevance in criteria.items():
        db.execute(
            "INSERT INTO finding_criteria (finding_id, criterion_id, relevance)"
            " SELECT ?, id, ? FROM criteria WHERE review_id = ? AND code = ?",
            [finding_id, relevance, review_id, code],
        )


def _write_events(db: Database, finding_id: int, event_ids: list[int]) -> None:
    db.conn.executemany("INSERT INTO finding_events (finding_id, event_id) VALUES (?, ?)",
                        [(finding_id, event_id) for event_id in event_ids])


# The columns a version snapshot keeps (with ``criteria``, code → relevance, and ``event_ids``).
SNAPSHOT_COLUMNS = ("agency_id", "case_id", "activity", "collected_on", "evidence_text", "evaluation_text",
                    "finding_type", "impact_on_child", "qa_status", "version")


def _snapshot(db: Database, finding_id: int) -> dict[str, Any]:
    row = db.execute(f"SELECT {', '.join(SNAPSHOT_COLUMNS)} FROM findings WHERE id = ?", [finding_id]).fetchone()
    return {**dict(zip(SNAPSHOT_COLUMNS, row, strict=True)), "criteria": criteria_of(db, finding_id),
            "event_ids": event_ids_of(db, finding_id)}


def _write_version(db: Database, finding_id: int, version: int, snapshot: dict[str, Any], actor: Actor,
                   *, reason: str | None) -> None:
    db.execute(
        "INSERT INTO finding_versions (finding_id, version, snapshot, changed_by, changed_at, reason)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [finding_id, version, json.dumps(snapshot, sort_keys=True), actor.username, now(), reason],
    )
