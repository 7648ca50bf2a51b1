"""Manifests: what was handed out, so a copy can later be shown to be exactly it.

Every export (the evidence workbook, a Datasette ``.xlsx``) and every draft
report gets a manifest: what it is, when and by whom it was made, its row
counts, the sha256 of the file's bytes and the audit chain's head at that
moment. The manifest is the ``after`` of the export's audit row, so it is
itself part of the hash chain (:mod:`inspect_kit.audit`); the command line
also writes it beside the file as ``<file>.manifest.json``.
``inspect-kit verify --file F`` looks F's sha256 up among the recorded manifests.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from . import audit
from .actors import Actor
from .file_modes import PRIVATE_FILE, make_private
from .store import now, write_transaction

MANIFEST_FORMAT = "inspect-kit-manifest/1"
CHUNK_BYTES = 1024 * 1024


def file_sha256(path: Path | str) -> str:
    """The sha256 of a file's bytes, read in 1 MiB chunks. :raises OSError: unreadable file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def record_manifest(db: Database, actor: Actor, path: Path | str, *, what: str, action: str,
                    row_counts: Mapping[str, int], review_id: int | None = None, detail: str | None = None,
                    file_name: str | None = None) -> dict[str, Any]:
    """Record the manifest of the finished file at ``path`` in the audit log and return it.

    The chain head is read and the audit row appended in one write
    transaction, so the head named is the row just before the manifest's own.
    The returned manifest carries ``audit_id``, the row it was recorded in.
    """
    path = Path(path)
    sha256 = file_sha256(path)
    size = path.stat().st_size
    with write_transaction(db):
        chain_head = audit.head(db)
        manifest = {
            "format": MANIFEST_FORMAT, "what": what, "file": file_name or path.name, "bytes": size,
            "sha256": sha256, "created_at": now(), "created_by": actor.username, "role": actor.role,
            "review_id": review_id, "row_counts": dict(row_counts),
            "audit_chain_head": {"id": chain_head["id"], "hash": chain_head["hash"]},
        }
        audit_id = audit.record(db, actor, action, table="reviews" if review_id else None, row_id=review_id,
                                after=manifest, detail=detail)
    return {**manifest, "audit_id": audit_id}


def write_sidecar(path: Path | str, manifest: Mapping[str, Any]) -> Path:
    """Write ``<file>.manifest.json`` beside the file; returns its path."""
    sidecar = Path(str(path) + ".manifest.json")
    # 0600 whatever the umask, like the export it describes (it names the review and who exported it).
    fd = os.open(sidecar, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    make_private(fd)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    return sidecar


def manifests_for(db: Database, sha256: str) -> list[dict[str, Any]]:
    """The recorded manifests whose file had this sha256, oldest first, each with ``audit_id``."""
    found = []
    for audit_id, after in db.execute(
            "SELECT id, after FROM audit_log WHERE after IS NOT NULL AND json_extract(after, '$.format') = ?"
            " AND json_extract(after, '$.sha256') = ? ORDER BY id", [MANIFEST_FORMAT, sha256]):
        found.append({**json.loads(after), "audit_id": audit_id})
    return found
