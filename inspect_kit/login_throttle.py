"""Sign-in throttling: refuse a guess before it costs a password hash.

Each sign-in attempt is counted in ``private.db`` (table ``login_attempts``)
*before* the password is hashed; an attempt over any limit below is refused
with :class:`TooManyAttempts` (HTTP 429 with ``Retry-After``) at the cost of
one indexed read, no hash and no sleep. A successful sign-in forgets the
failures of its own (username, address) pair.

The limits, all over a sliding 15-minute window, counting failures:

========================  ========  ==================================================
key                       failures  why
========================  ========  ==================================================
(username, address)       5         someone who mistypes five times has forgotten; the
                                    same pace as the old five-then-15-minutes lock-out,
                                    but only for that address
address                   30        one address cannot spray a common password over
                                    many usernames (the pair limit alone would allow 5
                                    per username); 30 leaves room for an office behind
                                    one NAT where several people mistype
username (any address)    50        ten addresses' worth of the pair limit: one or a
                                    few addresses can never shut the owner out; only a
                                    guess from ten or more addresses at once can, and
                                    it then gets at most 200 guesses an hour
========================  ========  ==================================================

An attempt refused because every password-check slot was busy
(:class:`inspect_kit.accounts.PasswordCheckSlots`) counts towards its
address's limit only: a flood from one address still reaches 429 (a read, no
write) within 30 attempts, while a real user told "busy, retry" is not
counted against their username nor taken for a guesser on the retry.

Before this, five wrong passwords from anywhere locked the account for
15 minutes everywhere, unknown usernames were never throttled, and every wrong
guess held a worker thread for a hash plus a growing sleep: 300 guesses from
30 threads took a signed-in page's p99 from 0.07 s to 2.2 s. Measured with
bench/login_burst.py on the same loaded machine (load average 10-14 on 2
cores), before and after: p99 7.7 s and 0.25-0.44 s from one address, 6.4 s
and 0.63-0.85 s from 30; the attacked account's owner signed in in 13.4 s and
0.9-1.4 s. Usernames are
counted case-folded, known or not, so the count reveals nothing about which
accounts exist. IPv6 addresses are counted by their /64 network, the block one
customer usually holds.

The state lives in ``private.db`` rather than process memory because several
worker processes must share it; each attempt is counted in a ``BEGIN
IMMEDIATE`` transaction that re-checks the limits, so a burst on eight threads
cannot slip past a limit, and rows older than the window are pruned there.

Why not Flask-Limiter (4.1, evaluated for this): it has no SQLite storage
(memory, Redis, Memcached, MongoDB); a custom ``limits`` storage could be
written, but Flask-Limiter counts requests to a route, not failures of one
(``deduct_when`` hits the counter after the response, so a burst on eight
threads passes its check together), cannot forget one key's failures on a
successful sign-in without reaching for its internal key format, and would
cost two or three storage calls (each its own transaction) per limit per
attempt and four new dependencies (flask-limiter, limits, ordered-set,
deprecated), for a policy that is about sixty lines here.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
from dataclasses import dataclass

from sqlite_utils import Database

from .errors import InspectKitError
from .store import write_transaction

WINDOW = dt.timedelta(minutes=15)
# Longer usernames are counted by their first 80 characters (real ones are at most 40).
MAX_USERNAME_KEY = 80


@dataclass(frozen=True)
class Limit:
    """At most ``failures`` counted attempts per ``window`` for each value of ``columns``."""

    name: str
    columns: tuple[str, ...]
    failures: int
    window: dt.timedelta
    message: str
    # Whether attempts refused for a busy server (password never checked) count too.
    counts_unchecked: bool = False


LIMITS = (
    Limit("username_address", ("username", "address"), 5, WINDOW,
          "Too many failed attempts to sign in with this username from here."),
    Limit("address", ("address",), 30, WINDOW, "Too many failed sign-in attempts from this address.",
          counts_unchecked=True),
    Limit("username", ("username",), 50, WINDOW, "Too many failed attempts to sign in with this username."),
)


class TooManyAttempts(InspectKitError):
    """A sign-in refused before any password check: a limit is reached.

    ``retry_after`` is whole seconds until an attempt would be counted again;
    ``until`` the same moment (UTC); ``limit`` the name of the limit reached.
    """

    status = 429

    def __init__(self, message: str, *, retry_after: int, until: dt.datetime, limit: str):
        super().__init__(message)
        self.retry_after = retry_after
        self.until = until
        self.limit = limit


def fold_username(username: str | None) -> str:
    """The username as sign-in matches and counts it: trimmed and case-folded."""
    return (username or "").strip().casefold()


def address_key(address: str | None) -> str:
    """The client address as counted: IPv4 as is, IPv6 by its /64 network."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return (address or "unknown")[:64]
    if ip.version == 6:
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


# Busy refusals from one address after which its attempts are a guesser's:
# a person told "busy, try again" retries once or twice.
SUSPECT_AFTER_UNCHECKED = 3


@dataclass(frozen=True)
class CountedAttempt:
    """An attempt counted by :func:`reserve_attempt`: its row id, and how many
    other attempts from its address are counted in the window, with their
    password checked and not (refused as busy)."""

    id: int
    checked_from_address: int
    unchecked_from_address: int

    @property
    def suspect(self) -> bool:
        """Whether its address looks like a guesser's: an attempt of its already
        checked, or repeated busy refusals. A person's first try, or their
        retry after a busy refusal, is not."""
        return self.checked_from_address > 0 or self.unchecked_from_address >= SUSPECT_AFTER_UNCHECKED


def reserve_attempt(private_db: Database, username: str, address: str | None, *,
                    at: dt.datetime | None = None) -> CountedAttempt:
    """Count one sign-in attempt before its password is checked.

    The attempt counts as a failure until :func:`forget_failures` (on
    success) says otherwise; :func:`record_unchecked` (its password was never
    checked) leaves it counting for its address only.

    :raises TooManyAttempts: a limit is reached; nothing is written.
    """
    username = fold_username(username)[:MAX_USERNAME_KEY]
    address = address_key(address)
    now = _timestamp(at)
    # A plain read first: refusals, the bulk of a burst, never queue for the write lock.
    _refuse_when_over(private_db, username, address, now)
    with write_transaction(private_db):
        _refuse_when_over(private_db, username, address, now)
        checked, unchecked = private_db.execute(
            "SELECT coalesce(sum(checked), 0), coalesce(sum(1 - checked), 0) FROM login_attempts"
            " WHERE address = ? AND at > ?", [address, now - WINDOW.total_seconds()]).fetchone()
        longest = max(limit.window for limit in LIMITS).total_seconds()
        private_db.execute("DELETE FROM login_attempts WHERE at <= ?", [now - longest])
        cursor = private_db.execute("INSERT INTO login_attempts (username, address, at) VALUES (?, ?, ?)",
                                    [username, address, now])
    return CountedAttempt(cursor.lastrowid, checked, unchecked)


def record_unchecked(private_db: Database, attempt_id: int) -> None:
    """The attempt's password was never checked (no slot was free): it no longer
    counts against its username, nor (once or twice) makes its address look
    like a guesser's, but still counts towards its address's limit, so a flood
    from one address is refused before long with no write at all."""
    with write_transaction(private_db):
        private_db.execute("UPDATE login_attempts SET checked = 0 WHERE id = ?", [attempt_id])


def forget_failures(private_db: Database, username: str, address: str | None) -> None:
    """After a successful sign-in: forget the failures of this username from this address."""
    with write_transaction(private_db):
        private_db.execute("DELETE FROM login_attempts WHERE username = ? AND address = ?",
                           [fold_username(username)[:MAX_USERNAME_KEY], address_key(address)])


def forget_username(private_db: Database, username: str) -> int:
    """Forget every counted failure for ``username``, from any address; returns how many."""
    with write_transaction(private_db):
        cursor = private_db.execute("DELETE FROM login_attempts WHERE username = ?",
                                    [fold_username(username)[:MAX_USERNAME_KEY]])
    return cursor.rowcount


def _refuse_when_over(private_db: Database, username: str, address: str, now: float) -> dict[str, int]:
    """The count under each limit (by name). :raises TooManyAttempts: one is reached."""
    values = {"username": username, "address": address}
    counts = {}
    for limit in LIMITS:
        where = " AND ".join(f"{column} = ?" for column in limit.columns)
        if not limit.counts_unchecked:
            where += " AND checked = 1"
        params = [values[column] for column in limit.columns] + [now - limit.window.total_seconds()]
        (count,) = private_db.execute(
            f"SELECT count(*) FROM login_attempts WHERE {where} AND at > ?", params).fetchone()
        counts[limit.name] = count
        if count < limit.failures:
            continue
        # The attempt that must age out for the count to drop below the limit.
        (oldest,) = private_db.execute(
            f"SELECT at FROM login_attempts WHERE {where} AND at > ? ORDER BY at LIMIT 1 OFFSET ?",
            [*params, count - limit.failures]).fetchone()
        free_at = oldest + limit.window.total_seconds()
        retry_after = max(1, math.ceil(free_at - now))
        until = dt.datetime.fromtimestamp(free_at, dt.timezone.utc).replace(microsecond=0)
        shown = (until + dt.timedelta(seconds=59)).replace(second=0)  # "after 09:15", never a minute early
        raise TooManyAttempts(f"{limit.message} Try again after {shown:%H:%M} UTC ({_in_words(retry_after)}).",
                              retry_after=retry_after, until=until, limit=limit.name)
    return counts


def _in_words(seconds: int) -> str:
    if seconds < 60:
        return "in less than a minute"
    minutes = math.ceil(seconds / 60)
    return f"in {minutes} minute{'s' if minutes != 1 else ''}"


def _timestamp(at: dt.datetime | None) -> float:
    return (at or dt.datetime.now(dt.timezone.utc)).timestamp()
