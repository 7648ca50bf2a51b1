"""A store on disk with a review, findings and real attachment files: for the backup,
check and file-mode tests (the small tmpfs to fill up is ``disk_support.small_disk``)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
from pathlib import Path

from inspect_kit import attachments, findings
from inspect_kit.store import Store

from .disk_support import small_disk  # noqa: F401 (one tmpfs helper; imported from here by older tests)
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
