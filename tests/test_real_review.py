"""A real review from nothing, by the command line only (issue 10, "Done when").

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
from .test_readme import PASSWORD, README, readme_commands

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SET_UP_BLOCK = re.compile(r"(<!-- tested: set up a real review[^>]*-->\s*\n```bash\n.*?\n```)", re.DOTALL)
API_BODY = re.compile(r"<!-- api example[^>]*-->.*?-d '(\{.*?\})'", re.DOTALL)
EVIDENCE = "The ED's referral for C-001 reached the MASH within the hour, with the injury described."


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


def sign_in(page, base, username, password=PASSWORD):
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#sign-in")
    page.wait_for_url(base + "/")


def test_a_review_set_up_by_the_command_line_takes_evidence(tmp_path, browser_page):
    run_set_up_block(tmp_path)
    store = Store(tmp_path / "northbury")
    with contextlib.closing(store.evidence()) as db:
        counts = {table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                  for table in ("agencies", "inspectors", "cases")}
        case = db.execute("SELECT id FROM cases WHERE case_ref = 'C-001'").fetchone()[0]
        agency = db.execute("SELECT id FROM agencies WHERE name = 'Northbury General emergency department'"
                            ).fetchone()[0]
    assert counts == {"agencies": 4, "inspectors": 4, "cases": 12}

    page = browser_page
    with serving(store, tmp_path / "server.log") as server:
        base = server.url
        sign_in(page, base, "hlt01")
        assert "not linked to an inspector" not in page.inner_text("main")
        page.goto(base + "/findings/new")
        page.select_option("#case_id", str(case))
        page.select_option("#agency_id", str(agency))
        page.select_option("#activity", "case_file_review")
        page.fill("#evidence_text", EVIDENCE)
        page.check("input[name='finding_type'][value='strength']")
        page.locator("#criteria").first.check()
        page.click("#submit-for-qa")
        page.wait_for_url(re.compile(r".*/findings/EF-HLT-01-\d{4}$"))
        public_id = page.url.rsplit("/", 1)[1]
        assert "submitted for QA" in page.inner_text(".govuk-notification-banner")
        page.click("button:has-text('Sign out')")

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
