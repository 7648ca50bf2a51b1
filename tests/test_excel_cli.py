"""``inspect-kit template``, ``import`` and ``export`` through click's CliRunner."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from inspect_kit import accounts
from inspect_kit.cli import cli
from inspect_kit.store import Store

from .library_fixtures import small_review

PASSWORD = "correct horse battery staple"


@pytest.fixture
def home(tmp_path):
    store = Store(tmp_path / "store")
    store.init()
    with contextlib.closing(store.evidence()) as db:
        small_review(db)
    with contextlib.closing(store.private()) as private:
        accounts.add_account(private, username="health1", password=PASSWORD, role="inspector", strand="health",
                             inspector_code="HLT-01")
        accounts.add_account(private, username="lead", password=PASSWORD, role="lead", strand="ofsted",
                             inspector_code="OFS-01")
        accounts.add_account(private, username="police2", password=PASSWORD, role="inspector", strand="police",
                             inspector_code="POL-02")
    return store.home


def run(*args):
    return CliRunner().invoke(cli, [str(arg) for arg in args], catch_exceptions=False)


def fill_one_finding(path, **overrides):
    book = load_workbook(path)
    values = {"C": "Emergency department", "D": "C-017", "E": "interview", "F": dt.datetime(2008, 11, 3),
              "G": "strength", "I": "2.1", "J": "=HYPERLINK(\"http://x\") typed in Excel", **overrides}
    for column, value in values.items():
        cell = book["Findings"][f"{column}2"]
        cell.value = value
        cell.data_type = "s" if isinstance(value, str) else cell.data_type
    book.save(path)


def test_template_import_export(home, tmp_path):
    capture = tmp_path / "hlt01.xlsx"
    result = run("template", "--home", home, "--inspector", "HLT-01", "--rows", 10, "-o", capture)
    assert result.exit_code == 0, result.output
    assert "for HLT-01 (template version 1): 10 finding rows" in result.output
    fill_one_finding(capture)

    result = run("import", capture, "--as", "health1", "--home", home)
    assert result.exit_code == 0, result.output
    assert "1 finding(s) and 0 chronology event(s) created" in result.output
    result = run("import", capture, "--as", "health1", "--home", home)
    assert "0 finding(s)" in result.output and "1 row(s) were already imported" in result.output

    workbook = tmp_path / "out" / "evidence.xlsx"
    result = run("export", "--home", home, "-o", workbook, "--as", "lead")
    assert result.exit_code == 0, result.output
    assert "Findings: 1 rows (count checked)" in result.output
    sheet = load_workbook(workbook)["Findings"]
    assert sheet["K2"].value.startswith("=HYPERLINK") and sheet["K2"].data_type == "s"
    with contextlib.closing(Store(home).evidence()) as db:
        actions = [row["action"] for row in db.query("SELECT action FROM audit_log ORDER BY id DESC LIMIT 1")]
    assert actions == ["export.evidence_workbook"]


def test_import_lists_every_problem_and_exits_1(home, tmp_path):
    capture = tmp_path / "capture.xlsx"
    run("template", "--home", home, "--rows", 5, "-o", capture)
    fill_one_finding(capture, E="dancing", D="C-999")
    result = CliRunner().invoke(cli, ["import", str(capture), "--as", "health1", "--home", str(home)])
    assert result.exit_code == 1
    assert "Findings, row 2, column case_ref: 'C-999' is not one of this review's cases" in result.output
    assert "Findings, row 2, column activity: Select a valid activity" in result.output
    assert "Nothing was imported from capture.xlsx: 2 problem(s) in 1 of 1 row(s)" in result.output
    assert "Traceback" not in result.output


def test_import_refusals_are_messages(home, tmp_path):
    not_xlsx = tmp_path / "notes.xlsx"
    not_xlsx.write_text("hello")
    result = CliRunner().invoke(cli, ["import", str(not_xlsx), "--as", "health1", "--home", str(home)])
    assert result.exit_code == 1 and "is not an Excel workbook (.xlsx)" in result.output
    capture = tmp_path / "capture.xlsx"
    run("template", "--home", home, "--rows", 5, "-o", capture)
    fill_one_finding(capture)
    result = CliRunner().invoke(cli, ["import", str(capture), "--as", "nobody", "--home", str(home)])
    assert result.exit_code == 1 and "No account called 'nobody'" in result.output


def test_export_filters_and_rights(home, tmp_path):
    result = CliRunner().invoke(cli, ["export", "--home", str(home), "--as", "police2", "--strand", "health",
                                      "-o", str(tmp_path / "x.xlsx")])
    assert result.exit_code == 1 and "not health's" in result.output
    result = run("export", "--home", home, "--case", "C-017", "--accepted-only", "-o", tmp_path / "c017.xlsx")
    assert result.exit_code == 0, result.output
    about = dict(load_workbook(tmp_path / "c017.xlsx")["About this export"].iter_rows(values_only=True))
    assert about["Filters"] == "accepted findings only; every strand the exporter may see; case C-017"
    assert about["Exported by"] == "system (command line)"


@pytest.mark.parametrize("command", ["template", "export"])
def test_an_output_that_cannot_be_written_is_a_message(home, tmp_path, command):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    output = blocked / "workbook.xlsx"  # a folder that cannot exist
    result = run(command, "--home", home, "-o", output)
    assert result.exit_code == 1
    assert f"Could not write {output}" in result.output and "Traceback" not in result.output
    assert not output.exists()
