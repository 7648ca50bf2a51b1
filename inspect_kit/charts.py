"""What the charts show, read from the store: a case's timeline, the coverage
of the framework by strand, evidence coming in per fieldwork day, QA ageing and
the balance of strengths and areas for improvement.

Each function returns plain rows (and a one-paragraph summary where a chart
needs a text alternative); :mod:`inspect_kit.chart_specs` turns them into
Vega-Lite specifications, drawn in the browser by vega-embed and into the
draft report by vl-convert (docs/architecture.md §10). Every function that
reads findings takes ``strands`` as :func:`inspect_kit.policy.finding_strands`
answers it (``True`` for every strand, one strand's code, ``False`` for none),
so a chart never counts what its reader may not read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sqlite_utils import Database

from . import vocab

GAP_DAYS = 28
# How an event is drawn: the first flag it carries wins (a missed opportunity
# that was also a key event is drawn as a missed opportunity). Each kind has
# its own shape as well as its own Okabe-Ito colour, so the kinds can be told
# apart without colour, in print and by colour-blind readers.
EVENT_KINDS: tuple[tuple[str, str, str, str], ...] = (
    # (flag column, label, Vega shape, colour)
    ("missed_opportunity", "Missed opportunity", "triangle-up", "#D55E00"),
    ("good_practice", "Good practice", "square", "#009E73"),
    ("key_event", "Key event", "diamond", "#E69F00"),
    ("", "Other contact", "circle", "#0072B2"),
)
# Strands in Okabe-Ito colours, each with a shape of its own.
STRAND_STYLES: tuple[tuple[str, str], ...] = (
    ("#0072B2", "circle"), ("#D55E00", "square"), ("#009E73", "triangle-up"), ("#CC79A7", "diamond"),
    ("#E69F00", "cross"), ("#56B4E9", "triangle-down"), ("#000000", "wedge"),
)
QA_AGE_CAP = 7  # submitted records waiting this many days or more share one bar
CELL_FINDINGS_LIMIT = 200


def event_kind(event: Mapping[str, Any]) -> str:
    """The label of the kind an event is drawn as (see :data:`EVENT_KINDS`)."""
    for flag, label, _shape, _colour in EVENT_KINDS:
        if not flag or event.get(flag):
            return label
    return EVENT_KINDS[-1][1]


def long_date(day: str) -> str:
    """``2026-03-06`` → ``6 March 2026``."""
    value = dt.date.fromisoformat(day[:10])
    return f"{value.day} {value:%B %Y}"


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def timeline(events: list[dict[str, Any]], gap_days: int = GAP_DAYS) -> dict[str, Any]:
    """A case's merged chronology as a timeline.

    ``events`` are :func:`inspect_kit.chronology.case_chronology`'s rows (in date
    order, each with ``gap_days``). Returns ``marks`` (one per event: ``id``,
    ``date``, ``agency``, ``event``, ``kind``), ``lanes`` (the agencies, in order
    of their first event), ``gaps`` (``start``, ``end``, ``days`` for every gap
    longer than ``gap_days``), ``counts`` by kind and ``summary``, the text
    alternative: how many events from how many agencies, the flags, the gaps and
    the longest gap.
    """
    marks, gaps, lanes = [], [], []
    previous: str | None = None
    for event in events:
        if event["agency"] not in lanes:
            lanes.append(event["agency"])
        marks.append({"id": event["id"], "date": event["event_date"], "agency": event["agency"],
                      "event": vocab.EVENT_TYPES.get(event["event_type"], event["event_type"]),
                      "kind": event_kind(event)})
        if previous is not None and event.get("gap_days") is not None and event["gap_days"] > gap_days:
            gaps.append({"start": previous, "end": event["event_date"], "days": event["gap_days"]})
        previous = event["event_date"]
    counts = {label: sum(1 for mark in marks if mark["kind"] == label) for _f, label, _s, _c in EVENT_KINDS}
    flagged = {flag: sum(1 for event in events if event.get(flag)) for flag, *_ in EVENT_KINDS if flag}
    if not marks:
        summary = "No events have been recorded for this case yet."
    else:
        summary = (
            f"{_plural(len(marks), 'event')} from {_plural(len(lanes), 'agency', 'agencies')} between "
            f"{long_date(marks[0]['date'])} and {long_date(marks[-1]['date'])}: "
            f"{_plural(flagged['missed_opportunity'], 'missed opportunity', 'missed opportunities')}, "
            f"{_plural(flagged['good_practice'], 'event')} of good practice and "
            f"{_plural(flagged['key_event'], 'key event')}. ")
        if gaps:
            longest = max(gaps, key=lambda gap: gap["days"])
            summary += (f"{_plural(len(gaps), 'gap')} of more than {gap_days} days with no recorded contact; "
                        f"the longest, {longest['days']} days, from {long_date(longest['start'])} "
                        f"to {long_date(longest['end'])}.")
        else:
            summary += f"No gap of more than {gap_days} days between events."
    return {"marks": marks, "lanes": lanes, "gaps": gaps, "gap_days": gap_days, "counts": counts,
            "summary": summary}


def _strand_filter(strands: str | bool, column: str = "strands.code") -> tuple[str, list[Any]]:
    if strands is True:
        return "", []
    if strands is False:
        return " AND 0", []
    return f" AND {column} = ?", [strands]


def review_strands(db: Database, review_id: int, strands: str | bool = True) -> list[dict[str, Any]]:
    """The strands taking part in the review (or inspecting it), in their order, as ``code`` and ``name``."""
    where, params = _strand_filter(strands)
    return list(db.query(
        f"""SELECT strands.id, strands.code, strands.name FROM strands
            WHERE strands.id IN (SELECT strand_id FROM review_strands WHERE review_id = ?
                                 UNION SELECT strand_id FROM inspectors WHERE review_id = ?){where}
            ORDER BY strands.id""", [review_id, review_id, *params]))


COVERAGE_SQL = """
SELECT criteria.code AS criterion, criteria.title AS criterion_title, judgement_areas.code AS area,
       strands.code AS strand, strands.name AS strand_name,
       coalesce(sum(coverage_counts.findings), 0) AS findings,
       count(DISTINCT coverage_counts.inspector_id) AS inspectors
FROM criteria
JOIN judgement_areas ON judgement_areas.id = criteria.area_id
JOIN strands ON strands.id IN (SELECT strand_id FROM review_strands WHERE review_id = :review
                               UNION SELECT strand_id FROM inspectors WHERE review_id = :review)
LEFT JOIN coverage_counts ON coverage_counts.criterion_id = criteria.id
     AND coverage_counts.strand_id = strands.id AND coverage_counts.findings > 0
WHERE criteria.review_id = :review{strand_filter}
GROUP BY criteria.id, strands.id
ORDER BY criteria.position, strands.id
"""


def coverage(db: Database, review_id: int, strands: str | bool = True) -> dict[str, Any]:
    """The criterion × strand coverage of the review: ``cells`` (``criterion``,
    ``criterion_title``, ``area``, ``strand``, ``strand_name``, ``findings`` not
    withdrawn, ``inspectors`` behind them, ``cell``: empty, single source or
    corroborated), ``criteria`` and ``strands`` in order, and ``summary``.

    Read from ``coverage_counts``, which triggers keep (a few thousand rows
    however many findings: docs/architecture.md §9)."""
    where, params = _strand_filter(strands)
    sql = COVERAGE_SQL.format(strand_filter=where.replace("?", ":strand"))
    cells = list(db.query(sql, {"review": review_id, **({"strand": params[0]} if params else {})}))
    criteria: list[dict[str, str]] = []
    strand_list: list[dict[str, str]] = []
    for cell in cells:
        cell["cell"] = ("empty" if not cell["findings"] else
                        "single source" if cell["inspectors"] == 1 else "corroborated")
        if not any(c["code"] == cell["criterion"] for c in criteria):
            criteria.append({"code": cell["criterion"], "title": cell["criterion_title"], "area": cell["area"]})
        if not any(s["code"] == cell["strand"] for s in strand_list):
            strand_list.append({"code": cell["strand"], "name": cell["strand_name"]})
    empty = [cell for cell in cells if cell["cell"] == "empty"]
    single = [cell for cell in cells if cell["cell"] == "single source"]
    if not cells:
        summary = "The framework has no criteria for these strands yet."
    else:
        summary = (f"{_plural(len(criteria), 'criterion', 'criteria')} × {_plural(len(strand_list), 'strand')}: "
                   f"{_plural(sum(c['findings'] for c in cells), 'finding')} linked. "
                   f"{_plural(len(empty), 'cell')} with no evidence")
        summary += (": " + ", ".join(f"{c['strand']} × {c['criterion']}" for c in empty) + ". ") if empty else ". "
        summary += f"{_plural(len(single), 'cell')} from a single inspector."
    return {"cells": cells, "criteria": criteria, "strands": strand_list, "summary": summary}


def cell_findings(db: Database, review_id: int, criterion: str, strand: str, *,
                  limit: int = CELL_FINDINGS_LIMIT) -> tuple[int, list[dict[str, Any]]]:
    """The findings (not withdrawn) of ``strand`` linked to ``criterion``: their
    count and the newest ``limit`` of them. The caller checks the reader may read
    ``strand``'s findings (:func:`inspect_kit.policy.finding_strands`)."""
    base = """FROM findings
              JOIN finding_criteria ON finding_criteria.finding_id = findings.id
              JOIN criteria ON criteria.id = finding_criteria.criterion_id
              JOIN strands ON strands.id = findings.strand_id
              WHERE findings.review_id = ? AND criteria.review_id = ? AND criteria.code = ?
                AND strands.code = ? AND findings.qa_status != 'withdrawn'"""
    params = [review_id, review_id, criterion, strand]
    total = db.execute(f"SELECT count(*) {base}", params).fetchone()[0]
    rows = list(db.query(
        f"""SELECT findings.public_id, findings.finding_type, findings.qa_status, findings.collected_on,
                   finding_criteria.relevance, substr(findings.evidence_text, 1, 200) AS evidence_excerpt
            {base} ORDER BY findings.collected_on DESC, findings.id DESC LIMIT ?""", [*params, limit]))
    return total, rows


def evidence_by_day(db: Database, review: Mapping[str, Any], strands: str | bool = True) -> dict[str, Any]:
    """Findings (not withdrawn) coming in per day of collection by strand, with the
    running total of each strand (``days``: ``day``, ``strand``, ``findings``,
    ``total``), the review's ``fieldwork_end`` and ``draft_due``, and ``summary``."""
    where, params = _strand_filter(strands)
    rows = list(db.query(
        f"""SELECT findings.collected_on AS day, strands.code AS strand, count(*) AS findings
            FROM findings JOIN strands ON strands.id = findings.strand_id
            WHERE findings.review_id = ? AND findings.qa_status != 'withdrawn'{where}
            GROUP BY findings.collected_on, findings.strand_id ORDER BY findings.collected_on, strands.id""",
        [review["id"], *params]))
    totals: dict[str, int] = {}
    for row in rows:
        totals[row["strand"]] = totals.get(row["strand"], 0) + row["findings"]
        row["total"] = totals[row["strand"]]
    if rows:
        summary = (f"{_plural(sum(totals.values()), 'finding')} collected between {long_date(rows[0]['day'])} "
                   f"and {long_date(rows[-1]['day'])}: "
                   + ", ".join(f"{strand} {count:,}" for strand, count in totals.items()) + ".")
    else:
        summary = "No evidence has been recorded yet."
    if review.get("draft_due"):
        summary += f" The draft report is due on {long_date(review['draft_due'])}."
    return {"days": rows, "strands": list(totals), "fieldwork_end": review.get("fieldwork_end"),
            "draft_due": review.get("draft_due"), "summary": summary}


def qa_ageing(db: Database, review_id: int, today: dt.date | None = None,
              strands: str | bool = True) -> dict[str, Any]:
    """Submitted findings awaiting QA by whole days waiting since submission
    (``ages``: ``days`` as a label, ``order``, ``findings``; :data:`QA_AGE_CAP`
    days or more share the last bar) and ``summary``."""
    where, params = _strand_filter(strands)
    as_of = (today or dt.date.today()).isoformat()
    waiting = dict(db.execute(
        f"""SELECT min(max(CAST(julianday(?) - julianday(substr(findings.submitted_at, 1, 10)) AS INTEGER), 0), ?),
                   count(*)
            FROM findings JOIN strands ON strands.id = findings.strand_id
            WHERE findings.review_id = ? AND findings.qa_status = 'submitted'{where}
            GROUP BY 1""", [as_of, QA_AGE_CAP, review_id, *params]).fetchall())
    ages = [{"days": f"{days} or more" if days == QA_AGE_CAP else str(days), "order": days,
             "findings": waiting.get(days, 0)} for days in range(QA_AGE_CAP + 1)]
    total = sum(waiting.values())
    if total:
        oldest = max(days for days, count in waiting.items() if count)
        stale = sum(count for days, count in waiting.items() if days > 2)
        summary = (f"{_plural(total, 'submitted record')} awaiting QA; "
                   f"{stale:,} {'has' if stale == 1 else 'have'} waited more than 2 days; the oldest "
                   f"{'at least ' if oldest == QA_AGE_CAP else ''}{_plural(oldest, 'day')}.")
    else:
        summary = "Nothing is awaiting QA."
    return {"ages": ages, "summary": summary}


def balance(db: Database, review_id: int, strands: str | bool = True) -> dict[str, Any]:
    """Strengths against areas for improvement (serious weaknesses counted with
    them) by agency and by criterion, findings not withdrawn: ``agencies`` and
    ``criteria`` rows of ``name``, ``strengths``, ``improvements``,
    ``serious_weaknesses``, and ``agency_summary`` and ``criterion_summary``."""
    # Read from the counts question 8 keeps by triggers (m016_question_aggregates: per review,
    # strand, agency or criterion and finding type, withdrawn findings left out), not from the
    # findings: at 1,000,000 findings the page took 26 s counting them, the kept counts a few ms.
    where, params = _strand_filter(strands)
    counts = """sum(CASE WHEN kept.finding_type = 'strength' THEN kept.findings ELSE 0 END) AS strengths,
                sum(CASE WHEN kept.finding_type IN ('area_for_improvement', 'serious_weakness')
                         THEN kept.findings ELSE 0 END) AS improvements,
                sum(CASE WHEN kept.finding_type = 'serious_weakness' THEN kept.findings ELSE 0 END)
                    AS serious_weaknesses"""
    agencies = list(db.query(
        f"""SELECT coalesce(agencies.name, '(partnership-wide)') AS name, {counts}
            FROM balance_by_agency AS kept JOIN strands ON strands.id = kept.strand_id
            LEFT JOIN agencies ON agencies.id = kept.agency_id
            WHERE kept.review_id = ?{where}
            GROUP BY kept.agency_id ORDER BY name""", [review_id, *params]))
    criteria = list(db.query(
        f"""SELECT criteria.code || ' ' || criteria.title AS name, {counts}
            FROM balance_by_criterion AS kept JOIN strands ON strands.id = kept.strand_id
            JOIN criteria ON criteria.id = kept.criterion_id
            WHERE kept.review_id = ?{where}
            GROUP BY criteria.id ORDER BY criteria.position""", [review_id, *params]))

    def leaning(rows: Iterable[dict[str, Any]]) -> str:
        rows = [row for row in rows if row["strengths"] or row["improvements"]]
        if not rows:
            return "none yet"
        negative = max(rows, key=lambda row: row["improvements"] - row["strengths"])
        return (f"{sum(r['strengths'] > r['improvements'] for r in rows)} of {len(rows)} lean to strengths; "
                f"the most areas for improvement over strengths: {negative['name']} "
                f"({negative['improvements']:,} against {negative['strengths']:,})")

    return {"agencies": agencies, "criteria": criteria,
            "agency_summary": f"Agencies: {leaning(agencies)}.", "criterion_summary": f"Criteria: {leaning(criteria)}."}


def timeline_lanes(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per agency (in order of its first event): ``agency``, ``events``, the flags'
    counts and the ``first`` and ``last`` event dates: the timeline as a table."""
    lanes: dict[str, dict[str, Any]] = {}
    for event in events:
        lane = lanes.setdefault(event["agency"], {"agency": event["agency"], "events": 0, "key_event": 0,
                                                  "missed_opportunity": 0, "good_practice": 0,
                                                  "first": event["event_date"], "last": event["event_date"]})
        lane["events"] += 1
        for flag in ("key_event", "missed_opportunity", "good_practice"):
            lane[flag] += 1 if event.get(flag) else 0
        lane["last"] = event["event_date"]
    return list(lanes.values())
