"""A store on disk with a review, findings and real attachment files, and a
small real filesystem (tmpfs) to fill up: for the backup, check and file-mode tests."""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from inspect_kit import attachments, findings
from inspect_kit.store import Store

from .library_fixtures import new_uuid, small_review

ROOT = Path(__file__).resolve().parent.parent


def store_with_attachments(store: Store, sizes: list[int]) -> list[dict]:
    """Record a finding and attach one PDF of each size (random bytes after the PDF signature)."""
    with contextlib.closing(store.evidence()) as db:
        review = small_review(db)
        finding = findings.record_finding(db, review.health, review.finding(), client_uuid=new_uuid()).record
        rows = []
        for number, size in enumerate(sizes):
            content = b"%PDF-1.4\n" + os.urandom(size - 9)
            rows.append(attachments.add_attachment(db, store, review.health, finding["id"],
                                                   filename=f"visit-notes-{number}.pdf", content=content))
    for row in rows:
        assert hashlib.sha256(attachments.blob_path(store, row["sha256"]).read_bytes()).hexdigest() == row["sha256"]
    return rows


def inspect_kit(*args, umask: int | None = None) -> subprocess.CompletedProcess:
    """Run the real ``inspect-kit`` command in a new process."""
    return subprocess.run([sys.executable, "-m", "inspect_kit", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, preexec_fn=(lambda: os.umask(umask)) if umask is not None else None)


@contextlib.contextmanager
def small_disk(path: Path, size: str, *options: str):
    """A real tmpfs of ``size`` mounted on ``path`` (tests run as root here and in CI)."""
    path.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join([f"size={size}", *options]), "tmpfs", str(path)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"mounting a small tmpfs was refused ({mounted.stderr.strip()}); it needs root")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)
