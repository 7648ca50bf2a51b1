"""Files attached to a finding: PDF, PNG or JPEG, stored by sha256.

The type is read from the file's first bytes (its "magic number"), never from
its name or the type the browser claims, so an executable renamed ``.pdf`` is
refused. Files live in the store's ``attachments/`` folder named by their
sha256: the same file attached twice is stored once, and attaching it twice to
the same finding returns the existing row (a retried upload is harmless).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from . import audit, policy
from .actors import Actor
from .disk import storage_fault
from .errors import Forbidden, InvalidTransition, NotFound, StoreError, ValidationError
from .file_modes import make_private, make_private_folder
from .finding_queries import get_finding
from .store import Store, insert_row, now, write_transaction

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
FILENAME_LIMIT = 200

# (prefix, media type): the signatures of the accepted file types.
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


def sniff_media_type(content: bytes) -> str | None:
    """The media type of ``content`` from its first bytes, or None when it is not PDF, PNG or JPEG."""
    for signature, media_type in SIGNATURES:
        if content.startswith(signature):
            return media_type
    return None


def human_size(size: int) -> str:
    """``10485760`` → ``10 MB``, ``102400`` → ``100 KB``."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.3g} MB"
    return f"{max(1, size // 1024)} KB"


def clean_filename(filename: str | None) -> str:
    """A display name without folders or control characters (the stored name is the sha256)."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:FILENAME_LIMIT] or "attachment"


def may_attach(actor: Actor, finding: dict[str, Any]) -> bool:
    """The finding's author may attach files to it, unless it was withdrawn (:func:`policy.may_attach`)."""
    return policy.may_attach(actor, finding)


def add_attachment(db: Database, store: Store, actor: Actor, finding_id: int | str, *, filename: str | None,
                   content: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> dict[str, Any]:
    """Attach ``content`` to a finding and return the attachment row.

    :raises NotFound: no such finding. :raises Forbidden: the actor may not see
        or attach to it. :raises InvalidTransition: the finding was withdrawn.
    :raises ValidationError: empty, too large, or not a PDF, PNG or JPEG
        (``field_errors["file"]``).
    :raises StorageFault: the disk is full or failing; neither the row nor a
        new file is left behind.
    """
    finding = get_finding(db, finding_id, actor)
    if finding["qa_status"] == "withdrawn":
        raise InvalidTransition("This finding was withdrawn; files can no longer be attached to it.")
    if not may_attach(actor, finding):
        raise Forbidden("Only the inspector who recorded this finding can attach files to it.")
    if not content:
        raise ValidationError("The selected file is empty.", field_errors={"file": "The selected file is empty"})
    if len(content) > max_bytes:
        message = f"The selected file must be smaller than {human_size(max_bytes)}"
        raise ValidationError(message, field_errors={"file": message})
    media_type = sniff_media_type(content)
    if media_type is None:
        message = "The selected file must be a PDF, PNG or JPEG"
        raise ValidationError(message + " (its contents are not one of these, whatever its name).",
                              field_errors={"file": message})
    sha256 = hashlib.sha256(content).hexdigest()
    created = _write_blob(store, sha256, content)
    try:
        with write_transaction(db):
            existing = list(db.query("SELECT * FROM attachments WHERE finding_id = ? AND sha256 = ?",
                                     [finding["id"], sha256]))
            if existing:
                return existing[0]
            row = {"sha256": sha256, "finding_id": finding["id"], "filename": clean_filename(filename),
                   "media_type": media_type, "size_bytes": len(content), "uploaded_by": actor.username,
                   "uploaded_at": now()}
            attachment_id = insert_row(db, "attachments", row)
            audit.record(db, actor, "attachment.add", table="attachments", row_id=attachment_id, after=row)
    except BaseException:
        if created:
            _discard_unreferenced_blob(db, store, sha256)
        raise
    return get_attachment(db, attachment_id)


def list_attachments(db: Database, finding_id: int) -> list[dict[str, Any]]:
    """The files attached to a finding, oldest first."""
    return list(db.query("SELECT * FROM attachments WHERE finding_id = ? ORDER BY id", [finding_id]))


def get_attachment(db: Database, attachment_id: int, actor: Actor | None = None) -> dict[str, Any]:
    """An attachment row; with an ``actor``, only if they may see its finding.

    :raises NotFound: no such attachment. :raises Forbidden: the finding is not visible to the actor.
    """
    rows = list(db.query("SELECT * FROM attachments WHERE id = ?", [attachment_id]))
    if not rows:
        raise NotFound(f"No attachment {attachment_id}.")
    if actor is not None:
        get_finding(db, rows[0]["finding_id"], actor)
    return rows[0]


def open_attachment(db: Database, store: Store, actor: Actor, attachment_id: int) -> tuple[dict[str, Any], Path]:
    """The attachment row and the path of its file, for a download by ``actor``
    (recorded in the audit log: a download is an export).

    :raises NotFound, Forbidden: as :func:`get_attachment`.
    :raises StoreError: the file is missing from ``attachments/``.
    """
    attachment = get_attachment(db, attachment_id, actor)
    path = blob_path(store, attachment["sha256"])
    if not path.is_file():
        raise StoreError(f"The file of attachment {attachment_id} is missing from the store; restore it from a backup.")
    with write_transaction(db):
        audit.record(db, actor, "attachment.download", table="attachments", row_id=attachment_id)
    return attachment, path


def blob_path(store: Store, sha256: str) -> Path:
    """Where the file with this sha256 lives in the store."""
    return store.attachments_dir / sha256


def _write_blob(store: Store, sha256: str, content: bytes) -> bool:
    """Store the file under its sha256; True when this call created it.

    :raises StorageFault: the disk is full or failing; no file (whole or
        partial) is left behind.
    """
    path = blob_path(store, sha256)
    if path.is_file():
        return False
    try:
        if not store.attachments_dir.is_dir():
            make_private_folder(store.attachments_dir)
        # Write then rename, so a crash never leaves a half file under its final name.
        fd, tmp = tempfile.mkstemp(dir=store.attachments_dir, prefix=".upload-")
    except OSError as error:
        raise storage_fault(error) or error from error
    try:
        make_private(fd)  # 0600 whatever the umask: the file is case evidence
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            # Flushed inside the block so that a full disk is reported here
            # (ENOSPC on close would otherwise surface as a failed rename).
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as error:
        Path(tmp).unlink(missing_ok=True)
        fault = storage_fault(error) if isinstance(error, OSError) else None
        if fault is not None:
            raise fault from error
        raise
    return True


def _discard_unreferenced_blob(db: Database, store: Store, sha256: str) -> None:
    """Remove a file this upload created when its row was not stored (the disk
    filled up at COMMIT, say), unless another row names the same content."""
    try:
        referenced = db.execute("SELECT 1 FROM attachments WHERE sha256 = ? LIMIT 1", [sha256]).fetchone()
    except Exception:  # the database is failing too: keep the file rather than risk another row's content
        return
    if referenced is None:
        blob_path(store, sha256).unlink(missing_ok=True)
