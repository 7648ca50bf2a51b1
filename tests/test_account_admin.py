"""An administrator's account abilities: enable, unlock, reset a
password, change a role, list, tokens; through the library and the real
command line, each in the audit log."""

from __future__ import annotations

import contextlib
import datetime as dt
import json

import pytest
from click.testing import CliRunner

from inspect_kit import account_admin, accounts, login_throttle
from inspect_kit.actors import SYSTEM
from inspect_kit.cli import cli
from inspect_kit.errors import ValidationError
from inspect_kit.store import clock_at

PASSWORD = "a fictional passphrase"
NEW_PASSWORD = "another fictional passphrase"


@pytest.fixture
def dbs(store):
    with contextlib.closing(store.evidence()) as evidence_db, contextlib.closing(store.private()) as private_db:
        account_admin.create_account(private_db, evidence_db, SYSTEM, username="pol01", password=PASSWORD,
                                     role="inspector", strand="police")
        yield evidence_db, private_db


def audit_rows(db, action):
    return list(db.query("SELECT * FROM audit_log WHERE action = ? ORDER BY id", [action]))


def sign_in(private_db, password=PASSWORD, address="192.0.2.10"):
    return accounts.authenticate(private_db, "pol01", password, address=address)


def test_disabled_then_enabled(dbs):
    db, private_db = dbs
    account_admin.disable_account(private_db, db, SYSTEM, "pol01")
    with pytest.raises(accounts.LoginFailed, match="disabled"):
        sign_in(private_db)
    account_admin.enable_account(private_db, db, SYSTEM, "pol01")
    assert sign_in(private_db)["username"] == "pol01"
    enable = audit_rows(db, "account.enable")[0]
    assert json.loads(enable["before"])["disabled"] == 1 and json.loads(enable["after"])["disabled"] == 0
    assert account_admin.list_accounts(private_db)[0]["last_sign_in_at"]


def test_locked_then_unlocked(dbs):
    db, private_db = dbs
    for _ in range(login_throttle.LIMITS[0].failures):
        with pytest.raises(accounts.LoginFailed):
            sign_in(private_db, password="wrong password!")
    assert account_admin.list_accounts(private_db)[0]["state"] == "locked"
    with pytest.raises(login_throttle.TooManyAttempts):
        sign_in(private_db)
    assert account_admin.unlock_account(private_db, db, SYSTEM, "pol01") == 5
    assert account_admin.list_accounts(private_db)[0]["state"] == "active"
    assert sign_in(private_db)["username"] == "pol01"
    assert json.loads(audit_rows(db, "account.unlock")[0]["after"])["failures_forgotten"] == 5


def test_password_reset_code_works_once_and_is_never_kept(dbs):
    db, private_db = dbs
    reset = account_admin.issue_password_reset(private_db, db, SYSTEM, "pol01")
    code = reset["code"]
    with pytest.raises(ValidationError, match="at least"):
        account_admin.redeem_password_reset(private_db, db, "pol01", code, "short")
    with pytest.raises(account_admin.ResetCodeRefused):
        account_admin.redeem_password_reset(private_db, db, "pol01", code + "x", NEW_PASSWORD)
    account_admin.redeem_password_reset(private_db, db, "POL01", code, NEW_PASSWORD)
    with pytest.raises(account_admin.ResetCodeRefused):
        account_admin.redeem_password_reset(private_db, db, "pol01", code, "yet another passphrase")
    with pytest.raises(accounts.LoginFailed):
        sign_in(private_db)
    assert sign_in(private_db, NEW_PASSWORD)
    everything = "\n".join(db.conn.iterdump()) + "\n".join(private_db.conn.iterdump())
    assert code not in everything
    assert [row["actor"] for row in audit_rows(db, "account.password_reset")] == ["pol01"]
    assert audit_rows(db, "account.reset_issued")[0]["actor"] == "system"


def test_a_reset_code_expires_and_a_new_one_cancels_the_last(dbs):
    db, private_db = dbs
    with clock_at(dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.timezone.utc)):
        old = account_admin.issue_password_reset(private_db, db, SYSTEM, "pol01")["code"]
    with pytest.raises(account_admin.ResetCodeRefused):
        account_admin.redeem_password_reset(private_db, db, "pol01", old, NEW_PASSWORD)
    first = account_admin.issue_password_reset(private_db, db, SYSTEM, "pol01")["code"]
    second = account_admin.issue_password_reset(private_db, db, SYSTEM, "pol01")["code"]
    with pytest.raises(account_admin.ResetCodeRefused):
        account_admin.redeem_password_reset(private_db, db, "pol01", first, NEW_PASSWORD)
    account_admin.redeem_password_reset(private_db, db, "pol01", second, NEW_PASSWORD)


def test_role_change_takes_effect_and_is_audited(dbs):
    db, private_db = dbs
    with pytest.raises(ValidationError, match="needs a strand"):
        account_admin.change_role(private_db, db, SYSTEM, "pol01", role="inspector")
    with pytest.raises(ValidationError, match="No strand"):
        account_admin.change_role(private_db, db, SYSTEM, "pol01", role="lead", strand="fire")
    changed = account_admin.change_role(private_db, db, SYSTEM, "pol01", role="lead", strand="police")
    assert (changed["role"], sign_in(private_db)["role"]) == ("lead", "lead")
    row = audit_rows(db, "account.role")[0]
    assert (json.loads(row["before"])["role"], json.loads(row["after"])["role"]) == ("inspector", "lead")


def test_tokens_listed_and_revoked(dbs):
    db, private_db = dbs
    token = account_admin.issue_token(private_db, db, SYSTEM, "pol01")
    assert accounts.account_for_token(private_db, token)["username"] == "pol01"
    listed = account_admin.list_tokens(private_db, "pol01")
    assert len(listed) == 1 and token not in json.dumps(listed)
    account_admin.revoke_token(private_db, db, SYSTEM, listed[0]["id"])
    assert accounts.account_for_token(private_db, token) is None
    assert audit_rows(db, "token.revoke") and token not in "\n".join(db.conn.iterdump())


# ----------------------------------------------------------------- the same through the command line


def run(store, *args, stdin=None):
    result = CliRunner().invoke(cli, [*args, "--home", str(store.home)], input=stdin)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_command_line_gives_the_same_abilities(store):
    run(store, "review", "create", "--slug", "northbury", "--title", "Northbury", "--area", "Northbury",
        "--type", "jtai_front_door", "--framework", "jtai-front-door-2024")
    assert "inspector POL-01 in northbury" in run(store, "user", "add", "pol01", "--role", "inspector", "--strand",
                                                  "police", "--inspector", "POL-01", stdin=PASSWORD + "\n")
    run(store, "user", "disable", "pol01")
    assert "disabled" in run(store, "user", "list")
    run(store, "user", "enable", "pol01")
    with contextlib.closing(store.private()) as private_db:
        for _ in range(5):
            with pytest.raises(accounts.LoginFailed):
                sign_in(private_db, password="wrong password!")
    assert " locked " in run(store, "user", "list")
    assert "forgot 5" in run(store, "user", "unlock", "pol01")
    output = run(store, "user", "reset-password", "pol01")
    code = output.splitlines()[1].strip()
    run(store, "user", "role", "pol01", "--role", "lead", "--strand", "police")
    token = run(store, "user", "token", "pol01").strip()
    assert "pol01" in run(store, "user", "tokens")
    run(store, "user", "revoke-token", "1")
    with contextlib.closing(store.private()) as private_db, contextlib.closing(store.evidence()) as db:
        account_admin.redeem_password_reset(private_db, db, "pol01", code, NEW_PASSWORD)
        assert sign_in(private_db, NEW_PASSWORD)["role"] == "lead"
        assert accounts.account_for_token(private_db, token) is None
        actions = [row[0] for row in db.execute("SELECT action FROM audit_log WHERE table_name IN"
                                                " ('accounts', 'api_tokens') ORDER BY id")]
    assert actions == ["account.add", "account.disable", "account.enable", "account.unlock", "account.reset_issued",
                       "account.role", "token.issue", "token.revoke", "account.password_reset"]
    assert "intact" in run(store, "verify")


def test_command_line_mistakes_are_one_line_messages(store):
    result = CliRunner().invoke(cli, ["user", "enable", "nobody", "--home", str(store.home)])
    assert result.exit_code == 1 and "No account called 'nobody'" in result.output
    assert "Traceback" not in result.output
    result = CliRunner().invoke(cli, ["user", "revoke-token", "99", "--home", str(store.home)])
    assert result.exit_code == 1 and "inspect-kit user tokens" in result.output
