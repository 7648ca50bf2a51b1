"""Checks shared by findings, chronology events and imports.

Each checker appends to an ``errors`` dict (field → message a user can act
on) instead of raising at the first fault, so a form can name every fault at
once; the caller raises :class:`~inspect_kit.errors.ValidationError` at the end.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from typing import Any

from sqlite_utils import Database

from .errors import ValidationError

# Tab, newline and carriage return are ordinary in typed notes; every other
# control character is refused (they break Excel exports and hide text).
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# JSON's "\ud800" escapes decode to a lone surrogate, which no database or
# file can store as UTF-8: refused, not a 500 when SQLite cannot encode it.
LONE_SURROGATES = re.compile("[\ud800-\udfff]")
LONG_TEXT_LIMIT = 20_000
SHORT_TEXT_LIMIT = 200


def text(fields: dict[str, Any], name: str, errors: dict[str, str], *, label: str,
         required: bool = False, limit: int = LONG_TEXT_LIMIT) -> str | None:
    """A trimmed text value, or None when empty and not required."""
    value = fields.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors[name] = f"Enter the {label}"
        return None
    if not isinstance(value, str):
        errors[name] = f"The {label} must be text"
        return None
    value = value.replace("\r\n", "\n").strip()
    if len(value) > limit:
        errors[name] = f"The {label} must be {limit:,} characters or fewer (it has {len(value):,})"
        return None
    if CONTROL_CHARS.search(value):
        errors[name] = f"The {label} contains control characters; remove them (they are often pasted by accident)"
        return None
    if LONE_SURROGATES.search(value):
        errors[name] = f"The {label} contains characters that are not valid text (half of an emoji or symbol); retype them"
        return None
    return value


def choice(fields: dict[str, Any], name: str, choices: dict[str, str], errors: dict[str, str], *,
           label: str, default: str | None = None, required: bool = True) -> str | None:
    """A value that must be one of ``choices`` (codes)."""
    value = fields.get(name)
    if value in (None, ""):
        if default is not None:
            return default
        if required:
            errors[name] = f"Select the {label}"
        return None
    # An unhashable value (a list or object from JSON) cannot be a dict key:
    # refuse it like any unknown code rather than raising TypeError.
    if not isinstance(value, str) or value not in choices:
        shown = ", ".join(choices.values()) if len(choices) <= 10 else f"one of the {len(choices)} listed options"
        errors[name] = f"Select a valid {label}: {shown}"
        return None
    return value


def iso_date(fields: dict[str, Any], name: str, errors: dict[str, str], *, label: str,
             required: bool = True, not_after: dt.date | None = None) -> str | None:
    """A ``YYYY-MM-DD`` date, optionally not later than ``not_after``."""
    value = fields.get(name)
    if value in (None, ""):
        if required:
            errors[name] = f"Enter the {label}"
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        parsed = value
    else:
        try:
            parsed = dt.date.fromisoformat(str(value).strip())
        except ValueError:
            errors[name] = f"The {label} must be a real date, for example 2008-03-27"
            return None
    if not_after is not None and parsed > not_after:
        errors[name] = f"The {label} must be today or in the past"
        return None
    return parsed.isoformat()


def flag(fields: dict[str, Any], name: str, errors: dict[str, str], *, label: str) -> int:
    """A yes/no value as 0 or 1 (accepts bools, 0/1, 'y'/'yes'/'true'/'on')."""
    value = fields.get(name)
    if value in (None, "", False, 0, "0"):
        return 0
    if value in (True, 1, "1"):
        return 1
    if isinstance(value, str) and value.strip().lower() in ("y", "yes", "true", "on"):
        return 1
    if isinstance(value, str) and value.strip().lower() in ("n", "no", "false", "off"):
        return 0
    errors[name] = f"{label} must be yes or no"
    return 0


def review_row_id(db: Database, table: str, fields: dict[str, Any], name: str, review_id: int,
                  errors: dict[str, str], *, label: str, required: bool = False) -> int | None:
    """The id of a row of ``table`` that must belong to ``review_id``.

    An id from another review is refused like an unknown one: a form must
    never be able to attach evidence to another review's case or agency.
    """
    value = fields.get(name)
    if value in (None, ""):
        if required:
            errors[name] = f"Select the {label}"
        return None
    try:
        row_id = int(value)
    except (TypeError, ValueError, OverflowError):
        errors[name] = f"Select a {label} from the list"
        return None
    if isinstance(value, bool) or not -(2**63) <= row_id < 2**63:
        # True is an int to Python, and SQLite raises OverflowError past 64 bits.
        errors[name] = f"Select a {label} from the list"
        return None
    found = db.execute(f"SELECT 1 FROM {table} WHERE id = ? AND review_id = ?", [row_id, review_id]).fetchone()
    if not found:
        errors[name] = f"Select a {label} from this review's list"
        return None
    return row_id


def content_hash(values: dict[str, Any]) -> str:
    """A stable hash of a submission, to tell a replay from a conflicting reuse of a uuid."""
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()


def client_uuid(value: Any) -> str:
    """A canonical lowercase uuid string.

    :raises ValueError: when ``value`` is not a uuid.
    """
    return str(uuid.UUID(str(value)))


def submission_uuid(value: Any) -> str:
    """The client uuid of a form or API submission, canonical.

    :raises ValidationError: when it is not a uuid (a damaged form or client).
    """
    try:
        return client_uuid(value)
    except ValueError:
        raise ValidationError("The form's submission id is damaged; reload the page and try again.",
                              field_errors={"client_uuid": "Not a valid uuid"}) from None
