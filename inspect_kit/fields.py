"""The field registry: one definition of every field a person types, per record.

Each record (finding, chronology event, safeguarding alert, judgement, case,
agency) is a tuple of :class:`Field`. A field's name, label, hint, kind,
whether it is required, its limits and its vocabulary are written here once;
validation (:func:`read`), the intake forms, the OpenAPI document, the
capture, import and export workbooks and the Datasette column descriptions
derive theirs from it, so the six places that used to word and bound the same
field differently (``evidence_text`` was worded five ways) cannot drift apart.

To add a field (a review's set-up may give cases and agencies more), add a
:class:`Field` to the record's tuple; surfaces that list a record's fields
pick it up.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from . import validation, vocab

# Kinds of field.
TEXT = "text"              # one paragraph or more, up to validation.LONG_TEXT_LIMIT
LONG_TEXT = "long text"     # a longer text with its own limit (a judgement's narrative)
LINE = "one-line text"      # a role, a source, a name: no tabs or line breaks
DATE = "date"               # YYYY-MM-DD from validation.EARLIEST_DATE
CHOICE = "choice"           # one code of a vocabulary
REFERENCE = "reference"     # the id of a row of the review (a case, an agency)
REFERENCES = "references"   # ids of several rows of the review (the chronology events a finding cites)
INTEGER = "integer"
FLAG = "yes/no"
UUID = "uuid"

TEXT_KINDS = (TEXT, LONG_TEXT, LINE)


@dataclass(frozen=True)
class Field:
    """One field of a record.

    ``label`` is what a form shows; ``noun`` is how a message names the field
    ("Enter the evidence"), by default the label with a small first letter.
    ``hint`` says what to enter (the form's hint, the workbook's "what to
    enter", the API's and Datasette's description). ``max_length`` counts
    characters as sent; ``past_only`` dates run to today. ``vocabulary`` is
    the ``vocab`` mapping (code → label) of a choice; ``table`` and ``column``
    name a reference's table and the column a person types instead of its id
    (``agency`` for ``agency_id``). ``default`` is stored when nothing is given.
    """

    name: str
    label: str
    hint: str = ""
    kind: str = TEXT
    required: bool = False
    max_length: int | None = None
    vocabulary: Mapping[str, str] | None = None
    default: Any = None
    noun: str | None = None
    past_only: bool = False
    table: str | None = None
    column: str | None = None
    max_items: int | None = None

    def __post_init__(self) -> None:
        if self.kind in TEXT_KINDS and self.max_length is None:
            object.__setattr__(self, "max_length", validation.SHORT_TEXT_LIMIT if self.kind == LINE
                               else validation.LONG_TEXT_LIMIT)

    @property
    def message_name(self) -> str:
        """How a message names the field: ``noun``, else the label with a small first letter."""
        return self.noun or self.label[:1].lower() + self.label[1:]

    @property
    def multiline(self) -> bool:
        return self.kind != LINE

    @property
    def typed_column(self) -> str:
        """The column a person fills in a workbook or an API body (``agency`` for ``agency_id``)."""
        return self.column or self.name


def reader_note(field: Field) -> str:
    """The field's description for a reader of stored rows (Datasette, the evidence workbook):
    its hint, with how a date or a yes/no is stored."""
    if field.kind == FLAG:
        return "1 " + field.hint[:1].lower() + field.hint[1:] + "."
    note = field.hint.rstrip(".")
    return note + (" (YYYY-MM-DD)." if field.kind == DATE else ".")


def by_name(record: tuple[Field, ...]) -> dict[str, Field]:
    """A record's fields by name."""
    return {field.name: field for field in record}


# --------------------------------------------------------------------------- findings

# A finding rests on a handful of events; 50 covers a pattern across the index
# case's ~62 contacts without letting one record cite a whole store.
MAX_CITED_EVENTS = 50

FINDING: tuple[Field, ...] = (
    Field("agency_id", "Agency", "The agency (service) the evidence is about; empty for partnership-wide evidence",
          kind=REFERENCE, table="agencies", column="agency"),
    Field("case_id", "Case (child)", "The child's case reference, e.g. C-017; empty when not about one child",
          kind=REFERENCE, table="cases", column="case_ref", noun="case"),
    Field("activity", "Activity", "How the evidence was gathered", kind=CHOICE, required=True,
          vocabulary=vocab.ACTIVITIES),
    Field("collected_on", "Date the evidence was collected", "When the evidence was collected", kind=DATE,
          required=True, past_only=True),
    Field("evidence_text", "Evidence", "What you saw, read or were told. Refer to people by role, never by name.",
          required=True),
    Field("evaluation_text", "Evaluation", "What it shows about practice and its impact (optional)"),
    Field("finding_type", "Type of finding", "Strength, area for improvement, serious weakness or context",
          kind=CHOICE, required=True, vocabulary=vocab.FINDING_TYPES),
    Field("impact_on_child", "Impact on the child", "The impact on the child (default: not known)", kind=CHOICE,
          vocabulary=vocab.IMPACTS_ON_CHILD, default="not_known"),
    # Events of the finding's own case only (findings.normalise checks the case).
    Field("event_ids", "Chronology events it rests on",
          f"The events of the case's chronology this evidence rests on (at most {MAX_CITED_EVENTS})",
          kind=REFERENCES, table="chronology_events", column="events",
          noun="cited events", max_items=MAX_CITED_EVENTS),
)

# Asked when a submitted finding is edited (the earlier version is kept).
EDIT_REASON = Field("reason", "Reason for the change", "This record has been submitted: say what you changed and "
                    "why. The earlier version is kept.", max_length=2_000)

# --------------------------------------------------------------------------- chronology events

CHRONOLOGY_EVENT: tuple[Field, ...] = (
    Field("case_id", "Case (child)", "The child's case reference, e.g. C-017", kind=REFERENCE, required=True,
          table="cases", column="case_ref", noun="case"),
    Field("agency_id", "Agency (service)", "The agency involved", kind=REFERENCE, required=True,
          table="agencies", column="agency", noun="agency"),
    Field("practitioner_role", "Practitioner’s role",
          "For example, duty social worker or locum paediatrician. Never a name.", kind=LINE,
          noun="practitioner's role"),
    Field("event_date", "Date of the event", "When the event happened", kind=DATE, required=True, past_only=True),
    Field("date_precision", "How exact is the date?", "How exact the date is (default: exact day)", kind=CHOICE,
          vocabulary=vocab.DATE_PRECISIONS, default="day", noun="date precision"),
    Field("event_type", "Type of event", "The kind of contact or event", kind=CHOICE, required=True,
          vocabulary=vocab.EVENT_TYPES),
    Field("description", "What happened", "What happened", required=True, noun="description of the event"),
    Field("source_of_information", "Source of information",
          "Where the information came from, for example the ED record or the GP notes", kind=LINE,
          max_length=validation.SHORT_TEXT_LIMIT * 2),
    Field("key_event", "Key event", "When the event is a turning point in the child's story", kind=FLAG,
          noun="Key event"),
    Field("missed_opportunity", "Missed opportunity",
          "When an agency could have acted to protect the child and did not", kind=FLAG, noun="Missed opportunity"),
    Field("good_practice", "Good practice", "When the practice was good and should be recognised", kind=FLAG,
          noun="Good practice"),
)

# --------------------------------------------------------------------------- safeguarding alerts

ALERT: tuple[Field, ...] = (
    Field("urgency", "How urgent is it?", "Urgent: the child may be at immediate risk (refer today); routine: "
          "refer within 2 days", kind=CHOICE, required=True, vocabulary=vocab.ALERT_URGENCIES, noun="urgency"),
    Field("concern", "What is the concern?",
          "What you found and why the child may be at risk. Roles, not names.", required=True,
          max_length=validation.COMMENT_LIMIT, noun="concern about the child"),
    # Required unless the alert is raised from a finding (whose case it then takes).
    Field("case_id", "Case (child)", "The case (child) the alert is about", kind=REFERENCE, table="cases",
          column="case_ref", noun="case"),
    Field("referral_due", "Referral due", "When the referral is due (by default today if urgent, in 2 days if routine)",
          kind=DATE, noun="referral due date"),
)

# --------------------------------------------------------------------------- judgements

JUDGEMENT: tuple[Field, ...] = (
    Field("scope", "Scope", "Partnership-wide or one agency", kind=CHOICE, required=True,
          vocabulary=vocab.JUDGEMENT_SCOPES),
    # Required when the scope is one agency.
    Field("agency_id", "Agency", "The agency judged (a judgement of one agency)", kind=REFERENCE,
          table="agencies", column="agency"),
    Field("proposed_grade", "Proposed grade", "Grade proposed by the lead (see the grading scale)", kind=INTEGER),
    # Twice an ordinary text: a judgement's narrative gathers a whole area's evidence.
    Field("narrative", "Narrative", "The judgement in words, as it should read in the report.", kind=LONG_TEXT,
          required=True, max_length=40_000),
    Field("strengths", "Strengths", "What works well for children (ungraded frameworks: the judgement).",
          max_length=validation.LONG_TEXT_LIMIT),
    Field("areas_for_improvement", "Areas for improvement",
          "What needs to improve; it goes to the report's ‘What needs to improve’.",
          max_length=validation.LONG_TEXT_LIMIT),
    Field("reason", "Reason for the change (optional)",
          "Kept in the judgement's history, for example ‘after moderation’.", max_length=validation.COMMENT_LIMIT,
          noun="reason for the change"),
)

# --------------------------------------------------------------------------- cases and agencies

CASE: tuple[Field, ...] = (
    Field("case_ref", "Case reference",
          "Pseudonymous case reference; the key to the child's identity is not in this database.", kind=LINE,
          required=True, max_length=40),
    Field("age_band", "Age band", "The child's age band", kind=CHOICE, required=True, vocabulary=vocab.AGE_BANDS),
    Field("legal_status", "Legal status", "The child's legal status", kind=CHOICE, required=True,
          vocabulary=vocab.LEGAL_STATUSES),
    Field("cp_category", "Child-protection category", "The category of a child-protection plan, if any",
          kind=CHOICE, vocabulary=vocab.CP_CATEGORIES),
    Field("selection_route", "How the case was selected", "How the case came into the sample", kind=CHOICE,
          required=True, vocabulary=vocab.SELECTION_ROUTES),
)

AGENCY: tuple[Field, ...] = (
    Field("name", "Agency", "The agency (service), e.g. Ashbridge Police MASH desk", kind=LINE, required=True),
    Field("organisation", "Organisation", "The organisation the service belongs to", kind=LINE),
    Field("agency_type", "Type of agency", "Social care, police, health, education, …", kind=CHOICE, required=True,
          vocabulary=vocab.AGENCY_TYPES),
)

RECORDS: dict[str, tuple[Field, ...]] = {
    "finding": FINDING, "chronology_event": CHRONOLOGY_EVENT, "safeguarding_alert": ALERT,
    "judgement": JUDGEMENT, "case": CASE, "agency": AGENCY,
}


# --------------------------------------------------------------------------- validation

def read(field: Field, fields: Mapping[str, Any], errors: dict[str, str], *, db: Database | None = None,
         review_id: int | None = None, today: dt.date | None = None) -> Any:
    """The value to store for ``field`` from the submitted ``fields`` under its rule
    (:mod:`inspect_kit.validation`), or None; a fault goes to ``errors[field.name]``.

    A reference needs ``db`` and ``review_id`` (an id of another review is refused
    like an unknown one); a ``past_only`` date runs to ``today`` (by default the
    real today).
    """
    label = field.message_name
    if field.kind in TEXT_KINDS:
        return validation.text(fields, field.name, errors, label=label, required=field.required,
                               limit=field.max_length or validation.LONG_TEXT_LIMIT, multiline=field.multiline)
    if field.kind == CHOICE:
        assert field.vocabulary is not None
        return validation.choice(fields, field.name, dict(field.vocabulary), errors, label=label,
                                 default=field.default, required=field.required)
    if field.kind == DATE:
        return validation.iso_date(fields, field.name, errors, label=label, required=field.required,
                                   not_after=(today or dt.date.today()) if field.past_only else None)
    if field.kind == FLAG:
        return validation.flag(fields, field.name, errors, label=label)
    if field.kind == REFERENCE:
        assert db is not None and review_id is not None and field.table is not None
        return validation.review_row_id(db, field.table, dict(fields), field.name, review_id, errors, label=label,
                                        required=field.required)
    if field.kind == REFERENCES:
        assert db is not None and review_id is not None and field.table is not None
        return validation.review_row_ids(db, field.table, fields.get(field.name), field.name, review_id, errors,
                                         label=label, limit=field.max_items or validation.MAX_INT)
    raise ValueError(f"no reader for a {field.kind} field ({field.name})")


def read_record(record: tuple[Field, ...], fields: Mapping[str, Any], errors: dict[str, str], *,
                db: Database | None = None, review_id: int | None = None,
                today: dt.date | None = None) -> dict[str, Any]:
    """Every field of ``record`` read with :func:`read`, in the record's order."""
    return {field.name: read(field, fields, errors, db=db, review_id=review_id, today=today) for field in record}

