"""The demo review: the fictional "Ashbridge" special joint area review (docs/architecture.md §7).

:func:`create_demo` builds, through the domain library (so findings have
versions, QA actions and audit rows exactly as in real use), a review in its
sixth day of fieldwork: 27 services, 8 inspectors and a moderator with their
accounts, 180 children (40 sampled, 8 of them tracked, plus the index case
C-017), about 720 findings, about 1,100 chronology events, judgements and 3
safeguarding alerts. The content lives in :mod:`inspect_kit.demo.data`.
Generation is deterministic: the same ``start`` and ``seed`` give the same
rows (only timestamps differ, since the library stamps writes with the clock).

Every demo account has the password ``ashbridge-demo`` (``DEMO_PASSWORD``):
``admin``, ``lead`` (OFS-01), ``moderator`` (MOD-01), ``ofsted2``–``ofsted4``,
``health1``–``health2``, ``police1``–``police2``.

Traps planted for the lead's canned queries (docs/architecture.md §6), and how to find them:

- **Identifier check (q. 13).** Exactly two findings quote an NHS-number-shaped
  identifier in ``evidence_text``: three digits, a space, three digits, a
  space, four digits (``943 476 5919`` and ``999 000 0018``; regex
  ``IDENTIFIER_RE`` = ``\\b\\d{3} \\d{3} \\d{4}\\b``; in SQLite, which has no
  regexp by default, ``IDENTIFIER_GLOB``:
  ``evidence_text GLOB '*[0-9][0-9][0-9] [0-9][0-9][0-9] [0-9][0-9][0-9][0-9]*'``).
  No other finding text or chronology description matches either form.
- **Contested events (q. 11).** Exactly one pair of chronology events has the
  same case, the same ``event_type``, different agencies and event dates at
  most ``CONTESTED_MAX_DAYS`` (1) day apart: C-017's ED attendance, recorded by
  the emergency department and, a day later and differently, by health
  visiting. The generator moves any other event that would match the rule.
- **Out-of-order entry.** C-017's late health-visiting entry is recorded last
  of all events (highest id, latest ``created_at``) but dated early in the
  story: sort chronologies by ``event_date``, never by id.
- **Approximate dates.** Exactly three events (all in C-017) have
  ``date_precision`` other than ``day``.
- **Coverage gaps (q. 6).** No police finding is linked to criterion 3.3 and
  no health finding to 3.1; every other strand × criterion cell has evidence.
- **Grade against the evidence (q. 9).** Criterion 2.3's partnership judgement
  proposes 3 (good) while areas for improvement dominate its findings.
- **Alerts (q. 10).** One urgent alert still raised with its referral overdue,
  one routine alert referred and awaiting a response, one closed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from .. import accounts as accounts_module
from .. import alerts, chronology, findings, judgements, qa, reviews
from ..actors import Actor
from ..errors import Conflict, ValidationError
from ..store import Store, clock_at, write_transaction
from .data import (
    ACCOUNTS,
    ACTIVITY_LEADS_CASE,
    ACTIVITY_LEADS_SERVICE,
    AGENCIES,
    AGENCY_JUDGEMENTS,
    CASE_LINKED_SHARE,
    CASE_OBSERVATIONS,
    CIN_PATHWAY,
    CONTACTS,
    CONTEXT_CASE,
    CONTEXT_SERVICE,
    CP_PATHWAY,
    DEMO_PASSWORD,
    DETAILS_NEGATIVE,
    DETAILS_POSITIVE,
    EDIT_REASONS,
    EVALUATIONS,
    FILLS,
    FINDING_TYPE_SHARES,
    FINDINGS_PER_STRAND,
    GPS,
    IDENTIFIER_FINDINGS,
    INDEX_CASE_REF,
    INDEX_FIRST_DAY,
    INDEX_LATE_ENTRY,
    INDEX_STORY,
    INSPECTORS,
    LAC_PATHWAY,
    MASH_SCREENING,
    MODERATED,
    NURSERIES,
    PARTNERSHIP_JUDGEMENTS,
    POLICE_CHECKS,
    RECORD_BY_AGENCY_TYPE,
    REFERRAL_TEMPLATES,
    RETURN_COMMENTS,
    ROLES_BY_AGENCY_TYPE,
    SCHOOLS_KEYS,
    SERIOUS_DETAIL,
    SERVICE_OBSERVATIONS,
    SIBLING_CASE_REF,
    TEAMS,
    WITHDRAW_REASONS,
    AgencySpec,
    EventTemplate,
    StoryEvent,
)

__all__ = ["DEMO_PASSWORD", "DemoResult", "create_demo", "default_start", "IDENTIFIER_RE", "IDENTIFIER_GLOB",
           "CONTESTED_MAX_DAYS", "REVIEW_SLUG"]

SEED = 2008
REVIEW_SLUG = "ashbridge-sjar"
FIELDWORK_DAYS = 12
DRAFT_DUE_DAY = 18
CURRENT_DAY = 6  # the default start makes today fieldwork day 6
RETENTION_YEARS = 6
IDENTIFIER_RE = re.compile(r"\b\d{3} \d{3} \d{4}\b")
IDENTIFIER_GLOB = "*[0-9][0-9][0-9] [0-9][0-9][0-9] [0-9][0-9][0-9][0-9]*"
CONTESTED_MAX_DAYS = 1

# The deliberate coverage gaps: (strand, criterion) cells left empty.
COVERAGE_GAPS = frozenset({("police", "3.3"), ("health", "3.1")})

# How often each strand writes about each service (None: partnership-wide).
STRAND_AGENCY_WEIGHTS: dict[str, dict[str | None, float]] = {
    "ofsted": {"mash": 14, "team1": 11, "team2": 13, "team3": 11, "legal": 4, "school1": 4, "school2": 4,
               "school3": 4, "school4": 4, "nursery1": 3, "nursery2": 3, "housing": 4, None: 8},
    "health": {"ed": 15, "paeds": 11, "maternity": 6, "hv": 15, "school_nursing": 6, "cdc": 9, "gp1": 5,
               "gp2": 4, "gp3": 4, "gp4": 4, "gp5": 4, "gp6": 4, None: 6},
    "police": {"police_mash": 25, "cait": 35, "response": 25, None: 8},
}
# Base weight of each criterion per strand; the gaps are simply absent.
STRAND_CRITERION_WEIGHTS: dict[str, dict[str, float]] = {
    "ofsted": {"1": 5, "2.1": 22, "2.2": 22, "2.3": 18, "3.1": 9, "3.2": 10, "3.3": 12},
    "health": {"1": 5, "2.1": 25, "2.2": 18, "2.3": 22, "3.2": 10, "3.3": 15},
    "police": {"1": 5, "2.1": 25, "2.2": 18, "2.3": 25, "3.1": 10, "3.2": 12},
}
# Case-linked evidence is mostly about front-line practice (area 2).
CASE_CRITERION_FACTOR = {"1": 0.3, "2.1": 2.0, "2.2": 2.0, "2.3": 2.0, "3.1": 0.2, "3.2": 0.3, "3.3": 0.5}
# Workforce evidence leans to strengths (so 3.3's grade of 3 fits its evidence);
# inter-agency evidence leans to weaknesses (so 2.3's grade of 3 does not).
TYPE_CRITERION_FACTOR = {
    "strength": {"3.3": 4.0, "2.1": 0.7, "2.3": 0.7},
    "area_for_improvement": {"3.3": 0.3, "2.1": 1.2},
    "serious_weakness": {"3.3": 0.3, "2.1": 1.4},
    "context": {},
}
CASE_ACTIVITIES = {"case_file_review": 45, "case_tracking": 15, "interview": 12, "child_family_conversation": 10,
                   "meeting": 12, "observation": 6}
SERVICE_ACTIVITIES = {"interview": 32, "observation": 16, "document_review": 24, "data_analysis": 16, "meeting": 12}
IMPACTS = {
    "strength": {"positive": 80, "none_identified": 10, "not_known": 10},
    "area_for_improvement": {"negative": 50, "not_known": 30, "none_identified": 20},
    "serious_weakness": {"negative": 90, "not_known": 10},
    "context": {"none_identified": 50, "not_known": 50},
}
COLLECTED_DAY_WEIGHTS = {1: 14, 2: 18, 3: 18, 4: 18, 5: 17, 6: 15}
# QA outcome by the fieldwork day the evidence was collected: older evidence
# has mostly been read and accepted, today's is mostly draft or submitted.
QA_MIX = {
    1: {"accepted": 86, "submitted": 4, "returned": 6, "draft": 4},
    2: {"accepted": 84, "submitted": 6, "returned": 6, "draft": 4},
    3: {"accepted": 70, "submitted": 15, "returned": 8, "draft": 7},
    4: {"accepted": 62, "submitted": 20, "returned": 8, "draft": 10},
    5: {"accepted": 40, "submitted": 40, "returned": 7, "draft": 13},
    6: {"accepted": 10, "submitted": 50, "returned": 5, "draft": 35},
}
RESUBMITTED_SHARE = 0.4  # of returned findings, edited with a reason and submitted again
AGE_BANDS = {"unborn": 3, "under_1": 12, "1_4": 25, "5_9": 25, "10_15": 28, "16_17": 7}
LEGAL_STATUSES = {"cp_plan": 38, "child_in_need": 30, "looked_after": 14, "early_help": 13, "none": 5}
CP_CATEGORIES = {"neglect": 45, "emotional_abuse": 25, "physical_abuse": 15, "sexual_abuse": 5, "multiple": 10}
CATEGORY_WORDS = {"neglect": "neglect", "emotional_abuse": "emotional abuse", "physical_abuse": "physical abuse",
                  "sexual_abuse": "sexual abuse", "multiple": "neglect and physical abuse"}
CASE_COUNT = 180
TRACKED_COUNT = 8
SAMPLED_COUNT = 40  # including the tracked ones


@dataclass
class DemoResult:
    """What :func:`create_demo` made: the review row, the accounts (with the
    demo password, for printing) and the row count of every table."""

    review: dict[str, Any]
    accounts: list[dict[str, Any]]
    counts: dict[str, int]


def default_start(today: dt.date | None = None) -> dt.date:
    """The first fieldwork day that makes ``today`` fieldwork day 6."""
    return (today or dt.date.today()) - dt.timedelta(days=CURRENT_DAY - 1)


def create_demo(store: Store, *, start: dt.date | None = None, seed: int = SEED) -> DemoResult:
    """Create the Ashbridge demo review and its accounts in ``store``.

    Initialises the store if needed. Everything is written in one transaction
    per database, so a failure leaves both as they were.

    :param start: the first fieldwork day; by default today is fieldwork day 6.
        Evidence is dated fieldwork days 1–6, so ``start`` must be at least 5
        days ago.
    :param seed: the random seed; the same ``start`` and ``seed`` give the same data.
    :raises Conflict: the store already holds a review, or a demo username is taken.
    :raises ValidationError: ``start`` is too recent for 6 days of evidence.
    """
    today = dt.date.today()
    start = start or default_start(today)
    if start > default_start(today):
        raise ValidationError(
            f"The demo needs 6 days of fieldwork evidence, so it must start on {default_start(today)} or earlier "
            f"(not {start}).", field_errors={"start": "Choose a date at least 5 days ago"})
    store.init()
    with contextlib.closing(store.evidence()) as db, contextlib.closing(store.private()) as private:
        if db.execute("SELECT count(*) FROM reviews").fetchone()[0]:
            raise Conflict(f"The store at {store.home} already holds a review; the demo needs an empty store "
                           "(use another --home).")
        taken = [spec.username for spec in ACCOUNTS
                 if private.execute("SELECT 1 FROM accounts WHERE username = ?", [spec.username]).fetchone()]
        if taken:
            raise Conflict(f"The store at {store.home} already has accounts called {', '.join(taken)}; the demo "
                           "needs those names (use another --home).")
        # Both databases in one go: if anything fails, neither keeps a half demo.
        with write_transaction(private), write_transaction(db):
            builder = _DemoBuilder(db, start=start, seed=seed)
            review = builder.build()
            demo_accounts = _add_accounts(private)
            _add_identity_keys(private, builder.case_ids, seed)
        counts = _counts(db, private)
    return DemoResult(review=review, accounts=demo_accounts, counts=counts)


def _add_accounts(private: Database) -> list[dict[str, Any]]:
    created = []
    for spec in ACCOUNTS:
        accounts_module.add_account(private, username=spec.username, password=DEMO_PASSWORD, role=spec.role,
                                    strand=spec.strand, inspector_code=spec.inspector_code)
        created.append({"username": spec.username, "password": DEMO_PASSWORD, "role": spec.role,
                        "strand": spec.strand, "inspector_code": spec.inspector_code})
    return created


def _add_identity_keys(private: Database, case_ids: dict[str, int], seed: int) -> None:
    # Obviously fake local identifiers: the real key would map to the council's own system.
    rng = random.Random(seed * 7 + 1)
    numbers = rng.sample(range(1, 1_000_000), len(case_ids))
    private.conn.executemany(
        "INSERT INTO case_identity_keys (review_slug, case_ref, local_identifier) VALUES (?, ?, ?)",
        [(REVIEW_SLUG, case_ref, f"DEMO-{number:06d}")
         for case_ref, number in zip(sorted(case_ids), numbers, strict=True)],
    )


def _counts(db: Database, private: Database) -> dict[str, int]:
    tables = ["reviews", "strands", "agencies", "inspectors", "cases", "findings", "finding_criteria",
              "finding_versions", "qa_actions", "chronology_events", "judgements", "safeguarding_alerts",
              "audit_log"]
    counts = {table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in tables}
    for table in ("accounts", "case_identity_keys"):
        counts[table] = private.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    return counts


def _exact_mix(total: int, shares: dict[str, float]) -> list[str]:
    """``total`` labels in the given shares, rounded by largest remainder."""
    raw = {label: total * share for label, share in shares.items()}
    counts = {label: int(value) for label, value in raw.items()}
    for label in sorted(raw, key=lambda label: raw[label] - counts[label], reverse=True)[:total - sum(counts.values())]:
        counts[label] += 1
    return [label for label, count in counts.items() for _ in range(count)]


@dataclass(eq=False)  # identity: cases are dict keys in weighted picks
class _Case:
    case_ref: str
    household_ref: str
    age_band: str
    legal_status: str
    cp_category: str | None
    selection_route: str = "listed"
    case_id: int = 0


@dataclass
class _PlannedEvent:
    date: dt.date
    agency: str
    role: str
    event_type: str
    description: str
    source: str
    flags: str = ""
    precision: str = "day"


@dataclass
class _DemoBuilder:
    """Builds the review through the library; one instance per demo."""

    db: Database
    start: dt.date
    seed: int
    rng: random.Random = field(init=False)
    uuid_rng: random.Random = field(init=False)
    agency_ids: dict[str, int] = field(default_factory=dict)
    inspector_ids: dict[str, int] = field(default_factory=dict)
    actors: dict[str, Actor] = field(default_factory=dict)  # by inspector code, plus "admin"
    cases: list[_Case] = field(default_factory=list)
    case_ids: dict[str, int] = field(default_factory=dict)
    review_id: int = 0
    finding_ids: list[tuple[dict[str, Any], int]] = field(default_factory=list)
    late_entry: _PlannedEvent | None = None

    def __post_init__(self) -> None:
        self.generated_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)
        self.rng = random.Random(self.seed)
        # uuids from their own stream, so editing a text template does not change every uuid
        self.uuid_rng = random.Random(self.seed + 1)
        self.agencies = {spec.key: spec for spec in AGENCIES}

    # ------------------------------------------------------------- helpers

    def day(self, number: int) -> dt.date:
        """Fieldwork day ``number`` (day 1 is ``start``)."""
        return self.start + dt.timedelta(days=number - 1)

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.uuid_rng.getrandbits(128), version=4))

    def at(self, date: dt.date, hour: int, minute: int = 0) -> contextlib.AbstractContextManager[None]:
        """Record the writes in the block as made on ``date`` at ``hour`` (never later
        than now), so QA ages, audit times and alert due dates read as in fieldwork."""
        moment = dt.datetime.combine(date, dt.time(hour, minute), tzinfo=dt.timezone.utc)
        return clock_at(min(moment, self.generated_at))

    def pick(self, weights: dict[Any, float]) -> Any:
        keys = list(weights)
        return self.rng.choices(keys, weights=[weights[key] for key in keys])[0]

    # ------------------------------------------------------------- the whole demo

    def build(self) -> dict[str, Any]:
        review = self._setup()
        self._add_cases()
        self._add_findings()
        self._add_chronologies()
        self._add_judgements()
        self._add_alerts()
        return reviews.get_review(self.db, review["id"])

    def _setup(self) -> dict[str, Any]:
        admin = Actor("admin", "admin")
        self.actors["admin"] = admin
        review = reviews.create_review(
            self.db, slug=REVIEW_SLUG, title="Special joint area review of Ashbridge", area="Ashbridge (fictional)",
            review_type="special_jar", framework="sjar-2008", actor=admin,
            fieldwork_start=self.day(1).isoformat(), fieldwork_end=self.day(FIELDWORK_DAYS).isoformat(),
            draft_due=self.day(DRAFT_DUE_DAY).isoformat(),
            commissioned_by="Secretary of State (fictional demo commission)",
            legal_basis="Children Act 2004, section 20 (joint area reviews)",
            retention_review_on=(self.start + dt.timedelta(days=round(365.25 * RETENTION_YEARS))).isoformat(),
            status="fieldwork", strands=["ofsted", "health", "police"],  # the demo's three inspectorates
        )
        self.review_id = review["id"]
        for spec in AGENCIES:
            self.agency_ids[spec.key] = reviews.add_agency(
                self.db, review_id=self.review_id, name=spec.name, agency_type=spec.agency_type,
                lead_strand=spec.lead_strand, organisation=spec.organisation, actor=admin)
        usernames = {spec.inspector_code: spec for spec in ACCOUNTS if spec.inspector_code}
        for inspector in INSPECTORS:
            inspector_id = reviews.add_inspector(self.db, review_id=self.review_id, code=inspector.code,
                                                 strand=inspector.strand, role=inspector.role, actor=admin)
            self.inspector_ids[inspector.code] = inspector_id
            account = usernames[inspector.code]
            self.actors[inspector.code] = Actor(account.username, account.role, account.strand, inspector_id)
        return review

    # ------------------------------------------------------------- cases

    def _add_cases(self) -> None:
        rng = self.rng
        household = 0
        previous: _Case | None = None
        for number in range(1, CASE_COUNT + 1):
            case_ref = f"C-{number:03d}"
            sibling = previous is not None and (case_ref == SIBLING_CASE_REF or
                                                (previous.case_ref != INDEX_CASE_REF and rng.random() < 0.25))
            if not sibling:
                household += 1
            if case_ref == INDEX_CASE_REF:
                case = _Case(case_ref, f"H-{household:03d}", "under_1", "cp_plan", "multiple", "index")
            elif case_ref == SIBLING_CASE_REF:
                case = _Case(case_ref, previous.household_ref, "1_4", "cp_plan", "neglect")
            else:
                age_band = self.pick(AGE_BANDS)
                if sibling and rng.random() < 0.8:
                    legal_status, category = previous.legal_status, previous.cp_category
                else:
                    legal_status = self.pick(LEGAL_STATUSES)
                    category = self.pick(CP_CATEGORIES) if legal_status == "cp_plan" else None
                if age_band == "unborn" and legal_status == "looked_after":
                    legal_status, category = "cp_plan", "neglect"
                case = _Case(case_ref, previous.household_ref if sibling else f"H-{household:03d}", age_band,
                             legal_status, category)
            self.cases.append(case)
            previous = case
        # The sample: children with statutory involvement, plus the index case's sibling.
        pool = [case for case in self.cases if case.case_ref not in (INDEX_CASE_REF, SIBLING_CASE_REF)
                and case.legal_status in ("cp_plan", "child_in_need", "looked_after")]
        chosen = rng.sample(pool, SAMPLED_COUNT - 1)
        for case in chosen[:TRACKED_COUNT]:
            case.selection_route = "tracked"
        for case in chosen[TRACKED_COUNT:]:
            case.selection_route = "sampled"
        self.case(SIBLING_CASE_REF).selection_route = "sampled"
        admin = self.actors["admin"]
        for case in self.cases:
            case.case_id = reviews.add_case(
                self.db, review_id=self.review_id, case_ref=case.case_ref, household_ref=case.household_ref,
                age_band=case.age_band, legal_status=case.legal_status, cp_category=case.cp_category,
                selection_route=case.selection_route, actor=admin)
            self.case_ids[case.case_ref] = case.case_id

    def case(self, case_ref: str) -> _Case:
        return next(case for case in self.cases if case.case_ref == case_ref)

    @property
    def sample(self) -> list[_Case]:
        """The sampled, tracked and index cases, by case reference."""
        return [case for case in self.cases if case.selection_route != "listed"]

    # ------------------------------------------------------------- findings

    def _add_findings(self) -> None:
        rng = self.rng
        planned: list[dict[str, Any]] = []
        for strand, total in FINDINGS_PER_STRAND.items():
            codes = [i.code for i in INSPECTORS if i.strand == strand and i.role != "moderator"]
            types = _exact_mix(total, FINDING_TYPE_SHARES)
            rng.shuffle(types)
            linked_count = round(total * CASE_LINKED_SHARE)
            linked = [True] * linked_count + [False] * (total - linked_count)
            rng.shuffle(linked)
            for position, (finding_type, is_linked) in enumerate(zip(types, linked, strict=True)):
                planned.append(self._plan_finding(strand, codes[position % len(codes)], finding_type, is_linked))
        # Two health findings quote an NHS-number-shaped identifier (the
        # identifier check's quarry); both are awaiting QA.
        candidates = [plan for plan in planned if plan["strand"] == "health" and plan["case"] is not None
                      and plan["fields"]["finding_type"] == "area_for_improvement"]
        for plan, template in zip(rng.sample(candidates, len(IDENTIFIER_FINDINGS)), IDENTIFIER_FINDINGS, strict=True):
            plan["fields"]["evidence_text"] = template.format(case=plan["case"].case_ref)
            plan["fields"]["collected_on"] = self.day(5).isoformat()
            plan["qa"] = "submitted"
            plan["planted"] = True
        # Two withdrawals: older evidence that had been submitted or accepted.
        older = [plan for plan in planned if not plan.get("planted") and plan["qa"] in ("accepted", "submitted")
                 and plan["fields"]["collected_on"] <= self.day(4).isoformat()]
        for plan, reason in zip(rng.sample(older, len(WITHDRAW_REASONS)), WITHDRAW_REASONS, strict=True):
            plan["withdrawn_from"], plan["qa"] = plan["qa"], "withdrawn"
            plan["withdraw_reason"] = reason
        # Record in collection order, so each inspector's numbering follows the days.
        planned.sort(key=lambda plan: plan["fields"]["collected_on"])
        for plan in planned:
            self.finding_ids.append((plan, self._record_finding(plan)))

    def _plan_finding(self, strand: str, code: str, finding_type: str, linked: bool) -> dict[str, Any]:
        rng = self.rng
        day = self.pick(COLLECTED_DAY_WEIGHTS)
        case = None
        if linked:
            case = self.pick({case: (5 if case.selection_route == "index" else
                                     3 if case.selection_route == "tracked" else 1) for case in self.sample})
        agency_key = self.pick(STRAND_AGENCY_WEIGHTS[strand])
        agency = self.agencies[agency_key] if agency_key else None
        if case is not None:
            activities = dict(CASE_ACTIVITIES)
            if case.selection_route in ("tracked", "index"):
                activities["case_tracking"] *= 4
            activity = self.pick(activities)
        else:
            activity = self.pick(SERVICE_ACTIVITIES)
        criteria = self._plan_criteria(strand, finding_type, linked)
        primary = next(iter(criteria))
        fields = {
            "review_id": self.review_id,
            "agency_id": self.agency_ids[agency_key] if agency_key else None,
            "case_id": case.case_id if case else None,
            "activity": activity,
            "collected_on": self.day(day).isoformat(),
            "evidence_text": self._evidence_text(finding_type, primary, activity, agency, case),
            "evaluation_text": self._evaluation_text(finding_type, primary),
            "finding_type": finding_type,
            "impact_on_child": self.pick(IMPACTS[finding_type]) if case else
            self.pick({**IMPACTS[finding_type], "not_known": IMPACTS[finding_type].get("not_known", 0) + 30}),
            "criteria": criteria,
        }
        qa_status = self.pick(QA_MIX[day])
        return {"strand": strand, "code": code, "case": case, "fields": fields, "qa": qa_status,
                "resubmit": qa_status == "returned" and rng.random() < RESUBMITTED_SHARE}

    def _plan_criteria(self, strand: str, finding_type: str, linked: bool) -> dict[str, str]:
        weights = {}
        for code, weight in STRAND_CRITERION_WEIGHTS[strand].items():
            assert (strand, code) not in COVERAGE_GAPS
            weight *= TYPE_CRITERION_FACTOR[finding_type].get(code, 1.0)
            if linked:
                weight *= CASE_CRITERION_FACTOR[code]
            weights[code] = weight
        primary = self.pick(weights)
        criteria = {primary: "primary"}
        if self.rng.random() < 0.4:
            del weights[primary]
            criteria[self.pick(weights)] = "secondary"
        return criteria

    def _fills(self, agency: AgencySpec | None, case: _Case | None) -> dict[str, Any]:
        rng = self.rng
        service = agency.service if agency else "partner agencies"
        roles = ROLES_BY_AGENCY_TYPE[agency.agency_type] if agency else ("safeguarding lead",)
        sample_size = rng.randint(6, 15)
        return {
            "case": case.case_ref if case else "",
            "service": service,
            "service_cap": service[0].upper() + service[1:],
            "role": rng.choice(roles),
            "record": RECORD_BY_AGENCY_TYPE[agency.agency_type] if agency else "case records",
            "m": sample_size,
            "k": rng.randint(2, sample_size - 2),
            "pct": rng.randint(45, 97),
        }

    def _evidence_text(self, finding_type: str, criterion: str, activity: str, agency: AgencySpec | None,
                       case: _Case | None) -> str:
        rng = self.rng
        fills = self._fills(agency, case)
        leads = (ACTIVITY_LEADS_CASE if case else ACTIVITY_LEADS_SERVICE).get(activity)
        lead = rng.choice(leads) if leads else ""
        if finding_type == "context":
            observation = rng.choice(CONTEXT_CASE if case else CONTEXT_SERVICE)
            detail = ""
        else:
            polarity = "pos" if finding_type == "strength" else "neg"
            observation = rng.choice((CASE_OBSERVATIONS if case else SERVICE_OBSERVATIONS)[criterion][polarity])
            detail = rng.choice(DETAILS_POSITIVE if polarity == "pos" else DETAILS_NEGATIVE)
            if finding_type == "serious_weakness":
                detail = rng.choice(SERIOUS_DETAIL)
        return " ".join(part for part in (lead, observation, detail) if part).format(**fills)

    def _evaluation_text(self, finding_type: str, criterion: str) -> str:
        positive, negative = EVALUATIONS[criterion]
        if finding_type == "strength":
            return f"Strength: {positive}."
        if finding_type == "area_for_improvement":
            return f"Area for improvement: {negative}."
        if finding_type == "serious_weakness":
            return f"Serious weakness: {negative}; children are left at risk of significant harm and this needs " \
                   "urgent action."
        return "Context for the evaluation; no judgement drawn from it on its own."

    def _record_finding(self, plan: dict[str, Any]) -> int:
        """Record one planned finding and take it through QA to its planned status."""
        author = self.actors[plan["code"]]
        reached = plan.get("withdrawn_from", plan["qa"])  # the status before any withdrawal
        collected = dt.date.fromisoformat(plan["fields"]["collected_on"])
        next_day = collected + dt.timedelta(days=1)
        minute = self.rng.randrange(60)
        with self.at(collected, 16, minute):
            result = findings.record_finding(self.db, author, plan["fields"], client_uuid=self.uuid(),
                                             submit=reached != "draft")
        finding_id = result.record["id"]
        reviewer = self._reviewer(plan["code"])
        if reached == "accepted":
            with self.at(next_day, 9, minute):
                qa.accept(self.db, reviewer, finding_id)
        elif reached == "returned":
            with self.at(next_day, 9, minute):
                qa.return_finding(self.db, reviewer, finding_id, self.rng.choice(RETURN_COMMENTS))
            if plan["resubmit"]:
                # The author answers the comment: a new version with a reason, submitted again.
                edited = dict(plan["fields"])
                edited["evaluation_text"] += " (Based on the cases sampled for this service.)"
                with self.at(next_day, 13, minute):
                    findings.edit_finding(self.db, author, finding_id, edited, reason=self.rng.choice(EDIT_REASONS))
                    qa.submit(self.db, author, finding_id)
                if plan["fields"]["collected_on"] <= self.day(3).isoformat():
                    with self.at(next_day + dt.timedelta(days=1), 9, minute):
                        qa.accept(self.db, reviewer, finding_id)
        if plan["qa"] == "withdrawn":
            with self.at(next_day, 11, minute):
                qa.withdraw(self.db, author, finding_id, plan["withdraw_reason"])
        return finding_id

    def _reviewer(self, author_code: str) -> Actor:
        # The lead does not QA their own evidence.
        if author_code == "OFS-01" or self.rng.random() < 0.4:
            return self.actors["MOD-01"]
        return self.actors["OFS-01"]

    # ------------------------------------------------------------- chronologies

    def _add_chronologies(self) -> None:
        for case in self.sample:
            if case.case_ref == INDEX_CASE_REF:
                events = self._index_events()
            else:
                events = self._case_events(case)
            self._check_contested(case, events)
            for event in events:
                self._record_event(case, event)
        # The out-of-order trap: recorded after everything else, dated early.
        late = self.late_entry = self._story_event(INDEX_LATE_ENTRY)
        index = self.case(INDEX_CASE_REF)
        self._check_contested(index, self._index_events() + [late])
        self._record_event(index, late)

    def _index_events(self) -> list[_PlannedEvent]:
        return [self._story_event(story) for story in INDEX_STORY]

    def _story_event(self, story: StoryEvent) -> _PlannedEvent:
        date = self.start - dt.timedelta(days=INDEX_FIRST_DAY - story.day)
        if story.precision == "month":
            date = date.replace(day=1)
        return _PlannedEvent(date, story.agency, story.role, story.event_type, story.description, story.source,
                             story.flags, story.precision)

    def _case_events(self, case: _Case) -> list[_PlannedEvent]:
        """A plausible chronology for one sampled child: a referral, the
        statutory pathway for their legal status, then routine contacts."""
        rng = self.rng
        tracked = case.selection_route == "tracked"
        target = rng.randint(35, 41) if tracked else rng.randint(20, 26)
        span = rng.randint(300, 420) if tracked else rng.randint(180, 360)
        first = self.start - dt.timedelta(days=span)
        last = self.start - dt.timedelta(days=2)
        team, gp = rng.choice(TEAMS), rng.choice(GPS)
        school, nursery = rng.choice(SCHOOLS_KEYS), rng.choice(NURSERIES)
        contacts, referrers = {
            "unborn": (["maternity", "hv"], ["maternity"]),
            "under_1": (["hv", gp, "ed", "paeds"], ["hv", "ed"]),
            "1_4": (["hv", gp, "ed", nursery, "cdc"], [nursery, "ed", "response"]),
            "5_9": ([school, "school_nursing", gp, "ed", "response", "housing"], [school, "response", "ed"]),
            "10_15": ([school, "school_nursing", gp, "ed", "response", "cait", "housing"], [school, "response", "ed"]),
            "16_17": ([school, gp, "ed", "response", "cait", "housing"], [school, "response"]),
        }[case.age_band]
        events: list[_PlannedEvent] = []

        def at(offset: int) -> dt.date:
            return min(first + dt.timedelta(days=offset), last)

        def add(date: dt.date, agency: str, templates: tuple[EventTemplate, ...]) -> None:
            template = self._pick_template(templates, case.age_band)
            events.append(self._planned(date, agency, template, case))

        referrer = rng.choice(referrers)
        add(at(0), referrer, REFERRAL_TEMPLATES[self.agencies[referrer].agency_type])
        add(at(1), "mash", MASH_SCREENING)
        if rng.random() < 0.7:
            add(at(rng.randint(1, 2)), "police_mash", POLICE_CHECKS)
        if case.legal_status in ("cp_plan", "looked_after"):
            add(at(rng.randint(2, 4)), team, CP_PATHWAY["strategy"])
            add(at(rng.randint(8, 14)), team, CP_PATHWAY["s47"])
            conference = rng.randint(15, 25)
            add(at(conference), team, CP_PATHWAY["icpc"])
            offset = conference + rng.randint(8, 12)
            while offset < span - 5:
                add(at(offset), team, CP_PATHWAY["core_group"])
                offset += rng.randint(35, 45)
            offset = conference + 90
            while offset < span - 5:
                add(at(offset), team, CP_PATHWAY["review_conference"])
                offset += 180
            if case.legal_status == "looked_after":
                offset = conference + rng.randint(40, 70)
                add(at(offset), "legal", LAC_PATHWAY["legal"])
                offset += 30
                while offset < span - 5:
                    add(at(offset), team, LAC_PATHWAY["review"])
                    offset += rng.randint(110, 130)
        else:
            add(at(rng.randint(20, 45)), team, CIN_PATHWAY["assessment"])
            offset = rng.randint(50, 60)
            while offset < span - 5:
                add(at(offset), team, CIN_PATHWAY["meeting"])
                offset += rng.randint(42, 56)
        while len(events) < target:
            agency = team if rng.random() < 0.45 else rng.choice(contacts)
            templates = CONTACTS[self.agencies[agency].agency_type]
            add(at(rng.randint(3, span)), agency, templates)
        events.sort(key=lambda event: event.date)
        return self._spread_contested(events[:max(target, 12)], last)

    def _pick_template(self, templates: tuple[EventTemplate, ...], age_band: str) -> EventTemplate:
        fitting = [t for t in templates if t.ages is None or age_band in t.ages] or list(templates)
        # Flagged practice (good or missed) is the exception, not the rule.
        return self.rng.choices(fitting, weights=[0.25 if t.flag in ("good", "missed") else 1 for t in fitting])[0]

    def _planned(self, date: dt.date, agency: str, template: EventTemplate, case: _Case) -> _PlannedEvent:
        fills = {name: self.rng.choice(values) for name, values in FILLS.items()}
        fills["category"] = CATEGORY_WORDS.get(case.cp_category or "", "neglect")
        spec = self.agencies[agency]
        source = RECORD_BY_AGENCY_TYPE[spec.agency_type]
        flags = {"key": "K", "missed": "M", "good": "G"}.get(template.flag or "", "")
        return _PlannedEvent(date, agency, template.role, template.event_type, template.description.format(**fills),
                             source[0].upper() + source[1:], flags)

    def _spread_contested(self, events: list[_PlannedEvent], last: dt.date) -> list[_PlannedEvent]:
        """Move events so that no two of one case look contested (same type,
        different agencies, dates at most a day apart): the demo has one
        contested pair, planted in C-017, and queries must find only that."""
        placed: list[_PlannedEvent] = []
        for event in events:
            step = dt.timedelta(days=CONTESTED_MAX_DAYS + 1)
            while any(_contested(event, other) for other in placed):
                event.date = event.date + step if event.date + step <= last else event.date - step
            placed.append(event)
        placed.sort(key=lambda event: event.date)
        return placed

    def _check_contested(self, case: _Case, events: list[_PlannedEvent]) -> None:
        pairs = [(a, b) for i, a in enumerate(events) for b in events[i + 1:] if _contested(a, b)]
        expected = 1 if case.case_ref == INDEX_CASE_REF else 0
        # Programming error in the demo data, not a user error.
        assert len(pairs) == expected, f"{case.case_ref}: {len(pairs)} contested pairs, expected {expected}"

    def _record_event(self, case: _Case, event: _PlannedEvent) -> None:
        recorder = self._recorder(case, self.agencies[event.agency].lead_strand)
        # Chronologies are built from the files during fieldwork days 1-5; the
        # out-of-order entry (recorded last) is stamped latest of all.
        day = self.day(6) if event is self.late_entry else self.day(1 + int(case.case_ref[2:]) % 5)
        with self.at(day, 10 + self.rng.randrange(7), self.rng.randrange(60)):
            self._write_event(case, recorder, event)

    def _write_event(self, case: _Case, recorder: Actor, event: _PlannedEvent) -> None:
        chronology.record_event(self.db, recorder, {
            "review_id": self.review_id, "case_id": case.case_id, "agency_id": self.agency_ids[event.agency],
            "practitioner_role": event.role, "event_date": event.date.isoformat(),
            "date_precision": event.precision, "event_type": event.event_type, "description": event.description,
            "source_of_information": event.source, "key_event": "K" in event.flags,
            "missed_opportunity": "M" in event.flags, "good_practice": "G" in event.flags,
        }, client_uuid=self.uuid())

    def _recorder(self, case: _Case, strand: str) -> Actor:
        """The inspector who builds this part of the chronology: the lead for
        the index case's social care events, otherwise one per strand and case."""
        if case.case_ref == INDEX_CASE_REF and strand == "ofsted":
            return self.actors["OFS-01"]
        codes = [i.code for i in INSPECTORS if i.strand == strand and i.role == "team"]
        return self.actors[codes[int(case.case_ref[2:]) % len(codes)]]

    # ------------------------------------------------------------- judgements and alerts

    def _add_judgements(self) -> None:
        lead, moderator = self.actors["OFS-01"], self.actors["MOD-01"]
        with self.at(self.day(6), 9):
            for code, (grade, narrative) in PARTNERSHIP_JUDGEMENTS.items():
                judgements.record_judgement(self.db, lead, review_id=self.review_id, criterion_code=code,
                                            scope="partnership", narrative=narrative, proposed_grade=grade,
                                            citations=self._citations(code, None))
            for code, agency, grade, narrative in AGENCY_JUDGEMENTS:
                agency_id = self.agency_ids[agency]
                judgements.record_judgement(self.db, lead, review_id=self.review_id, criterion_code=code,
                                            scope="agency", agency_id=agency_id, narrative=narrative,
                                            proposed_grade=grade, citations=self._citations(code, agency_id))
        with self.at(self.day(6), 12):
            for code, grade in MODERATED.items():
                judgements.moderate_judgement(self.db, moderator, review_id=self.review_id, criterion_code=code,
                                              scope="partnership", moderated_grade=grade, note=MODERATION_NOTE)

    def _citations(self, code: str, agency_id: int | None) -> list[dict[str, str]]:
        """Up to three accepted findings linked to the criterion (and agency) as the lead would cite them:
        one of each type where there is one, each quoting the first sentence of its evidence."""
        rows = judgements.evidence_for(self.db, self.review_id, code, agency_id=agency_id)
        chosen: list[dict[str, Any]] = []
        for finding_type in ("serious_weakness", "area_for_improvement", "strength"):
            chosen += [row for row in sorted(rows, key=lambda r: r["id"]) if row["finding_type"] == finding_type][:1]
        return [{"finding": row["public_id"], "quote": row["evidence_text"].split(". ")[0].split(": ")[-1][:160]}
                for row in chosen]

    def _add_alerts(self) -> None:
        lead = self.actors["OFS-01"]
        tracked = [case for case in self.sample if case.selection_route == "tracked"]
        urgent_case = next((case for case in tracked if case.legal_status == "cp_plan"), tracked[0])
        routine_case, closed_case = [case for case in self.sample
                                     if case.selection_route == "sampled" and case.case_ref != SIBLING_CASE_REF][:2]

        def finding_for(case: _Case, strand: str) -> int | None:
            return next((finding_id for plan, finding_id in self.finding_ids
                         if plan["case"] is case and plan["strand"] == strand), None)

        def raise_on(day: int, hour: int, inspector: str, urgency: str, case: _Case, strand: str, **details: Any):
            """An alert raised by ``inspector`` on fieldwork ``day`` at ``hour``, on ``case`` and its finding in ``strand``."""
            with self.at(self.day(day), hour):
                return alerts.raise_alert(
                    self.db, self.actors[inspector], review_id=self.review_id, urgency=urgency, case_id=case.case_id,
                    finding_id=finding_for(case, strand), today=self.day(day), client_uuid=self.uuid(), **details)

        # Urgent, still raised: its referral was due on day 5, so it is overdue.
        raise_on(5, 15, "OFS-03", "urgent", urgent_case, "ofsted", referral_due=self.day(5).isoformat(),
                 concern=f"Case tracking of {urgent_case.case_ref} on fieldwork day 5: no professional has seen the "
                         "child for 9 weeks; the last two planned visits were cancelled and the school reports 4 "
                         "weeks' absence. Needs referral to the council's duty team today.")
        # Routine, referred and awaiting the council's response.
        routine = raise_on(3, 14, "HLT-01", "routine", routine_case, "health",
                           concern=f"Case file review of {routine_case.case_ref}: a health visitor's concern about "
                                   "home conditions six weeks ago has had no response from children's social care.")
        with self.at(self.day(4), 10):
            alerts.refer(self.db, lead, routine["id"], referred_to="Ashbridge MASH (children's social care)",
                         response_due=self.day(8).isoformat(), today=self.day(4))
        # Raised, referred, answered and closed in the first days.
        closed = raise_on(2, 11, "POL-01", "urgent", closed_case, "police",
                          concern=f"Police record for {closed_case.case_ref}: a domestic incident 3 days ago with the "
                                  "child present has not been notified to the MASH.")
        with self.at(self.day(2), 12):
            alerts.refer(self.db, lead, closed["id"], referred_to="Ashbridge Police MASH desk",
                         response_due=self.day(3).isoformat(), today=self.day(2))
        with self.at(self.day(3), 9):
            alerts.record_response(self.db, lead, closed["id"], "Notification sent to the MASH; the child was seen "
                                   "by a social worker the next day.")
        with self.at(self.day(3), 16):
            alerts.close(self.db, lead, closed["id"], "Response checked with the MASH team manager.")


MODERATION_NOTE = "Moderated against the linked evidence and the tracked cases."


def _contested(a: _PlannedEvent, b: _PlannedEvent) -> bool:
    """The contested-event rule the canned query uses: same type, different
    agencies, at most ``CONTESTED_MAX_DAYS`` apart (events of one case)."""
    return (a.event_type == b.event_type and a.agency != b.agency
            and abs((a.date - b.date).days) <= CONTESTED_MAX_DAYS)


def contested_pairs(db: Database, review_id: int) -> list[tuple[int, int]]:
    """The ids of event pairs matching the contested rule, for checks and tests."""
    return [tuple(row) for row in db.execute(
        """SELECT a.id, b.id FROM chronology_events a JOIN chronology_events b
           ON a.case_id = b.case_id AND a.event_type = b.event_type AND a.agency_id != b.agency_id
           AND a.id < b.id AND abs(julianday(a.event_date) - julianday(b.event_date)) <= ?
           WHERE a.review_id = ? ORDER BY a.id, b.id""", [CONTESTED_MAX_DAYS, review_id])]
