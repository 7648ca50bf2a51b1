# ruff: noqa: E501
"""The lead's slow questions as they were written before their faster forms: the
reference their answers are compared with (tests/test_question_speed.py). Generated
from inspect_kit/datasette_plugin/questions.py before the change; do not edit."""

BEFORE = {
    "cases_with_concerns_across_agencies": """
WITH review AS (SELECT id, fieldwork_start FROM reviews ORDER BY id DESC LIMIT 1)
SELECT cases.case_ref, cases.legal_status, cases.selection_route,
       count(DISTINCT findings.strand_id) AS strands,
       count(DISTINCT findings.agency_id) AS agencies,
       count(*) AS concerns,
       sum(findings.finding_type = 'serious_weakness') AS serious_weaknesses,
       sum(findings.impact_on_child = 'negative') AS negative_impact,
       group_concat(DISTINCT strands.code) AS strand_codes,
       group_concat(DISTINCT agencies.name) AS agency_names
FROM findings
JOIN cases ON cases.id = findings.case_id
JOIN strands ON strands.id = findings.strand_id
LEFT JOIN agencies ON agencies.id = findings.agency_id
WHERE findings.review_id = (SELECT id FROM review)
  AND findings.qa_status != 'withdrawn'
  AND (findings.finding_type IN ('area_for_improvement', 'serious_weakness') OR findings.impact_on_child = 'negative')
GROUP BY cases.id
HAVING count(DISTINCT findings.strand_id) >= 2 OR count(DISTINCT findings.agency_id) >= 2
ORDER BY strands DESC, agencies DESC, concerns DESC, cases.case_ref
""",
    "contacts_without_information_shared": """
WITH review AS (SELECT id, fieldwork_start FROM reviews ORDER BY id DESC LIMIT 1),
-- MATERIALIZED: otherwise SQLite copies the EXISTS into each of its three uses.
contacts AS MATERIALIZED (
  SELECT chronology_events.*,
         EXISTS (
           SELECT 1 FROM chronology_events AS shared
           WHERE shared.case_id = chronology_events.case_id
             AND shared.agency_id = chronology_events.agency_id
             AND shared.event_type IN ('information_shared', 'referral', 'strategy_discussion', 's47_enquiry', 'conference')
             AND shared.event_date >= chronology_events.event_date
             AND julianday(shared.event_date) - julianday(chronology_events.event_date)
                 <= CAST(coalesce(nullif(:within_days, ''), 7) AS INTEGER)
         ) AS followed_by_sharing
  FROM chronology_events
  WHERE chronology_events.review_id = (SELECT id FROM review)
    AND chronology_events.event_type IN ('ed_attendance', 'gp_appointment', 'home_visit', 'child_seen_alone', 'medical_examination', 'clinic_appointment', 'health_visit', 'school_contact', 'hospital_admission', 'police_incident', 'assessment')
    AND chronology_events.event_date >= coalesce(nullif(:period_from, ''), '0000-01-01')
    AND chronology_events.event_date <= coalesce(nullif(:period_to, ''), '9999-12-31')
)
SELECT cases.case_ref, count(*) AS contacts, count(DISTINCT contacts.agency_id) AS agencies,
       sum(NOT contacts.followed_by_sharing) AS unshared,
       group_concat(CASE WHEN NOT contacts.followed_by_sharing
                         THEN contacts.event_date || ' ' || agencies.name || ': ' || contacts.event_type END,
                    '; ') AS unshared_contacts
FROM contacts
JOIN cases ON cases.id = contacts.case_id
JOIN agencies ON agencies.id = contacts.agency_id
GROUP BY cases.id
ORDER BY unshared DESC, contacts DESC, cases.case_ref
""",
    "strategy_discussions_missing_partners": """
WITH review AS (SELECT id, fieldwork_start FROM reviews ORDER BY id DESC LIMIT 1),
meetings AS (
  SELECT chronology_events.id, chronology_events.case_id, chronology_events.event_date,
         chronology_events.event_type, chronology_events.description, agencies.name AS agency,
         (agencies.agency_type IN ('childrens_social_care', 'mash', 'legal_services') OR ((lower(chronology_events.description) LIKE '%social care%' OR lower(chronology_events.description) LIKE '%social worker%' OR lower(chronology_events.description) LIKE '%mash%') AND NOT (lower(chronology_events.description) LIKE '%without social care%' OR lower(chronology_events.description) LIKE '%social care not %' OR lower(chronology_events.description) LIKE '%social care was not%' OR lower(chronology_events.description) LIKE '%social care were not%' OR lower(chronology_events.description) LIKE '%no social care%' OR lower(chronology_events.description) LIKE '%social care absent%'))) AS social_care,
         (agencies.agency_type IN ('police', 'police_cait') OR ((lower(chronology_events.description) LIKE '%police%' OR lower(chronology_events.description) LIKE '%cait%' OR lower(chronology_events.description) LIKE '%detective%') AND NOT (lower(chronology_events.description) LIKE '%without police%' OR lower(chronology_events.description) LIKE '%police not %' OR lower(chronology_events.description) LIKE '%police was not%' OR lower(chronology_events.description) LIKE '%police were not%' OR lower(chronology_events.description) LIKE '%no police%' OR lower(chronology_events.description) LIKE '%police absent%'))) AS police,
         (agencies.agency_type IN ('emergency_department', 'paediatrics', 'maternity', 'health_visiting', 'school_nursing', 'child_development', 'gp') OR ((lower(chronology_events.description) LIKE '%health%' OR lower(chronology_events.description) LIKE '%paediatrician%' OR lower(chronology_events.description) LIKE '%doctor%' OR lower(chronology_events.description) LIKE '%nurse%' OR lower(chronology_events.description) LIKE '%midwife%') AND NOT (lower(chronology_events.description) LIKE '%without health%' OR lower(chronology_events.description) LIKE '%health not %' OR lower(chronology_events.description) LIKE '%health was not%' OR lower(chronology_events.description) LIKE '%health were not%' OR lower(chronology_events.description) LIKE '%no health%' OR lower(chronology_events.description) LIKE '%health absent%'))) AS health
  FROM chronology_events
  JOIN agencies ON agencies.id = chronology_events.agency_id
  WHERE chronology_events.review_id = (SELECT id FROM review)
    AND chronology_events.event_type IN ('strategy_discussion', 's47_enquiry')
),
-- MATERIALIZED: each partner's look-back runs once per meeting, not once per use.
attended AS MATERIALIZED (
  SELECT meetings.id, meetings.case_id, meetings.event_date, meetings.event_type, meetings.description,
         meetings.agency,
         max(meetings.social_care, meetings.event_type = 's47_enquiry' AND EXISTS (SELECT 1 FROM chronology_events AS earlier JOIN agencies AS earlier_agency ON earlier_agency.id = earlier.agency_id WHERE earlier.case_id = meetings.case_id AND earlier.event_date BETWEEN date(meetings.event_date, '-14 days') AND meetings.event_date AND earlier.event_type = 'strategy_discussion' AND (earlier_agency.agency_type IN ('childrens_social_care', 'mash', 'legal_services') OR ((lower(earlier.description) LIKE '%social care%' OR lower(earlier.description) LIKE '%social worker%' OR lower(earlier.description) LIKE '%mash%') AND NOT (lower(earlier.description) LIKE '%without social care%' OR lower(earlier.description) LIKE '%social care not %' OR lower(earlier.description) LIKE '%social care was not%' OR lower(earlier.description) LIKE '%social care were not%' OR lower(earlier.description) LIKE '%no social care%' OR lower(earlier.description) LIKE '%social care absent%'))))) AS social_care,
         max(meetings.police, meetings.event_type = 's47_enquiry' AND EXISTS (SELECT 1 FROM chronology_events AS earlier JOIN agencies AS earlier_agency ON earlier_agency.id = earlier.agency_id WHERE earlier.case_id = meetings.case_id AND earlier.event_date BETWEEN date(meetings.event_date, '-14 days') AND meetings.event_date AND earlier.event_type = 'strategy_discussion' AND (earlier_agency.agency_type IN ('police', 'police_cait') OR ((lower(earlier.description) LIKE '%police%' OR lower(earlier.description) LIKE '%cait%' OR lower(earlier.description) LIKE '%detective%') AND NOT (lower(earlier.description) LIKE '%without police%' OR lower(earlier.description) LIKE '%police not %' OR lower(earlier.description) LIKE '%police was not%' OR lower(earlier.description) LIKE '%police were not%' OR lower(earlier.description) LIKE '%no police%' OR lower(earlier.description) LIKE '%police absent%'))))) AS police,
         max(meetings.health, meetings.event_type = 's47_enquiry' AND EXISTS (SELECT 1 FROM chronology_events AS earlier JOIN agencies AS earlier_agency ON earlier_agency.id = earlier.agency_id WHERE earlier.case_id = meetings.case_id AND earlier.event_date BETWEEN date(meetings.event_date, '-14 days') AND meetings.event_date AND earlier.event_type = 'strategy_discussion' AND (earlier_agency.agency_type IN ('emergency_department', 'paediatrics', 'maternity', 'health_visiting', 'school_nursing', 'child_development', 'gp') OR ((lower(earlier.description) LIKE '%health%' OR lower(earlier.description) LIKE '%paediatrician%' OR lower(earlier.description) LIKE '%doctor%' OR lower(earlier.description) LIKE '%nurse%' OR lower(earlier.description) LIKE '%midwife%') AND NOT (lower(earlier.description) LIKE '%without health%' OR lower(earlier.description) LIKE '%health not %' OR lower(earlier.description) LIKE '%health was not%' OR lower(earlier.description) LIKE '%health were not%' OR lower(earlier.description) LIKE '%no health%' OR lower(earlier.description) LIKE '%health absent%'))))) AS health
  FROM meetings
)
SELECT cases.case_ref, attended.event_date, attended.event_type, attended.agency AS recorded_by,
       attended.social_care, attended.police, attended.health,
       trim(CASE WHEN NOT attended.social_care THEN 'social care ' ELSE '' END
            || CASE WHEN NOT attended.police THEN 'police ' ELSE '' END
            || CASE WHEN NOT attended.health THEN 'health' ELSE '' END) AS missing,
       attended.description
FROM attended
JOIN cases ON cases.id = attended.case_id
WHERE NOT (attended.social_care AND attended.police AND attended.health)
ORDER BY cases.case_ref, attended.event_date
""",
    "cp_children_not_seen": """
WITH review AS (SELECT id, fieldwork_start FROM reviews ORDER BY id DESC LIMIT 1),
cp_cases AS (
  SELECT cases.id, cases.case_ref, cases.cp_category FROM cases
  WHERE cases.review_id = (SELECT id FROM review) AND cases.legal_status = 'cp_plan'
),
seen AS (
  SELECT chronology_events.case_id, chronology_events.event_date, chronology_events.event_type,
         julianday(chronology_events.event_date) - julianday(lag(chronology_events.event_date) OVER (
           PARTITION BY chronology_events.case_id ORDER BY chronology_events.event_date)) AS gap
  FROM chronology_events
  WHERE chronology_events.case_id IN (SELECT id FROM cp_cases)
    AND chronology_events.event_type IN ('home_visit', 'child_seen_alone', 'health_visit', 'clinic_appointment', 'medical_examination', 'gp_appointment', 'school_contact')
),
seen_per_case AS (
  SELECT case_id, sum(event_type = 'child_seen_alone') AS times_seen_alone, max(event_date) AS last_seen,
         CAST(max(gap) AS INTEGER) AS longest_gap_days
  FROM seen GROUP BY case_id
),
per_child AS (
  -- Grouped first, then joined by key (CROSS JOIN fixes the order): the other
  -- way round SQLite scanned every case's events for each child.
  SELECT cases.id, cases.case_ref, cases.cp_category, seen_per_case.times_seen_alone,
         seen_per_case.last_seen, seen_per_case.longest_gap_days
  FROM seen_per_case CROSS JOIN cases ON cases.id = seen_per_case.case_id
  UNION ALL
  SELECT cp_cases.id, cp_cases.case_ref, cp_cases.cp_category, 0, NULL, NULL
  FROM cp_cases
  WHERE NOT EXISTS (SELECT 1 FROM chronology_events WHERE chronology_events.case_id = cp_cases.id
                    AND chronology_events.event_type IN ('home_visit', 'child_seen_alone', 'health_visit', 'clinic_appointment', 'medical_examination', 'gp_appointment', 'school_contact'))
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
    "qa_queue_by_inspector": """
WITH review AS (SELECT id, fieldwork_start FROM reviews ORDER BY id DESC LIMIT 1),
-- MATERIALIZED: age_days is used four times below; inlined, its subquery ran
-- four times per waiting finding.
waiting AS MATERIALIZED (
  SELECT findings.id, findings.inspector_id, findings.qa_status,
         julianday(coalesce(nullif(:as_of, ''), date('now')))
           - julianday(substr(coalesce(
               (SELECT max(qa_actions.at) FROM qa_actions WHERE qa_actions.finding_id = findings.id),
               findings.submitted_at, findings.updated_at), 1, 10)) AS age_days
  FROM findings
  WHERE findings.review_id = (SELECT id FROM review) AND findings.qa_status IN ('submitted', 'returned')
)
SELECT inspectors.code AS inspector, strands.code AS strand, waiting.qa_status,
       count(*) AS findings, CAST(max(waiting.age_days) AS INTEGER) AS oldest_days,
       round(avg(waiting.age_days), 1) AS average_days,
       sum(waiting.age_days > CAST(coalesce(nullif(:stale_days, ''), 2) AS INTEGER)) AS older_than_days
FROM waiting
JOIN inspectors ON inspectors.id = waiting.inspector_id
JOIN strands ON strands.id = inspectors.strand_id
GROUP BY inspectors.id, waiting.qa_status
ORDER BY oldest_days DESC, inspectors.code
""",
    "strengths_vs_improvements": """
WITH review AS (SELECT id, fieldwork_start FROM reviews ORDER BY id DESC LIMIT 1),
scoped AS (
  -- Only the columns used: findings.* copied every finding's text into the
  -- materialised rows (1.8 s on 1,000,000 findings, 1.2 s without).
  SELECT findings.id, findings.agency_id, findings.finding_type FROM findings
  JOIN strands ON strands.id = findings.strand_id
  WHERE findings.review_id = (SELECT id FROM review) AND findings.qa_status != 'withdrawn'
    AND (coalesce(:strand, '') = '' OR strands.code = :strand)
)
SELECT 'agency' AS by, coalesce(agencies.name, '(partnership-wide)') AS name,
       sum(scoped.finding_type = 'strength') AS strengths,
       sum(scoped.finding_type = 'area_for_improvement') AS areas_for_improvement,
       sum(scoped.finding_type = 'serious_weakness') AS serious_weaknesses,
       sum(scoped.finding_type = 'context') AS context,
       round(100.0 * sum(scoped.finding_type = 'strength')
             / nullif(sum(scoped.finding_type != 'context'), 0), 0) AS strength_percent
FROM scoped LEFT JOIN agencies ON agencies.id = scoped.agency_id
GROUP BY scoped.agency_id
UNION ALL
SELECT 'criterion', criteria.code || ' ' || criteria.title,
       sum(scoped.finding_type = 'strength'), sum(scoped.finding_type = 'area_for_improvement'),
       sum(scoped.finding_type = 'serious_weakness'), sum(scoped.finding_type = 'context'),
       round(100.0 * sum(scoped.finding_type = 'strength') / nullif(sum(scoped.finding_type != 'context'), 0), 0)
FROM scoped
JOIN finding_criteria ON finding_criteria.finding_id = scoped.id
JOIN criteria ON criteria.id = finding_criteria.criterion_id
GROUP BY criteria.id
ORDER BY 1, 2
""",
    "contested_events": """
WITH review AS (SELECT id, fieldwork_start FROM reviews ORDER BY id DESC LIMIT 1)
SELECT cases.case_ref, CASE first.event_type WHEN 'referral' THEN 'Referral' WHEN 'ed_attendance' THEN 'Emergency department attendance' WHEN 'gp_appointment' THEN 'GP appointment' WHEN 'home_visit' THEN 'Home visit' WHEN 'child_seen_alone' THEN 'Child seen alone' WHEN 'strategy_discussion' THEN 'Strategy discussion' WHEN 's47_enquiry' THEN 'Section 47 enquiry' WHEN 'conference' THEN 'Child protection conference' WHEN 'core_group' THEN 'Core group meeting' WHEN 'assessment' THEN 'Assessment' WHEN 'police_incident' THEN 'Police incident' WHEN 'medical_examination' THEN 'Medical examination' WHEN 'clinic_appointment' THEN 'Clinic appointment' WHEN 'health_visit' THEN 'Health visitor contact' WHEN 'school_contact' THEN 'School or nursery contact' WHEN 'information_shared' THEN 'Information shared' WHEN 'hospital_admission' THEN 'Hospital admission' WHEN 'critical_incident' THEN 'Critical incident' WHEN 'other' THEN 'Other contact' ELSE first.event_type END AS event,
       first.event_date AS first_date, first_agency.name AS first_agency, first.description AS first_account,
       second.event_date AS second_date, second_agency.name AS second_agency, second.description AS second_account,
       CAST(abs(julianday(second.event_date) - julianday(first.event_date)) AS INTEGER) AS days_apart,
       first.id AS first_event_id, second.id AS second_event_id
FROM chronology_events AS first
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
WHERE first.review_id = (SELECT id FROM review)
  AND (first.event_date != second.event_date OR first.description != second.description)
ORDER BY cases.case_ref, first.event_date
""",
    "injuries_without_referral": """
WITH review AS (SELECT id, fieldwork_start FROM reviews ORDER BY id DESC LIMIT 1)
SELECT cases.case_ref, chronology_events.event_date, agencies.name AS agency,
       CASE chronology_events.event_type WHEN 'referral' THEN 'Referral' WHEN 'ed_attendance' THEN 'Emergency department attendance' WHEN 'gp_appointment' THEN 'GP appointment' WHEN 'home_visit' THEN 'Home visit' WHEN 'child_seen_alone' THEN 'Child seen alone' WHEN 'strategy_discussion' THEN 'Strategy discussion' WHEN 's47_enquiry' THEN 'Section 47 enquiry' WHEN 'conference' THEN 'Child protection conference' WHEN 'core_group' THEN 'Core group meeting' WHEN 'assessment' THEN 'Assessment' WHEN 'police_incident' THEN 'Police incident' WHEN 'medical_examination' THEN 'Medical examination' WHEN 'clinic_appointment' THEN 'Clinic appointment' WHEN 'health_visit' THEN 'Health visitor contact' WHEN 'school_contact' THEN 'School or nursery contact' WHEN 'information_shared' THEN 'Information shared' WHEN 'hospital_admission' THEN 'Hospital admission' WHEN 'critical_incident' THEN 'Critical incident' WHEN 'other' THEN 'Other contact' ELSE chronology_events.event_type END AS event, chronology_events.practitioner_role, chronology_events.description,
       chronology_events.missed_opportunity, chronology_events.id AS event_id
FROM chronology_events
JOIN agencies ON agencies.id = chronology_events.agency_id
JOIN cases ON cases.id = chronology_events.case_id
WHERE chronology_events.review_id = (SELECT id FROM review)
  AND agencies.agency_type IN ('emergency_department', 'paediatrics', 'maternity', 'health_visiting', 'school_nursing', 'child_development', 'gp')
  -- The full-text index finds the candidates fast; the LIKE terms are the rule.
  AND chronology_events.id IN (SELECT rowid FROM chronology_events_fts
                               WHERE chronology_events_fts MATCH 'description : (bruis* OR injur* OR fractur* OR burn* OR bite OR swell* OR mark*)')
  AND (lower(chronology_events.description) LIKE '%bruis%' OR lower(chronology_events.description) LIKE '%injur%' OR lower(chronology_events.description) LIKE '%fractur%' OR lower(chronology_events.description) LIKE '%burn%' OR lower(chronology_events.description) LIKE '%bite mark%' OR lower(chronology_events.description) LIKE '%swelling%' OR lower(chronology_events.description) LIKE '%mark on%' OR lower(chronology_events.description) LIKE '%marks on%' OR lower(chronology_events.description) LIKE '%head injury%')
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
}
