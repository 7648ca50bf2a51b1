"""Backups that verify themselves and a check that reads every attachment:
a full disk, a damaged file or a killed backup never leaves
a folder that `inspect-kit check` passes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from inspect_kit.attachments import blob_path
from inspect_kit.maintenance import UNFINISHED_MARKER, check_store

from .disk_support import small_disk
from .store_fixtures import inspect_kit, store_with_attachments

MB = 1024 * 1024


def one_error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# ----------------------------------------------------------------- check


def test_check_passes_a_sound_store_and_reads_every_attachment(store):
    store_with_attachments(store, [20_000, 30_000])
    seen = []
    report = check_store(store, progress=lambda done, total: seen.append((done, total)))
    assert report.ok and report.warning_count == 0, [(s.name, s.faults, s.warnings) for s in report.sections]
    assert seen[-1] == (50_000, 50_000)


def test_check_fails_on_an_attachment_changed_on_disk_with_its_size_kept(store):
    first, second = store_with_attachments(store, [20_000, 30_000])
    path = blob_path(store, second["sha256"])
    content = bytearray(path.read_bytes())
    content[15_000] ^= 0xFF  # one flipped bit pattern: same size, other content
    path.write_bytes(bytes(content))
    result = inspect_kit("check", "--home", store.home)
    assert result.returncode == 1, result.stdout
    assert "FAIL attachments" in result.stdout
    assert f"visit-notes-1.pdf ({second['sha256'][:12]}…) of finding 1 is corrupted" in result.stdout
    assert "visit-notes-0.pdf" not in result.stdout


def test_check_fails_on_an_attachment_cut_short(store):
    (attachment,) = store_with_attachments(store, [50_000])
    path = blob_path(store, attachment["sha256"])
    path.write_bytes(path.read_bytes()[:4096])
    result = inspect_kit("check", "--home", store.home)
    assert result.returncode == 1
    assert "visit-notes-0.pdf" in result.stdout and "is 4,096 bytes, not the 50,000 uploaded" in result.stdout


def test_check_fails_on_a_damaged_file_no_row_names_yet(store):
    # An upload whose row was never written leaves its file; a later upload of the
    # same content reuses the file as it is, so it must be sound too.
    store_with_attachments(store, [10_000])
    stray = store.attachments_dir / ("0" * 64)
    stray.write_bytes(b"%PDF-1.4 not what its name says")
    stray.chmod(0o600)
    report = check_store(store)
    assert not report.ok
    assert any("the file 000000000000… (no attachment row) is corrupted" in fault
               for section in report.sections for fault in section.faults)


# ----------------------------------------------------------------- backup onto a disk that fills up


@pytest.fixture
def big_store(store):
    """A store whose attachments (3 × 1 MB) do not fit on a 2 MB disk."""
    store_with_attachments(store, [MB, MB, MB])
    return store


def test_backup_onto_a_disk_that_fills_up_exits_1_with_one_line_and_leaves_nothing(big_store, tmp_path):
    with small_disk(tmp_path / "usb", "2M") as usb:
        destination = usb / "ashbridge-2026-11-25"
        result = inspect_kit("backup", "--home", big_store.home, destination)
        line = one_error_line(result)
        assert "is full" in line and "Nothing was kept" in line and "run the backup again" in line, line
        assert not destination.exists()
        assert list(usb.iterdir()) == []  # the temporary folder is gone too
        assert inspect_kit("check", "--home", destination).returncode == 1


def test_backup_onto_a_full_disk_mount_point_leaves_it_empty(big_store, tmp_path):
    # `inspect-kit backup /media/usb`: the mount point itself is the (empty) destination.
    with small_disk(tmp_path / "usb", "2M") as usb:
        line = one_error_line(inspect_kit("backup", "--home", big_store.home, usb))
        assert "is full" in line, line
        assert list(usb.iterdir()) == []
        assert inspect_kit("check", "--home", usb).returncode == 1


def test_backup_when_even_the_database_does_not_fit_then_a_retry_after_freeing_space_works(big_store, tmp_path):
    with small_disk(tmp_path / "usb", "6M") as usb:
        filler = usb / "old-photos.bin"
        filler.write_bytes(b"\0" * (6 * MB - 64 * 1024))  # 64 KB left: not even evidence.db fits
        destination = usb / "backup"
        line = one_error_line(inspect_kit("backup", "--home", big_store.home, destination))
        assert "is full" in line, line
        assert sorted(path.name for path in usb.iterdir()) == ["old-photos.bin"]
        filler.write_bytes(b"\0" * (3 * MB))  # 3 MB left: the databases fit, not all 3 MB of attachments
        line = one_error_line(inspect_kit("backup", "--home", big_store.home, destination))
        assert "is full" in line, line
        assert sorted(path.name for path in usb.iterdir()) == ["old-photos.bin"]
        filler.unlink()
        retry = inspect_kit("backup", "--home", big_store.home, destination)
        assert retry.returncode == 0, retry.stderr
        assert "Backup complete" in retry.stdout and "Copied 3 attachment file(s)" in retry.stdout
        assert sorted(path.name for path in destination.iterdir()) == ["attachments", "evidence.db", "private.db"]
        checked = inspect_kit("check", "--home", destination)
        assert checked.returncode == 0, checked.stdout
        assert "WARN" not in checked.stdout


def test_backup_onto_a_read_only_disk_says_so(big_store, tmp_path):
    with small_disk(tmp_path / "usb", "2M", "ro") as usb:
        line = one_error_line(inspect_kit("backup", "--home", big_store.home, usb / "backup"))
        assert "read-only" in line and "Nothing was kept" in line, line


def test_backup_refuses_a_store_with_a_damaged_attachment_and_keeps_nothing(store, tmp_path):
    (attachment,) = store_with_attachments(store, [40_000])
    path = blob_path(store, attachment["sha256"])
    path.write_bytes(path.read_bytes()[:-1] + b"X")
    line = one_error_line(inspect_kit("backup", "--home", store.home, tmp_path / "backup"))
    assert "no longer match their sha256" in line and "inspect-kit check" in line, line
    assert sorted(path.name for path in tmp_path.iterdir()) == ["evidence"]


def test_a_backup_killed_half_way_leaves_a_folder_check_fails_and_a_retry_works(store, tmp_path):
    store_with_attachments(store, [30_000, 30_000])
    destination = tmp_path / "backup"
    # Killed (as by a power cut) while copying attachments, after the databases are in.
    killed = subprocess.run([sys.executable, "-c", f"""
import os, signal
from pathlib import Path
from inspect_kit.maintenance import backup_store
from inspect_kit.store import Store
backup_store(Store(Path({str(store.home)!r})), {str(destination)!r},
             progress=lambda done, total: os.kill(os.getpid(), signal.SIGKILL))
"""], capture_output=True, text=True, timeout=60)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert not destination.exists()
    (left,) = [path for path in tmp_path.iterdir() if path.name.startswith(".backup.backup-")]
    assert (left / UNFINISHED_MARKER).exists() and (left / "evidence.db").exists()
    checked = inspect_kit("check", "--home", left)
    assert checked.returncode == 1 and "unfinished backup" in checked.stdout
    retry = inspect_kit("backup", "--home", store.home, destination)
    assert retry.returncode == 0, retry.stderr
    assert inspect_kit("check", "--home", destination).returncode == 0
    assert not (destination / UNFINISHED_MARKER).exists()


def test_backup_into_an_existing_empty_folder_works(store, tmp_path):
    store_with_attachments(store, [10_000])
    destination = tmp_path / "empty"
    destination.mkdir()
    result = inspect_kit("backup", "--home", store.home, destination)
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in destination.iterdir()) == ["attachments", "evidence.db", "private.db"]
    assert os.stat(destination).st_mode & 0o777 == 0o700  # it is now the folder of a store
    checked = inspect_kit("check", "--home", destination)
    assert checked.returncode == 0 and "WARN" not in checked.stdout, checked.stdout


def test_backup_refuses_a_folder_inside_the_store(store):
    result = inspect_kit("backup", "--home", store.home, store.attachments_dir / "copy")
    assert one_error_line(result) == "Error: The backup folder must not be the store itself or inside it."
    assert not (store.attachments_dir / "copy").exists()


def test_check_and_backup_show_progress_when_there_is_much_to_read(store, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from inspect_kit import cli
    from inspect_kit.cli import common

    store_with_attachments(store, [60_000, 60_000])
    runner = CliRunner()
    quiet = runner.invoke(cli.cli, ["check", "--home", str(store.home)])
    assert quiet.exit_code == 0 and "Reading attachments" not in quiet.stderr
    monkeypatch.setattr(common, "PROGRESS_MIN_BYTES", 100_000)  # as if the store were large
    checked = runner.invoke(cli.cli, ["check", "--home", str(store.home)])
    assert checked.exit_code == 0 and "Reading attachments" in checked.stderr
    backed_up = runner.invoke(cli.cli, ["backup", "--home", str(store.home), str(tmp_path / "copy")])
    assert backed_up.exit_code == 0 and "Copying and verifying attachments" in backed_up.stderr
