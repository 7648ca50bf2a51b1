"""Quality assurance of findings: submit, accept, return, withdraw.

Allowed moves (anything else raises :class:`InvalidTransition`)::

    draft ──submit──► submitted ──accept──► accepted
    returned ─submit─┘     └──return──► returned
    draft / submitted / returned / accepted ──withdraw──► withdrawn

Authors submit and withdraw their own findings; leads and moderators accept,
return (with a comment the author sees) and may withdraw any finding.

Every action from a page or the API carries the finding's version the actor
read (a lead's Accept must apply to the words they read, not to an edit made
since) and its own client uuid (a retry is answered once, not acted twice).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlite_utils import Database

from . import audit, policy, validation
from .actors import SYSTEM, Actor
from .errors import Forbidden, InvalidTransition, StaleVersion, ValidationError
from .finding_queries import (
    FACETS,
    LIST_FROM,
    LIST_SELECT,
    FindingFilters,
    count_findings,
    facet_counts,
    get_finding,
    reader_scope,
)
from .store import idempotent_write, insert_row, now, write_transaction

TRANSITIONS: dict[str, dict[str, str]] = {
    "submit": {"draft": "submitted", "returned": "submitted"},
    "accept": {"submitted": "accepted"},
    "return": {"submitted": "returned"},
    "withdraw": {"draft": "withdrawn", "submitted": "withdrawn", "returned": "withdrawn", "accepted": "withdrawn"},
}
# Not a button: an accepted finding whose author edits it goes back to the QA
# queue (the lead accepted other words), recorded as a submit with the reason.
REOPENED_BY_EDIT: dict[str, str] = {"accepted": "submitted"}


def submit(db: Database, actor: Actor, finding_id: int, comment: str | None = None, *,
           expected_version: int | None = None, client_uuid: str | None = None) -> dict[str, Any]:
    """Send a draft (or returned) finding to the QA queue. It must be linked to a criterion."""
    return _move(db, actor, finding_id, "submit", comment, expected_version, client_uuid)


def accept(db: Database, actor: Actor, finding_id: int, comment: str | None = None, *,
           expected_version: int | None = None, client_uuid: str | None = None) -> dict[str, Any]:
    """Accept a submitted finding into the evidence base (leads and moderators)."""
    return _move(db, actor, finding_id, "accept", comment, expected_version, client_uuid)


def return_finding(db: Database, actor: Actor, finding_id: int, comment: str, *,
                   expected_version: int | None = None, client_uuid: str | None = None) -> dict[str, Any]:
    """Return a submitted finding to its author with a comment saying what to change."""
    return _move(db, actor, finding_id, "return", comment, expected_version, client_uuid)


def withdraw(db: Database, actor: Actor, finding_id: int, reason: str, *,
             expected_version: int | None = None, client_uuid: str | None = None) -> dict[str, Any]:
    """Withdraw a finding (kept, never deleted: evidence is disclosable) with a reason."""
    return _move(db, actor, finding_id, "withdraw", reason, expected_version, client_uuid)


def perform(db: Database, actor: Actor, finding_id: int, action: str, comment: str | None = None, *,
            expected_version: int | None = None, client_uuid: str | None = None) -> dict[str, Any]:
    """Do the QA ``action`` by name (for the API and forms); returns the finding after it.

    ``expected_version`` is the finding's version the actor read: if the
    author has saved another since, nothing happens and :class:`StaleVersion`
    says so (a lead must not accept words they have not read). ``client_uuid``
    is the action's own id (one per page or API call): the same uuid again is
    a retry, answered with the finding as it now is, without a second QA row
    or audit row. The shells always pass both; ``None`` skips the check (an
    edit's "save and submit", which has just checked the version itself).

    :raises ValidationError: unknown action, missing or bad comment, bad uuid or version.
    :raises Forbidden: the actor may not take this action on this finding.
    :raises StaleVersion: the finding changed since ``expected_version``.
    :raises InvalidTransition: the action is not possible from the finding's status, or
        (submit) the finding has no framework criterion.
    :raises Conflict: ``client_uuid`` was already used for another action.
    """
    if action not in TRANSITIONS:
        raise ValidationError(f"Unknown QA action {action!r}; use one of {', '.join(TRANSITIONS)}.",
                              field_errors={"action": "Choose submit, accept, return or withdraw"})
    return _move(db, actor, finding_id, action, comment, expected_version, client_uuid)


def allowed_actions(actor: Actor, finding: dict[str, Any]) -> list[str]:
    """The QA actions this actor may take on this finding now (for buttons)."""
    return [action for action, moves in TRANSITIONS.items()
            if finding["qa_status"] in moves and _may(actor, finding, action)]


def history(db: Database, finding_id: int) -> list[dict[str, Any]]:
    """The QA actions on a finding, oldest first (returns carry the lead's comment)."""
    return list(db.query("SELECT * FROM qa_actions WHERE finding_id = ? ORDER BY id", [finding_id]))


# The queue's orders, each a sort key of SQL expressions over finding_queries.LIST_FROM's
# tables, ending in the finding's id so that "the next record" is always one record.
# Findings without a case sort after every case ("~" follows "C-").
QUEUE_SORTS: dict[str, tuple[str, ...]] = {
    "age": ("coalesce(findings.submitted_at, '')", "findings.id"),
    "strand": ("strands.code", "coalesce(findings.submitted_at, '')", "findings.id"),
    "inspector": ("inspectors.code", "coalesce(findings.submitted_at, '')", "findings.id"),
    "case": ("coalesce(cases.case_ref, '~')", "coalesce(findings.submitted_at, '')", "findings.id"),
}


def _queued(filters: FindingFilters | None) -> FindingFilters:
    return replace(filters or FindingFilters(), qa_status="submitted")


def queue(db: Database, review_id: int, filters: FindingFilters | None = None, *, actor: Actor = SYSTEM,
          sort: str = "age", limit: int = -1, offset: int = 0) -> list[dict[str, Any]]:
    """Submitted findings awaiting QA that match ``filters``, in the order ``sort`` (one of
    :data:`QUEUE_SORTS`; by age, oldest submission first, by default), each with ``age_days``.

    ``actor`` is whose view of the queue it is (leads and moderators read every strand;
    the default is the whole queue). ``limit`` -1 is every one.
    """
    scope = reader_scope(db, actor, review_id, _queued(filters))
    if scope is None:
        return []
    sql, params = scope
    return list(db.query(f"{LIST_SELECT} {sql} ORDER BY {', '.join(QUEUE_SORTS[sort])} LIMIT ? OFFSET ?",
                         [*params, limit, offset]))


def queue_size(db: Database, actor: Actor, review_id: int, filters: FindingFilters | None = None) -> int:
    """How many submitted findings match ``filters``."""
    return count_findings(db, actor, review_id, _queued(filters))


def queue_facets(db: Database, actor: Actor, review_id: int,
                 filters: FindingFilters | None = None) -> dict[str, dict[str, int]]:
    """For each of :data:`finding_queries.FACETS`: how many queued findings each value has
    under the other filters."""
    return {facet: facet_counts(db, actor, review_id, _queued(filters), facet) for facet in FACETS}


def next_in_queue(db: Database, actor: Actor, review_id: int, finding_id: int,
                  filters: FindingFilters | None = None, sort: str = "age") -> dict[str, Any] | None:
    """The queued finding that follows finding ``finding_id`` in the queue as ``filters`` and
    ``sort`` show it, whether or not that finding is still queued (it has just been accepted);
    after the last, the first (records passed over come round again); None for an empty queue."""
    scope = reader_scope(db, actor, review_id, _queued(filters))
    if scope is None:
        return None
    sql, params = scope
    key = QUEUE_SORTS[sort]
    row_key = f"({', '.join(key)})"
    # The finding's own key, read without the filters: it may have left the queue.
    current = f"(SELECT {', '.join(key)} {LIST_FROM} WHERE findings.id = ?)"
    following = list(db.query(
        f"{LIST_SELECT} {sql} AND findings.id != ? ORDER BY {row_key} <= {current}, {', '.join(key)} LIMIT 1",
        [*params, finding_id, finding_id]))
    return following[0] if following else None


def _may(actor: Actor, finding: dict[str, Any], action: str) -> bool:
    return policy.may_qa(actor, finding, action)


def _move(db: Database, actor: Actor, finding_id: int, action: str, comment: str | None,
          expected_version: int | None = None, client_uuid: str | None = None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    needs_comment = action in ("return", "withdraw")
    label = "reason for withdrawing" if action == "withdraw" else "comment for the author"
    comment = validation.text({"comment": comment}, "comment", errors, label=label, required=needs_comment,
                              limit=validation.COMMENT_LIMIT)
    # 0 is allowed here and never matches: the forms send it for a damaged hidden field.
    if expected_version is not None and validation.whole_number(expected_version, low=0) is None:
        errors["expected_version"] = "Send the finding's version you read: a whole number from 1"
    if errors:
        raise ValidationError(next(iter(errors.values())), field_errors=errors)
    uuid = validation.submission_uuid(client_uuid) if client_uuid is not None else None
    with write_transaction(db):
        def move() -> int:
            return _take(db, actor, finding_id, action, comment, expected_version, uuid)

        if uuid is None:
            move()
        else:
            # A retry of an action already taken: the same answer, nothing written twice.
            idempotent_write(db, "qa_actions", uuid,
                             {"finding_id": finding_id, "action": action, "actor": actor.username, "comment": comment},
                             move, conflict="This QA form was already used for another action. Nothing more was "
                                            "done: reload the finding's page and try again.")
        return get_finding(db, finding_id)


def _take(db: Database, actor: Actor, finding_id: int, action: str, comment: str | None,
          expected_version: int | None, uuid: str | None) -> int:
    """Check and make one QA move inside the caller's transaction; returns the QA action's id."""
    finding = get_finding(db, finding_id)
    if not _may(actor, finding, action):
        who = ("the inspector who recorded it" if action in ("submit", "withdraw")
               else "a lead inspector or moderator")
        raise Forbidden(f"Only {who} can {action} this finding.")
    if expected_version is not None and int(expected_version) != finding["version"]:
        raise StaleVersion(
            f"{finding['public_id']} has changed since you opened it: you read version {int(expected_version)}, "
            f"it is now version {finding['version']}. Nothing was done; read the new version, then "
            f"{action} it again.",
            current_version=finding["version"],
            field_errors={"expected_version": f"Changed since you opened it (now version {finding['version']})"})
    moves = TRANSITIONS[action]
    if finding["qa_status"] not in moves:
        raise InvalidTransition(
            f"A {finding['qa_status']} finding cannot be {'returned' if action == 'return' else action + 'ed'}; "
            f"that is only possible from: {', '.join(moves)}.")
    if action == "submit" and not finding["criteria"]:
        # The stored finding's state, not this request, is at fault: a conflict (409), like a
        # move from the wrong status. Editing the finding to add a criterion resolves it.
        raise InvalidTransition("Link the finding to at least one framework criterion (edit it) before "
                                "submitting it.",
                                field_errors={"criteria": "Select at least one framework criterion"})
    to_status = moves[finding["qa_status"]]
    stamp = now()
    if action == "submit":
        db.execute("UPDATE findings SET qa_status = ?, submitted_at = ? WHERE id = ?", [to_status, stamp, finding_id])
    else:
        db.execute("UPDATE findings SET qa_status = ? WHERE id = ?", [to_status, finding_id])
    return record_action(db, actor, finding_id, action, finding["qa_status"], to_status, comment,
                         at=stamp, client_uuid=uuid)


def reopen_after_edit(db: Database, actor: Actor, finding_id: int, reason: str | None) -> None:
    """Record that an edit sent an accepted finding back to the QA queue (:data:`REOPENED_BY_EDIT`).

    For :func:`inspect_kit.findings.edit_finding`, inside its write
    transaction, after it has set the finding's status: the QA action and its
    ``finding.submit`` audit row, with the edit's reason.
    """
    record_action(db, actor, finding_id, "submit", "accepted", REOPENED_BY_EDIT["accepted"],
                  f"Edited after acceptance: {reason}", at=now())


def record_action(db: Database, actor: Actor, finding_id: int, action: str, from_status: str, to_status: str,
                  comment: str | None, *, at: str, client_uuid: str | None = None) -> int:
    """Write a QA action and its audit row for a move the caller has already checked and made.

    For :mod:`inspect_kit.findings`, which records a finding and submits it in
    one insert; everything else moves findings through :func:`perform` and friends.
    """
    action_id = insert_row(db, "qa_actions", {
        "finding_id": finding_id, "action": action, "from_status": from_status, "to_status": to_status,
        "actor": actor.username, "at": at, "comment": comment, "client_uuid": client_uuid})
    audit.record(db, actor, f"finding.{action}", table="findings", row_id=finding_id,
                 before={"qa_status": from_status}, after={"qa_status": to_status}, detail=comment)
    return action_id
