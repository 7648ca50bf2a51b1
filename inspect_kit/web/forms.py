"""The intake app's forms (Flask-WTF, rendered with GOV.UK widgets).

The forms only carry and re-display what was typed, plus the CSRF token and
the client uuid; the domain library (:mod:`inspect_kit.findings`,
:mod:`inspect_kit.chronology`, …) decides what is valid and its
``ValidationError.field_errors`` are shown with :meth:`IntakeForm.show_errors`.
Choice fields therefore do not check their choices (``validate_choice=False``):
an unknown code reaches the library and gets its message.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import (
    GovDateInput,
    GovFileInput,
    GovPasswordInput,
    GovRadioInput,
    GovSelect,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    Field,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from .. import fields, vocab
from ..findings import FIELDS as FINDING_FIELDS

# Each record's fields by name: labels, hints and vocabularies come from the registry.
FINDING = fields.by_name(fields.FINDING)
EVENT = fields.by_name(fields.CHRONOLOGY_EVENT)
ALERT = fields.by_name(fields.ALERT)
JUDGEMENT = fields.by_name(fields.JUDGEMENT)

# The empty first option of a select: left as it is, the field reaches the
# library empty and its message names what to choose.
PLACEHOLDER = ("", "Choose…")


def new_client_uuid() -> str:
    """A fresh id for a form, generated when the form is first shown."""
    return str(uuid.uuid4())


def choices(mapping: Mapping[str, str] | list[tuple[str, str]], placeholder: bool = True) -> list[SelectChoice]:
    """Options for a select or radios (WTForms 3.3 deprecates plain tuples)."""
    pairs = list(mapping.items()) if isinstance(mapping, Mapping) else list(mapping)
    return [SelectChoice(value, label) for value, label in ([PLACEHOLDER] if placeholder else []) + pairs]


def case_label(case: Mapping[str, Any]) -> str:
    """A case as a case picker offers it: ref, age band and legal status (what an inspector
    recognises a child by, without a name), and "your case" for the inspector's own
    (:func:`inspect_kit.reviews.cases_to_choose`)."""
    label = (f"{case['case_ref']} ({vocab.AGE_BANDS.get(case['age_band'], case['age_band'])}, "
             f"{vocab.LEGAL_STATUSES.get(case['legal_status'], case['legal_status'])})")
    return label + (" · your case" if case.get("own") else "")


class GovDateField(Field):
    """A GOV.UK date input (day, month, year) whose data is a ``date``, None
    (nothing typed) or the typed text (not a real date: the library refuses it,
    and the three boxes show what was typed)."""

    widget = GovDateInput()

    def process_formdata(self, valuelist):
        parts = [str(value).strip() for value in valuelist][:3]
        parts += [""] * (3 - len(parts))
        # The widget unpacks exactly three values when re-displaying.
        self.raw_data = parts
        if not any(parts):
            self.data = None
            return
        day, month, year = parts
        try:
            # The library bounds the year (validation.EARLIEST_DATE) and says so.
            self.data = dt.date(int(year), int(month), int(day))
        except (TypeError, ValueError):
            self.data = f"{day}/{month}/{year}"
            self.invalid_date = True

    def _value(self):
        return ""

    def iso_or_raw(self) -> Any:
        """What to give the library: an ISO date, None or the (bad) typed text."""
        if isinstance(self.data, dt.date):
            return self.data.isoformat()
        return self.data


class GovForm(FlaskForm):
    """A form that shows the library's field errors in GOV.UK style."""

    #: Messages for a field that the library would word for its own formats.
    date_message = "Enter a real date, for example 27 3 2008"

    def show_errors(self, field_errors: Mapping[str, str]) -> None:
        """Attach the library's messages to the fields they name (unknown names go to ``form_errors``)."""
        for name, message in field_errors.items():
            if name == "client_uuid":
                # A damaged hidden id: start a fresh one, keep what was typed.
                self._fields[name].data = new_client_uuid()
                self.form_errors.append("The form's submission id was damaged. Check your entries and "
                                        "submit again (or reload the page to start afresh).")
                continue
            field = self._fields.get(name)
            if isinstance(field, GovDateField) and getattr(field, "invalid_date", False):
                message = self.date_message
            if field is not None:
                field.errors = [message]
            else:
                self.form_errors.append(message)

    def error_list(self) -> list[dict[str, str]]:
        """The error summary's items, in the order of the form, each linking to its field."""
        items = []
        for name, field in self._fields.items():
            if field.errors:
                items.append({"text": field.errors[0], "href": "#" + self.anchor(name)})
        items += [{"text": message, "href": "#main-content"} for message in self.form_errors]
        return items

    def anchor(self, name: str) -> str:
        """The id of the element an error summary link should focus for field ``name``."""
        field = self._fields[name]
        if isinstance(field, GovDateField):
            return f"{field.id}-day"
        return field.id


class IntakeForm(GovForm):
    """A form that records something: it carries a client uuid, generated when
    the form is first shown and kept on every re-display, so a replay of the
    same submission never stores a second record."""

    client_uuid = HiddenField(default=new_client_uuid)


class LoginForm(GovForm):
    username = StringField("Username", widget=GovTextInput(),
                           validators=[InputRequired(message="Enter your username")])
    password = PasswordField("Password", widget=GovPasswordInput(),
                             validators=[InputRequired(message="Enter your password")])


class FindingForm(IntakeForm):
    """An evidence record. ``criteria`` and their relevance are rendered by the
    template (grouped by judgement area) and read by :meth:`domain_fields`."""

    expected_version = HiddenField()
    # The case and agency hints name the select's empty option; the date's, the three boxes.
    case_id = SelectField(FINDING["case_id"].label, widget=GovSelect(), validate_choice=False,
                          description="Your own cases come first. "
                                      "Leave as ‘No case’ for evidence that is not about one child")
    agency_id = SelectField(FINDING["agency_id"].label, widget=GovSelect(), validate_choice=False,
                            description="Leave as ‘Partnership-wide’ for evidence about several agencies")
    activity = SelectField(FINDING["activity"].label, widget=GovSelect(), validate_choice=False,
                           choices=choices(FINDING["activity"].vocabulary or {}))
    collected_on = GovDateField(FINDING["collected_on"].label, description="For example, 27 3 2008",
                                default=dt.date.today)
    evidence_text = TextAreaField(FINDING["evidence_text"].label, widget=GovTextArea(),
                                  description=FINDING["evidence_text"].hint)
    evaluation_text = TextAreaField(FINDING["evaluation_text"].label, widget=GovTextArea(),
                                    description=FINDING["evaluation_text"].hint)
    finding_type = RadioField(FINDING["finding_type"].label, widget=GovRadioInput(), validate_choice=False,
                              choices=choices(FINDING["finding_type"].vocabulary or {}, placeholder=False))
    impact_on_child = RadioField(FINDING["impact_on_child"].label, widget=GovRadioInput(), validate_choice=False,
                                 choices=choices(FINDING["impact_on_child"].vocabulary or {}, placeholder=False),
                                 default=FINDING["impact_on_child"].default)
    criteria = SelectMultipleField("Framework criteria", validate_choice=False)
    # Rendered by the template as checkboxes, one per event of the chosen case's chronology.
    event_ids = SelectMultipleField(FINDING["event_ids"].label, validate_choice=False,
                                    description=FINDING["event_ids"].hint)
    reason = TextAreaField(fields.EDIT_REASON.label, widget=GovTextArea(), description=fields.EDIT_REASON.hint)

    def set_review_lists(self, cases: list[dict], agencies: list[dict]) -> None:
        """Fill the case and agency lists from the review."""
        self.case_id.choices = choices([("", "No case")] + [(str(case["id"]), case_label(case)) for case in cases],
                                       placeholder=False)
        self.agency_id.choices = choices([("", "Partnership-wide")] + [
            (str(agency["id"]), agency["name"] + (f" ({agency['organisation']})" if agency.get("organisation") else ""))
            for agency in agencies], placeholder=False)

    def load_finding(self, finding: Mapping[str, Any]) -> None:
        """Show a stored finding for editing (a GET of the edit page)."""
        for name in FINDING_FIELDS:
            if name == "criteria":
                continue
            value = finding.get(name)
            if name == "collected_on" and value:
                value = dt.date.fromisoformat(value)
            elif name in ("case_id", "agency_id"):
                value = "" if value is None else str(value)
            elif name == "event_ids":
                value = [str(event_id) for event_id in value or []]
            self[name].data = value
        self.criteria.data = list(finding.get("criteria") or {})
        self.expected_version.data = str(finding["version"])

    def domain_fields(self, formdata: Mapping[str, Any]) -> dict[str, Any]:
        """The fields as :func:`inspect_kit.findings.normalise` expects them; a
        criterion's relevance comes from its ``relevance-CODE`` radio (primary by default)."""
        fields: dict[str, Any] = {name: self[name].data for name in FINDING_FIELDS if name != "criteria"}
        fields["collected_on"] = self.collected_on.iso_or_raw()
        fields["criteria"] = {code: formdata.get(f"relevance-{code}") or "primary" for code in self.criteria.data or []}
        return fields

    def chosen_case_id(self) -> int | None:
        """The case the form shows (as posted or loaded), whose events may be cited: one of the review's
        cases offered by :meth:`set_review_lists`, else None (no case, or an id from elsewhere)."""
        value = self.case_id.data
        offered = {choice.value for choice in self.case_id.choices or []}
        return int(value) if value and value in offered else None

    def relevance_of(self, code: str, formdata: Mapping[str, Any], stored: Mapping[str, str]) -> str:
        """The relevance to show for a criterion: as posted, else as stored, else primary."""
        return formdata.get(f"relevance-{code}") or stored.get(code) or "primary"


class QaForm(IntakeForm):
    """Accept, return, submit or withdraw a finding: the action, a comment,
    the finding's version the page showed and the action's client uuid."""

    action = HiddenField()
    expected_version = HiddenField()
    comment = TextAreaField("Comment", widget=GovTextArea())

    def version_read(self) -> int:
        """The version the page showed; 0 (stale: the library answers that the
        finding changed) when the hidden field is missing or damaged."""
        value = self.expected_version.data
        return int(value) if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19 else 0


class EventForm(IntakeForm):
    """A chronology event for one case."""

    agency_id = SelectField(EVENT["agency_id"].label, widget=GovSelect(), validate_choice=False)
    practitioner_role = StringField(EVENT["practitioner_role"].label, widget=GovTextInput(),
                                    description=EVENT["practitioner_role"].hint)
    event_date = GovDateField(EVENT["event_date"].label, description="For example, 27 3 2008", default=dt.date.today)
    date_precision = RadioField(EVENT["date_precision"].label, widget=GovRadioInput(), validate_choice=False,
                                choices=choices(EVENT["date_precision"].vocabulary or {}, placeholder=False),
                                default=EVENT["date_precision"].default)
    event_type = SelectField(EVENT["event_type"].label, widget=GovSelect(), validate_choice=False,
                             choices=choices(EVENT["event_type"].vocabulary or {}))
    description = TextAreaField(EVENT["description"].label, widget=GovTextArea())
    source_of_information = StringField(EVENT["source_of_information"].label, widget=GovTextInput(),
                                        description=EVENT["source_of_information"].hint)
    key_event = BooleanField(EVENT["key_event"].label)
    missed_opportunity = BooleanField(EVENT["missed_opportunity"].label)
    good_practice = BooleanField(EVENT["good_practice"].label)

    FLAGS = tuple(name for name, field in EVENT.items() if field.kind == fields.FLAG)

    def set_agencies(self, agencies: list[dict]) -> None:
        self.agency_id.choices = choices([(str(agency["id"]), agency["name"]) for agency in agencies])

    def domain_fields(self, case_id: int) -> dict[str, Any]:
        typed: dict[str, Any] = {name: self[name].data for name, field in EVENT.items()
                                 if field.kind not in (fields.FLAG, fields.DATE) and name != "case_id"}
        typed.update({flag: bool(self[flag].data) for flag in self.FLAGS})
        typed["event_date"] = self.event_date.iso_or_raw()
        typed["case_id"] = case_id
        return typed

    def anchor(self, name: str) -> str:
        if name in self.FLAGS:
            return "flags"
        return super().anchor(name)


class AlertForm(IntakeForm):
    """Raise a safeguarding alert about a case or a finding."""

    case_id = SelectField(ALERT["case_id"].label, widget=GovSelect(), validate_choice=False)
    finding = HiddenField()
    # The radios say what each urgency means for the referral's due date.
    urgency = RadioField(ALERT["urgency"].label, widget=GovRadioInput(), validate_choice=False,
                         choices=choices([("urgent", "Urgent – the child may be at immediate risk (refer today)"),
                                          ("routine", "Routine – refer within 2 days")], placeholder=False))
    concern = TextAreaField(ALERT["concern"].label, widget=GovTextArea(), description=ALERT["concern"].hint)

    def set_cases(self, cases: list[dict]) -> None:
        self.case_id.choices = choices([(str(case["id"]), case_label(case)) for case in cases])


class AlertStepForm(IntakeForm):
    """Move an alert on: refer, record the response, close."""

    step = HiddenField()
    referred_to = StringField("Referred to", widget=GovTextInput(),
                              description="For example, the local authority's MASH duty manager")
    response_due = GovDateField("Response due (optional)",
                                description="Leave blank for the default: 1 day if urgent, 5 days if routine")
    response = TextAreaField("Response received", widget=GovTextArea())
    note = TextAreaField("Closing note (optional)", widget=GovTextArea())


class AttachmentForm(IntakeForm):
    """Upload one file to a finding."""

    file = FileField("Attach a file", widget=GovFileInput(),
                     description="A PDF, PNG or JPEG (for example, a redacted page or a photo of a whiteboard)")


class JudgementForm(GovForm):
    """The lead's judgement of one criterion: a grade (graded frameworks) or the
    two statements (ungraded), the narrative, and the cited findings. Each
    cited finding is a ``citations`` checkbox and its quote a ``quote-<public id>``
    text box, rendered by the template beside the evidence list."""

    expected_version = HiddenField()
    proposed_grade = RadioField(JUDGEMENT["proposed_grade"].label, widget=GovRadioInput(), validate_choice=False)
    narrative = TextAreaField(JUDGEMENT["narrative"].label, widget=GovTextArea(),
                              description=JUDGEMENT["narrative"].hint)
    strengths = TextAreaField(JUDGEMENT["strengths"].label, widget=GovTextArea(),
                              description=JUDGEMENT["strengths"].hint)
    areas_for_improvement = TextAreaField(JUDGEMENT["areas_for_improvement"].label, widget=GovTextArea(),
                                          description=JUDGEMENT["areas_for_improvement"].hint)
    reason = TextAreaField(JUDGEMENT["reason"].label, widget=GovTextArea(), description=JUDGEMENT["reason"].hint)
    citations = SelectMultipleField("Evidence cited", validate_choice=False)

    def set_grades(self, grades: Mapping[int, str]) -> None:
        self.proposed_grade.choices = choices([(str(g), f"{g} {label}") for g, label in grades.items()],
                                              placeholder=False)

    def load_judgement(self, judgement: Mapping[str, Any]) -> None:
        """Show a stored judgement (a GET of the workspace)."""
        grade = judgement.get("proposed_grade")
        self.proposed_grade.data = "" if grade is None else str(grade)
        for name in ("narrative", "strengths", "areas_for_improvement"):
            self[name].data = judgement.get(name) or ""
        self.citations.data = [c["public_id"] for c in judgement.get("citations") or []]
        self.expected_version.data = str(judgement["version"])

    def domain_fields(self, formdata: Mapping[str, Any]) -> dict[str, Any]:
        """The fields as :func:`inspect_kit.judgements.record_judgement` takes them."""
        return {
            "proposed_grade": self.proposed_grade.data or None,
            "narrative": self.narrative.data, "strengths": self.strengths.data,
            "areas_for_improvement": self.areas_for_improvement.data, "reason": self.reason.data,
            "citations": [{"finding": public_id, "quote": formdata.get(f"quote-{public_id}") or None}
                          for public_id in self.citations.data or []],
        }

    def show_errors(self, field_errors: Mapping[str, str]) -> None:
        """As :meth:`GovForm.show_errors`; a quote's error is kept for its own box (``quote_errors``)."""
        self.quote_errors = {name[len("quote-"):]: message for name, message in field_errors.items()
                             if name.startswith("quote-")}
        others = {name: message for name, message in field_errors.items()
                  if not name.startswith("quote-") and not (name == "citations" and self.quote_errors)}
        super().show_errors(others)

    def error_list(self) -> list[dict[str, str]]:
        items = super().error_list()
        items += [{"text": message, "href": f"#quote-{public_id}"}
                  for public_id, message in getattr(self, "quote_errors", {}).items()]
        return items

    @property
    def errors(self):  # the page title's "Error:" and the summary also count the quote errors
        found = dict(super().errors)
        if getattr(self, "quote_errors", None):
            found["citations"] = list(self.quote_errors.values())
        return found


class ModerationForm(GovForm):
    """The moderator's grade and reason, beside the lead's proposal."""

    moderated_grade = RadioField("Moderated grade", widget=GovRadioInput(), validate_choice=False)
    note = TextAreaField("Reason for the moderated grade", widget=GovTextArea(),
                         description="Why you agree or disagree with the proposal; the lead reads it.")

    def set_grades(self, grades: Mapping[int, str]) -> None:
        self.moderated_grade.choices = choices([(str(g), f"{g} {label}") for g, label in grades.items()],
                                               placeholder=False)
