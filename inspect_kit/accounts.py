"""Accounts in ``private.db``: password sign-in, its throttle and API tokens.

Passwords are stored only as salted scrypt hashes (werkzeug.security, the
well-kept implementation Flask itself ships); API tokens only as sha256
hashes, so a copy of ``private.db`` gives away no credential. A token check
is one sha256 and one indexed read: cheap enough for every API request, so
only password checks are throttled and bounded.

A password check costs one scrypt hash, about 0.1 s of CPU on these 2-core
machines (0.08-0.15 s measured), and holds the thread that runs it. Sign-in
attempts are counted before any hash (:mod:`inspect_kit.login_throttle`), and
:class:`PasswordCheckSlots` bounds how many hashes run at once in a process,
so a burst of guesses cannot occupy every worker.

Nothing is hashed at import time: the CLI and every test process import this
module (the timing-equalising hash made at import cost 0.15 s per start on a
quiet machine here, about 1.3 s on a busy one).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import re
import secrets
import threading
from collections.abc import Iterator
from typing import Any

from sqlite_utils import Database
from werkzeug.security import check_password_hash, generate_password_hash

from . import login_throttle, vocab
from .actors import Actor
from .errors import Conflict, Forbidden, InspectKitError, NotFound, ValidationError
from .store import now, write_transaction

USERNAME_RE = re.compile(r"^[a-z][a-z0-9._-]{1,39}$")
MIN_PASSWORD_LENGTH = 10
# Password hashes at once per process: two of the server's eight Flask worker
# threads (inspect_kit.web.server.WSGI_WORKERS) at most, so signed-in pages keep
# six. Two also keep both cores busy when the checks are all real users'.
PASSWORD_CHECK_CONCURRENCY = 2
# How long an attempt from a clean address waits for a free slot before it is
# told to retry: a few hashes' time even on a busy machine (0.1-0.4 s each), so
# a short queue drains but no thread waits long (attempts from an address
# already counted do not wait at all).
PASSWORD_CHECK_WAIT = 0.5
# Threads that may wait for a slot at once; the rest are refused at once, so
# waiting never holds more than two more of the eight workers. Measured with
# bench/login_burst.py (30 new addresses at once, load average 10): with no
# bound, waiting attempts held every worker and a signed-in page's p99 was 1.8 s.
PASSWORD_CHECK_WAITING = 2
# Seconds a refused-for-busy client is asked to wait (Retry-After).
BUSY_RETRY_AFTER = 1


# How passwords are hashed: werkzeug's default, scrypt with N = 2**15, r = 8, p = 1
# (the 0.1 s above). The test suite alone sets a cheaper cost (tests/conftest.py):
# it signs in thousands of times, and the cost is written into each hash, so a check
# always uses the parameters its hash was made with.
PASSWORD_HASH_METHOD = "scrypt"


def hash_password(password: str) -> str:
    """The salted hash of ``password`` to store, made with :data:`PASSWORD_HASH_METHOD`."""
    return generate_password_hash(password, method=PASSWORD_HASH_METHOD)


def _dummy_hash() -> str:
    """A hash to check against when the username is unknown, so a wrong
    username takes as long as a wrong password and does not reveal which
    accounts exist. Made on first use (not at import), with the same
    parameters as every stored hash."""
    return _dummy_hash_made_with(PASSWORD_HASH_METHOD)


@functools.cache
def _dummy_hash_made_with(method: str) -> str:
    return generate_password_hash("not-a-real-password", method=method)


class LoginFailed(Forbidden):
    """Wrong username or password, or a disabled account."""

    status = 401


class PasswordCheckBusy(InspectKitError):
    """Every password-check slot stayed taken: retry in ``retry_after`` seconds (HTTP 503)."""

    status = 503

    def __init__(self, message: str, retry_after: int = BUSY_RETRY_AFTER):
        super().__init__(message)
        self.retry_after = retry_after


class PasswordCheckSlots:
    """At most ``concurrency`` password hashes at once in this process, and at
    most ``waiting`` threads waiting for one.

    An attempt from a clean address waits up to ``wait`` seconds for any slot,
    if the waiting room has space. A suspect attempt (its address is a
    guesser's, see :attr:`inspect_kit.login_throttle.CountedAttempt.suspect`)
    may use only ``concurrency - 1`` of the slots and never waits. So password
    checks hold at most ``concurrency + waiting`` worker threads (4 of the
    server's 8), a burst from a few addresses runs one hash at a time, and a
    real user's clean attempt nearly always finds the other slot. A refusal
    raises :class:`PasswordCheckBusy`; nothing queues without bound.
    """

    def __init__(self, concurrency: int = PASSWORD_CHECK_CONCURRENCY, wait: float = PASSWORD_CHECK_WAIT,
                 waiting: int = PASSWORD_CHECK_WAITING):
        self.concurrency = concurrency
        self.wait = wait
        self._any = threading.BoundedSemaphore(concurrency)
        self._suspect = threading.BoundedSemaphore(max(1, concurrency - 1))
        self._waiting = threading.BoundedSemaphore(waiting)

    @contextlib.contextmanager
    def slot(self, *, suspect: bool = False) -> Iterator[None]:
        """Hold one slot for the block. :raises PasswordCheckBusy: none was free (in time)."""
        busy = PasswordCheckBusy("Many people are signing in at once. Try again in a few seconds.")
        if suspect:
            if not self._suspect.acquire(blocking=False):
                raise busy
            if not self._any.acquire(blocking=False):
                self._suspect.release()
                raise busy
        elif not self._any.acquire(blocking=False):
            if not self._waiting.acquire(blocking=False):
                raise busy
            try:
                if not self._any.acquire(timeout=self.wait):
                    raise busy
            finally:
                self._waiting.release()
        try:
            yield
        finally:
            self._any.release()
            if suspect:
                self._suspect.release()


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
            [username, role, strand, inspector_code, hash_password(password), now()],
        )
    return get_account(private_db, username)


def get_account(private_db: Database, username: str) -> dict[str, Any]:
    """The account without its password hash. :raises NotFound:"""
    rows = list(private_db.query(
        "SELECT id, username, role, strand, inspector_code, disabled, created_at"
        " FROM accounts WHERE username = ?", [username]))
    if not rows:
        raise NotFound(f"No account called {username!r}; `inspect-kit user list` shows the accounts.")
    return rows[0]


def list_accounts(private_db: Database) -> list[dict[str, Any]]:
    """Every account (no hashes), by username."""
    return list(private_db.query(
        "SELECT username, role, strand, inspector_code, disabled, created_at FROM accounts"
        " ORDER BY username"))


def disable_account(private_db: Database, username: str) -> dict[str, Any]:
    """Stop an account logging in or using its tokens. :raises NotFound:"""
    get_account(private_db, username)
    with write_transaction(private_db):
        private_db.execute("UPDATE accounts SET disabled = 1 WHERE username = ?", [username])
    return get_account(private_db, username)


def authenticate(private_db: Database, username: str, password: str, *, address: str | None = None,
                 slots: PasswordCheckSlots | None = None, at: dt.datetime | None = None) -> dict[str, Any]:
    """Check a password sign-in from client ``address`` and return the account.

    The username is matched case-folded. The attempt is counted first
    (:func:`inspect_kit.login_throttle.reserve_attempt`), so a refusal costs
    no hash; the hash then runs in one of ``slots`` when given (as a suspect
    when other attempts from ``address`` are counted). A success forgets this
    username's failures from this address.

    :raises TooManyAttempts: a throttle limit is reached (no hash computed).
    :raises PasswordCheckBusy: no password-check slot came free in time (the attempt
        counts towards the address's limit only).
    :raises LoginFailed: wrong username or password, or a disabled account.
    """
    username = login_throttle.fold_username(username)
    attempt = login_throttle.reserve_attempt(private_db, username, address, at=at)
    rows = list(private_db.query("SELECT id, password_hash, disabled FROM accounts WHERE username = ?", [username]))
    try:
        with slots.slot(suspect=attempt.suspect) if slots else contextlib.nullcontext():
            if not rows:
                check_password_hash(_dummy_hash(), password or "")
                raise LoginFailed("The username or password is not right. Check them and try again.")
            if not check_password_hash(rows[0]["password_hash"], password or ""):
                raise LoginFailed("The username or password is not right. Check them and try again.")
    except PasswordCheckBusy:
        # Counted for the address only: a real user told to retry comes back as
        # clean as they left, not queued with the guessers (bench/login_burst.py:
        # when it counted in full, the owner took 3 retries, 7 s, to sign in).
        login_throttle.record_unchecked(private_db, attempt.id)
        raise
    if rows[0]["disabled"]:
        raise LoginFailed("This account has been disabled. Ask the review's administrator.")
    login_throttle.forget_failures(private_db, username, address)
    with write_transaction(private_db):
        private_db.execute("UPDATE accounts SET last_sign_in_at = ? WHERE id = ?", [now(), rows[0]["id"]])
    return get_account(private_db, username)


def unlock_account(private_db: Database, username: str) -> int:
    """Forget the counted failed sign-ins for ``username`` from every address,
    so its owner can try again at once; returns how many were forgotten.
    Works for usernames with no account too (they are throttled alike)."""
    return login_throttle.forget_username(private_db, username)


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
        " accounts.disabled, accounts.created_at,"
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
