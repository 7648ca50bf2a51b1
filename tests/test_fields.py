"""The field registry: the OpenAPI schemas, the intake forms, the capture
columns, the export columns and validation all derive from inspect_kit.fields, and agree."""

from __future__ import annotations

import datetime as dt
import pathlib

import pytest

from inspect_kit import chronology, fields, findings
from inspect_kit.datasette_plugin.catalogue import COLUMN_NOTES
from inspect_kit.errors import ValidationError
from inspect_kit.excel.capture import EVENT_CAPTURE_COLUMNS, FINDING_CAPTURE_COLUMNS
from inspect_kit.excel.evidence import CHRONOLOGY_COLUMNS, FINDING_COLUMNS
from inspect_kit.web import create_app
from inspect_kit.web.forms import EventForm, FindingForm
from inspect_kit.web.openapi import openapi_document

from .conftest import TEST_SECRET
from .library_fixtures import small_review

ROOT = pathlib.Path(__file__).resolve().parent.parent
RECORDS = [
    pytest.param(fields.FINDING, "FindingInput", FindingForm, FINDING_CAPTURE_COLUMNS, FINDING_COLUMNS, set(),
                 id="finding"),
    # An event's case is the page's (cases/<ref>/events/new), not a form field.
    pytest.param(fields.CHRONOLOGY_EVENT, "ChronologyEventInput", EventForm, EVENT_CAPTURE_COLUMNS,
                 CHRONOLOGY_COLUMNS, {"case_id"}, id="chronology_event"),
]


@pytest.fixture(scope="module")
def app():
    return create_app({"TESTING": True, "SECRET_KEY": TEST_SECRET, "WTF_CSRF_ENABLED": False})


@pytest.mark.parametrize(("record", "schema_name", "form_class", "capture", "export", "not_in_form"), RECORDS)
def test_openapi_form_capture_and_export_agree_with_the_registry(app, record, schema_name, form_class, capture,
                                                                 export, not_in_form):
    schema = openapi_document()["components"]["schemas"][schema_name]
    with app.test_request_context("/"):
        form = form_class()
    capture_columns = {column.heading: column for column in capture}
    export_columns = {column.name: column for column in export}
    required_values = {spec.name for spec in record if spec.required and spec.kind != fields.REFERENCE}
    assert set(schema["required"]) - {"client_uuid"} == required_values
    assert {spec.name for spec in record if spec.name not in form} == not_in_form
    for spec in record:
        # The form: same label; same choices, in the same order; the hint (where the form shows one).
        if spec.name in form:
            assert form[spec.name].label.text == spec.label, spec.name
            if spec.kind == fields.CHOICE:
                codes = [choice.value for choice in form[spec.name].choices]
                assert [code for code in codes if code] == list(spec.vocabulary), spec.name
            if spec.kind in fields.TEXT_KINDS:
                assert (form[spec.name].description or spec.hint) == spec.hint, spec.name
        # The capture sheet: the typed column, required as the record says, the same hint.
        column = capture_columns[spec.typed_column]
        assert column.required == spec.required, spec.name
        assert column.hint.startswith(spec.hint), spec.name
        if spec.kind == fields.CHOICE:
            assert column.dropdown == spec.name
        # The export: the same column, described from the same hint.
        assert export_columns[spec.typed_column].description == fields.reader_note(spec)
        if spec.kind == fields.REFERENCE:
            continue
        # The API: the same limit, vocabulary and words.
        prop = schema["properties"][spec.name]
        if spec.kind in fields.TEXT_KINDS:
            assert prop["maxLength"] == spec.max_length, spec.name
            assert prop.get("minLength") == (1 if spec.required else None), spec.name
            assert prop["description"].startswith(spec.hint.rstrip(".")), spec.name
        if spec.kind == fields.CHOICE:
            assert [code for code in prop["enum"] if code] == list(spec.vocabulary), spec.name
            assert (None in prop["enum"]) == (not spec.required), spec.name


@pytest.mark.parametrize(("record", "normalise"), [(fields.FINDING, findings.normalise),
                                                   (fields.CHRONOLOGY_EVENT, chronology.normalise)])
def test_validation_enforces_the_registry_limits_and_required_fields(fresh_db, record, normalise):
    review = small_review(fresh_db)
    with pytest.raises(ValidationError) as empty:
        normalise(fresh_db, review.review_id, {})
    required = {spec.name for spec in record if spec.required}
    assert required <= set(empty.value.field_errors)
    assert not {spec.name for spec in record if not spec.required and spec.kind != fields.FLAG} & set(
        empty.value.field_errors)
    base = {"case_id": review.infant, "agency_id": review.ed, "activity": "case_file_review",
            "collected_on": "2008-11-20", "evidence_text": "Seen.", "finding_type": "strength",
            "event_date": "2008-03-02", "event_type": "ed_attendance", "description": "Attended.", "criteria": ["2.1"]}
    for spec in record:
        if spec.kind not in fields.TEXT_KINDS:
            continue
        at_limit = normalise(fresh_db, review.review_id, {**base, spec.name: "x" * spec.max_length})
        assert len(at_limit[spec.name]) == spec.max_length
        with pytest.raises(ValidationError) as over:
            normalise(fresh_db, review.review_id, {**base, spec.name: "x" * (spec.max_length + 1)})
        assert over.value.field_errors[spec.name] == (
            f"The {spec.message_name} must be {spec.max_length:,} characters or fewer (it has "
            f"{spec.max_length + 1:,})")


def test_a_past_only_date_refuses_tomorrow(fresh_db):
    review = small_review(fresh_db)
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    with pytest.raises(ValidationError) as error:
        findings.normalise(fresh_db, review.review_id, {"collected_on": tomorrow})
    assert error.value.field_errors["collected_on"] == "The date the evidence was collected must be today or in the past"


def test_datasette_describes_typed_columns_from_the_registry():
    for spec in (*fields.FINDING, *fields.CHRONOLOGY_EVENT):
        if spec.kind != fields.REFERENCE and spec.name != "description":
            assert COLUMN_NOTES[spec.name] == fields.reader_note(spec), spec.name


def test_each_finding_label_hint_and_limit_is_written_once():
    """``git grep`` finds each finding field's words in one place: the registry."""
    sources = [path for path in (ROOT / "inspect_kit").rglob("*.py") if path.name != "fields.py"]
    sources += list((ROOT / "templates").rglob("*.html"))
    texts = {path: path.read_text(encoding="utf-8") for path in sources}
    phrases = [spec.hint for spec in fields.FINDING] + [
        spec.label for spec in fields.FINDING if len(spec.label.split()) > 1]
    for phrase in phrases:
        copies = [str(path.relative_to(ROOT)) for path, text in texts.items() if phrase in text]
        assert not copies, f"{phrase!r} is written again in {copies}"
    assert not [path for path, text in texts.items() if "maxLength\": 5000" in text or "limit=5000" in text]
