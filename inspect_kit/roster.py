"""Who takes part in a review: its strands, and its inspectors linked to accounts.

A strand (an inspectorate) takes part in a review when it is in
``review_strands``; the coverage matrix, the forms and the exports take a
review's own strands, not every strand in the store. An inspector is a
display code in one review (``POL-02``); an account in ``private.db`` is
linked to it by that code, so one account may be the inspector ``POL-02`` in
several reviews (:func:`inspect_kit.accounts.actor_for` picks the review's).
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from . import audit, reviews
from .actors import Actor
from .errors import Conflict, ValidationError
from .store import write_transaction

# The inspector record an account's role becomes in a review.
INSPECTOR_ROLE_FOR_ACCOUNT = {"inspector": "team", "lead": "lead", "moderator": "moderator"}


def review_strands(db: Database, review_id: int) -> list[dict[str, Any]]:
    """The strands taking part in the review, in the store's order."""
    return list(db.query(
        "SELECT strands.* FROM review_strands JOIN strands ON strands.id = review_strands.strand_id"
        " WHERE review_strands.review_id = ? ORDER BY strands.id", [review_id]))


def review_strand_codes(db: Database, review_id: int) -> list[str]:
    return [strand["code"] for strand in review_strands(db, review_id)]


def set_review_strands(db: Database, actor: Actor, review_id: int, codes: list[str]) -> list[str]:
    """Make ``codes`` the strands taking part in the review; returns them.

    :raises ValidationError: no strand given, or an unknown strand.
    :raises Conflict: a strand left out still has inspectors, agencies or
        findings in the review (retire or move those first).
    """
    codes = list(dict.fromkeys(code.strip().lower() for code in codes if code.strip()))
    if not codes:
        raise ValidationError("Name at least one strand taking part.", field_errors={"strands": "Choose a strand"})
    with write_transaction(db):
        review = reviews.get_review(db, review_id)
        wanted = {reviews.strand_id_for(db, code): code for code in codes}
        before = review_strand_codes(db, review_id)
        for code in before:
            if code in codes:
                continue
            strand_id = reviews.strand_id_for(db, code)
            (in_use,) = db.execute(
                "SELECT (SELECT count(*) FROM inspectors WHERE review_id = :r AND strand_id = :s)"
                " + (SELECT count(*) FROM agencies WHERE review_id = :r AND lead_strand_id = :s)"
                " + (SELECT count(*) FROM findings WHERE review_id = :r AND strand_id = :s)",
                {"r": review_id, "s": strand_id}).fetchone()
            if in_use:
                raise Conflict(f"The {code} strand still has {in_use} inspector(s), agencies or findings in "
                               f"{review['slug']}; it stays taking part.")
        db.execute("DELETE FROM review_strands WHERE review_id = ?", [review_id])
        for strand_id in wanted:
            db.execute("INSERT INTO review_strands (review_id, strand_id) VALUES (?, ?)", [review_id, strand_id])
        audit.record(db, actor, "review.strands", table="reviews", row_id=review_id,
                     before={"strands": before}, after={"strands": codes})
    return codes


def require_strand_in_review(db: Database, review_id: int, code: str, field: str = "strand") -> int:
    """The strand's id. :raises ValidationError: the strand does not take part in the review."""
    strand_id = reviews.strand_id_for(db, code)
    if not db.execute("SELECT 1 FROM review_strands WHERE review_id = ? AND strand_id = ?",
                      [review_id, strand_id]).fetchone():
        taking_part = ", ".join(review_strand_codes(db, review_id)) or "none"
        raise ValidationError(f"The {code} strand does not take part in this review (taking part: {taking_part}); "
                              "add it with `inspect-kit review strands`.",
                              field_errors={field: "This strand does not take part in the review"})
    return strand_id


def link_inspector(evidence_db: Database, private_db: Database, actor: Actor, *, review_id: int, username: str,
                   code: str | None = None) -> dict[str, Any]:
    """Make the account an inspector of the review, creating its inspector
    record when the review has none with its code; returns the inspector
    (as :func:`inspect_kit.reviews.inspector`). Safe to repeat.

    The account keeps one display code for every review it works on; an
    account without one takes ``code``.

    :raises NotFound: no such account.
    :raises ValidationError: an administrator account, no code, a code in the
        wrong form, or a strand not taking part in the review.
    :raises Conflict: the account already has another code, or the code belongs
        to an inspector of another strand in the review.
    """
    from .accounts import get_account

    account = get_account(private_db, username)
    role = INSPECTOR_ROLE_FOR_ACCOUNT.get(account["role"])
    if role is None:
        raise ValidationError(f"{username} is an administrator account; only inspectors, leads and moderators "
                              "can be inspectors in a review.", field_errors={"role": "Not an inspector role"})
    code = (code or account["inspector_code"] or "").strip().upper()
    if account["inspector_code"] and code != account["inspector_code"]:
        raise Conflict(f"{username} is the inspector {account['inspector_code']}; an account keeps one code in "
                       "every review.")
    if not code:
        raise ValidationError(f"Give {username} an inspector code (for example --inspector POL-02).",
                              field_errors={"inspector_code": "Enter an inspector code, like POL-02"})
    if not account["strand"]:
        raise ValidationError(f"{username} has no strand; set one with `inspect-kit user role {username} "
                              f"--role {account['role']} --strand STRAND`.",
                              field_errors={"strand": "The account needs a strand"})
    with write_transaction(evidence_db):
        strand_id = require_strand_in_review(evidence_db, review_id, account["strand"])
        row = evidence_db.execute("SELECT id, strand_id FROM inspectors WHERE review_id = ? AND code = ?",
                                  [review_id, code]).fetchone()
        if row is None:
            inspector_id = reviews.add_inspector(evidence_db, review_id=review_id, code=code,
                                                 strand=account["strand"], role=role, actor=actor)
        elif row[1] != strand_id:
            raise Conflict(f"The inspector {code} in this review is in another strand than {username}'s "
                           f"({account['strand']}).")
        else:
            inspector_id = row[0]
    if not account["inspector_code"]:
        with write_transaction(private_db):
            private_db.execute("UPDATE accounts SET inspector_code = ? WHERE username = ?", [code, username])
        audit.record(evidence_db, actor, "account.link", table="accounts", row_id=account["id"],
                     after={"username": username, "inspector_code": code, "review_id": review_id})
    return reviews.inspector(evidence_db, inspector_id)


def reviews_of_account(evidence_db: Database, account: dict[str, Any]) -> list[dict[str, Any]]:
    """The reviews the account may open, latest first: every review for an
    administrator (who runs the system), the reviews where it is an inspector
    for an account with an inspector code, and the latest review otherwise
    (as :func:`inspect_kit.policy.may_open_review` has it)."""
    if account.get("role") == "admin":
        return list(evidence_db.query("SELECT * FROM reviews ORDER BY id DESC"))
    latest = list(evidence_db.query("SELECT * FROM reviews ORDER BY id DESC LIMIT 1"))
    if not account.get("inspector_code"):
        return latest
    own = list(evidence_db.query(
        "SELECT reviews.* FROM reviews JOIN inspectors ON inspectors.review_id = reviews.id"
        " WHERE inspectors.code = ? ORDER BY reviews.id DESC", [account["inspector_code"]]))
    return own or latest


def chosen_review(evidence_db: Database, account: dict[str, Any], slug: str | None = None) -> dict[str, Any] | None:
    """The review an account works in: ``slug`` when it may open it, else the
    latest it may open (None in a store with no review)."""
    open_to = reviews_of_account(evidence_db, account)
    if slug:
        for review in open_to:
            if review["slug"] == slug:
                return review
    return open_to[0] if open_to else None
