"""Named exceptions of the domain library.

Every message says what was wrong and how to put it right, because it reaches
an inspector or an administrator as it is. Shells (views, CLI, API) translate
these into a form error, a ``click.ClickException`` or an HTTP status.
"""

from __future__ import annotations


class InspectKitError(Exception):
    """Base class: a user-facing failure with an actionable message."""

    status = 400

    def __init__(self, message: str, *, field_errors: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}


class ValidationError(InspectKitError):
    """Input does not meet the domain's rules; ``field_errors`` names each fault."""

    status = 422


class NotFound(InspectKitError):
    """The record asked for does not exist (or is not in this review)."""

    status = 404


class Forbidden(InspectKitError):
    """The actor may not do this."""

    status = 403


class Conflict(InspectKitError):
    """The request clashes with the stored state (same uuid, other content)."""

    status = 409


class StaleVersion(Conflict):
    """The record changed after the reader opened it (a QA action or an edit
    carried an older ``expected_version``); ``current_version`` is the one stored."""

    def __init__(self, message: str, *, current_version: int, field_errors: dict[str, str] | None = None):
        super().__init__(message, field_errors=field_errors)
        self.current_version = current_version


class InvalidTransition(Conflict):
    """A QA or alert transition not allowed from the record's current status."""


class FrameworkError(InspectKitError):
    """A framework file is broken: the message names the file, place and fault."""


class StoreError(InspectKitError):
    """The evidence store is missing, unreadable or not migrated."""


class StorageFault(InspectKitError):
    """The store's disk is full (``kind="disk_full"``, 507 Insufficient Storage)
    or failing (``kind="io_error"``, 503): nothing was written, and the same
    request succeeds once the disk is put right. Made by
    :func:`inspect_kit.disk.storage_fault`."""

    def __init__(self, message: str, *, kind: str):
        super().__init__(message)
        self.kind = kind
        self.status = 507 if kind == "disk_full" else 503
