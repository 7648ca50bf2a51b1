"""Accounts in ``private.db``: password login, lock-out and API tokens.

Passwords are stored only as salted scrypt hashes (werkzeug.security, the
well-kept implementation Flask itself ships); API tokens only as sha256
hashes, so a copy of ``private.db`` gives away no credential.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from typing import Any

from sqlite_utils import Database
from werkzeug.security import check_password_hash, generate_password_hash

from . import vocab
from .actors import Actor
from .errors import Conflict, Forbidden, NotFound, ValidationError
from .store import now, write_transaction

USERNAME_RE = re.compile(r"^[a-z][a-z0-9._-]{1,39}$")
MIN_PASSWORD_LENGTH = 10
LOCK_AFTER_FAILURES = 5
LOCK_MINUTES = 15
# A hash to check against when the username is unknown, so a wrong username
# takes as long as a wrong password and does not reveal which accounts exist.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


class LoginFailed(Forbidden):
    """Wrong username or password. ``failures`` counts recent failures (for slowing down)."""

    status = 401

    def __init__(self, message: str, failures: int = 0):
        super().__init__(message)
        self.failures = failures


class AccountLocked(Forbidden):
    """Too many failed logins: the account is locked until ``until`` (ISO time)."""

    status = 429

    def __init__(self, message: str, until: str):
        super().__init__(message)
        self.until = until


def add_account(private_db: Database, *, username: str, password: str, role: str, strand: str | None = None,
                inspector_code: str | None = None) -> dict[str, Any]:
    """Create an account. Inspectors need a strand.

    :raises ValidationError: bad username, short password, unknown role, inspector without strand.
    :raises Conflict: the username is taken.
    """
    errors: dict[str, str] = {}
    if not USERNAME_RE.match(username or ""):
        errors["username"] = "Use 2–40 lowercase letters, digits, dots, hyphens or underscores, starting with a letter"
    if len(password or "") < MIN_PASSWORD_LENGTH:
        errors["password"] = f"Use a password of at least {MIN_PASSWORD_LENGTH} characters"
    if role not in vocab.ACCOUNT_ROLES:
        errors["role"] = f"Choose a role from: {', '.join(vocab.ACCOUNT_ROLES)}"
    if role == "inspector" and not strand:
        errors["strand"] = "An inspector account needs a strand (for example --strand police)"
    if errors:
        raise ValidationError("; ".join(errors.values()), field_errors=errors)
    with write_transaction(private_db):
        if private_db.execute("SELECT 1 FROM accounts WHERE username = ?", [username]).fetchone():
            raise Conflict(f"There is already an account called {username!r}.")
        private_db.execute(
            "INSERT INTO accounts (username, role, strand, inspector_code, password_hash, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [username, role, strand, inspector_code, generate_password_hash(password), now()],
        )
    return get_account(private_db, username)


def get_account(private_db: Database, username: str) -> dict[str, Any]:
    """The account without its password hash. :raises NotFound:"""
    rows = list(private_db.query(
        "SELECT id, username, role, strand, inspector_code, disabled, failed_logins, locked_until, created_at"
        " FROM accounts WHERE username = ?", [username]))
    if not rows:
        raise NotFound(f"No account called {username!r}; `inspect-kit user list` shows the accounts.")
    return rows[0]


def list_accounts(private_db: Database) -> list[dict[str, Any]]:
    """Every account (no hashes), by username."""
    return list(private_db.query(
        "SELECT username, role, strand, inspector_code, disabled, locked_until, created_at FROM accounts"
        " ORDER BY username"))


def disable_account(private_db: Database, username: str) -> dict[str, Any]:
    """Stop an account logging in or using its tokens. :raises NotFound:"""
    get_account(private_db, username)
    with write_transaction(private_db):
        private_db.execute("UPDATE accounts SET disabled = 1 WHERE username = ?", [username])
    return get_account(private_db, username)


def authenticate(private_db: Database, username: str, password: str, *, at: dt.datetime | None = None) -> dict[str, Any]:
    """Check a password login and return the account.

    After ``LOCK_AFTER_FAILURES`` failures in a row the account is locked for
    ``LOCK_MINUTES`` minutes.

    :raises LoginFailed: wrong username or password, or a disabled account.
    :raises AccountLocked: the account is locked just now.
    """
    at = at or dt.datetime.now(dt.timezone.utc)
    rows = list(private_db.query("SELECT * FROM accounts WHERE username = ?", [username or ""]))
    if not rows:
        check_password_hash(_DUMMY_HASH, password or "")
        raise LoginFailed("The username or password is not right. Check them and try again.")
    account = rows[0]
    if account["locked_until"] and dt.datetime.fromisoformat(account["locked_until"]) > at:
        raise AccountLocked(
            f"Too many failed attempts: this account is locked until {account['locked_until'][11:16]} UTC. "
            "Try again then, or ask the review's administrator to unlock it.", account["locked_until"])
    if not check_password_hash(account["password_hash"], password or ""):
        with write_transaction(private_db):
            (failures,) = private_db.execute("SELECT failed_logins + 1 FROM accounts WHERE id = ?",
                                             [account["id"]]).fetchone()
            locked_until = None
            if failures >= LOCK_AFTER_FAILURES:
                locked_until = (at + dt.timedelta(minutes=LOCK_MINUTES)).replace(microsecond=0).isoformat()
            private_db.execute("UPDATE accounts SET failed_logins = ?, locked_until = ? WHERE id = ?",
                               [0 if locked_until else failures, locked_until, account["id"]])
        if locked_until:
            raise AccountLocked(
                f"Too many failed attempts: this account is locked for {LOCK_MINUTES} minutes. "
                "Try again then, or ask the review's administrator to unlock it.", locked_until)
        raise LoginFailed("The username or password is not right. Check them and try again.", failures)
    if account["disabled"]:
        raise LoginFailed("This account has been disabled. Ask the review's administrator.")
    if account["failed_logins"] or account["locked_until"]:
        with write_transaction(private_db):
            private_db.execute("UPDATE accounts SET failed_logins = 0, locked_until = NULL WHERE id = ?",
                               [account["id"]])
    return get_account(private_db, username)


def unlock_account(private_db: Database, username: str) -> dict[str, Any]:
    """Clear a lock-out. :raises NotFound:"""
    get_account(private_db, username)
    with write_transaction(private_db):
        private_db.execute("UPDATE accounts SET failed_logins = 0, locked_until = NULL WHERE username = ?", [username])
    return get_account(private_db, username)


def issue_token(private_db: Database, username: str) -> str:
    """Create an API token for the account and return it (shown once; only its hash is kept).

    :raises NotFound: no such account. :raises Forbidden: the account is disabled.
    """
    account = get_account(private_db, username)
    if account["disabled"]:
        raise Forbidden(f"{username} is disabled; enable it before issuing a token.")
    token = "ik_" + secrets.token_urlsafe(32)
    with write_transaction(private_db):
        private_db.execute("INSERT INTO api_tokens (account_id, token_hash, created_at) VALUES (?, ?, ?)",
                           [account["id"], _token_hash(token), now()])
    return token


# How stale ``api_tokens.last_used_at`` may get. Writing it on every request
# turned each API read into a write transaction on private.db (and a WAL
# checkpoint when that connection closed last); once a minute says as much.
TOKEN_USE_RESOLUTION = dt.timedelta(minutes=1)


def account_for_token(private_db: Database, token: str, *, at: dt.datetime | None = None) -> dict[str, Any] | None:
    """The enabled account a bearer token belongs to (as :func:`get_account`), or None.

    One indexed read per call; ``last_used_at`` is written at most once per
    ``TOKEN_USE_RESOLUTION`` for each token, so this is cheap enough for every
    API request.
    """
    digest = _token_hash(token or "")
    rows = list(private_db.query(
        "SELECT accounts.id, accounts.username, accounts.role, accounts.strand, accounts.inspector_code,"
        " accounts.disabled, accounts.failed_logins, accounts.locked_until, accounts.created_at,"
        " api_tokens.last_used_at AS token_last_used_at"
        " FROM api_tokens JOIN accounts ON accounts.id = api_tokens.account_id"
        " WHERE api_tokens.token_hash = ? AND accounts.disabled = 0", [digest]))
    if not rows:
        return None
    account = rows[0]
    last_used = account.pop("token_last_used_at")
    at = (at or dt.datetime.now(dt.timezone.utc)).replace(microsecond=0)
    if last_used is None or dt.datetime.fromisoformat(last_used) <= at - TOKEN_USE_RESOLUTION:
        private_db.execute("UPDATE api_tokens SET last_used_at = ? WHERE token_hash = ?", [at.isoformat(), digest])
    return account


def actor_for(account: dict[str, Any], evidence_db: Database, review_id: int | None = None) -> Actor:
    """The :class:`Actor` for an account, linked to its inspector in the review when it has one."""
    inspector_id = None
    if account.get("inspector_code"):
        sql = "SELECT id FROM inspectors WHERE code = ?"
        params: list[Any] = [account["inspector_code"]]
        if review_id is not None:
            sql += " AND review_id = ?"
            params.append(review_id)
        row = evidence_db.execute(sql + " ORDER BY review_id DESC LIMIT 1", params).fetchone()
        inspector_id = row[0] if row else None
    return Actor(account["username"], account["role"], account.get("strand"), inspector_id)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
