"""The ``inspect-kit`` command line, run in-process with click's CliRunner."""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3

import click
import pytest
from click.testing import CliRunner

from inspect_kit.cli import cli
from inspect_kit.store import Store

PASSWORD = "correct horse battery staple"


def all_commands(group: click.Group = cli, path: tuple[str, ...] = ()):
    yield path, group
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from all_commands(command, (*path, name))
        else:
            yield (*path, name), command


COMMANDS = list(all_commands())


@pytest.fixture
def cli_runner():
    return CliRunner()


@pytest.fixture
def home(tmp_path):
    return tmp_path / "store"


def write_unchecked(home, sql: str, params=()) -> None:
    """Write to the store's evidence.db with foreign keys unenforced (sqlite3's default), as a careless tool could."""
    with contextlib.closing(sqlite3.connect(Store(home).evidence_path)) as conn:
        conn.execute(sql, params)
        conn.commit()


def run(cli_runner, *args, input=None):
    return cli_runner.invoke(cli, [str(arg) for arg in args], input=input, catch_exceptions=False)


@pytest.mark.parametrize("path", [path for path, _ in COMMANDS], ids=lambda path: " ".join(path) or "inspect-kit")
def test_every_command_has_help_with_an_example(cli_runner, path):
    result = run(cli_runner, *path, "--help")
    assert result.exit_code == 0, result.output
    assert "Example" in result.output
    example = result.output.split("Example", 1)[1]
    assert "inspect-kit " in example


@pytest.mark.parametrize("path", [path for path, command in COMMANDS if not isinstance(command, click.Group)])
def test_every_command_takes_home(path):
    command = cli
    for name in path:
        command = command.commands[name]
    names = {option for param in command.params for option in getattr(param, "opts", [])}
    # review frameworks lists shipped files and cases template writes a blank workbook: neither touches a store
    if path not in (("review", "frameworks"), ("cases", "template")):
        assert "--home" in names


def test_init_creates_store_and_is_repeatable(cli_runner, home):
    first = run(cli_runner, "init", "--home", home)
    assert first.exit_code == 0
    assert "applied m001_initial" in first.output
    assert Store(home).exists()
    again = run(cli_runner, "init", "--home", home)
    assert "up to date" in again.output


def test_home_from_environment(cli_runner, home):
    result = cli_runner.invoke(cli, ["init"], env={"INSPECT_KIT_HOME": str(home)})
    assert result.exit_code == 0
    assert Store(home).exists()


def test_command_on_missing_store_is_a_message_not_a_traceback(cli_runner, home):
    result = cli_runner.invoke(cli, ["user", "list", "--home", str(home)])
    assert result.exit_code == 1
    assert "Error: No evidence store" in result.output
    assert "Traceback" not in result.output


def test_user_add_reads_password_from_stdin_list_and_disable(cli_runner, home):
    run(cli_runner, "init", "--home", home)
    added = run(
        cli_runner, "user", "add", "pol02", "--role", "inspector", "--strand", "police", "--inspector", "POL-02",
        "--home", home, input=PASSWORD + "\n",
    )
    assert added.exit_code == 0, added.output
    assert PASSWORD not in added.output
    listed = run(cli_runner, "user", "list", "--home", home)
    assert "pol02" in listed.output and "police" in listed.output and "active" in listed.output
    disabled = run(cli_runner, "user", "disable", "pol02", "--home", home)
    assert disabled.exit_code == 0
    assert "disabled" in run(cli_runner, "user", "list", "--home", home).output

    from inspect_kit.accounts import authenticate
    from inspect_kit.errors import InspectKitError

    with contextlib.closing(Store(home).private()) as db, pytest.raises(InspectKitError, match="disabled"):
        authenticate(db, "pol02", PASSWORD)


def test_user_add_stored_password_works(cli_runner, home):
    run(cli_runner, "init", "--home", home)
    run(cli_runner, "user", "add", "lead", "--role", "lead", "--home", home, input=PASSWORD + "\n")
    from inspect_kit.accounts import authenticate

    with contextlib.closing(Store(home).private()) as db:
        assert authenticate(db, "lead", PASSWORD)["username"] == "lead"


def test_user_add_never_takes_password_from_argv(cli_runner, home):
    run(cli_runner, "init", "--home", home)
    result = cli_runner.invoke(cli, ["user", "add", "lead", "--role", "lead", "--password", "x", "--home", str(home)])
    assert result.exit_code == 2
    assert "No such option '--password'" in result.output


def test_user_add_without_password_fails_cleanly(cli_runner, home):
    run(cli_runner, "init", "--home", home)
    result = cli_runner.invoke(cli, ["user", "add", "lead", "--role", "lead", "--home", str(home)], input="")
    assert result.exit_code == 1
    assert "No password given" in result.output


def test_domain_errors_become_messages(cli_runner, home):
    run(cli_runner, "init", "--home", home)
    run(cli_runner, "user", "add", "lead", "--role", "lead", "--home", home, input=PASSWORD + "\n")
    duplicate = cli_runner.invoke(
        cli, ["user", "add", "lead", "--role", "lead", "--home", str(home)], input=PASSWORD + "\n"
    )
    assert duplicate.exit_code == 1
    assert "Error: There is already an account called 'lead'" in duplicate.output
    unknown = cli_runner.invoke(cli, ["user", "disable", "nobody", "--home", str(home)])
    assert unknown.exit_code == 1 and "No account called 'nobody'" in unknown.output


def test_review_create_and_frameworks(cli_runner, home):
    frameworks = run(cli_runner, "review", "frameworks")
    assert "sjar-2008" in frameworks.output and "jtai-front-door-2024" in frameworks.output
    run(cli_runner, "init", "--home", home)
    created = run(
        cli_runner, "review", "create", "--home", home, "--slug", "testshire-2026", "--title", "Testshire review",
        "--area", "Testshire", "--type", "special_jar", "--framework", "sjar-2008", "--fieldwork-start", "2026-11-02",
    )
    assert created.exit_code == 0, created.output
    assert "Created review testshire-2026" in created.output
    with contextlib.closing(Store(home).evidence()) as db:
        assert db.execute("SELECT count(*) FROM criteria").fetchone()[0] == 7
    again = cli_runner.invoke(cli, [
        "review", "create", "--home", str(home), "--slug", "testshire-2026", "--title", "Again",
        "--area", "Testshire", "--type", "special_jar", "--framework", "sjar-2008",
    ])
    assert again.exit_code == 1 and "already exists" in again.output
    broken = cli_runner.invoke(cli, [
        "review", "create", "--home", str(home), "--slug", "other", "--title", "Other",
        "--area", "Testshire", "--type", "jar", "--framework", "no-such-framework",
    ])
    assert broken.exit_code == 1 and "Traceback" not in broken.output


def test_check_reports_clean_store(cli_runner, home):
    run(cli_runner, "init", "--home", home)
    result = run(cli_runner, "check", "--home", home)
    assert result.exit_code == 0
    assert "The store is consistent." in result.output
    assert "FAIL" not in result.output


def test_check_fails_on_broken_foreign_key(cli_runner, home):
    run(cli_runner, "init", "--home", home)
    # A row written with enforcement off, as a careless tool could.
    write_unchecked(home, "INSERT INTO grades (review_id, grade, label) VALUES (999, 4, 'Outstanding')")
    result = cli_runner.invoke(cli, ["check", "--home", str(home)])
    assert result.exit_code == 1
    assert "FAIL evidence.db: foreign keys" in result.output
    assert "grades row 1 points at a missing reviews row" in result.output


def test_check_fails_on_corrupted_database(cli_runner, home):
    run(cli_runner, "init", "--home", home)
    path = Store(home).evidence_path
    data = bytearray(path.read_bytes())
    page = 4096
    data[page * 3 : page * 6] = b"\xde\xad\xbe\xef" * (page * 3 // 4)
    path.write_bytes(bytes(data))
    result = cli_runner.invoke(cli, ["check", "--home", str(home)])
    assert result.exit_code == 1
    assert "FAIL evidence.db: integrity" in result.output
    assert "Traceback" not in result.output


def test_check_fails_on_missing_attachment_file(cli_runner, home):
    run(cli_runner, "init", "--home", home)
    # Only the attachment's own row matters here; enforcement off skips its parents.
    write_unchecked(home, "INSERT INTO attachments (sha256, finding_id, filename, media_type, size_bytes, uploaded_by,"
                          " uploaded_at) VALUES (?, 1, 'visit-notes.pdf', 'application/pdf', 10, 'test',"
                          " '2026-11-25T10:00:00+00:00')", ["a" * 64])
    result = cli_runner.invoke(cli, ["check", "--home", str(home)])
    assert result.exit_code == 1
    assert "visit-notes.pdf" in result.output


def test_check_on_missing_store(cli_runner, home):
    result = cli_runner.invoke(cli, ["check", "--home", str(home)])
    assert result.exit_code == 1
    assert "missing" in result.output
    assert not home.exists()


def test_backup_is_consistent_while_a_writer_is_mid_transaction(cli_runner, home, tmp_path):
    run(cli_runner, "init", "--home", home)
    store = Store(home)
    blob = b"%PDF-1.4 fictional"
    name = hashlib.sha256(blob).hexdigest()
    (store.attachments_dir / name).write_bytes(blob)
    with contextlib.closing(store.evidence()) as db:
        db.execute("INSERT INTO strands (code, name, inspectorate) VALUES ('ofsted', 'Social care', 'Ofsted')")
        # A writer holds the write lock with uncommitted work while we back up.
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO strands (code, name, inspectorate) VALUES ('police', 'Police', 'HMICFRS')")
        result = run(cli_runner, "backup", "--home", home, tmp_path / "copy")
        db.execute("COMMIT")
    assert result.exit_code == 0, result.output
    assert "Copied evidence.db" in result.output and "Copied 1 attachment file(s)" in result.output
    copy = Store(tmp_path / "copy")
    with contextlib.closing(copy.evidence()) as db:
        assert [row[0] for row in db.execute("SELECT code FROM strands")] == ["ofsted"]
    assert (copy.attachments_dir / name).read_bytes() == blob
    assert run(cli_runner, "check", "--home", copy.home).exit_code == 0


def test_backup_refuses_a_non_empty_destination(cli_runner, home, tmp_path):
    run(cli_runner, "init", "--home", home)
    target = tmp_path / "used"
    target.mkdir()
    (target / "something").write_text("keep me")
    result = cli_runner.invoke(cli, ["backup", "--home", str(home), str(target)])
    assert result.exit_code == 1
    assert "not empty" in result.output
    assert (target / "something").read_text() == "keep me"


def test_serve_refuses_a_missing_store(cli_runner, home):
    result = cli_runner.invoke(cli, ["serve", "--home", str(home)])
    assert result.exit_code == 1
    assert "No evidence store" in result.output


def test_python_dash_m(home):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "inspect_kit", "--version"], capture_output=True, text=True, check=True
    )
    assert "inspect-kit, version" in result.stdout
