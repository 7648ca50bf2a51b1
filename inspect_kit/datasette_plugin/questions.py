"""The lead inspector's standing questions (docs/architecture.md §6) as SQL.

Each :class:`Question` is one canned query in Datasette: its SQL, a title, a
description saying what it answers and how to read it, the parameters a lead
varies, and who may run it. The SQL is plain SQLite over the evidence store and
runs anywhere (``sqlite3``, the benchmark, tests) given the same parameters;
Datasette adds the magic parameters ``:_actor_strand`` (the strand-scoped
query) and ``:_ik_review``.

Every question reads one review, the one chosen in the intake app: Datasette
binds its slug to ``:_ik_review`` (:mod:`inspect_kit.datasette_plugin.scope`),
so that a store holding several reviews never mixes them; run by hand, bind
the review's slug. Parameters arrive from Datasette as
text, empty when left blank, so every one has a default in the SQL
(``coalesce(nullif(:gap_days, ''), 28)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import policy, vocab
from ..audit_search import review_records_clause
from ..judgements import grade_disagreement_sql
from ..schema import (
    CONTACTS_DEFAULT_WITHIN_DAYS,
    HEALTH_AGENCY_TYPES,
    _label_sql,
    contacts_sql,
)
from ..vocab import sql_in

# Who may run a question is the policy's: each question names the permission
# its rows need (the allow block is generated from inspect_kit.policy).

# The review the question reads: the one chosen in the intake app (a magic parameter).
CURRENT_REVIEW = "SELECT id, fieldwork_start FROM reviews WHERE slug = :_ik_review"

# Words in a health event's description that mean an injury was seen (question 12).
INJURY_WORDS = ("bruis", "injur", "fractur", "burn", "bite mark", "swelling", "mark on", "marks on", "head injury")
# The same words as an FTS5 query (the index is stemmed: "bruising" is "bruis").
INJURY_FTS = "description : (bruis* OR injur* OR fractur* OR burn* OR bite OR swell* OR mark*)"
# Where counts link (Question.links): the rows behind them.
NOT_WITHDRAWN = "qa_status__not=withdrawn"
CONCERNS_OF_CASE = f"findings_readable?case_ref={{case_ref}}&{NOT_WITHDRAWN}"
CHRONOLOGY_OF_CASE = "case_chronology?case_ref={case_ref}"

@dataclass(frozen=True)
class Question:
    """One canned query: ``name`` is its URL (``/data/evidence/<name>``)."""

    name: str
    number: int | None
    title: str
    description: str
    sql: str
    params: tuple[str, ...] = ()
    permission: str = policy.READ_ALL_FINDINGS
    defaults: dict[str, str] = field(default_factory=dict)
    # column → where its cells link: a page of the database (``findings_readable?strand=police``)
    # or of the intake app (``/findings/{finding}``), ``{column}`` filled from the row
    # (datasette_plugin/pages.py renders them; a row missing a value gets no link).
    links: dict[str, str] = field(default_factory=dict)

    @property
    def allow_roles(self) -> tuple[str, ...]:
        """The roles that may run this question (:func:`policy.roles_with` of its permission)."""
        return policy.roles_with(self.permission)

    def as_metadata(self) -> dict[str, Any]:
        """This question as a Datasette canned query (metadata ``queries`` entry)."""
        entry: dict[str, Any] = {
            "title": self.title if self.number is None else f"{self.number}. {self.title}",
            "description": self.description,
            "sql": self.sql.strip(),
            "allow": policy.datasette_allow(self.permission),
            # Readers come for the answer: the SQL stays behind "Show SQL" until asked for.
            "hide_sql": True,
        }
        if self.params:
            entry["params"] = list(self.params)
        if self.links:
            entry["links"] = dict(self.links)
        return entry

    def bind(self, **values: Any) -> dict[str, Any]:
        """Parameters for running the SQL directly: blanks for those not given."""
        return {name: "" if values.get(name) is None else str(values[name]) for name in self.params} | {
            k: v for k, v in values.items() if k.startswith("_")
        }


def _strand_columns(strands: list[str]) -> str:
    return ",\n       ".join(
        f"sum(CASE WHEN strand = '{code}' THEN findings ELSE 0 END) AS \"{code}\"" for code in strands
    )


def coverage_matrix_sql(strands: list[str]) -> str:
    """Question 6 as a pivot: one row per criterion, one column per strand.

    The strand columns are fixed when the SQL is built (from the strands with
    inspectors in the review); the view ``criterion_strand_coverage`` holds the
    same cells in long form for any set of strands.
    """
    columns = _strand_columns(strands) if strands else "0 AS no_strands"
    return f"""
WITH cells AS (
  SELECT * FROM criterion_strand_coverage
  WHERE review = :_ik_review
)
SELECT area, criterion, criterion_title,
       {columns},
       group_concat(CASE WHEN cell = 'empty' THEN strand END, ', ') AS empty_cells,
       group_concat(CASE WHEN cell = 'single source' THEN strand END, ', ') AS single_source_cells
FROM cells
GROUP BY area, criterion, criterion_title
ORDER BY min(criterion_position)
"""


def questions(strands: list[str] | None = None) -> list[Question]:
    """Every canned query, in the order of docs/architecture.md §6, then the strand-scoped one and the audit outline.

    ``strands``: the strand codes to give columns in the coverage matrix
    (default: the five standard strands; the catalogue passes the review's own).
    """
    strands = strands if strands is not None else list(vocab.DEFAULT_STRANDS)
    negative_types = sql_in(("area_for_improvement", "serious_weakness"))
    # The rule lives in the library (judgements.grade_disagreement), where the
    # judgement workspace warns with it as the grade is set.
    disagreement = grade_disagreement_sql("coalesce(judgements.moderated_grade, judgements.proposed_grade)",
                                          "mix.findings", "mix.strengths", "mix.negatives", "mix.serious_weaknesses")
    event_label = _label_sql("chronology_events.event_type", vocab.EVENT_TYPES)
    finding_type_label = _label_sql("findings.finding_type", vocab.FINDING_TYPES)
    contacts_where = """NOT (SELECT yes FROM at_defaults)
    AND chronology_events.review_id = (SELECT id FROM review)
    AND chronology_events.event_date >= coalesce(nullif(:period_from, ''), '0000-01-01')
    AND chronology_events.event_date <= coalesce(nullif(:period_to, ''), '9999-12-31')"""
    injury = " OR ".join(f"lower(chronology_events.description) LIKE '%{word}%'" for word in INJURY_WORDS)
    return [
        Question(
            name="cases_with_concerns_across_agencies",
            number=1,
            title="Cases with concerns raised by two or more strands or agencies",
            description=(
                "Children for whom areas for improvement, serious weaknesses or a negative impact on the child "
                "were recorded by at least two strands or two agencies. These are the cases where the picture "
                "only shows when the strands' evidence is read together: read the strands and agencies columns, "
                "then open the case (its reference) or the concerns behind the count (the number). Withdrawn findings are "
                "left out."
            ),
            # Read from case_concerns, one row per child kept by triggers
            # (m016_question_aggregates), in the order of its index. 1,000,000
            # findings, first 1,001 rows, one run on 2 cores at load ~20: 22.9 s
            # grouping every concern first (3.3 s at a lighter load), 72 ms now.
            sql=f"""
WITH review AS ({CURRENT_REVIEW})
SELECT cases.case_ref, cases.legal_status, cases.selection_route,
       case_concerns.strands, case_concerns.agencies, case_concerns.concerns,
       case_concerns.serious_weaknesses, case_concerns.negative_impact,
       case_concerns.strand_codes, case_concerns.agency_names
FROM case_concerns INDEXED BY idx_case_concerns_order
CROSS JOIN cases ON cases.id = case_concerns.case_id
WHERE case_concerns.review_id = (SELECT id FROM review)
  AND (case_concerns.strands >= 2 OR case_concerns.agencies >= 2)
ORDER BY case_concerns.strands DESC, case_concerns.agencies DESC, case_concerns.concerns DESC, cases.case_ref
""",
            links={"concerns": CONCERNS_OF_CASE},
        ),
        Question(
            name="case_chronology",
            number=2,
            title="Merged chronology of one case",
            description=(
                "Every agency's events for one child in date order, as one timeline. gap_days is the time since "
                "the previous event; long_gap marks gaps longer than gap_days (default 28). Flags mark key "
                "events, missed opportunities and good practice; date_precision warns where a date is only "
                "approximate or a month. Enter the case reference, e.g. C-017; event_id opens the event's record."
            ),
            sql=f"""
WITH review AS ({CURRENT_REVIEW}),
events AS (
  SELECT chronology_events.*,
         lag(chronology_events.event_date) OVER (ORDER BY chronology_events.event_date, chronology_events.id)
           AS previous_date
  FROM chronology_events
  WHERE chronology_events.case_id = (
    SELECT cases.id FROM cases WHERE cases.review_id = (SELECT id FROM review) AND cases.case_ref = :case_ref)
)
SELECT chronology_events.event_date, chronology_events.date_precision,
       CAST(julianday(chronology_events.event_date) - julianday(chronology_events.previous_date) AS INTEGER)
         AS gap_days,
       CAST(julianday(chronology_events.event_date) - julianday(chronology_events.previous_date) AS INTEGER)
         > CAST(coalesce(nullif(:gap_days, ''), 28) AS INTEGER) AS long_gap,
       agencies.name AS agency, {event_label} AS event,
       chronology_events.practitioner_role, chronology_events.description,
       chronology_events.source_of_information,
       chronology_events.key_event, chronology_events.missed_opportunity, chronology_events.good_practice,
       chronology_events.id AS event_id
FROM events AS chronology_events
JOIN agencies ON agencies.id = chronology_events.agency_id
ORDER BY chronology_events.event_date, chronology_events.id
""",
            params=("case_ref", "gap_days"),
            permission=policy.READ_CHRONOLOGIES,
            links={"event_id": "chronology_events/{event_id}"},
        ),
        Question(
            name="contacts_without_information_shared",
            number=3,
            title="Professional contacts per case, and those after which nothing was shared",
            description=(
                "For each child: the professional contacts in the period (visits, appointments, attendances, "
                "incidents), how many agencies made them, and how many were not followed within within_days "
                "(default 7) by that agency sharing information, referring or joining a strategy discussion. "
                "A high unshared count with several agencies is the pattern to chase; unshared lists them. "
                "Period: period_from and period_to as YYYY-MM-DD (blank = all). The counts open the child's merged "
                "chronology."
            ),
            # Left at its defaults (the whole period, shared within 7 days) the
            # answer is read from case_contacts, one row per child kept by triggers
            # (m016_question_aggregates), in the order of its index; other
            # parameters run the question in full over the events (the second
            # part, as slow as before: a per-case count for every period and window
            # cannot be kept). 1,000,000 findings and 1,500,000 events, first 1,001
            # rows, 2 cores at load ~20: 240 s before (14.8 s at a lighter load),
            # 154-655 ms now (min-median of 3).
            sql=f"""
WITH review AS ({CURRENT_REVIEW}),
at_defaults AS (
  SELECT nullif(:period_from, '') IS NULL AND nullif(:period_to, '') IS NULL
         AND CAST(coalesce(nullif(:within_days, ''), {CONTACTS_DEFAULT_WITHIN_DAYS}) AS INTEGER)
             = {CONTACTS_DEFAULT_WITHIN_DAYS} AS yes
),
-- MATERIALIZED: otherwise SQLite copies the EXISTS into each of its three uses.
contacts AS MATERIALIZED (
  {contacts_sql(contacts_where, "CAST(coalesce(nullif(:within_days, ''), 7) AS INTEGER)")}
)
SELECT cases.case_ref, case_contacts.contacts, case_contacts.agencies, case_contacts.unshared,
       case_contacts.unshared_contacts
FROM case_contacts INDEXED BY idx_case_contacts_order
CROSS JOIN cases ON cases.id = case_contacts.case_id
WHERE (SELECT yes FROM at_defaults) AND case_contacts.review_id = (SELECT id FROM review)
UNION ALL
SELECT cases.case_ref, count(*) AS contacts, count(DISTINCT contacts.agency_id) AS agencies,
       sum(NOT contacts.followed_by_sharing) AS unshared,
       group_concat(CASE WHEN NOT contacts.followed_by_sharing
                         THEN contacts.event_date || ' ' || agencies.name || ': ' || contacts.event_type END,
                    '; ') AS unshared_contacts
FROM contacts
JOIN cases ON cases.id = contacts.case_id
JOIN agencies ON agencies.id = contacts.agency_id
GROUP BY cases.id
ORDER BY 4 DESC, 2 DESC, 1
""",
            params=("period_from", "period_to", "within_days"),
            permission=policy.READ_CHRONOLOGIES,
            links={"contacts": CHRONOLOGY_OF_CASE, "unshared": CHRONOLOGY_OF_CASE},
        ),
        Question(
            name="strategy_discussions_missing_partners",
            number=4,
            title="Strategy discussions and section 47 enquiries without police, health or social care",
            description=(
                "Each strategy discussion or s47 enquiry with the statutory partners who took part: social care, "
                "police, health (1 = took part). A partner counts as taking part when the event was recorded by "
                "one of its agencies, or its account names the partner without saying it was absent ('health "
                "not invited', 'without police'); an s47 enquiry also counts the partners of a strategy "
                "discussion for the same child in the 14 days before it. missing names the absent partners; "
                "only events with a partner missing are listed. Read the account to confirm."
            ),
            # Each meeting's partners come from meeting_partners, kept per child by
            # triggers (m016_question_aggregates) with the rule above; children are
            # walked in case_ref order and their meetings in date order through
            # indexes, so the first page comes without sorting every meeting.
            # 1,000,000 findings and 1,500,000 events, first 1,001 rows: 6.9 s before.
            sql=f"""
WITH review AS ({CURRENT_REVIEW})
SELECT cases.case_ref, meeting_partners.event_date, chronology_events.event_type, agencies.name AS recorded_by,
       meeting_partners.social_care, meeting_partners.police, meeting_partners.health,
       trim(CASE WHEN NOT meeting_partners.social_care THEN 'social care ' ELSE '' END
            || CASE WHEN NOT meeting_partners.police THEN 'police ' ELSE '' END
            || CASE WHEN NOT meeting_partners.health THEN 'health' ELSE '' END) AS missing,
       chronology_events.description
FROM cases INDEXED BY idx_cases_case_ref
CROSS JOIN meeting_partners INDEXED BY idx_meeting_partners_case ON meeting_partners.case_id = cases.id
CROSS JOIN chronology_events ON chronology_events.id = meeting_partners.event_id
JOIN agencies ON agencies.id = chronology_events.agency_id
WHERE chronology_events.review_id = (SELECT id FROM review)
  AND NOT (meeting_partners.social_care AND meeting_partners.police AND meeting_partners.health)
ORDER BY cases.case_ref, meeting_partners.event_date
""",
            permission=policy.READ_CHRONOLOGIES,
            links={"event_date": CHRONOLOGY_OF_CASE},
        ),
        Question(
            name="cp_children_not_seen",
            number=5,
            title="Children on a child protection plan not seen alone, or not seen for too long",
            description=(
                "Every child on a child protection plan with: how often they were seen alone, when they were "
                "last seen, the longest gap between two contacts in which a professional saw the child, and the "
                "days from the last contact to as_of (default: the first day of fieldwork). Listed when the "
                "child was never seen alone, or a gap exceeded gap_days (default 14). Read times_seen_alone 0 as never "
                "seen alone, and a longest_gap_days or days_since_seen above gap_days as a child not seen for too "
                "long; the counts open the child's merged chronology."
            ),
            # Times seen alone, last seen and the longest gap come from case_seen,
            # one row per child kept by triggers (m016_question_aggregates): the
            # window over every child's contacts took 2.3 s on 1,000,000 findings
            # and 1,500,000 events (7.8 s at load ~20), this 467 ms at the same load.
            sql=f"""
WITH review AS ({CURRENT_REVIEW}),
per_child AS (
  SELECT cases.id, cases.case_ref, cases.cp_category, coalesce(case_seen.times_seen_alone, 0) AS times_seen_alone,
         case_seen.last_seen, case_seen.longest_gap_days
  FROM cases
  LEFT JOIN case_seen ON case_seen.case_id = cases.id
  WHERE cases.review_id = (SELECT id FROM review) AND cases.legal_status = 'cp_plan'
)
SELECT case_ref, cp_category, times_seen_alone, last_seen, longest_gap_days,
       CAST(julianday(coalesce(nullif(:as_of, ''), (SELECT fieldwork_start FROM review), date('now')))
            - julianday(last_seen) AS INTEGER) AS days_since_seen
FROM per_child
WHERE times_seen_alone = 0
   OR last_seen IS NULL
   OR longest_gap_days > CAST(coalesce(nullif(:gap_days, ''), 14) AS INTEGER)
   OR julianday(coalesce(nullif(:as_of, ''), (SELECT fieldwork_start FROM review), date('now')))
      - julianday(last_seen) > CAST(coalesce(nullif(:gap_days, ''), 14) AS INTEGER)
ORDER BY times_seen_alone, longest_gap_days DESC, case_ref
""",
            params=("gap_days", "as_of"),
            permission=policy.READ_CHRONOLOGIES,
            links={"times_seen_alone": CHRONOLOGY_OF_CASE, "last_seen": CHRONOLOGY_OF_CASE},
        ),
        Question(
            name="coverage_matrix",
            number=6,
            title="Criterion × strand coverage matrix",
            description=(
                "How many findings (not withdrawn) each strand has linked to each criterion of the framework. "
                "empty_cells names the strands with no evidence at all for that criterion: plan tomorrow's "
                "fieldwork to fill them or say why not. single_source_cells names strands whose evidence there "
                "comes from one inspector only: corroborate before judging. Each count opens the findings behind it; a "
                "0 is an empty cell."
            ),
            sql=coverage_matrix_sql(strands),
            links={code: f"findings_readable?strand={code}&_criterion={{criterion}}&{NOT_WITHDRAWN}" for code in strands},
        ),
        Question(
            name="qa_queue_by_inspector",
            number=7,
            title="Evidence awaiting QA or returned, by inspector and age",
            description=(
                "For each inspector: findings submitted and waiting for QA, and findings returned to them and "
                "not yet resubmitted, with how long the oldest has waited (days since its last QA action). "
                "older_than_days counts those waiting longer than stale_days (default 2): chase these first. The count "
                "of findings opens them."
            ),
            # Waiting findings and the day each waits since come from qa_waiting,
            # kept by triggers (m016_question_aggregates), counted per day through
            # its index before the ages are worked out: 1.2 s on 1,000,000
            # findings (a look-up of the last QA action per waiting finding; 4.1 s
            # at load ~20), this 197 ms at the same load.
            sql=f"""
WITH review AS ({CURRENT_REVIEW}),
per_day AS (
  SELECT qa_waiting.inspector_id, qa_waiting.qa_status, count(*) AS findings,
         julianday(coalesce(nullif(:as_of, ''), date('now'))) - julianday(qa_waiting.since) AS age_days
  FROM qa_waiting
  WHERE qa_waiting.review_id = (SELECT id FROM review)
  GROUP BY qa_waiting.inspector_id, qa_waiting.qa_status, qa_waiting.since
)
SELECT inspectors.code AS inspector, strands.code AS strand, per_day.qa_status,
       sum(per_day.findings) AS findings, CAST(max(per_day.age_days) AS INTEGER) AS oldest_days,
       round(sum(per_day.findings * per_day.age_days) / sum(per_day.findings), 1) AS average_days,
       sum(per_day.findings * (per_day.age_days > CAST(coalesce(nullif(:stale_days, ''), 2) AS INTEGER)))
         AS older_than_days
FROM per_day
JOIN inspectors ON inspectors.id = per_day.inspector_id
JOIN strands ON strands.id = inspectors.strand_id
GROUP BY inspectors.id, per_day.qa_status
ORDER BY oldest_days DESC, inspectors.code
""",
            params=("stale_days", "as_of"),
            links={"findings": "findings_readable?inspector={inspector}&qa_status={qa_status}"},
        ),
        Question(
            name="strengths_vs_improvements",
            number=8,
            title="Strengths against areas for improvement, by agency and by criterion",
            description=(
                "The balance check: for each agency, then each criterion, the count of strengths, areas for "
                "improvement, serious weaknesses and context findings (not withdrawn), and the share of "
                "strengths. A report that reads more positive than this table is the 'overly positive' risk; "
                "a strand code in strand limits it to that strand."
            ),
            # Counted from balance_by_agency and balance_by_criterion, kept by
            # triggers (m016_question_aggregates): a few hundred rows instead of
            # every finding and criteria link (1.1 s on 1,000,000 findings; 4.3 s at
            # load ~20), this 0.1 ms.
            sql=f"""
WITH review AS ({CURRENT_REVIEW}),
by_agency AS (
  SELECT balance_by_agency.* FROM balance_by_agency
  JOIN strands ON strands.id = balance_by_agency.strand_id
  WHERE balance_by_agency.review_id = (SELECT id FROM review)
    AND (coalesce(:strand, '') = '' OR strands.code = :strand)
),
by_criterion AS (
  SELECT balance_by_criterion.* FROM balance_by_criterion
  JOIN strands ON strands.id = balance_by_criterion.strand_id
  WHERE balance_by_criterion.review_id = (SELECT id FROM review)
    AND (coalesce(:strand, '') = '' OR strands.code = :strand)
)
SELECT 'agency' AS by, coalesce(agencies.name, '(partnership-wide)') AS name,
       sum(by_agency.findings * (by_agency.finding_type = 'strength')) AS strengths,
       sum(by_agency.findings * (by_agency.finding_type = 'area_for_improvement')) AS areas_for_improvement,
       sum(by_agency.findings * (by_agency.finding_type = 'serious_weakness')) AS serious_weaknesses,
       sum(by_agency.findings * (by_agency.finding_type = 'context')) AS context,
       round(100.0 * sum(by_agency.findings * (by_agency.finding_type = 'strength'))
             / nullif(sum(by_agency.findings * (by_agency.finding_type != 'context')), 0), 0) AS strength_percent
FROM by_agency LEFT JOIN agencies ON agencies.id = by_agency.agency_id
GROUP BY by_agency.agency_id
HAVING sum(by_agency.findings) > 0
UNION ALL
SELECT 'criterion', criteria.code || ' ' || criteria.title,
       sum(by_criterion.findings * (by_criterion.finding_type = 'strength')),
       sum(by_criterion.findings * (by_criterion.finding_type = 'area_for_improvement')),
       sum(by_criterion.findings * (by_criterion.finding_type = 'serious_weakness')),
       sum(by_criterion.findings * (by_criterion.finding_type = 'context')),
       round(100.0 * sum(by_criterion.findings * (by_criterion.finding_type = 'strength'))
             / nullif(sum(by_criterion.findings * (by_criterion.finding_type != 'context')), 0), 0)
FROM by_criterion
JOIN criteria ON criteria.id = by_criterion.criterion_id
GROUP BY criteria.id
HAVING sum(by_criterion.findings) > 0
ORDER BY 1, 2
""",
            params=("strand",),
        ),
        Question(
            name="grades_against_evidence",
            number=9,
            title="Proposed grades that disagree with the linked evidence",
            description=(
                "Judgements whose proposed (or moderated) grade does not fit the mix of evidence linked to the "
                "criterion (and, for a single-agency judgement, to that agency): a good or outstanding grade "
                "(3–4) on mostly negative evidence or with serious weaknesses in a tenth or more of it; an "
                "adequate or inadequate grade "
                "(1–2) with mostly strengths; or a grade with no evidence at all. reason says which; grades show with "
                "their labels (e.g. 2 — Adequate). An empty answer means every grade fits its evidence."
            ),
            sql=f"""
WITH review AS ({CURRENT_REVIEW}),
mix AS (
  SELECT judgements.id AS judgement_id,
         count(findings.id) AS findings,
         coalesce(sum(findings.finding_type = 'strength'), 0) AS strengths,
         coalesce(sum(findings.finding_type IN {negative_types}), 0) AS negatives,
         coalesce(sum(findings.finding_type = 'serious_weakness'), 0) AS serious_weaknesses
  FROM judgements
  LEFT JOIN finding_criteria ON finding_criteria.criterion_id = judgements.criterion_id
  LEFT JOIN findings ON findings.id = finding_criteria.finding_id
       AND findings.qa_status != 'withdrawn'
       AND (judgements.agency_id IS NULL OR findings.agency_id = judgements.agency_id)
  WHERE judgements.review_id = (SELECT id FROM review)
  GROUP BY judgements.id
),
graded AS (
  SELECT judgements.*, coalesce(judgements.moderated_grade, judgements.proposed_grade) AS grade, mix.*,
         {disagreement} AS reason
  FROM judgements JOIN mix ON mix.judgement_id = judgements.id
  WHERE coalesce(judgements.moderated_grade, judgements.proposed_grade) IS NOT NULL
)
SELECT criteria.code AS criterion, criteria.title AS criterion_title, graded.scope,
       agencies.name AS agency, graded.proposed_grade, graded.moderated_grade,
       graded.findings, graded.strengths, graded.negatives, graded.serious_weaknesses,
       graded.reason, graded.narrative
FROM graded
JOIN criteria ON criteria.id = graded.criterion_id
LEFT JOIN agencies ON agencies.id = graded.agency_id
WHERE graded.reason IS NOT NULL
ORDER BY criteria.position, agencies.name
""",
        ),
        Question(
            name="open_safeguarding_alerts",
            number=10,
            title="Open safeguarding alerts, their age and overdue responses",
            description=(
                "Every alert not yet closed: the child, urgency, status, days since raised, and whether the "
                "referral or the agency's response is overdue as of as_of (default today). Urgent and overdue "
                "alerts come first; act on these tonight."
            ),
            sql=f"""
WITH review AS ({CURRENT_REVIEW}),
today AS (SELECT coalesce(nullif(:as_of, ''), date('now')) AS day)
SELECT safeguarding_alerts.id AS alert, cases.case_ref, findings.public_id, safeguarding_alerts.urgency,
       safeguarding_alerts.status,
       CAST(julianday((SELECT day FROM today)) - julianday(substr(safeguarding_alerts.raised_at, 1, 10)) AS INTEGER)
         AS age_days,
       safeguarding_alerts.referral_due, safeguarding_alerts.response_due,
       (safeguarding_alerts.status = 'raised' AND safeguarding_alerts.referral_due < (SELECT day FROM today))
         AS referral_overdue,
       (safeguarding_alerts.status = 'referred' AND safeguarding_alerts.response_due < (SELECT day FROM today))
         AS response_overdue,
       safeguarding_alerts.referred_to, safeguarding_alerts.concern, safeguarding_alerts.raised_by
FROM safeguarding_alerts
LEFT JOIN cases ON cases.id = safeguarding_alerts.case_id
LEFT JOIN findings ON findings.id = safeguarding_alerts.finding_id
WHERE safeguarding_alerts.review_id = (SELECT id FROM review) AND safeguarding_alerts.status != 'closed'
ORDER BY safeguarding_alerts.urgency = 'urgent' DESC, referral_overdue + response_overdue DESC, age_days DESC
""",
            params=("as_of",),
            links={"alert": "safeguarding_alerts/{alert}"},
        ),
        Question(
            name="contested_events",
            number=11,
            title="Events recorded differently by two agencies",
            description=(
                "Pairs of events of the same kind for the same child, recorded by two different agencies within "
                "window_days (default 1) of each other, whose dates or accounts differ. The same attendance "
                "dated or described differently by two services is a data-quality trap and often a finding in "
                "itself: check the source records (first_event_id and second_event_id open them) before relying "
                "on either."
            ),
            # Only events with another agency's event of the same kind for the same
            # child within the window are joined (contested_candidates, kept by
            # triggers, m016_question_aggregates): pairing every event took 5.1 s on
            # 1,000,000 findings and 1,500,000 events (44.7 s at load ~20), this
            # 315 ms at the same load (default window; a wide window joins more).
            sql=f"""
WITH review AS ({CURRENT_REVIEW})
SELECT cases.case_ref, {event_label.replace('chronology_events.', 'first.')} AS event,
       first.event_date AS first_date, first_agency.name AS first_agency, first.description AS first_account,
       second.event_date AS second_date, second_agency.name AS second_agency, second.description AS second_account,
       CAST(abs(julianday(second.event_date) - julianday(first.event_date)) AS INTEGER) AS days_apart,
       first.id AS first_event_id, second.id AS second_event_id
FROM contested_candidates AS candidate
CROSS JOIN chronology_events AS first ON first.id = candidate.event_id
JOIN chronology_events AS second
  -- The date range lets the (case_id, event_date) index drive the join; the
  -- unary + keeps SQLite from choosing the event_type index instead.
  ON second.case_id = first.case_id
 AND second.event_date BETWEEN date(first.event_date, '-' || CAST(coalesce(nullif(:window_days, ''), 1) AS INTEGER)
                                    || ' days')
                           AND date(first.event_date, '+' || CAST(coalesce(nullif(:window_days, ''), 1) AS INTEGER)
                                    || ' days')
 AND +second.event_type = first.event_type
 AND second.agency_id != first.agency_id AND second.id > first.id
JOIN cases ON cases.id = first.case_id
JOIN agencies AS first_agency ON first_agency.id = first.agency_id
JOIN agencies AS second_agency ON second_agency.id = second.agency_id
WHERE candidate.days <= CAST(coalesce(nullif(:window_days, ''), 1) AS INTEGER)
  AND first.review_id = (SELECT id FROM review)
  AND (first.event_date != second.event_date OR first.description != second.description)
ORDER BY cases.case_ref, first.event_date
""",
            params=("window_days",),
            permission=policy.READ_CHRONOLOGIES,
            links={"first_event_id": "chronology_events/{first_event_id}",
                   "second_event_id": "chronology_events/{second_event_id}"},
        ),
        Question(
            name="injuries_without_referral",
            number=12,
            title="Injuries seen by health with no referral or strategy discussion after them",
            description=(
                "Health events (ED, paediatrics, GP, health visiting, …) whose account mentions an injury "
                "(bruising, fracture, burn, bite mark …) and after which no agency recorded a referral, "
                "strategy discussion or s47 enquiry for the child within within_days (default 7). Each row "
                "is a possible missed opportunity to protect the child; event_id opens the event's record."
            ),
            # Walked in date order through the event_date index (named: left to
            # itself SQLite started from the full-text list and sorted, 9 s), so the
            # first page's rows come from the first days of the
            # chronology instead of sorting every injury first: 4.1 s -> 245 ms at
            # load ~4, 29.8 s -> 1.4 s at load ~20, on 1,000,000 findings and
            # 1,500,000 events. What is left is listing the 700,000 events the
            # full-text query matches; a flag kept per event would need that query
            # for each event written (40-90 ms for one rowid), so it stays here.
            sql=f"""
WITH review AS ({CURRENT_REVIEW}),
injured AS MATERIALIZED (SELECT rowid AS id FROM chronology_events_fts
                         WHERE chronology_events_fts MATCH '{INJURY_FTS}')
SELECT cases.case_ref, chronology_events.event_date, agencies.name AS agency,
       {event_label} AS event, chronology_events.practitioner_role, chronology_events.description,
       chronology_events.missed_opportunity, chronology_events.id AS event_id
FROM chronology_events INDEXED BY idx_chronology_event_date
CROSS JOIN agencies ON agencies.id = chronology_events.agency_id
CROSS JOIN cases ON cases.id = chronology_events.case_id
WHERE chronology_events.review_id = (SELECT id FROM review)
  AND agencies.agency_type IN {sql_in(HEALTH_AGENCY_TYPES)}
  -- The full-text index finds the candidates fast; the LIKE terms are the rule.
  AND chronology_events.id IN injured
  AND ({injury})
  AND lower(chronology_events.description) NOT LIKE '%no injur%'
  AND NOT EXISTS (
    SELECT 1 FROM chronology_events AS response
    WHERE response.case_id = chronology_events.case_id
      AND response.event_type IN ('referral', 'strategy_discussion', 's47_enquiry')
      AND response.event_date >= chronology_events.event_date
      AND julianday(response.event_date) - julianday(chronology_events.event_date)
          <= CAST(coalesce(nullif(:within_days, ''), 7) AS INTEGER)
  )
ORDER BY chronology_events.event_date, cases.case_ref
""",
            params=("within_days",),
            permission=policy.READ_CHRONOLOGIES,
            links={"event_id": "chronology_events/{event_id}"},
        ),
        Question(
            name="identifier_check",
            number=13,
            title="Findings flagged by the identifier check",
            description=(
                "Findings whose evidence or evaluation text contains something that looks like a real "
                "person's identifier (an NHS number, a date of birth, a National Insurance number, a local "
                "client id). Evidence is disclosable and must identify children only by case reference: ask "
                "the author to edit these before any export. patterns names what matched."
            ),
            sql=f"""
WITH review AS ({CURRENT_REVIEW}),
flags AS (
  -- Kept by triggers as findings are written (identifier_flags, migration
  -- m014_identifier_flags): matching every text on each run took 0.8 s at
  -- 20,000 findings, 10 s at 1,000,000.
  SELECT finding_id AS id, patterns FROM identifier_flags
)
SELECT findings.public_id, strands.code AS strand, inspectors.code AS inspector, findings.qa_status,
       flags.patterns, {finding_type_label} AS finding_type,
       findings.evidence_text, findings.evaluation_text
FROM flags
JOIN findings ON findings.id = flags.id
JOIN strands ON strands.id = findings.strand_id
JOIN inspectors ON inspectors.id = findings.inspector_id
WHERE flags.patterns != '' AND findings.review_id = (SELECT id FROM review)
ORDER BY findings.public_id
""",
        ),
        Question(
            name="judgements_and_evidence",
            number=None,
            title="Judgements and their evidence",
            description=(
                "Every judgement of the review in framework order, one row per cited finding: the proposed and "
                "moderated grades (with the moderator's reason), the narrative, and each citation's finding, "
                "strand, agency, QA status, the version cited against the current one, and the quote. "
                "cited_evidence_state says when a citation needs another look (not accepted, or edited after "
                "it was cited). A judgement with no citations has one row with empty citation columns."
            ),
            sql=f"""
WITH review AS ({CURRENT_REVIEW})
SELECT judgement_areas.code AS area, criteria.code AS criterion, criteria.title AS criterion_title,
       judgements.scope, agencies.name AS agency, judgements.proposed_grade,
       (SELECT label FROM grades WHERE grades.review_id = judgements.review_id
          AND grades.grade = judgements.proposed_grade) AS proposed_label,
       judgements.moderated_grade, judgements.moderation_reason, judgements.moderated_by,
       judgements.version AS judgement_version, judgements.narrative,
       judgements.strengths, judgements.areas_for_improvement,
       judgement_citations.position AS citation, findings.public_id AS finding, strands.code AS strand,
       cited_agency.name AS finding_agency, findings.collected_on, findings.finding_type, findings.qa_status,
       judgement_citations.finding_version AS version_cited, findings.version AS version_now,
       CASE WHEN findings.id IS NULL THEN NULL
            WHEN findings.qa_status != 'accepted' THEN 'not accepted'
            WHEN findings.version != judgement_citations.finding_version THEN 'edited after citing'
            ELSE 'ok' END AS cited_evidence_state,
       judgement_citations.quote, findings.evidence_text
FROM judgements
JOIN criteria ON criteria.id = judgements.criterion_id
JOIN judgement_areas ON judgement_areas.id = criteria.area_id
LEFT JOIN agencies ON agencies.id = judgements.agency_id
LEFT JOIN judgement_citations ON judgement_citations.judgement_id = judgements.id
LEFT JOIN findings ON findings.id = judgement_citations.finding_id
LEFT JOIN strands ON strands.id = findings.strand_id
LEFT JOIN agencies AS cited_agency ON cited_agency.id = findings.agency_id
WHERE judgements.review_id = (SELECT id FROM review)
ORDER BY criteria.position, judgements.scope DESC, agencies.name, judgement_citations.position
""",
            links={"finding": "/findings/{finding}"},
        ),
        Question(
            name="my_strand_findings",
            number=None,
            title="Findings of my strand",
            description=(
                "Your own strand's evidence records, newest first (inspectors see only their strand; use the "
                "findings table if you are a lead or moderator). Optional filters: words to search for in the "
                "text (plain words: every word must appear; words in double quotes must appear side by side), a case "
                "reference, a QA status (draft, submitted, returned, accepted, withdrawn). The page "
                "shows the first 1,000 records and says when there are more; the .xlsx export holds them all."
            ),
            # No LIMIT in the SQL: Datasette's own cap says "truncated" on the
            # page, and the .xlsx export re-runs the query past it. A LIMIT here
            # cut both at 1,000 silently (0.7 s for 300,000 rows of one strand
            # without it, no statistics).
            sql=f"""
SELECT findings.public_id, inspectors.code AS inspector, agencies.name AS agency, cases.case_ref,
       {finding_type_label} AS finding_type, findings.qa_status, findings.collected_on,
       (SELECT group_concat(criteria.code, ' ') FROM finding_criteria
        JOIN criteria ON criteria.id = finding_criteria.criterion_id
        WHERE finding_criteria.finding_id = findings.id) AS criteria,
       findings.evidence_text, findings.evaluation_text
FROM findings
JOIN strands ON strands.id = findings.strand_id
JOIN inspectors ON inspectors.id = findings.inspector_id
LEFT JOIN agencies ON agencies.id = findings.agency_id
LEFT JOIN cases ON cases.id = findings.case_id
WHERE strands.code = :_actor_strand
  AND findings.review_id = (SELECT id FROM reviews WHERE slug = :_ik_review)
  AND (coalesce(:search, '') = ''
       OR findings.id IN (SELECT rowid FROM findings_fts WHERE findings_fts MATCH ik_fts_phrase(:search)))
  AND (coalesce(:case_ref, '') = '' OR cases.case_ref = :case_ref)
  AND (coalesce(:qa_status, '') = '' OR findings.qa_status = :qa_status)
ORDER BY findings.collected_on DESC, findings.id DESC
""",
            params=("search", "case_ref", "qa_status"),
            permission=policy.READ_OWN_STRAND_FINDINGS,
        ),
        audit_outline(),
    ]


def audit_outline() -> Question:
    """The audit log without its content, for administrators (and leads, moderators)."""
    columns = ", ".join(f"audit_log.{column}" for column in policy.AUDIT_OUTLINE_COLUMNS)
    return Question(
        name="audit_outline",
        number=None,
        title="Audit log: who did what, when",
        description=(
            "Every write and export of the review, newest first: when, which account, what action on which "
            "record (accounts' rows, which belong to no review, too). Without the records' content "
            "(before/after snapshots, comments): administrators run the system, not the inspection. "
            "Optional filters: who (an account's username), action (its start, e.g. finding. or export). "
            "Each row is one write or export: read it as who (actor) did what (action) to which record, and when."
        ),
        sql=f"""
SELECT {columns}
FROM audit_log
WHERE (coalesce(:who, '') = '' OR audit_log.actor = :who)
  AND (coalesce(:action, '') = '' OR audit_log.action LIKE :action || '%')
  AND {review_records_clause(":_ik_review_id")}
ORDER BY audit_log.id DESC
""",
        params=("who", "action"),
        permission=policy.READ_AUDIT_OUTLINE,
    )


def question(name: str, strands: list[str] | None = None) -> Question:
    """The question called ``name``. :raises KeyError: when there is none."""
    for candidate in questions(strands):
        if candidate.name == name:
            return candidate
    raise KeyError(name)
