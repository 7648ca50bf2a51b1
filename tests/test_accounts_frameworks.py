"""Accounts log in, are throttled after repeated failures and carry API tokens; framework files are checked."""

from __future__ import annotations

import datetime as dt

import pytest

from inspect_kit import accounts, frameworks, login_throttle
from inspect_kit.errors import Conflict, FrameworkError, ValidationError
from inspect_kit.schema import migrate_private
from inspect_kit.store import connect


@pytest.fixture
def private_db():
    db = connect(":memory:")
    migrate_private(db)
    yield db
    db.close()


def test_a_password_is_stored_only_as_a_salted_hash(private_db):
    accounts.add_account(private_db, username="police2", password="correct horse battery", role="inspector",
                         strand="police", inspector_code="POL-02")
    stored = private_db.execute("SELECT password_hash FROM accounts").fetchone()[0]
    assert "correct horse" not in stored and stored.startswith("scrypt:")
    assert accounts.authenticate(private_db, "police2", "correct horse battery")["inspector_code"] == "POL-02"


@pytest.mark.parametrize("kwargs, field", [
    ({"username": "Bad Name"}, "username"), ({"password": "short"}, "password"), ({"role": "king"}, "role"),
    ({"strand": None}, "strand"),
])
def test_account_rules(private_db, kwargs, field):
    values = {"username": "ofsted2", "password": "long enough password", "role": "inspector", "strand": "ofsted",
              **kwargs}
    with pytest.raises(ValidationError) as raised:
        accounts.add_account(private_db, **values)
    assert field in raised.value.field_errors


def test_a_username_is_unique(private_db):
    accounts.add_account(private_db, username="lead", password="long enough password", role="lead")
    with pytest.raises(Conflict):
        accounts.add_account(private_db, username="lead", password="long enough password", role="lead")


def test_repeated_failures_refuse_that_address_for_a_while(private_db):
    accounts.add_account(private_db, username="lead", password="long enough password", role="lead")
    start = dt.datetime(2008, 11, 20, 9, 0, tzinfo=dt.timezone.utc)
    for _ in range(5):
        with pytest.raises(accounts.LoginFailed):
            accounts.authenticate(private_db, "lead", "wrong", address="192.0.2.7", at=start)
    with pytest.raises(login_throttle.TooManyAttempts, match="after 09:15 UTC"):
        accounts.authenticate(private_db, "lead", "long enough password", address="192.0.2.7",
                              at=start + dt.timedelta(minutes=5))
    later = start + login_throttle.WINDOW + dt.timedelta(seconds=1)
    assert accounts.authenticate(private_db, "lead", "long enough password", address="192.0.2.7",
                                 at=later)["username"] == "lead"


def test_unknown_and_disabled_accounts_cannot_log_in(private_db):
    with pytest.raises(accounts.LoginFailed):
        accounts.authenticate(private_db, "nobody", "whatever password")
    accounts.add_account(private_db, username="health1", password="long enough password", role="inspector",
                         strand="health")
    accounts.disable_account(private_db, "health1")
    with pytest.raises(accounts.LoginFailed, match="disabled"):
        accounts.authenticate(private_db, "health1", "long enough password")


def test_an_api_token_is_kept_only_as_a_hash_and_dies_with_the_account(private_db):
    accounts.add_account(private_db, username="health1", password="long enough password", role="inspector",
                         strand="health")
    token = accounts.issue_token(private_db, "health1")
    assert token not in str(list(private_db.query("SELECT * FROM api_tokens")))
    assert accounts.account_for_token(private_db, token)["username"] == "health1"
    assert accounts.account_for_token(private_db, token + "x") is None
    accounts.disable_account(private_db, "health1")
    assert accounts.account_for_token(private_db, token) is None


def test_the_shipped_frameworks_load():
    codes = {f.code: f for f in frameworks.list_frameworks()}
    assert set(codes) == {"sjar-2008", "jtai-2016", "jtai-front-door-2024"}
    sjar = codes["sjar-2008"]
    assert [c.code for c in sjar.criteria] == ["1", "2.1", "2.2", "2.3", "3.1", "3.2", "3.3"]
    assert sjar.grades[0] == (4, "Outstanding")
    assert not codes["jtai-2016"].graded and len(codes["jtai-front-door-2024"].criteria) == 6


GOOD = '''format = "inspect-kit-framework/1"
code = "mine"
title = "Mine"
graded = false
[[areas]]
code = "A"
title = "Area"
[[areas.criteria]]
code = "A1"
title = "Criterion"
'''


@pytest.mark.parametrize("text, expected", [
    (GOOD.replace('graded = false', 'graded = "no"'), "graded: missing or not true/false"),
    (GOOD.replace('format = "inspect-kit-framework/1"', 'format = "v0"'), "format: must be"),
    (GOOD + '[[areas.criteria]]\ncode = "A1"\ntitle = "Again"\n',
     "areas[1].criteria[2].code: criterion code 'A1' appears twice"),
    (GOOD.replace('title = "Criterion"', ''), "areas[1].criteria[1].title: missing"),
    (GOOD.replace('graded = false', 'graded = true'), "grades: a graded framework needs"),
    (GOOD + "[[areas]]\ncode = 'B'\ntitle = 'Empty'\n", "areas[2].criteria: each area needs"),
    ('code = "mine"\ntitle = [', "not valid TOML"),
])
def test_a_broken_framework_file_is_refused_with_file_place_and_fault(tmp_path, text, expected):
    path = tmp_path / "mine.toml"
    path.write_text(text)
    with pytest.raises(FrameworkError) as raised:
        frameworks.load_framework(path)
    assert str(path) in raised.value.message
    assert expected in raised.value.message


def test_a_good_custom_framework_loads_and_an_unknown_code_lists_the_shipped_ones(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(GOOD)
    assert frameworks.load_framework(path).criteria[0].code == "A1"
    with pytest.raises(FrameworkError, match="sjar-2008"):
        frameworks.load_framework("nonexistent")
