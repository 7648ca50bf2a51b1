"""``.xlsx`` through our own server: /data/ with the intake login and the catalogue's rules.

The export is made with the requesting user's rights, never more: a table an
inspector may not read stays 403 as ``.xlsx``, and a strand-scoped canned
query gives each inspector their own strand only.
"""

from __future__ import annotations

import io

import httpx
import pytest
from openpyxl import load_workbook

from inspect_kit.web.server import build_app

from .datasette_support import SECRET, cookies_for


@pytest.fixture
def server(store, datasette_review):
    return build_app(store, secret_key=SECRET)


async def get(server, path, role):
    transport = httpx.ASGITransport(app=server)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                 cookies=cookies_for(role)) as client:
        return await client.get(path)


def sheet_rows(response, sheet):
    assert response.status_code == 200, response.text[:300]
    book = load_workbook(io.BytesIO(response.content))
    for each in book:
        for row in each.iter_rows():
            assert all(cell.data_type != "f" for cell in row)
    return list(book[sheet].iter_rows(min_row=2, values_only=True)), dict(
        book["About this export"].iter_rows(values_only=True))


async def test_a_lead_exports_the_findings_table_and_it_is_audited(server, store):
    rows, about = sheet_rows(await get(server, "/data/evidence/findings.xlsx?_sort=id", "lead"), "findings")
    assert len(rows) == 2
    assert about["Exported by"] == "lead, role lead"
    assert about["Source"] == "/data/evidence/findings.xlsx?_sort=id"
    with store.evidence() as db:
        audited = list(db.query("SELECT actor, detail FROM audit_log WHERE action = 'export.datasette_xlsx'"))
    assert audited == [{"actor": "lead", "detail": "/data/evidence/findings.xlsx?_sort=id: 2 rows"}]


async def test_a_datasette_export_carries_a_manifest_matching_its_bytes(server, store, tmp_path):
    import hashlib
    import json

    from inspect_kit.verify import verify_file

    response = await get(server, "/data/evidence/findings.xlsx?_sort=id", "lead")
    assert response.status_code == 200
    digest = hashlib.sha256(response.content).hexdigest()
    assert response.headers["x-inspect-kit-sha256"] == digest
    with store.evidence() as db:
        (after,) = db.execute("SELECT after FROM audit_log WHERE action = 'export.datasette_xlsx'").fetchone()
        manifest = json.loads(after)
        assert (manifest["sha256"], manifest["created_by"], manifest["row_counts"]) == (digest, "lead", {"rows": 2})
        assert manifest["file"].startswith("findings-") and manifest["file"].endswith(".xlsx")
        copy = tmp_path / "handed-out.xlsx"
        copy.write_bytes(response.content)
        assert verify_file(db, copy).matches
        copy.write_bytes(response.content + b"\0")
        assert not verify_file(db, copy).matches


async def test_a_row_page_exports_its_row(server):
    rows, about = sheet_rows(await get(server, "/data/evidence/findings/1.xlsx", "lead"), "findings")
    assert len(rows) == 1 and rows[0][0] == 1
    assert about["Rows"] == "1"  # one "Rows" line: the scope has its own label


@pytest.mark.parametrize("role", ["anonymous", "police_inspector"])
async def test_the_findings_table_stays_closed_to_who_may_not_read_it(server, role):
    response = await get(server, "/data/evidence/findings.xlsx", role)
    assert response.status_code == 403
    assert not response.content.startswith(b"PK")


async def test_an_inspector_exports_the_shared_chronology(server):
    rows, _ = sheet_rows(await get(server, "/data/evidence/chronology_events.xlsx", "police_inspector"),
                         "chronology_events")
    assert len(rows) == 4


@pytest.mark.parametrize("role, strand", [("police_inspector", "police"), ("health_inspector", "health")])
async def test_a_strand_scoped_query_gives_each_inspector_their_strand(server, role, strand):
    response = await get(server, "/data/evidence/my_strand_findings.xlsx", role)
    rows, about = sheet_rows(response, "my_strand_findings")
    assert len(rows) == 1
    assert f"strand {strand}" in about["Exported by"]


async def test_sql_export_is_for_leads_only(server):
    path = "/data/evidence.xlsx?sql=select+public_id,+evidence_text+from+findings"
    assert (await get(server, path, "police_inspector")).status_code == 403
    rows, about = sheet_rows(await get(server, path, "lead"), "evidence")
    assert len(rows) == 2 and about["SQL"] == "select public_id, evidence_text from findings"


async def test_a_strand_with_more_than_a_page_of_findings_is_not_cut_silently(server, store):
    """1,100 police findings: the page says it is truncated at Datasette's 1,000,
    and the .xlsx holds every one of them (a LIMIT in the SQL cut both at 1,000)."""
    with store.evidence() as db:
        db.execute("""
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1100)
            INSERT INTO findings (public_id, client_uuid, content_hash, review_id, strand_id, inspector_id,
                                  inspector_seq, agency_id, case_id, activity, collected_on, evidence_text,
                                  finding_type, qa_status, version, created_at, updated_at)
            SELECT 'EF-POL-01-' || printf('%05d', 100 + i), printf('%08d-0000-4000-8000-000000000000', i),
                   content_hash, review_id, strand_id, inspector_id, 100 + i, agency_id, case_id, activity,
                   collected_on, evidence_text || ' copy ' || i, finding_type, qa_status, version, created_at,
                   updated_at
            FROM findings, n WHERE findings.public_id = 'EF-POL-01-0001'""")
        db.conn.commit()
    page = (await get(server, "/data/evidence/my_strand_findings.json", "police_inspector")).json()
    assert len(page["rows"]) == 1000 and page["truncated"] is True
    rows, about = sheet_rows(await get(server, "/data/evidence/my_strand_findings.xlsx", "police_inspector"),
                             "my_strand_findings")
    assert len(rows) == 1101 and about["Rows"] == "1,101"
    assert {row[0][:7] for row in rows} == {"EF-POL-"}


async def test_csv_is_refused_through_the_server_too(server):
    response = await get(server, "/data/evidence/findings.csv?_stream=1", "lead")
    assert response.status_code == 400 and "Use the .xlsx link" in response.text
