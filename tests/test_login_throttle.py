"""Sign-in throttling: counted in private.db before any password hash,
by (username, address), address and username; bounded password-check slots;
nothing hashed at import time."""

from __future__ import annotations

import contextlib
import datetime as dt
import subprocess
import sys
import threading

import pytest

from inspect_kit import accounts, login_throttle
from inspect_kit.schema import migrate_private
from inspect_kit.store import Store, connect

from .pages import hidden

PASSWORD = "long enough password"
START = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.timezone.utc)
HOME, OFFICE = "192.0.2.10", "198.51.100.20"
PAIR, ADDRESS, USERNAME = (limit.failures for limit in login_throttle.LIMITS)


@pytest.fixture
def private_db(tmp_path):
    db = connect(str(tmp_path / "private.db"), create=True)
    migrate_private(db)
    accounts.add_account(db, username="lead", password=PASSWORD, role="lead")
    yield db
    db.close()


@pytest.fixture
def hashes(monkeypatch):
    """Every password check made, as (stored hash) in order."""
    made: list[str] = []
    real = accounts.check_password_hash

    def counting(stored, password):
        made.append(stored)
        return real(stored, password)

    monkeypatch.setattr(accounts, "check_password_hash", counting)
    return made


def sign_in(db, username, password="wrong password!", address=HOME, at=START, **kwargs):
    return accounts.authenticate(db, username, password, address=address, at=at, **kwargs)


def fail(db, username, address=HOME, at=START, times=1):
    for _ in range(times):
        with pytest.raises(accounts.LoginFailed):
            sign_in(db, username, address=address, at=at)


def counted_failures(db, username, address=HOME, at=START, times=1):
    """Failed attempts as the throttle counts them (what ``fail`` leaves behind), without
    the 0.1 s hash each: for building up the larger limits quickly."""
    for _ in range(times):
        login_throttle.reserve_attempt(db, username, address, at=at)


def test_the_limits_are_as_documented():
    assert [(limit.name, limit.failures) for limit in login_throttle.LIMITS] == [
        ("username_address", 5), ("address", 30), ("username", 50)]
    assert PAIR < ADDRESS < USERNAME  # one address can never reach the username's own limit


@pytest.mark.parametrize("username", ["lead", "nobody"])
def test_known_and_unknown_usernames_are_refused_after_the_limit_without_a_hash(private_db, hashes, username):
    fail(private_db, username, times=PAIR)
    assert len(hashes) == PAIR
    with pytest.raises(login_throttle.TooManyAttempts) as refused:
        sign_in(private_db, username.upper(), PASSWORD)  # folded as the login folds it; even the right password
    assert len(hashes) == PAIR  # refused before any hash
    assert refused.value.status == 429
    assert refused.value.limit == "username_address"
    assert refused.value.retry_after == 15 * 60
    assert "Try again after 09:15 UTC (in 15 minutes)" in refused.value.message


def test_the_owner_signs_in_from_their_own_address_during_a_burst_against_their_name(private_db, hashes):
    fail(private_db, "lead", address=HOME, times=PAIR)
    with pytest.raises(login_throttle.TooManyAttempts):
        sign_in(private_db, "lead", address=HOME)
    before = len(hashes)
    assert sign_in(private_db, "lead", PASSWORD, address=OFFICE)["username"] == "lead"
    assert len(hashes) == before + 1


def test_one_address_spraying_many_usernames_is_refused_at_the_address_limit(private_db, hashes):
    fail(private_db, "guess")
    for n in range(1, ADDRESS):
        counted_failures(private_db, f"guess{n}")
    with pytest.raises(login_throttle.TooManyAttempts) as refused:
        sign_in(private_db, "someone-new")
    assert refused.value.limit == "address"
    assert len(hashes) == 1
    assert sign_in(private_db, "lead", PASSWORD, address=OFFICE)["username"] == "lead"


def test_many_addresses_against_one_username_reach_the_gentler_username_limit(private_db):
    for n in range(USERNAME // PAIR):
        counted_failures(private_db, "lead", address=f"203.0.113.{n}", times=PAIR)
    with pytest.raises(login_throttle.TooManyAttempts) as refused:
        sign_in(private_db, "lead", PASSWORD, address=OFFICE)
    assert refused.value.limit == "username"
    with pytest.raises(accounts.LoginFailed):  # other usernames from there are untouched
        sign_in(private_db, "other-user", address=OFFICE)


def test_the_window_expires(private_db):
    fail(private_db, "lead", times=PAIR)
    almost = START + login_throttle.WINDOW - dt.timedelta(seconds=30)
    with pytest.raises(login_throttle.TooManyAttempts) as refused:
        sign_in(private_db, "lead", PASSWORD, at=almost)
    assert refused.value.retry_after == 30
    assert "in less than a minute" in refused.value.message
    after = START + login_throttle.WINDOW + dt.timedelta(seconds=1)
    assert sign_in(private_db, "lead", PASSWORD, at=after)["username"] == "lead"


def test_a_sliding_window_frees_one_attempt_as_the_oldest_ages_out(private_db):
    for minute in range(PAIR):
        fail(private_db, "lead", at=START + dt.timedelta(minutes=minute))
    now = START + dt.timedelta(minutes=10)
    with pytest.raises(login_throttle.TooManyAttempts) as refused:
        sign_in(private_db, "lead", at=now)
    assert refused.value.retry_after == 5 * 60  # the 09:00 attempt ages out at 09:15
    fail(private_db, "lead", at=START + dt.timedelta(minutes=15, seconds=1))
    with pytest.raises(login_throttle.TooManyAttempts):
        sign_in(private_db, "lead", at=START + dt.timedelta(minutes=15, seconds=2))


def test_a_success_forgets_that_pairs_failures_only(private_db):
    counted_failures(private_db, "lead", times=PAIR - 1)
    counted_failures(private_db, "lead", address=OFFICE, times=PAIR - 1)
    sign_in(private_db, "lead", PASSWORD)
    fail(private_db, "lead", times=PAIR)  # a fresh allowance from HOME …
    fail(private_db, "lead", address=OFFICE)  # … and OFFICE's failures still count
    with pytest.raises(login_throttle.TooManyAttempts):
        sign_in(private_db, "lead", address=OFFICE)


def test_the_state_is_in_the_store_for_every_worker_process(private_db, tmp_path):
    fail(private_db, "lead", times=PAIR)
    other_worker = connect(str(tmp_path / "private.db"), create=True)
    with pytest.raises(login_throttle.TooManyAttempts):
        sign_in(other_worker, "lead", PASSWORD)


def test_old_rows_are_pruned_as_attempts_are_counted(private_db):
    fail(private_db, "nobody", times=3)
    fail(private_db, "nobody", at=START + login_throttle.WINDOW + dt.timedelta(seconds=1))
    assert private_db.execute("SELECT count(*) FROM login_attempts").fetchone()[0] == 1


def test_unlock_forgets_a_usernames_failures_from_every_address(private_db):
    counted_failures(private_db, "lead", times=PAIR)
    counted_failures(private_db, "lead", address=OFFICE, times=PAIR)
    assert accounts.unlock_account(private_db, "Lead") == 2 * PAIR
    assert sign_in(private_db, "lead", PASSWORD)["username"] == "lead"


def test_a_burst_on_many_threads_cannot_slip_past_the_limit(tmp_path):
    home = tmp_path / "evidence"
    store = Store(home)
    store.init()
    counted, refused = [], []
    barrier = threading.Barrier(8)

    def guess():
        db = store.private()
        try:  # made in this thread, so only this thread may close it (the autouse closer cannot)
            barrier.wait()
            for _ in range(3):
                try:
                    login_throttle.reserve_attempt(db, "lead", HOME)
                    counted.append(1)
                except login_throttle.TooManyAttempts:
                    refused.append(1)
        finally:
            db.close()

    threads = [threading.Thread(target=guess) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (len(counted), len(refused)) == (PAIR, 24 - PAIR)


def test_a_busy_process_refuses_with_retry_after_and_no_hash(private_db, hashes):
    slots = accounts.PasswordCheckSlots(concurrency=2, wait=0.01)
    with slots.slot(), slots.slot():
        with pytest.raises(accounts.PasswordCheckBusy) as busy:
            sign_in(private_db, "lead", PASSWORD, slots=slots)
    assert busy.value.status == 503 and busy.value.retry_after >= 1
    assert hashes == []
    # Counted for the address only: the retry is still a clean address's, not queued with the guessers …
    assert private_db.execute("SELECT checked FROM login_attempts").fetchall() == [(0,)]
    with slots.slot(suspect=True):
        assert sign_in(private_db, "lead", PASSWORD, slots=slots)["username"] == "lead"
    # … and the success forgets it.
    assert private_db.execute("SELECT count(*) FROM login_attempts").fetchone()[0] == 0


def test_busy_refusals_never_throttle_the_username_but_a_flood_reaches_the_address_limit(private_db, hashes):
    slots = accounts.PasswordCheckSlots(concurrency=2, wait=0.01)
    with slots.slot(), slots.slot():
        for _ in range(ADDRESS):
            with pytest.raises(accounts.PasswordCheckBusy):
                sign_in(private_db, "lead", slots=slots)
        with pytest.raises(login_throttle.TooManyAttempts) as refused:
            sign_in(private_db, "lead", slots=slots)
    assert refused.value.limit == "address" and hashes == []
    assert sign_in(private_db, "lead", PASSWORD, address=OFFICE, slots=slots)["username"] == "lead"


def test_guessing_addresses_share_one_slot_and_a_clean_address_gets_the_other(private_db, hashes):
    slots = accounts.PasswordCheckSlots(concurrency=2, wait=0.01)
    fail(private_db, "nobody", address=HOME)
    with slots.slot(suspect=True):  # a guess from some address already counted is being hashed
        with pytest.raises(accounts.PasswordCheckBusy):
            sign_in(private_db, "lead", PASSWORD, address=HOME, slots=slots)
        assert sign_in(private_db, "lead", PASSWORD, address=OFFICE, slots=slots)["username"] == "lead"
    assert len(hashes) == 2  # the failure from HOME, then the clean sign-in from OFFICE
    assert sign_in(private_db, "lead", PASSWORD, address=HOME, slots=slots)["username"] == "lead"


@pytest.mark.parametrize("address, key", [
    ("192.0.2.1", "192.0.2.1"),
    ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff::9", "2001:db8:1:2::/64"),
    ("::ffff:192.0.2.1", "192.0.2.1"),
    (None, "unknown"),
    ("not an address", "not an address"),
])
def test_addresses_are_counted_ipv6_by_network(address, key):
    assert login_throttle.address_key(address) == key


def test_importing_accounts_computes_no_password_hash():
    """The CLI and every test process import accounts: no scrypt at import time."""
    program = (
        "import hashlib\n"
        "calls = []\n"
        "real = hashlib.scrypt\n"
        "hashlib.scrypt = lambda *a, **k: calls.append(1) or real(*a, **k)\n"
        "import inspect_kit.accounts, inspect_kit.cli, inspect_kit.web.auth\n"
        "print(len(calls))\n"
        "inspect_kit.accounts._dummy_hash()\n"  # the counter does see a hash when one is made
        "print(len(calls))\n"
    )
    completed = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == ["0", "1"]


def test_the_timing_equalising_hash_is_made_with_the_stored_hashes_parameters(private_db, hashes):
    fail(private_db, "nobody")
    stored = private_db.execute("SELECT password_hash FROM accounts").fetchone()[0]
    assert hashes[0].split("$")[0] == stored.split("$")[0]  # e.g. scrypt:32768:8:1


def test_user_unlock_lets_the_owner_in_again_at_once(tmp_path):
    from click.testing import CliRunner

    from inspect_kit.cli import cli

    store = Store(tmp_path / "evidence")
    store.init()
    db = store.private()
    accounts.add_account(db, username="pol02", password=PASSWORD, role="lead")
    counted_failures(db, "pol02", at=None, times=PAIR)
    counted_failures(db, "pol02", address=OFFICE, at=None, times=PAIR)
    with pytest.raises(login_throttle.TooManyAttempts):
        accounts.authenticate(db, "pol02", PASSWORD, address=HOME)
    result = CliRunner().invoke(cli, ["user", "unlock", "POL02", "--home", str(store.home)])
    assert result.exit_code == 0, result.output
    assert f"forgot {2 * PAIR} failed sign-in attempt(s)" in result.output
    assert accounts.authenticate(db, "pol02", PASSWORD, address=HOME)["username"] == "pol02"


def test_messages_name_only_commands_that_exist():
    """No message promises a command the CLI lacks (one promised `user unlock` before it existed)."""
    import re
    from pathlib import Path

    from inspect_kit.cli import cli

    root = Path(__file__).resolve().parent.parent
    texts = [(root / "README.md").read_text()] + [
        path.read_text() for path in (root / "inspect_kit").rglob("*.py")] + [
        path.read_text() for path in (root / "templates" / "auth").rglob("*.html")]
    named = {match for text in texts for match in re.findall(r"`inspect-kit ([a-z-]+(?: [a-z-]+)?)", text)}
    assert "user unlock" in named
    for command in named:
        group, _, sub = command.partition(" ")
        assert group in cli.commands, command
        found = cli.commands[group]
        if sub and hasattr(found, "commands"):
            assert sub in found.commands, command


@pytest.mark.slow
def test_the_real_server_refuses_a_guessing_address_and_lets_the_owner_in(live_server):
    """Through uvicorn, a2wsgi and Flask: the client address is uvicorn's (X-Forwarded-For
    from 127.0.0.1, as behind a local reverse proxy), the state is the store's."""

    import httpx

    with contextlib.closing(live_server.store.private()) as db:
        accounts.add_account(db, username="pol02", password=PASSWORD, role="inspector", strand="police")

    def attempt(client, password, address):
        headers = {"X-Forwarded-For": address}
        page = client.get("/login", headers=headers).text
        token = hidden(page, "csrf_token")
        return client.post("/login", headers=headers,
                           data={"username": "POL02", "password": password, "csrf_token": token})

    with httpx.Client(base_url=live_server.url, timeout=30) as guesser:
        statuses = [attempt(guesser, "wrong password!", HOME).status_code for _ in range(PAIR + 1)]
        assert statuses == [401] * PAIR + [429]
        refused = attempt(guesser, PASSWORD, HOME)
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        assert "Try again after" in refused.text
    with httpx.Client(base_url=live_server.url, timeout=30) as owner:
        assert attempt(owner, PASSWORD, OFFICE).status_code == 302
    with contextlib.closing(live_server.store.private()) as db:
        assert db.execute("SELECT count(*) FROM login_attempts WHERE address = ?", [HOME]).fetchone()[0] == PAIR
