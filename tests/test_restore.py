"""inspect-kit restore: a backup back into a new home, checked first and verified."""

from __future__ import annotations

import contextlib

import pytest

from inspect_kit.maintenance import UNFINISHED_MARKER, backup_store, check_store
from inspect_kit.restore import RestoreRefused, restore_store
from inspect_kit.store import Store

from .store_fixtures import inspect_kit, store_with_attachments


def test_backup_then_restore_gives_back_every_record_and_file(store, tmp_path):
    rows = store_with_attachments(store, [2_000, 70_000])
    backup_store(store, tmp_path / "backup")
    result = inspect_kit("restore", tmp_path / "backup", "--home", tmp_path / "restored")
    assert result.returncode == 0, result.stderr
    assert "Restored 2 attachment file(s)" in result.stdout
    restored = Store(tmp_path / "restored")
    assert check_store(restored).ok
    with contextlib.closing(store.evidence()) as before, contextlib.closing(restored.evidence()) as after:
        for table in ("findings", "finding_versions", "attachments", "audit_log"):
            query = f"SELECT * FROM {table} ORDER BY id"
            assert list(before.query(query)) == list(after.query(query)), table
    for row in rows:
        assert (restored.attachments_dir / row["sha256"]).read_bytes() == (
            store.attachments_dir / row["sha256"]).read_bytes()
    assert "intact" in inspect_kit("verify", "--home", tmp_path / "restored").stdout


def test_restore_refuses_a_damaged_or_unfinished_backup_or_a_used_home(store, tmp_path):
    rows = store_with_attachments(store, [5_000])
    backup_store(store, tmp_path / "backup")
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "notes.txt").write_text("someone's file")
    with pytest.raises(RestoreRefused, match="not empty"):
        restore_store(tmp_path / "backup", tmp_path / "used")
    with pytest.raises(RestoreRefused, match="not a backup"):
        restore_store(tmp_path / "used", tmp_path / "new")
    blob = tmp_path / "backup" / "attachments" / rows[0]["sha256"]
    content = bytearray(blob.read_bytes())
    content[100] ^= 0xFF
    blob.write_bytes(bytes(content))
    result = inspect_kit("restore", tmp_path / "backup", "--home", tmp_path / "new")
    assert result.returncode == 1 and "does not pass its checks" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "new").exists()
    blob.write_bytes(bytes(content[:100]) + bytes([content[100] ^ 0xFF]) + bytes(content[101:]))
    (tmp_path / "backup" / UNFINISHED_MARKER).write_text("")
    with pytest.raises(RestoreRefused, match="unfinished backup"):
        restore_store(tmp_path / "backup", tmp_path / "new")
    (tmp_path / "backup" / UNFINISHED_MARKER).unlink()
    assert restore_store(tmp_path / "backup", tmp_path / "new").copy.attachments == 1


def test_an_older_backup_is_brought_up_to_date(store, tmp_path):
    backup_store(store, tmp_path / "backup")
    with contextlib.closing(Store(tmp_path / "backup").evidence()) as db:
        db.execute("ALTER TABLE audit_log DROP COLUMN redacted_by")
        db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm011_audit_redaction'")
    report = restore_store(tmp_path / "backup", tmp_path / "restored")
    assert report.migrated == ["m011_audit_redaction"]
    assert check_store(Store(tmp_path / "restored")).ok
