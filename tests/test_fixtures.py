"""The test layer itself: the shared review, the database closer and the HTML reader."""

from __future__ import annotations

import sqlite3

import pytest
from sqlite_utils import Database

from inspect_kit import accounts

from .conftest import closing_databases
from .pages import checked, form_fields, hidden, links, text_of, texts


def test_fixture_review_has_an_account_per_role(review_store, ids):
    roles = {account["role"] for account in accounts.list_accounts(review_store.private())}
    assert roles == {"inspector", "lead", "moderator", "admin"}
    assert ids.foreign_case_id != ids.case_id


def test_databases_opened_in_the_block_are_closed_when_it_ends(store, tmp_path):
    before = Database.__init__
    with closing_databases() as opened:
        assert Database.__init__ is not before
        evidence = store.evidence()
        raw = sqlite3.connect(tmp_path / "scratch.db")
        assert evidence.execute("select count(*) from reviews").fetchone() == (0,)
        assert raw.execute("select 1").fetchone() == (1,)
        assert evidence in opened and raw in opened
    for connection in (evidence.conn, raw):
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            connection.execute("select 1")
    assert Database.__init__ is before  # the tracking is undone


def test_every_test_runs_inside_the_closer(close_databases, store):
    evidence = store.evidence()
    assert evidence in close_databases


def test_fresh_db_and_store_are_private_copies(fresh_db, store, memory_template, store_template):
    fresh_db["scratch"].insert({"id": 1})
    assert "scratch" not in memory_template.table_names()
    assert {"findings", "reviews"} <= set(fresh_db.table_names())
    store.evidence()["scratch"].insert({"id": 1})
    assert store.home != store_template.home
    assert "scratch" not in store_template.evidence().table_names()
    assert (store.home.stat().st_mode & 0o777) == 0o700
    assert (store.evidence_path.stat().st_mode & 0o777) == 0o600


PAGE = """<!doctype html><html><body>
<h1 class="govuk-heading-l">  Record a
   finding </h1>
<!-- <input name="csrf_token" type="hidden" value="in-a-comment"> -->
<form method="post" id="finding-form">
  <input value="tok-1" type="hidden" name="csrf_token">
  <input name="client_uuid" type="hidden" value="uuid-1">
  <input type="text" name="evidence_text" value="Kept text">
  <input type="radio" name="finding_type" value="strength">
  <input checked type="radio" value="area_for_improvement" name="finding_type">
  <input type="checkbox" name="criteria" value="2.1" checked>
  <input type="checkbox" name="criteria" value="2.3">
  <input type="checkbox" name="criteria" value="3.3" checked>
  <select name="case_id"><option value="">Choose</option><option selected value="7">C-017</option></select>
  <textarea name="evaluation_text">Two
lines</textarea>
  <input type="submit" name="action" value="submit">
  <a href="/cases">Cases</a>
</form>
<ul><li>one</li><li> two </li></ul>
</body></html>"""


def test_hidden_reads_the_value_whatever_the_order_of_attributes():
    assert hidden(PAGE, "csrf_token") == "tok-1"
    assert hidden(PAGE, "client_uuid") == "uuid-1"
    with pytest.raises(AssertionError, match="nothing on the page"):
        hidden(PAGE, "expected_version")


def test_form_fields_are_what_a_browser_would_submit():
    assert form_fields(PAGE, "#finding-form") == {
        "csrf_token": "tok-1", "client_uuid": "uuid-1", "evidence_text": "Kept text",
        "finding_type": "area_for_improvement", "criteria": ["2.1", "3.3"], "case_id": "7",
        "evaluation_text": "Two\nlines",
    }
    assert checked(PAGE, "criteria") == ["2.1", "3.3"]


def test_text_and_links_are_read_from_elements():
    assert text_of(PAGE, "h1") == "Record a finding"
    assert texts(PAGE, "li") == ["one", "two"]
    assert links(PAGE) == ["/cases"]
