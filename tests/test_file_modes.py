"""No other local user can read the store, its exports or its backups,
whatever the umask; `inspect-kit check` warns otherwise."""

from __future__ import annotations

import contextlib
import os
import re
import stat
import subprocess
from pathlib import Path

import pytest

from inspect_kit.secret import session_secret
from inspect_kit.store import Store

from .store_fixtures import inspect_kit, store_with_attachments


@contextlib.contextmanager
def umask(value: int):
    previous = os.umask(value)
    try:
        yield
    finally:
        os.umask(previous)


def modes(folder: Path) -> dict[str, int]:
    """Every file and folder under ``folder`` (itself as "."), with its permission bits."""
    found = {".": stat.S_IMODE(folder.stat().st_mode)}
    for path in folder.rglob("*"):
        found[str(path.relative_to(folder))] = stat.S_IMODE(path.lstat().st_mode)
    return found


def assert_private(folder: Path, *, expect: set[str]) -> None:
    found = modes(folder)
    assert expect <= set(found), sorted(found)
    for name, mode in found.items():
        wanted = 0o700 if (folder / name).is_dir() else 0o600
        assert mode == wanted, f"{folder / name} is {mode:04o}, not {wanted:04o}"


@pytest.mark.parametrize("mask", [0o000, 0o022], ids=["umask-000", "umask-022"])
def test_store_exports_and_backups_are_owner_only_whatever_the_umask(tmp_path, mask):
    with umask(mask):
        store = Store(tmp_path / "evidence")
        store.init()
        (attachment,) = store_with_attachments(store, [10_000])
        session_secret(store)
        # Both databases in use, so that their -wal and -shm files exist while we look.
        with contextlib.closing(store.evidence()) as evidence, contextlib.closing(store.private()) as private:
            evidence.execute("UPDATE reviews SET area = area")
            private.execute("PRAGMA user_version = 0")
            assert_private(store.home, expect={
                "evidence.db", "evidence.db-wal", "evidence.db-shm", "private.db", "private.db-wal",
                "private.db-shm", "secret_key", "attachments", f"attachments/{attachment['sha256']}"})
    for command in (["export", "-o", tmp_path / "exports/2026/ashbridge.xlsx"],
                    ["template", "--inspector", "POL-02", "-o", tmp_path / "exports/2026/pol02.xlsx"],
                    ["backup", tmp_path / "backups/ashbridge-2026-11-25"]):
        result = inspect_kit(command[0], "--home", store.home, *command[1:], umask=mask)
        assert result.returncode == 0, result.stderr
    assert_private(tmp_path / "exports", expect={"2026", "2026/ashbridge.xlsx", "2026/pol02.xlsx"})
    assert_private(tmp_path / "backups", expect={
        "ashbridge-2026-11-25/evidence.db", "ashbridge-2026-11-25/private.db",
        f"ashbridge-2026-11-25/attachments/{attachment['sha256']}"})
    checked = inspect_kit("check", "--home", store.home)
    assert checked.returncode == 0 and "WARN" not in checked.stdout, checked.stdout


def test_an_existing_store_folder_made_by_git_is_made_owner_only_by_init(tmp_path):
    home = tmp_path / "evidence"
    home.mkdir(mode=0o755)
    (home / "README.md").write_text("The evidence store\n")
    Store(home).init()
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "README.md").stat().st_mode) != 0o600  # not ours: left alone


def test_check_warns_about_readable_files_naming_each_mode_and_its_chmod(store):
    (attachment,) = store_with_attachments(store, [10_000])
    blob = store.attachments_dir / attachment["sha256"]
    store.home.chmod(0o755)
    store.private_path.chmod(0o644)
    blob.chmod(0o640)
    result = inspect_kit("check", "--home", store.home)
    assert result.returncode == 0, result.stdout  # a warning: the store itself is consistent
    assert "WARN file permissions: owner only" in result.stdout
    assert f"{store.private_path} is -rw-r--r-- (0644), open to other local users; fix: chmod 600 " \
           f"{store.private_path}" in result.stdout
    assert f"{store.home} is drwxr-xr-x (0755)" in result.stdout and f"chmod 700 {store.home}" in result.stdout
    assert f"{blob} is -rw-r----- (0640)" in result.stdout
    assert f"to fix them all at once: chmod -R go= {store.home}" in result.stdout
    assert "warning(s) to put right" in result.stdout
    assert str(store.evidence_path) + " is" not in result.stdout
    # The commands it prints are the fix.
    for command in re.findall(r"fix: (chmod \d{3} \S+)", result.stdout):
        subprocess.run(command.split(), check=True)
    again = inspect_kit("check", "--home", store.home)
    assert again.returncode == 0 and "WARN" not in again.stdout and "The store is consistent." in again.stdout
