"""What an administrator does to accounts, each change written to the audit log.

Accounts live in ``private.db``; the audit log is in ``evidence.db`` (one
hash chain for everything, ``inspect-kit verify``), so every function here
takes both. Audit rows name the account, its role, strand and state, never a
password, a hash, a reset code or a token.

Password resets: an administrator issues a one-time code (shown once; only
its sha256 is kept) that expires after :data:`RESET_CODE_LIFETIME`; the
account's owner types it with a new password on the sign-in page's "Reset
your password". A new code cancels any earlier one, and using one forgets the
username's failed sign-ins.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from sqlite_utils import Database

from . import audit, login_throttle, vocab
from .accounts import MIN_PASSWORD_LENGTH, add_account, get_account, hash_password
from .actors import Actor
from .errors import Forbidden, NotFound, ValidationError
from .store import now, write_transaction

RESET_CODE_LIFETIME = dt.timedelta(hours=24)
# Failed sign-ins for one username from one address that lock it there
# (login_throttle.LIMITS' first limit): shown as "locked" in the list.
LOCKED_AFTER = login_throttle.LIMITS[0].failures


class ResetCodeRefused(Forbidden):
    """The code is wrong, used, cancelled or expired (the same answer for each)."""

    status = 400


def _shown(account: dict[str, Any]) -> dict[str, Any]:
    """What the audit log keeps of an account."""
    return {key: account.get(key) for key in ("username", "role", "strand", "inspector_code", "disabled")}


def create_account(private_db: Database, evidence_db: Database, actor: Actor, *, username: str, password: str,
                   role: str, strand: str | None = None, inspector_code: str | None = None,
                   review_id: int | None = None) -> dict[str, Any]:
    """Create an account (audited); with ``inspector_code`` and ``review_id``
    it also becomes that review's inspector (:func:`inspect_kit.roster.link_inspector`).

    :raises ValidationError, Conflict: as :func:`inspect_kit.accounts.add_account`
        and :func:`inspect_kit.roster.link_inspector`; when linking fails the
        account is not kept.
    """
    from .roster import link_inspector

    inspector_code = (inspector_code or "").strip().upper() or None
    account = add_account(private_db, username=username, password=password, role=role, strand=strand,
                          inspector_code=inspector_code)
    if inspector_code and review_id is not None:
        try:
            link_inspector(evidence_db, private_db, actor, review_id=review_id, username=username)
        except Exception:
            with write_transaction(private_db):
                private_db.execute("DELETE FROM accounts WHERE id = ?", [account["id"]])
            raise
    audit.record(evidence_db, actor, "account.add", table="accounts", row_id=account["id"], after=_shown(account))
    return account


def list_accounts(private_db: Database, *, at: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Every account with its state: ``disabled``, ``locked`` (as many failed
    sign-ins in the last 15 minutes from one address as lock it there),
    ``last_sign_in_at`` and ``tokens`` (how many API tokens it has)."""
    since = (at or dt.datetime.now(dt.timezone.utc)).timestamp() - login_throttle.WINDOW.total_seconds()
    accounts = list(private_db.query(
        "SELECT id, username, role, strand, inspector_code, disabled, created_at, last_sign_in_at,"
        " (SELECT count(*) FROM api_tokens WHERE api_tokens.account_id = accounts.id) AS tokens,"
        " (SELECT max(n) FROM (SELECT count(*) AS n FROM login_attempts WHERE login_attempts.username ="
        "  accounts.username AND checked = 1 AND at > ? GROUP BY address)) AS recent_failures"
        " FROM accounts ORDER BY username", [since]))
    for account in accounts:
        account["locked"] = (account.pop("recent_failures") or 0) >= LOCKED_AFTER
        account["state"] = "disabled" if account["disabled"] else "locked" if account["locked"] else "active"
    return accounts


def _change(private_db: Database, evidence_db: Database, actor: Actor, username: str, action: str,
            sql: str, params: list[Any]) -> dict[str, Any]:
    before = get_account(private_db, username)
    with write_transaction(private_db):
        private_db.execute(sql, params)
    after = get_account(private_db, username)
    audit.record(evidence_db, actor, action, table="accounts", row_id=after["id"],
                 before=_shown(before), after=_shown(after))
    return after


def disable_account(private_db: Database, evidence_db: Database, actor: Actor, username: str) -> dict[str, Any]:
    """Stop the account signing in or using its tokens (audited). :raises NotFound:"""
    return _change(private_db, evidence_db, actor, username, "account.disable",
                   "UPDATE accounts SET disabled = 1 WHERE username = ?", [username])


def enable_account(private_db: Database, evidence_db: Database, actor: Actor, username: str) -> dict[str, Any]:
    """Let a disabled account sign in again, with its old password and tokens (audited). :raises NotFound:"""
    return _change(private_db, evidence_db, actor, username, "account.enable",
                   "UPDATE accounts SET disabled = 0 WHERE username = ?", [username])


def unlock_account(private_db: Database, evidence_db: Database, actor: Actor, username: str) -> int:
    """Forget the username's counted failed sign-ins (audited); returns how many."""
    forgotten = login_throttle.forget_username(private_db, username)
    rows = private_db.execute("SELECT id FROM accounts WHERE username = ?",
                              [login_throttle.fold_username(username)]).fetchone()
    audit.record(evidence_db, actor, "account.unlock", table="accounts", row_id=rows[0] if rows else None,
                 after={"username": username, "failures_forgotten": forgotten})
    return forgotten


def change_role(private_db: Database, evidence_db: Database, actor: Actor, username: str, *, role: str,
                strand: str | None = None) -> dict[str, Any]:
    """Give the account another role and strand (audited).

    :raises ValidationError: unknown role, an inspector without a strand, or an
        unknown strand. :raises NotFound:
    """
    errors = {}
    if role not in vocab.ACCOUNT_ROLES:
        errors["role"] = f"Choose a role from: {', '.join(vocab.ACCOUNT_ROLES)}"
    if role == "inspector" and not strand:
        errors["strand"] = "An inspector account needs a strand (for example --strand police)"
    if strand and strand not in vocab.DEFAULT_STRANDS and not evidence_db.execute(
            "SELECT 1 FROM strands WHERE code = ?", [strand]).fetchone():
        errors["strand"] = f"No strand called {strand!r}"
    if errors:
        raise ValidationError("; ".join(errors.values()), field_errors=errors)
    return _change(private_db, evidence_db, actor, username, "account.role",
                   "UPDATE accounts SET role = ?, strand = ? WHERE username = ?", [role, strand or None, username])


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.strip().encode()).hexdigest()


def issue_password_reset(private_db: Database, evidence_db: Database, actor: Actor, username: str, *,
                         lifetime: dt.timedelta = RESET_CODE_LIFETIME) -> dict[str, Any]:
    """A new one-time reset code for the account: ``{"code", "expires_at"}``.

    The code is returned once and never stored (only its sha256); earlier
    unused codes for the account are cancelled. Audited without the code.

    :raises NotFound:
    """
    account = get_account(private_db, username)
    code = secrets.token_urlsafe(12)  # 96 bits: guessing is hopeless within a day, so no throttle is needed
    issued = dt.datetime.fromisoformat(now())
    expires_at = (issued + lifetime).isoformat()
    with write_transaction(private_db):
        private_db.execute("UPDATE password_resets SET used_at = ? WHERE account_id = ? AND used_at IS NULL",
                           [issued.isoformat(), account["id"]])
        private_db.execute("INSERT INTO password_resets (account_id, code_hash, created_at, expires_at)"
                           " VALUES (?, ?, ?, ?)", [account["id"], _code_hash(code), issued.isoformat(), expires_at])
    audit.record(evidence_db, actor, "account.reset_issued", table="accounts", row_id=account["id"],
                 after={"username": username, "expires_at": expires_at})
    return {"code": code, "expires_at": expires_at}


def redeem_password_reset(private_db: Database, evidence_db: Database, username: str, code: str,
                          new_password: str) -> dict[str, Any]:
    """Set a new password with a reset code; the code is then spent.

    :raises ValidationError: the new password is too short (the code is kept).
    :raises ResetCodeRefused: wrong username or code, or the code was used,
        cancelled or has expired (one message for all, so it reveals nothing).
    """
    if len(new_password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"Use a password of at least {MIN_PASSWORD_LENGTH} characters.",
                              field_errors={"password": f"Use a password of at least {MIN_PASSWORD_LENGTH} characters"})
    refused = ResetCodeRefused("That reset code is not right, or has been used or has expired. Ask your "
                               "administrator for a new one.")
    username = login_throttle.fold_username(username)
    at = now()
    with write_transaction(private_db):
        row = private_db.execute(
            "SELECT password_resets.id, accounts.id FROM password_resets JOIN accounts"
            " ON accounts.id = password_resets.account_id WHERE accounts.username = ? AND code_hash = ?"
            " AND used_at IS NULL AND expires_at > ?", [username, _code_hash(code or ""), at]).fetchone()
        if row is None:
            raise refused
        private_db.execute("UPDATE password_resets SET used_at = ? WHERE id = ?", [at, row[0]])
        private_db.execute("UPDATE accounts SET password_hash = ? WHERE id = ?",
                           [hash_password(new_password), row[1]])
    login_throttle.forget_username(private_db, username)
    account = get_account(private_db, username)
    audit.record(evidence_db, Actor(account["username"], account["role"], account["strand"]),
                 "account.password_reset", table="accounts", row_id=account["id"],
                 after={"username": username})
    return account


def list_tokens(private_db: Database, username: str | None = None) -> list[dict[str, Any]]:
    """API tokens (never their values or hashes): id, username, created_at, last_used_at."""
    sql = ("SELECT api_tokens.id, accounts.username, api_tokens.created_at, api_tokens.last_used_at"
           " FROM api_tokens JOIN accounts ON accounts.id = api_tokens.account_id")
    params: list[Any] = []
    if username:
        get_account(private_db, username)
        sql += " WHERE accounts.username = ?"
        params.append(username)
    return list(private_db.query(sql + " ORDER BY api_tokens.id", params))


def revoke_token(private_db: Database, evidence_db: Database, actor: Actor, token_id: int) -> dict[str, Any]:
    """Delete an API token so it no longer opens the API (audited). :raises NotFound:"""
    rows = [token for token in list_tokens(private_db) if token["id"] == token_id]
    if not rows:
        raise NotFound(f"No API token with id {token_id}; `inspect-kit user tokens` lists them.")
    with write_transaction(private_db):
        private_db.execute("DELETE FROM api_tokens WHERE id = ?", [token_id])
    audit.record(evidence_db, actor, "token.revoke", table="api_tokens", row_id=token_id, after=rows[0])
    return rows[0]


def issue_token(private_db: Database, evidence_db: Database, actor: Actor, username: str) -> str:
    """A new API token (as :func:`inspect_kit.accounts.issue_token`), audited without its value."""
    from .accounts import issue_token as issue

    token = issue(private_db, username)
    account = get_account(private_db, username)
    audit.record(evidence_db, actor, "token.issue", table="accounts", row_id=account["id"],
                 after={"username": username})
    return token
