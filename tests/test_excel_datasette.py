"""The ``.xlsx`` output renderer on a plain Datasette (our access plugin set aside).

The access behaviour through our own server is tested with the intake login
in ``test_excel_server.py``; here Datasette's own ``allow`` blocks and
``ds_actor`` cookie stand in for it.
"""

from __future__ import annotations

import io
import sqlite3

import pytest
from datasette.app import Datasette
from datasette.plugins import pm
from openpyxl import load_workbook

from inspect_kit.excel.cells import unescape_text

ROWS = 2_500
PAYLOADS = ["=1+2", "+1", "-1", "@SUM(A1)", "tab\tinside", "=cmd|' /C calc'!A0",
            '=HYPERLINK("http://evil.example","x")', "0123"]


@pytest.fixture
def plain_plugins():
    """Set the access plugin aside (without an intake secret it refuses everyone)."""
    access = pm.unregister(name="inspect_kit")
    yield
    if access is not None:
        pm.register(access, name="inspect_kit")


@pytest.fixture
def db_path(tmp_path):
    path = tmp_path / "evidence.db"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE strands (id INTEGER PRIMARY KEY, code TEXT);
        CREATE TABLE findings (id INTEGER PRIMARY KEY, public_id TEXT, strand_id INTEGER REFERENCES strands(id),
                               evidence_text TEXT, collected_on TEXT, created_at TEXT, version INTEGER);
        CREATE VIEW health_findings AS SELECT findings.* FROM findings JOIN strands ON strands.id = strand_id
            WHERE strands.code = 'health';
    """)
    conn.executemany("INSERT INTO strands (id, code) VALUES (?, ?)", [(1, "health"), (2, "police")])
    conn.executemany(
        "INSERT INTO findings (public_id, strand_id, evidence_text, collected_on, created_at, version)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [(f"EF-HLT-01-{i:04d}", 1 + i % 2, PAYLOADS[i % len(PAYLOADS)], "2008-03-27", "2026-11-25T20:15:08+00:00", 1)
         for i in range(1, ROWS + 1)])
    conn.commit()
    conn.close()
    return path


def datasette(db_path, **metadata):
    queries = {"by_strand": {"sql": "SELECT findings.public_id, findings.evidence_text FROM findings JOIN strands"
                                    " ON strands.id = strand_id WHERE strands.code = :_actor_strand"},
               "some": {"sql": "SELECT * FROM findings WHERE id <= :n"}}
    return Datasette([str(db_path)], settings={"max_returned_rows": 1000, "suggest_facets": False},
                     metadata={"databases": {"evidence": {"queries": queries}}, **metadata})


def cookie(ds, actor):
    return {"ds_actor": ds.sign({"a": actor}, "actor")}


def workbook(response):
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    return load_workbook(io.BytesIO(response.content))


def about(book):
    return dict(book["About this export"].iter_rows(values_only=True))


async def test_the_renderer_is_installed_and_linked(plain_plugins, db_path):
    ds = datasette(db_path)
    assert "xlsx" in ds.renderers
    page = (await ds.client.get("/evidence/findings")).text
    links = next(line for line in page.splitlines() if 'class="export-links"' in line)
    assert '<a href="/evidence/findings.xlsx' in links


async def test_a_whole_table_is_exported_by_paging(plain_plugins, db_path):
    ds = datasette(db_path)
    response = await ds.client.get("/evidence/findings.xlsx?_size=10")
    book = workbook(response)
    assert response.headers["content-disposition"].startswith('attachment; filename="findings-')
    sheet = book["findings"]
    assert sheet.max_row == ROWS + 1
    assert [cell.value for cell in sheet[1]] == ["id", "public_id", "strand_id", "evidence_text", "collected_on",
                                                "created_at", "version"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:G{ROWS + 1}"
    facts = about(book)
    assert facts["Rows"] == f"{ROWS:,}" and facts["Row cap"].startswith("not reached")
    assert facts["Source"] == "/evidence/findings.xlsx?_size=10"


async def test_cells_are_typed_and_never_formulas(plain_plugins, db_path):
    ds = datasette(db_path)
    book = workbook(await ds.client.get("/evidence/findings.xlsx"))
    sheet = book["findings"]
    texts = []
    for row in sheet.iter_rows(min_row=2, max_row=len(PAYLOADS) + 1):
        identifier, public_id, strand, text, collected_on, created_at, version = row
        assert identifier.data_type == "n" and version.value == 1
        assert public_id.data_type == "s" and text.data_type == "s"
        assert collected_on.is_date and created_at.is_date
        assert strand.value in ("health", "police")  # foreign key shown by its label
        texts.append(unescape_text(text.value))
    assert sorted(texts) == sorted(PAYLOADS)
    for each in book:
        for row in each.iter_rows():
            assert all(cell.data_type != "f" for cell in row)


async def test_filters_apply_and_are_stated(plain_plugins, db_path):
    ds = datasette(db_path)
    book = workbook(await ds.client.get("/evidence/findings.xlsx?evidence_text=0123&_sort_desc=id"))
    values = [row[0] for row in book["findings"].iter_rows(min_row=2, values_only=True)]
    assert len(values) == ROWS // len(PAYLOADS) and values == sorted(values, reverse=True)
    assert "0123" in about(book)["Filters"]


async def test_a_view_is_exported_whole(plain_plugins, db_path):
    ds = datasette(db_path)
    book = workbook(await ds.client.get("/evidence/health_findings.xlsx"))
    assert book["health_findings"].max_row == ROWS // 2 + 1


async def test_sql_results_are_not_capped_at_max_returned_rows(plain_plugins, db_path):
    ds = datasette(db_path)
    response = await ds.client.get("/evidence.xlsx?sql=select+id,+evidence_text+from+findings+where+id+<=+:n&n=1500")
    book = workbook(response)
    sheet = book["evidence"]
    assert sheet.max_row == 1501
    assert "select id, evidence_text" in about(book)["SQL"] and about(book)["Parameters"] == "n = 1500"


async def test_canned_query_with_magic_parameters_is_the_requesting_actors(plain_plugins, db_path):
    ds = datasette(db_path)
    response = await ds.client.get("/evidence/by_strand.xlsx", cookies=cookie(ds, {"id": "pol", "strand": "police"}))
    book = workbook(response)
    rows = list(book["by_strand"].iter_rows(min_row=2, values_only=True))
    assert len(rows) == ROWS // 2
    assert about(book)["Exported by"] == "pol, strand police"
    book = workbook(await ds.client.get("/evidence/some.xlsx?n=1200"))
    assert book["some"].max_row == 1201


async def test_the_row_cap_is_stated_never_silent(plain_plugins, db_path):
    ds = datasette(db_path, plugins={"inspect_kit_xlsx": {"max_rows": 1500}})
    response = await ds.client.get("/evidence/findings.xlsx")
    book = workbook(response)
    assert book["findings"].max_row == 1501
    assert about(book)["Row cap"].startswith("CAPPED: only the first 1,500 rows")
    assert response.headers["x-inspect-kit-capped"] == "1"
    book = workbook(await ds.client.get("/evidence.xlsx?sql=select+*+from+findings"))
    assert book["evidence"].max_row == 1501 and about(book)["Row cap"].startswith("CAPPED")


async def test_pages_are_fetched_with_the_users_rights(plain_plugins, db_path):
    """Paging goes through Datasette as the requesting user: without their
    cookie the pages would be refused, and a user without access gets none."""
    ds = datasette(db_path, allow={"id": "lead"})
    assert (await ds.client.get("/evidence/findings.xlsx")).status_code == 403
    other = await ds.client.get("/evidence/findings.xlsx", cookies=cookie(ds, {"id": "someone"}))
    assert other.status_code == 403
    book = workbook(await ds.client.get("/evidence/findings.xlsx", cookies=cookie(ds, {"id": "lead"})))
    assert book["findings"].max_row == ROWS + 1
    assert about(book)["Exported by"] == "lead"


async def test_a_table_hidden_from_the_user_is_refused(plain_plugins, db_path):
    ds = datasette(db_path, databases={"evidence": {"tables": {"findings": {"allow": {"id": "lead"}}}}})
    response = await ds.client.get("/evidence/findings.xlsx", cookies=cookie(ds, {"id": "someone"}))
    assert response.status_code == 403
    assert workbook(await ds.client.get("/evidence/strands.xlsx", cookies=cookie(ds, {"id": "someone"})))


async def test_chosen_columns_keep_their_values(plain_plugins, db_path):
    ds = datasette(db_path)
    book = workbook(await ds.client.get("/evidence/findings.xlsx?_col=collected_on&_col=evidence_text&_size=7"))
    sheet = book["findings"]
    header = [cell.value for cell in sheet[1]]
    assert set(header) == {"id", "collected_on", "evidence_text"}
    row = {name: sheet.cell(row=2, column=index + 1) for index, name in enumerate(header)}
    assert row["collected_on"].is_date and row["evidence_text"].data_type == "s"
    assert sheet.max_row == ROWS + 1
