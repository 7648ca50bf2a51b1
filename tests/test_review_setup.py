"""Setting up a real review through the library: strands taking
part, agencies, inspectors linked to accounts, the case sample, the lifecycle."""

from __future__ import annotations

import contextlib
import json

import pytest
from openpyxl import Workbook

from inspect_kit import agencies, findings, lifecycle, reviews, roster, sample
from inspect_kit.account_admin import create_account
from inspect_kit.actors import SYSTEM, Actor
from inspect_kit.errors import Conflict, Forbidden, ValidationError
from inspect_kit.excel.importer import WorkbookInvalid
from inspect_kit.excel.safety import ImportLimits, WorkbookRefused

from .library_fixtures import new_uuid, small_review

PASSWORD = "a fictional passphrase"


@pytest.fixture
def dbs(store):
    with contextlib.closing(store.evidence()) as evidence_db, contextlib.closing(store.private()) as private_db:
        yield evidence_db, private_db


def new_review(db, slug="northbury", strands=("ofsted", "health", "police")):
    return reviews.create_review(db, slug=slug, title=f"Review of {slug}", area=slug.title(),
                                 review_type="jtai_front_door", framework="jtai-front-door-2024", actor=SYSTEM,
                                 strands=list(strands))


def write_xlsx(path, rows):
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def audit_actions(db, table=None):
    sql = "SELECT action, before, after FROM audit_log"
    return [row for row in db.query(sql + (" WHERE table_name = ?" if table else "") + " ORDER BY id",
                                    [table] if table else [])]


# ----------------------------------------------------------------- strands


def test_a_review_takes_only_its_strands(dbs):
    db, _ = dbs
    review = new_review(db, strands=("ofsted", "probation"))
    assert roster.review_strand_codes(db, review["id"]) == ["ofsted", "probation"]
    with pytest.raises(ValidationError, match="does not take part"):
        agencies.add_agency(db, SYSTEM, review["id"], name="ED", agency_type="emergency_department",
                            lead_strand="health")
    agencies.add_agency(db, SYSTEM, review["id"], name="Probation", agency_type="probation", lead_strand="probation")
    with pytest.raises(Conflict, match="probation strand still has"):
        roster.set_review_strands(db, SYSTEM, review["id"], ["ofsted", "education"])
    assert roster.set_review_strands(db, SYSTEM, review["id"], ["ofsted", "probation", "education"])
    assert roster.review_strand_codes(db, review["id"]) == ["ofsted", "probation", "education"]
    with pytest.raises(ValidationError, match="Unknown strand"):
        roster.set_review_strands(db, SYSTEM, review["id"], ["ofsted", "fire"])


def test_reviews_made_before_the_migration_keep_the_strands_they_use(fresh_db):
    # small_review adds inspectors in health, police and ofsted only
    review = small_review(fresh_db)
    from inspect_kit.schema import m010_review_set_up, m012_coverage_of_the_review_strands

    fresh_db.execute("DROP VIEW criterion_strand_coverage")  # m011's view reads review_strands
    fresh_db.execute("DROP TABLE review_strands")
    fresh_db.execute("ALTER TABLE agencies DROP COLUMN retired_at")
    fresh_db.execute("CREATE VIEW criterion_strand_coverage AS SELECT 1")
    m010_review_set_up(fresh_db)
    m012_coverage_of_the_review_strands(fresh_db)
    assert sorted(roster.review_strand_codes(fresh_db, review.review_id)) == ["health", "ofsted", "police"]


# ----------------------------------------------------------------- agencies


def test_agencies_edit_retire_and_import(dbs, tmp_path):
    db, _ = dbs
    review = new_review(db)
    mash = agencies.add_agency(db, SYSTEM, review["id"], name="Northbury MASH", agency_type="mash",
                               lead_strand="ofsted")
    edited = agencies.edit_agency(db, SYSTEM, review["id"], "Northbury MASH", organisation="Northbury Council")
    assert edited["organisation"] == "Northbury Council" and edited["id"] == mash["id"]
    retired = agencies.retire_agency(db, SYSTEM, review["id"], mash["id"])
    assert retired["retired_at"]
    assert [a["name"] for a in reviews.agencies(db, review["id"], current_only=True)] == []
    assert [a["name"] for a in reviews.agencies(db, review["id"], current_only=True, keep=mash["id"])] == [
        "Northbury MASH"]
    sheet = tmp_path / "agencies.csv"
    sheet.write_text("Name,Organisation,Agency type,Lead strand\n"
                     "Northbury MASH,Northbury Council,mash,ofsted\n"
                     "Northbury ED,Northbury Hospitals,Emergency department,Health\n")
    assert agencies.import_agencies(db, SYSTEM, review["id"], sheet) == {
        "added": ["Northbury ED"], "updated": [], "unchanged": ["Northbury MASH"]}
    sheet.write_text("name,organisation,agency_type,lead_strand\nNorthbury ED,Northbury Trust,emergency_department,"
                     "health\n")
    assert agencies.import_agencies(db, SYSTEM, review["id"], sheet)["updated"] == ["Northbury ED"]
    assert len(agencies.list_agencies(db, review["id"])) == 2
    actions = [row["action"] for row in audit_actions(db, "agencies")]
    assert actions == ["agency.add", "agency.edit", "agency.retire", "agency.add", "agency.edit"]


def test_agency_import_is_all_or_nothing(dbs, tmp_path):
    db, _ = dbs
    review = new_review(db)
    sheet = tmp_path / "agencies.csv"
    sheet.write_text("name,agency_type,lead_strand\nGood MASH,mash,ofsted\nBad,spaceship,probation\n")
    with pytest.raises(WorkbookInvalid) as raised:
        agencies.import_agencies(db, SYSTEM, review["id"], sheet)
    assert [(e.row, e.column) for e in raised.value.errors] == [(3, "agency_type"), (3, "lead_strand")]
    assert agencies.list_agencies(db, review["id"]) == []


# ----------------------------------------------------------------- the case sample

HEADINGS = ["case_ref", "household_ref", "age_band", "legal_status", "cp_category", "selection_route",
            "local_identifier"]


def test_case_sample_from_xlsx_then_reimported(dbs, tmp_path):
    db, private_db = dbs
    review = new_review(db)
    path = write_xlsx(tmp_path / "sample.xlsx", [
        HEADINGS,
        ["C-001", "H-001", "Under 1", "Child protection plan", "Neglect", "index", "LA-998877"],
        ["c-002", "h-001", "1_4", "child_in_need", None, "Sampled", None],
        [None, None, None, None, None, None, None],
        ["C-003", None, "10_15", "looked_after", None, "tracked", "LA-112233"],
    ])
    report = sample.import_case_sample(db, private_db, SYSTEM, review["id"], path)
    assert (report.added, report.updated, report.identifiers) == (["C-001", "C-002", "C-003"], [], 2)
    cases = {c["case_ref"]: c for c in reviews.cases(db, review["id"])}
    assert cases["C-001"]["cp_category"] == "neglect" and cases["C-002"]["household_ref"] == "H-001"
    # The local identifier is in private.db only: not in any evidence table or audit row.
    dump = "\n".join(db.conn.iterdump())
    assert "LA-998877" not in dump and "LA-112233" not in dump
    assert private_db.execute("SELECT local_identifier FROM case_identity_keys WHERE case_ref = 'C-001'"
                              ).fetchone() == ("LA-998877",)
    path = write_xlsx(tmp_path / "sample2.xlsx", [
        HEADINGS,
        ["C-001", "H-001", "under_1", "cp_plan", "neglect", "index", "LA-998877"],
        ["C-002", "H-001", "1_4", "cp_plan", "emotional_abuse", "sampled", None],
        ["C-004", "H-002", "5_9", "none", None, "sampled", None],
    ])
    report = sample.import_case_sample(db, private_db, SYSTEM, review["id"], path)
    assert (report.added, report.updated, report.unchanged) == (["C-004"], ["C-002"], ["C-001"])
    assert db.execute("SELECT count(*) FROM cases WHERE review_id = ?", [review["id"]]).fetchone() == (4,)
    update = [row for row in audit_actions(db, "cases") if row["action"] == "case.update"]
    assert json.loads(update[0]["after"])["legal_status"] == "cp_plan"


@pytest.mark.parametrize("row,column,message", [
    (["Jane Smith", None, "1_4", "none", None, "sampled"], "case_ref", "not a case reference"),
    (["C-010", "Flat 2", "1_4", "none", None, "sampled"], "household_ref", "not a household reference"),
    (["C-010", None, "toddler", "none", None, "sampled"], "age_band", "not one of"),
    (["C-010", None, "1_4", None, None, "sampled"], "legal_status", "Choose one of"),
    (["C-010", None, "1_4", "none", "neglect", "sampled"], "cp_category", "only for a child"),
    (["C-010", None, "1_4", "none", None, "lottery"], "selection_route", "not one of"),
])
def test_case_sample_row_errors_and_nothing_written(dbs, tmp_path, row, column, message):
    db, private_db = dbs
    review = new_review(db)
    path = write_xlsx(tmp_path / "bad.xlsx", [HEADINGS[:6], ["C-001", None, "1_4", "none", None, "sampled"], row])
    with pytest.raises(WorkbookInvalid) as raised:
        sample.import_case_sample(db, private_db, SYSTEM, review["id"], path)
    assert [(e.row, e.column) for e in raised.value.errors] == [(3, column)]
    assert message in raised.value.errors[0].message
    assert reviews.cases(db, review["id"]) == []


def test_case_sample_refuses_whole_files(dbs, tmp_path):
    db, private_db = dbs
    review = new_review(db)
    no_heading = tmp_path / "sample.csv"
    no_heading.write_text("case_ref,age_band\nC-001,1_4\n")
    with pytest.raises(WorkbookRefused, match="no column legal_status, selection_route"):
        sample.import_case_sample(db, private_db, SYSTEM, review["id"], no_heading)
    duplicates = tmp_path / "dupes.csv"
    duplicates.write_text("case_ref,age_band,legal_status,selection_route\nC-001,1_4,none,sampled\n"
                          "C-001,1_4,none,sampled\n")
    with pytest.raises(WorkbookInvalid, match="1 problem"):
        sample.import_case_sample(db, private_db, SYSTEM, review["id"], duplicates)
    too_many = tmp_path / "many.csv"
    too_many.write_text("case_ref,age_band,legal_status,selection_route\n"
                        + "".join(f"C-{n:03d},1_4,none,sampled\n" for n in range(1, 12)))
    with pytest.raises(WorkbookRefused, match="more than 10 filled rows"):
        sample.import_case_sample(db, private_db, SYSTEM, review["id"], too_many, limits=ImportLimits(max_rows=10))
    not_a_workbook = tmp_path / "sample.xlsx"
    not_a_workbook.write_bytes(b"%PDF-1.4 not a workbook")
    with pytest.raises(WorkbookRefused):
        sample.import_case_sample(db, private_db, SYSTEM, review["id"], not_a_workbook)
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("case_ref,age_band,legal_status,selection_route\nC-001,1_4,none,sampl\xe9\n".encode("latin-1"))
    with pytest.raises(WorkbookRefused, match="UTF-8"):
        sample.import_case_sample(db, private_db, SYSTEM, review["id"], latin1)
    assert reviews.cases(db, review["id"]) == []


def test_sample_template_round_trips(dbs, tmp_path):
    db, private_db = dbs
    review = new_review(db)
    path = tmp_path / "sample.xlsx"
    sample.write_sample_template(path, example_rows=12)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    report = sample.import_case_sample(db, private_db, SYSTEM, review["id"], path)
    assert len(report.added) == 12 and report.identifiers == 12


# ----------------------------------------------------------------- inspectors and accounts


def test_an_inspector_account_creates_its_inspector_in_each_review(dbs):
    db, private_db = dbs
    first = new_review(db, "northbury")
    second = new_review(db, "southbury", strands=("police", "probation"))
    create_account(private_db, db, SYSTEM, username="pol01", password=PASSWORD, role="inspector",
                   strand="police", inspector_code="pol-01", review_id=first["id"])
    one = reviews.inspector_by_code(db, first["id"], "POL-01")
    assert (one["strand"], one["role"]) == ("police", "team")
    two = roster.link_inspector(db, private_db, SYSTEM, review_id=second["id"], username="pol01")
    assert two["code"] == "POL-01" and two["review_id"] == second["id"]
    assert roster.link_inspector(db, private_db, SYSTEM, review_id=second["id"], username="pol01")["id"] == two["id"]
    from inspect_kit.accounts import actor_for, get_account

    account = get_account(private_db, "pol01")
    assert actor_for(account, db, first["id"]).inspector_id == one["id"]
    assert actor_for(account, db, second["id"]).inspector_id == two["id"]
    assert [r["slug"] for r in roster.reviews_of_account(db, account)] == ["southbury", "northbury"]
    with pytest.raises(Conflict, match="keeps one code"):
        roster.link_inspector(db, private_db, SYSTEM, review_id=second["id"], username="pol01", code="POL-09")


def test_an_inspector_of_a_strand_not_taking_part_is_refused_and_not_kept(dbs):
    db, private_db = dbs
    review = new_review(db, strands=("ofsted",))
    with pytest.raises(ValidationError, match="does not take part"):
        create_account(private_db, db, SYSTEM, username="hlt01", password=PASSWORD, role="inspector",
                       strand="health", inspector_code="HLT-01", review_id=review["id"])
    assert private_db.execute("SELECT count(*) FROM accounts").fetchone() == (0,)
    create_account(private_db, db, SYSTEM, username="nadmin", password=PASSWORD, role="admin")
    with pytest.raises(ValidationError, match="administrator"):
        roster.link_inspector(db, private_db, SYSTEM, review_id=review["id"], username="nadmin", code="ADM-01")


# ----------------------------------------------------------------- the lifecycle


def test_lifecycle_moves_one_step_and_reopens_with_a_reason(fresh_db):
    review = small_review(fresh_db)
    rid = review.review_id
    with pytest.raises(Forbidden):
        lifecycle.set_status(fresh_db, review.health, rid, "fieldwork")
    with pytest.raises(ValidationError, match="next status is fieldwork"):
        lifecycle.set_status(fresh_db, review.lead, rid, "drafting")
    lifecycle.set_status(fresh_db, review.lead, rid, "fieldwork")
    findings.record_finding(fresh_db, review.health, review.finding(), client_uuid=new_uuid())
    late_uuid = new_uuid()
    lifecycle.set_status(fresh_db, review.lead, rid, "drafting")
    with pytest.raises(lifecycle.EvidenceClosed, match="takes no new evidence"):
        findings.record_finding(fresh_db, review.health, review.finding(), client_uuid=late_uuid)
    with pytest.raises(ValidationError, match="reason"):
        lifecycle.set_status(fresh_db, review.lead, rid, "fieldwork")
    lifecycle.set_status(fresh_db, review.lead, rid, "fieldwork", reason="A late case file arrived from the GP.")
    assert findings.record_finding(fresh_db, review.health, review.finding(), client_uuid=late_uuid).created
    reopen = fresh_db.execute("SELECT actor, detail FROM audit_log WHERE action = 'review.reopen'").fetchone()
    assert reopen == ("lead", "A late case file arrived from the GP.")


def test_a_stored_record_is_still_acknowledged_after_fieldwork(fresh_db):
    review = small_review(fresh_db)
    uuid = new_uuid()
    first = findings.record_finding(fresh_db, review.health, review.finding(), client_uuid=uuid)
    lifecycle.set_status(fresh_db, SYSTEM, review.review_id, "fieldwork")
    lifecycle.set_status(fresh_db, SYSTEM, review.review_id, "drafting")
    replay = findings.record_finding(fresh_db, review.health, review.finding(), client_uuid=uuid)
    assert replay.created is False and replay.record["id"] == first.record["id"]


def test_only_those_the_policy_allows_set_the_status(fresh_db):
    review = small_review(fresh_db)
    for actor in (review.moderator, Actor("x", "inspector", "health")):
        with pytest.raises(Forbidden):
            lifecycle.set_status(fresh_db, actor, review.review_id, "fieldwork")
    assert lifecycle.set_status(fresh_db, Actor("nadmin", "admin"), review.review_id, "fieldwork")["status"] == \
        "fieldwork"


# ----------------------------------------------------------------- strands as data


def test_probation_and_education_run_through_coverage_questions_and_workbooks(store, tmp_path):
    from openpyxl import load_workbook

    from inspect_kit.datasette_plugin import catalogue, questions
    from inspect_kit.excel.capture import capture_lists
    from inspect_kit.excel.evidence import export_evidence_workbook

    with contextlib.closing(store.evidence()) as db, contextlib.closing(store.private()) as private_db:
        review = new_review(db, strands=("ofsted", "probation", "education"))
        rid = review["id"]
        agency = agencies.add_agency(db, SYSTEM, rid, name="Northbury Probation", agency_type="probation",
                                     lead_strand="probation")
        create_account(private_db, db, SYSTEM, username="prb01", password=PASSWORD, role="inspector",
                       strand="probation", inspector_code="PRB-01", review_id=rid)
        inspector = reviews.inspector_by_code(db, rid, "PRB-01")
        actor = Actor("prb01", "inspector", "probation", inspector["id"])
        findings.record_finding(db, actor, {
            "review_id": rid, "agency_id": agency["id"], "activity": "interview", "collected_on": "2026-11-02",
            "evidence_text": "Probation shared the risk assessment with the MASH.", "finding_type": "strength",
            "criteria": ["A1"]}, client_uuid=new_uuid(), submit=True)
        cells = {(row["criterion"], row["strand"]): row["cell"] for row in db.query(
            "SELECT criterion, strand, cell FROM criterion_strand_coverage WHERE review = 'northbury'")}
        assert cells[("A1", "probation")] == "single source"
        assert cells[("A1", "education")] == "empty" and cells[("A1", "ofsted")] == "empty"
        assert {strand for _, strand in cells} == {"ofsted", "probation", "education"}
        assert catalogue.review_strands(db) == ["ofsted", "probation", "education"]
        matrix = next(q for q in questions.questions(catalogue.review_strands(db)) if q.name == "coverage_matrix")
        assert '"education"' in matrix.sql and '"police"' not in matrix.sql
        assert capture_lists(db, rid)["strand"] == ["ofsted", "probation", "education"]
        path = tmp_path / "northbury.xlsx"
        export_evidence_workbook(db, SYSTEM, rid, path)
    workbook = load_workbook(path, read_only=True)
    sheet = next(workbook[name] for name in workbook.sheetnames if "criteri" in name.lower())
    headings = next(sheet.iter_rows(values_only=True))
    workbook.close()
    assert {"ofsted", "probation", "education"} <= set(headings) and "police" not in headings


# What each status takes, record by record: the decided table, typed once here on purpose.
TAKES = {  # status → (findings, chronology events, safeguarding alerts)
    "setup": (True, True, True),
    "fieldwork": (True, True, True),
    "drafting": (False, False, True),
    "qa": (False, False, True),
    "factual_accuracy": (False, False, True),
    "published": (False, False, True),
    "closed": (False, False, False),
}


def _at_status(db, review_id: int, status: str) -> None:
    db.execute("UPDATE reviews SET status = ? WHERE id = ?", [status, review_id])


@pytest.mark.parametrize("status", list(TAKES))
def test_each_status_takes_the_records_it_allows(fresh_db, status):
    """Every path that adds a record asks the lifecycle: the form's and the API's (record_finding,
    record_event, raise_alert) and the workbook import's (record_findings); a refusal writes nothing;
    an alert already raised is seen through in every status."""
    from inspect_kit import alerts, chronology, findings_batch

    review = small_review(fresh_db)
    rid = review.review_id
    raised = alerts.raise_alert(fresh_db, review.police, review_id=rid, urgency="urgent", concern="Raised early.",
                                case_id=review.infant)
    _at_status(fresh_db, rid, status)
    takes_findings, takes_events, takes_alerts = TAKES[status]
    assert [lifecycle.may_add(status, record) for record in (lifecycle.FINDING, lifecycle.CHRONOLOGY_EVENT,
                                                              lifecycle.SAFEGUARDING_ALERT)] == list(TAKES[status])
    attempts = {
        "finding": (takes_findings, lambda: findings.record_finding(fresh_db, review.health, review.finding(),
                                                                    client_uuid=new_uuid())),
        "imported finding": (takes_findings, lambda: findings_batch.record_findings(
            fresh_db, review.health, rid, [findings_batch.NewFinding(new_uuid(), findings.normalise(
                fresh_db, rid, review.finding(), require_criteria=False))])),
        "event": (takes_events, lambda: chronology.record_event(fresh_db, review.police, {
            "case_id": review.infant, "agency_id": review.ed, "event_date": "2025-10-01",
            "event_type": "referral", "description": "Late event."}, client_uuid=new_uuid(), review_id=rid)),
        "alert": (takes_alerts, lambda: alerts.raise_alert(fresh_db, review.lead, review_id=rid, urgency="routine",
                                                           concern="A child at risk.", case_id=review.infant)),
    }
    for what, (allowed, attempt) in attempts.items():
        table = {"finding": "findings", "imported finding": "findings", "event": "chronology_events",
                 "alert": "safeguarding_alerts"}[what]
        before = fresh_db[table].count
        if allowed:
            attempt()
            assert fresh_db[table].count == before + 1, (status, what)
        else:
            with pytest.raises(lifecycle.EvidenceClosed, match="takes no new"):
                attempt()
            assert fresh_db[table].count == before, (status, what)
    # An alert raised before is referred, answered and closed whatever the status.
    alerts.refer(fresh_db, review.lead, raised["id"], referred_to="MASH duty manager")
    alerts.record_response(fresh_db, review.lead, raised["id"], "Strategy discussion held.")
    assert alerts.close(fresh_db, review.lead, raised["id"])["status"] == "closed"


def test_a_replayed_event_is_acknowledged_after_fieldwork(fresh_db):
    from inspect_kit import chronology

    review = small_review(fresh_db)
    uuid, fields = new_uuid(), {"case_id": review.infant, "agency_id": review.ed, "event_date": "2025-10-01",
                                "event_type": "referral", "description": "Sent from the train."}
    first = chronology.record_event(fresh_db, review.police, fields, client_uuid=uuid, review_id=review.review_id)
    _at_status(fresh_db, review.review_id, "drafting")
    replay = chronology.record_event(fresh_db, review.police, fields, client_uuid=uuid, review_id=review.review_id)
    assert replay.created is False and replay.record["id"] == first.record["id"]
