"""A real review from nothing, by the command line only.

The README's "Set up a real review" block is run as written (review,
strands, agencies, inspector accounts, the case sample from an ``.xlsx``);
then, through the real server, one of those inspectors signs in in Chromium,
records and submits a finding on a sampled case, the lead accepts it, and
it is in Datasette and in the evidence workbook. The README's API example
is sent as written with the inspector's token.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook

from inspect_kit.store import Store

from .conftest import serving
from .test_browser_intake import choose_case
from .test_readme import PASSWORD, README, readme_commands

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SET_UP_BLOCK = re.compile(r"(<!-- tested: set up a real review[^>]*-->\s*\n```bash\n.*?\n```)", re.DOTALL)
API_BODY = re.compile(r"<!-- api example[^>]*-->.*?-d '(\{.*?\})'", re.DOTALL)
EVIDENCE = "The ED's referral for C-002 reached the MASH within the hour, with the injury described."


def run_set_up_block(folder: Path) -> None:
    block = SET_UP_BLOCK.search(README.read_text())
    assert block, "README.md has no 'set up a real review' block"
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    env.pop("INSPECT_KIT_HOME", None)
    commands = readme_commands(block.group(1))
    assert any(command.startswith("inspect-kit cases import") for command in commands)
    for command in commands:
        result = subprocess.run(shlex.split(command), cwd=folder, env=env, input=PASSWORD + "\n",
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"`{command}` failed:\n{result.stdout}\n{result.stderr}"


def cli(folder: Path, *args: str) -> str:
    bin_dir = Path(sys.executable).parent
    result = subprocess.run([str(bin_dir / "inspect-kit"), *args], cwd=folder, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def submit_form(page, url: str, fields: dict[str, str], button: str) -> None:
    """Open ``url``, fill each field by its selector (a drop-down is chosen from) and press ``button``."""
    page.goto(url)
    for selector, value in fields.items():
        if page.locator(selector).evaluate("element => element.tagName") == "SELECT":
            page.select_option(selector, value)
        else:
            page.fill(selector, value)
    page.click(button)


def sign_in(page, base, username, password=PASSWORD):
    submit_form(page, base + "/login", {"#username": username, "#password": password}, "#sign-in")
    page.wait_for_url(base + "/")


def submit_a_strength(page) -> str:
    """Finish the new-finding form (case and agency already chosen) as HLT-01's strength and
    submit it for QA; its public id, from the page it lands on."""
    page.select_option("#activity", "case_file_review")
    page.fill("#evidence_text", EVIDENCE)
    page.check("input[name='finding_type'][value='strength']")
    page.locator("#criteria").first.check()
    page.click("#submit-for-qa")
    page.wait_for_url(re.compile(r".*/findings/EF-HLT-01-\d{4}$"))
    return page.url.rsplit("/", 1)[1]


def test_a_review_set_up_by_the_command_line_takes_evidence(tmp_path, browser_page):
    run_set_up_block(tmp_path)
    store = Store(tmp_path / "northbury")
    with contextlib.closing(store.evidence()) as db:
        counts = {table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                  for table in ("agencies", "inspectors", "cases")}
        # C-002 came in the case sample with the selection route "sampled" (C-001 is the index case).
        case = db.execute("SELECT id FROM cases WHERE case_ref = 'C-002' AND selection_route = 'sampled'"
                          ).fetchone()[0]
        agency = db.execute("SELECT id FROM agencies WHERE name = 'Northbury General emergency department'"
                            ).fetchone()[0]
    assert counts == {"agencies": 4, "inspectors": 4, "cases": 12}

    page = browser_page
    with serving(store, tmp_path / "server.log") as server:
        base = server.url
        sign_in(page, base, "hlt01")
        assert "not linked to an inspector" not in page.inner_text("main")
        page.goto(base + "/findings/new")
        assert choose_case(page, "C-002").startswith("C-002")
        assert page.eval_on_selector("select[name='case_id']", "select => select.value") == str(case)
        page.select_option("#agency_id", str(agency))
        public_id = submit_a_strength(page)
        assert "submitted for QA" in page.inner_text(".govuk-notification-banner")
        page.click("button:has-text('Sign out')")
        page.wait_for_url(re.compile(r".*/login$"))

        sign_in(page, base, "lead1")
        page.goto(base + f"/findings/{public_id}")
        page.click("#qa-accept")
        page.goto(base + f"/findings/{public_id}")
        assert "Accepted" in page.inner_text("main")

        page.goto(base + f"/data/evidence/findings?public_id={public_id}")
        assert public_id in page.inner_text("body") and EVIDENCE[:40] in page.inner_text("body")

        # The README's API example, as written, with the inspector's token.
        token = cli(tmp_path, "user", "token", "--home", "northbury", "hlt01").strip()
        body = json.loads(API_BODY.search(README.read_text()).group(1))
        headers = {"Authorization": f"Bearer {token}"}
        created = httpx.post(base + "/api/findings", json=body, headers=headers, timeout=10)
        assert created.status_code == 201, created.text
        listed = httpx.get(base + "/api/findings", headers=headers, timeout=10).json()
        assert {public_id, created.json()["public_id"]} <= {f["public_id"] for f in listed["findings"]}

    cli(tmp_path, "export", "--home", "northbury", "--accepted-only", "-o", "northbury.xlsx")
    workbook = load_workbook(tmp_path / "northbury.xlsx", read_only=True)
    cells = {str(cell) for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True)
             for cell in row if cell is not None}
    workbook.close()
    assert public_id in cells and EVIDENCE in cells
    assert created.json()["public_id"] not in cells  # submitted, not accepted


def set_password(page, base, username, code):
    submit_form(page, base + "/reset-password",
                {"#username": username, "#code": code, "#password": PASSWORD, "#confirm": PASSWORD}, "#set-password")
    page.wait_for_url(base + "/login")


def add_account(page, base, username, role, strand, code):
    submit_form(page, base + "/admin/accounts",
                {"#username": username, "#role": role, "#strand": strand, "#inspector_code": code}, "#save-account")
    return page.inner_text("#reset-code").strip()


def test_a_review_set_up_on_the_admin_pages_takes_evidence(tmp_path, browser_page):
    from inspect_kit import account_admin
    from inspect_kit.actors import SYSTEM
    from inspect_kit.sample import write_sample_template

    store = Store(tmp_path / "webstore")
    store.init()
    # The first administrator comes from the terminal (`inspect-kit user add nadmin --role admin`).
    with contextlib.closing(store.evidence()) as db, contextlib.closing(store.private()) as private_db:
        account_admin.create_account(private_db, db, SYSTEM, username="nadmin", password=PASSWORD, role="admin")
    write_sample_template(tmp_path / "sample.xlsx", example_rows=6)
    (tmp_path / "agencies.csv").write_text("name,organisation,agency_type,lead_strand\n"
                                           "Southbury ED,Southbury Trust,Emergency department,health\n"
                                           "Southbury Probation,,probation,probation\n")
    page = browser_page
    with serving(store, tmp_path / "server.log") as server:
        base = server.url
        sign_in(page, base, "nadmin")
        page.goto(base + "/admin")
        page.wait_for_url(base + "/admin/reviews/new")
        page.fill("#slug", "southbury-2026")
        page.fill("#title", "Joint targeted area inspection of Southbury")
        page.fill("#area", "Southbury")
        page.select_option("#review_type", "jtai_front_door")
        page.select_option("#framework", "jtai-front-door-2024")
        for strand in ("ofsted", "health", "probation"):
            page.check(f"#strand-{strand}")
        page.click("#create-review")
        page.wait_for_url(base + "/admin")
        assert "Setting up" in page.inner_text("#review-status")

        page.goto(base + "/admin/agencies")
        page.fill("#name", "Southbury MASH")
        page.select_option("#agency_type", "mash")
        page.select_option("#lead_strand", "ofsted")
        page.click("#save-agency")
        page.set_input_files("#sheet", str(tmp_path / "agencies.csv"))
        page.click("#import")
        assert "2 added" in page.inner_text(".govuk-notification-banner")
        assert page.locator("#agencies-table tbody tr").count() == 3

        page.goto(base + "/admin/cases")
        page.set_input_files("#sheet", str(tmp_path / "sample.xlsx"))
        page.click("#import")
        assert "6 added" in page.inner_text(".govuk-notification-banner")

        codes = {"lead1": add_account(page, base, "lead1", "lead", "ofsted", "OFS-01"),
                 "hlt01": add_account(page, base, "hlt01", "inspector", "health", "HLT-01")}
        page.goto(base + "/admin/status")
        page.select_option("#status", "fieldwork")
        page.click("#change-status")
        assert "Fieldwork" in page.inner_text("#review-status")
        page.click("button:has-text('Sign out')")
        page.wait_for_url(re.compile(r".*/login$"))

        set_password(page, base, "hlt01", codes["hlt01"])
        sign_in(page, base, "hlt01")
        page.goto(base + "/findings/new")
        assert choose_case(page, "C-002").startswith("C-002")
        page.select_option("#agency_id", label="Southbury ED (Southbury Trust)")
        public_id = submit_a_strength(page)
        page.click("button:has-text('Sign out')")
        page.wait_for_url(re.compile(r".*/login$"))

        set_password(page, base, "lead1", codes["lead1"])
        sign_in(page, base, "lead1")
        page.goto(base + f"/findings/{public_id}")
        page.click("#qa-accept")
        page.goto(base + f"/data/evidence/findings?public_id={public_id}")
        assert public_id in page.inner_text("body")
    workbook_path = tmp_path / "southbury.xlsx"
    cli(tmp_path, "export", "--home", str(store.home), "--accepted-only", "-o", str(workbook_path))
    workbook = load_workbook(workbook_path, read_only=True)
    cells = {str(cell) for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True)
             for cell in row if cell is not None}
    workbook.close()
    assert public_id in cells and EVIDENCE in cells
    with contextlib.closing(store.evidence()) as db:
        actions = {action for (action,) in db.execute("SELECT DISTINCT action FROM audit_log WHERE actor = 'nadmin'")}
    assert {"review.create", "agency.add", "cases.import", "account.add", "review.status"} <= actions
