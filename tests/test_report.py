"""``inspect-kit report``: the draft in Word, read back with python-docx and opened by LibreOffice."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner

from inspect_kit import findings, judgements, qa
from inspect_kit.actors import SYSTEM
from inspect_kit.cli import cli
from inspect_kit.errors import Forbidden
from inspect_kit.report import build_report
from inspect_kit.store import Store
from inspect_kit.verify import verify_file

from .conftest import copy_store
from .library_fixtures import new_uuid, small_review

START = dt.date(2008, 11, 10)
SOFFICE = shutil.which("soffice")


@pytest.fixture(scope="module")
def demo_store(demo_template, tmp_path_factory) -> Store:
    return copy_store(demo_template(START), tmp_path_factory.mktemp("report-demo"))


@pytest.fixture(scope="module")
def demo_report(demo_store, tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("report") / "draft.docx"
    result = CliRunner().invoke(cli, ["report", "--home", str(demo_store.home), "-o", str(output)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "accepted evidence only" in result.output
    return output


def tables_with(document, first_header: str) -> list:
    return [table for table in document.tables if table.rows[0].cells[0].text == first_header]


def all_text(document) -> str:
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts += [cell.text for cell in row.cells]
    return "\n".join(parts)


def convert_to_pdf(path: Path, outdir: Path) -> Path:
    if SOFFICE is None:
        pytest.fail("LibreOffice is not installed: run `make test` (it installs libreoffice-writer-nogui).")
    # A profile of its own, so a LibreOffice left running elsewhere cannot take the conversion over.
    profile = outdir / "lo-profile"
    completed = subprocess.run(
        [SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf", "--outdir",
         str(outdir), str(path)], capture_output=True, text=True, timeout=120)
    pdf = outdir / (path.stem + ".pdf")
    assert completed.returncode == 0, completed.stderr
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF"), completed.stdout + completed.stderr
    return pdf


def test_every_criterion_judgement_and_citation_reads_back(demo_store, demo_report):
    document = docx.Document(str(demo_report))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    text = all_text(document)
    with contextlib.closing(demo_store.evidence()) as db:
        for code, title in db.execute("SELECT code, title FROM criteria ORDER BY position"):
            assert f"{code} {title}" in headings
        stored = judgements.list_judgements(db, None, 1)
        assert len(stored) == 13
        for judgement in stored:
            scope = "Partnership" if judgement["scope"] == "partnership" else f"Agency: {judgement['agency']}"
            assert f"{judgement['criterion_code']} – {scope}" in headings
            assert judgement["narrative"] in text
        references = [row for table in tables_with(document, "Ref") for row in table.rows[1:]]
        cited = sum(len(j["citations"]) for j in stored)
        assert len(references) == cited > 0
        for row in references:
            ref, public_id, strand, agency, date, quote = (cell.text for cell in row.cells)
            finding = findings.get_finding(db, public_id)
            assert finding["qa_status"] == "accepted"
            assert (strand, date) == (finding["strand"], finding["collected_on"])
            assert quote and (quote in finding["evidence_text"] or quote in (finding["evaluation_text"] or ""))
            # The annex holds the finding in full under the same number.
            assert f"{ref} {public_id}" in headings
            assert finding["evidence_text"] in text


def test_the_index_case_chronology_is_an_annex(demo_store, demo_report):
    document = docx.Document(str(demo_report))
    [table] = tables_with(document, "Date")
    rows = [[cell.text for cell in row.cells] for row in table.rows[1:]]
    with contextlib.closing(demo_store.evidence()) as db:
        events = db.execute("SELECT count(*), sum(missed_opportunity), sum(key_event) FROM chronology_events"
                            " JOIN cases ON cases.id = chronology_events.case_id WHERE cases.case_ref = 'C-017'"
                            ).fetchone()
    assert len(rows) == events[0] == 62
    assert sum(row[5] == "yes" for row in rows) == events[1] == 12
    assert sum(row[4] == "yes" for row in rows) == events[2]
    assert any("merged chronology of C-017" in p.text for p in document.paragraphs)


def test_the_title_page_says_draft_and_the_evidence_basis(demo_report):
    document = docx.Document(str(demo_report))
    first = [p.text for p in document.paragraphs[:14]]
    assert first[0] == "DRAFT"
    assert any(line.startswith("Evidence snapshot: ") and "audit row" in line for line in first)
    assert any("accepted evidence only" in line for line in first)
    assert any(line.startswith("Inspectorates: ") and "HMICFRS" in line for line in first)


def test_the_report_has_a_manifest_that_matches_it(demo_store, demo_report):
    sidecar = json.loads(Path(str(demo_report) + ".manifest.json").read_text())
    with contextlib.closing(demo_store.evidence()) as db:
        check = verify_file(db, demo_report)
    assert check.matches and check.manifests[0]["audit_id"] == sidecar["audit_id"]
    assert sidecar["what"] == "draft report" and sidecar["row_counts"]["judgements"] == 13


@pytest.mark.slow
def test_libreoffice_converts_the_demo_report(demo_report, tmp_path):
    convert_to_pdf(demo_report, tmp_path)


HOSTILE = {
    "formula": '=HYPERLINK("http://example.invalid/x","click")',
    "dde": "{ DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe \"/k calc.exe\" } and { HYPERLINK \"http://x\" }",
    "rtl": "الطفل لم يُرَ وحده — הילד לא נראה לבד",
    "emoji": "Child seen 👶🏽 and family 👨‍👩‍👧 spoken to 🇬🇧",
    "markup": "<w:fldSimple w:instr=\"DATE\"/> &amp; ]]> {{ narrative }} {% if %}",
}


@pytest.fixture
def hostile_review(fresh_db):
    review = small_review(fresh_db)
    db = review.db
    ids = []
    for index, text in enumerate([*HOSTILE.values(), "long " + "x" * 39_995]):
        record = findings.record_finding(db, review.health, review.finding(evidence_text=f"placeholder {index}"),
                                         client_uuid=new_uuid(), submit=True).record
        qa.accept(db, review.lead, record["id"])
        # Straight into SQLite: past the form's 20,000-character limit and with
        # control characters the forms refuse, as old or imported data might be.
        db.execute("UPDATE findings SET evidence_text = ? WHERE id = ?", [text, record["id"]])
        ids.append(record["public_id"])
    db.execute("UPDATE findings SET evaluation_text = ? WHERE public_id = ?",
               ["bell\x07 form\x0cfeed\x00 nul\x1b esc kept", ids[0]])
    judgements.record_judgement(db, review.lead, review_id=review.review_id, criterion_code="2.1",
                                narrative="placeholder", proposed_grade=2,
                                citations=[{"finding": public_id, "quote": None} for public_id in ids])
    narrative = "\n".join([*HOSTILE.values(), "n" * 40_000])
    db.execute("UPDATE judgements SET narrative = ? WHERE review_id = ?", [narrative + "\x01\x1f", review.review_id])
    return review, ids, narrative


@pytest.fixture
def hostile_report(hostile_review, tmp_path) -> Path:
    review, ids, _ = hostile_review
    path = tmp_path / "hostile.docx"
    result = build_report(review.db, review.lead, review.review_id, path)
    assert result.references == len(ids)
    return path


def test_hostile_text_comes_out_literally(hostile_review, hostile_report):
    _, _, narrative = hostile_review
    path = hostile_report
    document = docx.Document(str(path))
    text = all_text(document)
    for value in HOSTILE.values():
        assert value in text
    assert "long " + "x" * 39_995 in text
    assert "n" * 40_000 in text
    assert "bell formfeed nul esc kept" in text, "control characters stripped, the rest kept"
    paragraphs = [p.text for p in document.paragraphs]
    for line in narrative.split("\n"):
        assert line in paragraphs
    with zipfile.ZipFile(path) as package:
        body = package.read("word/document.xml").decode("utf-8")
    for construct in ("w:fldSimple", "w:instrText", "w:fldChar", "w:hyperlink"):
        assert f"<{construct}" not in body, "user text stays text, never a Word construct"


@pytest.mark.slow
def test_libreoffice_opens_hostile_text(hostile_report, tmp_path):
    # ~20 s: LibreOffice lays out two 40,000-character paragraphs.
    convert_to_pdf(hostile_report, tmp_path)


def test_unaccepted_evidence_is_left_out_unless_asked_for(fresh_db, tmp_path):
    review = small_review(fresh_db)
    submitted = findings.record_finding(review.db, review.health, review.finding(evidence_text="Submitted only."),
                                        client_uuid=new_uuid(), submit=True).record
    judgements.record_judgement(review.db, review.lead, review_id=review.review_id, criterion_code="2.1",
                                narrative="Narrative.", proposed_grade=2, citations=[{"finding": submitted["public_id"]}])
    default = build_report(review.db, review.lead, review.review_id, tmp_path / "accepted.docx")
    assert (default.references, default.omitted_citations) == (0, 1)
    assert submitted["public_id"] not in all_text(docx.Document(str(tmp_path / "accepted.docx")))
    wider = build_report(review.db, review.lead, review.review_id, tmp_path / "all.docx", include_unaccepted=True)
    text = all_text(docx.Document(str(tmp_path / "all.docx")))
    assert wider.references == 1 and "(not accepted: Submitted)" in text and "INCLUDES EVIDENCE NOT YET ACCEPTED" in text


def test_the_command_refuses_a_moderator_in_one_line(demo_store, tmp_path):
    output = tmp_path / "draft.docx"
    result = CliRunner().invoke(cli, ["report", "--home", str(demo_store.home), "--as", "moderator", "-o",
                                      str(output)])
    assert result.exit_code == 1 and "Only the lead inspector builds the draft report." in result.output
    assert "Traceback" not in result.output and not output.exists()
    result = CliRunner().invoke(cli, ["report", "--home", str(demo_store.home), "--as", "lead", "-o", str(output)])
    assert result.exit_code == 0 and output.exists()


def test_only_the_lead_builds_the_report(fresh_db, tmp_path):
    review = small_review(fresh_db)
    for actor in (review.moderator, review.health):
        with pytest.raises(Forbidden):
            build_report(review.db, actor, review.review_id, tmp_path / "x.docx")
    assert not (tmp_path / "x.docx").exists()
    assert build_report(review.db, SYSTEM, review.review_id, tmp_path / "x.docx").criteria == 7


def test_the_report_carries_its_charts_as_pictures_with_alt_text(demo_store, demo_report):
    document = docx.Document(str(demo_report))
    pictures = [(shape._inline.docPr.get("title"), shape._inline.docPr.get("descr"), shape)
                for shape in document.inline_shapes]
    with contextlib.closing(demo_store.evidence()) as db:
        events = db.execute("""SELECT count(*), count(DISTINCT agency_id) FROM chronology_events WHERE case_id =
                               (SELECT id FROM cases WHERE selection_route = 'index' ORDER BY case_ref LIMIT 1)""").fetchone()
    titles = [title for title, _, _ in pictures]
    assert titles == ["Figure: C-017's timeline by agency", "Figure: coverage of the framework by strand"]
    timeline_alt, coverage_alt = (descr for _, descr, _ in pictures)
    assert f"{events[0]} events from {events[1]} agencies" in timeline_alt
    assert "no evidence in" in coverage_alt and "police × 3.3" in coverage_alt
    for _, descr, shape in pictures:
        blob = document.part.related_parts[shape._inline.graphic.graphicData.pic.blipFill.blip.embed].blob
        assert blob.startswith(b"\x89PNG") and len(blob) > 10_000
        # The alt text is also the caption under the picture, for readers of the printed page.
        assert descr in [p.text for p in document.paragraphs if p.style.name == "Caption"]
