"""The access policy as decided: the table, cell by cell, typed once here on purpose.

tests/test_access_walk.py takes every expected status from inspect_kit.policy,
so a wrong cell in the policy would pass the walk; this file is the other half:
the decided table written out, checked against the policy's data and predicates.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from inspect_kit import policy
from inspect_kit.actors import SYSTEM, Actor

OFSTED = Actor("ofsted", "inspector", "ofsted", 1)
POLICE = Actor("police", "inspector", "police", 2)
LEAD = Actor("lead", "lead", "ofsted", 3)
MODERATOR = Actor("moderator", "moderator", "ofsted", 4)  # linked to an inspector of the review, as in the demo
ADMIN = Actor("admin", "admin")
EVERYONE = {"anonymous": None, "ofsted": OFSTED, "police": POLICE, "lead": LEAD, "moderator": MODERATOR,
            "admin": ADMIN}

OFSTED_FINDING = {"strand": "ofsted", "inspector_id": 1, "qa_status": "submitted"}
LEADS_FINDING = {"strand": "ofsted", "inspector_id": 3, "qa_status": "submitted"}

# permission → who holds it (the decided table)
DECIDED = {
    policy.READ_OWN_STRAND_FINDINGS: {"ofsted", "police"},
    policy.READ_ALL_FINDINGS: {"lead", "moderator"},
    policy.AUTHOR_FINDINGS: {"ofsted", "police", "lead"},
    policy.QA_FINDINGS: {"lead", "moderator"},
    policy.READ_CHRONOLOGIES: {"ofsted", "police", "lead", "moderator"},
    policy.WRITE_CHRONOLOGIES: {"ofsted", "police", "lead"},
    policy.READ_ALERTS: {"ofsted", "police", "lead", "moderator"},
    policy.RAISE_ALERTS: {"ofsted", "police", "lead"},
    policy.PROGRESS_ALERTS: {"lead"},
    policy.READ_JUDGEMENTS: {"lead", "moderator"},
    policy.PROPOSE_JUDGEMENTS: {"lead"},
    policy.MODERATE_JUDGEMENTS: {"moderator"},
    policy.READ_AUDIT: {"lead", "moderator"},
    policy.READ_AUDIT_OUTLINE: {"lead", "moderator", "admin"},
    policy.ADMINISTER: {"admin"},
    policy.SET_REVIEW_STATUS: {"lead", "admin"},
    policy.WRITE_SQL: {"lead", "moderator"},
    policy.SEE_STORE_PATHS: {"lead"},
    policy.SIGN_IN: {"ofsted", "police", "lead", "moderator", "admin"},
    policy.EXPORT_EVIDENCE: {"ofsted", "police", "lead", "moderator"},
}


def test_every_permission_is_decided():
    assert set(DECIDED) == set(policy.PERMISSIONS)


@pytest.mark.parametrize("permission", sorted(DECIDED))
def test_the_access_table(permission):
    holders = {who for who, actor in EVERYONE.items() if policy.may(actor, permission)}
    assert holders == DECIDED[permission]
    assert policy.may(SYSTEM, permission)  # the terminal


def test_findings_by_strand_and_authorship():
    assert [who for who, actor in EVERYONE.items() if policy.may_read_finding(actor, OFSTED_FINDING)] == [
        "ofsted", "lead", "moderator"]
    assert [who for who, actor in EVERYONE.items() if policy.may_edit_text(actor, OFSTED_FINDING)] == ["ofsted"]
    assert [who for who, actor in EVERYONE.items() if policy.may_attach(actor, OFSTED_FINDING)] == ["ofsted"]
    assert policy.may_edit_text(LEAD, LEADS_FINDING) and not policy.may_edit_text(MODERATOR, LEADS_FINDING)
    assert not policy.may_attach(OFSTED, {**OFSTED_FINDING, "qa_status": "withdrawn"})


@pytest.mark.parametrize("action, allowed", [
    ("submit", {"ofsted"}), ("withdraw", {"ofsted"}), ("accept", {"lead", "moderator"}),
    ("return", {"lead", "moderator"}), ("delete", set()),
])
def test_qa_actions(action, allowed):
    assert {who for who, actor in EVERYONE.items() if policy.may_qa(actor, OFSTED_FINDING, action)} == allowed


def test_a_moderator_linked_to_an_inspector_still_does_not_author():
    assert not policy.may_record_findings(MODERATOR) and not policy.may_write_chronology(MODERATOR)
    assert not policy.is_author(Actor("moderator", "moderator", "ofsted", 1), OFSTED_FINDING)


def test_exports_hold_what_the_exporter_reads():
    assert policy.export_scope(POLICE) == "police"
    assert policy.export_scope(LEAD) is True and policy.export_scope(MODERATOR) is True
    assert policy.export_scope(ADMIN) is False and policy.export_scope(None) is False


def test_admins_read_the_audit_log_without_its_content():
    assert policy.audit_columns(ADMIN) == ("id", "at", "actor", "action", "table_name", "row_id")
    assert {"before", "after", "detail"} <= set(policy.audit_columns(LEAD))
    assert policy.audit_columns(POLICE) == ()


def test_another_review_only_for_its_inspectors():
    assert policy.may_open_review(ADMIN, current=True)
    assert not policy.may_open_review(ADMIN, current=False) and not policy.may_open_review(None, current=True)
    assert policy.may_open_review(LEAD, current=False)  # linked to an inspector of that review


@pytest.mark.parametrize("role, opens_every_review, sql_role", [
    ("lead", True, "lead"), ("moderator", True, "moderator"),
    ("lead", False, None), ("moderator", False, None),          # SQL would read the reviews they may not open
    ("inspector", True, None), ("admin", True, None), (None, True, None),
])
def test_sql_in_datasette_only_for_those_who_open_every_review(role, opens_every_review, sql_role):
    assert policy.datasette_sql_role(role, opens_every_review=opens_every_review) == sql_role
    # …and the allow blocks of SQL match on that key, not on the role.
    assert policy.datasette_allow(policy.WRITE_SQL) == {policy.DATASETTE_SQL_ROLE: ["lead", "moderator"]}


@pytest.mark.parametrize("table, roles", [
    ("cases", ("inspector", "lead", "moderator", "admin")),
    ("chronology_events", ("inspector", "lead", "moderator")),
    ("chronology_events_fts_data", ("inspector", "lead", "moderator")),
    ("safeguarding_alerts", ("inspector", "lead", "moderator")),
    ("findings", ("lead", "moderator")),
    ("findings_fts", ("lead", "moderator")),
    ("judgements", ("lead", "moderator")),
    ("audit_log", ("lead", "moderator")),
    ("a_table_added_later", ("lead", "moderator")),
])
def test_datasette_tables(table, roles):
    assert policy.roles_with(policy.datasette_table_permission(table)) == roles


@pytest.mark.parametrize("endpoint, roles", [
    ("databases", ("lead",)), ("plugins", ("lead",)), ("threads", ("lead",)),
    ("versions", ("lead", "moderator")), ("settings", ("lead", "moderator")),
    ("metadata", ("inspector", "lead", "moderator", "admin")), ("actor", ("inspector", "lead", "moderator", "admin")),
    ("permissions", ()), ("allow-debug", ()), ("messages", ()), ("patterns", ()), ("auth-token", ()),
    ("something-new", ()),
])
def test_datasette_endpoints(endpoint, roles):
    assert policy.roles_with(policy.datasette_endpoint_permission(endpoint)) == roles


def test_sessions_end_when_the_account_changes():
    account = {"role": "inspector", "strand": "police", "disabled": 0}
    assert policy.session_still_valid(account, "inspector", "police")
    assert not policy.session_still_valid(account, "inspector", "health")
    assert not policy.session_still_valid(account, "lead")
    assert not policy.session_still_valid({**account, "disabled": 1}, "inspector", "police")
    assert not policy.session_still_valid(None, "inspector", "police")
    assert not policy.session_still_valid({"role": "system"}, "system")  # never an account's role


def test_an_unknown_permission_is_an_error_not_a_silent_no():
    with pytest.raises(KeyError):
        policy.roles_with("read_everything")


def test_the_policy_knows_no_framework():
    """A domain module: no Flask, Datasette or click (they ask it; it asks nothing of them)."""
    tree = ast.parse(Path(policy.__file__).read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {(node.module or "").split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not imported & {"flask", "datasette", "click", "werkzeug"}


def test_the_terminals_actor_holds_the_system_role():
    from inspect_kit.actors import SYSTEM

    assert SYSTEM.role == policy.SYSTEM_ROLE
    assert all(policy.may(SYSTEM, permission) for permission in policy.PERMISSIONS)


@pytest.mark.parametrize("table", ["finding_events", "finding_event_links"])
def test_finding_event_links_are_for_readers_of_both_findings_and_chronologies(table):
    """A link names a finding of any strand and a case's event: only those who read both see the links."""
    permission = policy.datasette_table_permission(table)
    holders = set(policy.roles_with(permission))
    assert holders and holders <= set(policy.roles_with(policy.READ_ALL_FINDINGS))
    assert holders <= set(policy.roles_with(policy.READ_CHRONOLOGIES))
    assert {"inspector", "admin"}.isdisjoint(holders)
