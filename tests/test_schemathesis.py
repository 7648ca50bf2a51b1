"""The JSON API against its own OpenAPI document: Schemathesis
runs every check it has (``--checks all``: no 5xx, only documented statuses
and headers, responses matching their schemas, schema-valid requests
accepted and schema-invalid ones refused, 405 with ``Allow`` for other
methods, 401 without credentials, …) against the real server with the demo
review, with an inspector's token over every operation, a lead's over the
findings, QA and judgement operations and a moderator's over moderation, and
must find nothing (warnings, such as an inspector's QA on other strands'
findings answering only 403, are not faults). ``schemathesis.toml`` beside this
file names the one rule the document cannot state (a citation's quote must be
copied from its finding, so a schema-valid proposal may be a 422).

The examples are bounded (a fixed seed, 5 per operation and phase) so the
run stays under a minute on two cores; raise ``--max-examples`` by hand to
search harder (``st run URL --checks all -H "Authorization: Bearer $TOKEN"``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import inspect_kit_command

ST = Path(sys.executable).parent / "st"
CONFIG = Path(__file__).parent / "schemathesis.toml"
MAX_EXAMPLES = 5
SEED = 8


def token(home: Path, username: str) -> str:
    """A new API token for a demo account, as an administrator makes one."""
    result = subprocess.run([*inspect_kit_command(), "user", "token", "--home", str(home), username],
                            capture_output=True, text=True, check=True, timeout=60)
    return result.stdout.strip().splitlines()[-1]


@pytest.mark.slow
def test_schemathesis_finds_nothing(live_server, tmp_path):
    home = live_server.store.home
    subprocess.run([*inspect_kit_command(), "demo", "--home", str(home)], capture_output=True, check=True, timeout=120)
    # An inspector of one strand over every operation; then a lead, who reads every strand,
    # accepts and returns, and proposes judgements, over the findings and judgement operations
    # (the chronology is the same for both); then a moderator over moderation.
    runs = (("health1", "", "13 selected / 13 total"),
            ("lead", "^/api/(findings|judgements)", "10 selected / 13 total"),
            ("moderator", "^/api/judgements/[^/]+/moderation$", "1 selected / 13 total"))
    for username, paths, selected in runs:
        only = ["--include-path-regex", paths] if paths else []
        result = subprocess.run(
            [str(ST), "--config-file", str(CONFIG), "run", f"{live_server.url}/api/openapi.json", "--checks", "all",
             *only,
             "--header", f"Authorization: Bearer {token(home, username)}",
             "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED), "--workers", "1",
             "--generation-database", "none", "--no-color"],
            capture_output=True, text=True, timeout=300, cwd=tmp_path)
        report = result.stdout + result.stderr
        summary = report.strip().splitlines()[-1]
        assert result.returncode == 0, f"as {username}:\n{report[-6000:]}"
        assert "failure" not in summary and "error" not in summary, report[-3000:]
        assert selected in report  # what was tested
    assert "Traceback" not in live_server.log()
