"""Checks shared by findings, chronology events, QA actions, alerts and imports.

Each checker appends to an ``errors`` dict (field → message a user can act
on) instead of raising at the first fault, so a form can name every fault at
once; the caller raises :class:`~inspect_kit.errors.ValidationError` at the end.

The text rule (one for every free-text field, see :func:`text`):

- line endings are normalised to ``\\n`` (browsers post ``\\r\\n``), and
  spaces, tabs and newlines at either end are trimmed; nothing else is
  changed, so what is stored is what was typed;
- C0 and C1 control characters (U+0000–U+001F, U+007F–U+009F) are refused,
  except tab and newline in multi-line texts. They are never removed
  silently: a pasted ESC or U+009B (a terminal's escape sequence introducer)
  would otherwise be stored invisibly and reach Excel or a terminal;
- lone surrogates (JSON's ``"\\ud800"``; no database or file can store them
  as UTF-8) and Unicode non-characters (U+FDD0–U+FDEF and the last two code
  points of every plane, which Unicode reserves for internal use and Excel
  refuses) are refused.

Dates run from :data:`EARLIEST_DATE` to today where they record something
that happened; uuids are the canonical 36-character lowercase form (see
:func:`client_uuid`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import urllib.parse
from typing import Any

from sqlite_utils import Database

from .errors import ValidationError

# C0 controls but tab and newline, DEL and the C1 controls.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Tab and newline: refused in a one-line field (a role, a source, a name).
LINE_CHARS = re.compile(r"[\t\n]")
LONE_SURROGATES = re.compile("[\ud800-\udfff]")
# Everything the rule refuses in the Basic Multilingual Plane, in one pass.
REFUSED_BMP = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")
# The non-characters of the other planes (U+1FFFE, U+1FFFF, … U+10FFFF) in
# UTF-8: a lead byte, then x8F/x9F/xAF/xBF, xBF, xBE or xBF. Searched in the
# encoded text because 32 astral code points in one character class made
# Python's re scan a 20,000-character text in 0.96 ms (bench in the commit message).
ASTRAL_NONCHARACTER_UTF8 = re.compile(rb"[\xf0-\xf4][\x8f\x9f\xaf\xbf]\xbf[\xbe\xbf]")


def is_noncharacter(char: str) -> bool:
    """Whether ``char`` is one of Unicode's 66 non-characters."""
    code = ord(char)
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


# What "trimmed" means: ordinary whitespace only. str.strip() would also drop
# U+001C–U+001F and U+0085 (controls) and hide them from the checks above.
EDGE_WHITESPACE = " \t\n"
LONG_TEXT_LIMIT = 20_000
SHORT_TEXT_LIMIT = 200
COMMENT_LIMIT = 5_000
# Nothing a review records happened before 1900 (the oldest framework dates
# from 2008; a child's chronology may reach back to a parent's childhood).
# 0001-01-01 and the like are typing slips, and Excel cannot show them.
EARLIEST_DATE = dt.date(1900, 1, 1)
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# SQLite integers are signed 64-bit: a larger id or offset cannot even be looked up.
MAX_INT = 2**63 - 1
DIGITS = re.compile(r"[0-9]{1,19}")
UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
CANONICAL_UUID = re.compile(UUID_PATTERN)
# The nil and max uuids (RFC 9562 §5.9, §5.10) are placeholders, never a
# client's fresh id: a client sending one would make every record a replay of the first.
RESERVED_UUIDS = {"00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff"}


def text_fault(value: str, *, label: str, multiline: bool = True) -> str | None:
    """The message for the first character of ``value`` that the text rule refuses, or None.

    ``value`` should already have its line endings normalised (``\\r\\n`` → ``\\n``).
    """
    found = REFUSED_BMP.search(value)
    at = found.start() if found else None
    if not value.isascii():
        encoded = value.encode("utf-8", "surrogatepass")
        # Every one ends in BF BE or BF BF: a substring test rules most texts out at once.
        astral = ASTRAL_NONCHARACTER_UTF8.search(encoded) if (
            b"\xbf\xbe" in encoded or b"\xbf\xbf" in encoded) else None
        if astral:
            position = len(encoded[:astral.start()].decode("utf-8", "surrogatepass"))
            at = position if at is None else min(at, position)
    if not multiline:
        line = LINE_CHARS.search(value, 0, len(value) if at is None else at)
        if line:
            return f"The {label} must be one line: remove the line break or tab at character {line.start() + 1:,}"
    if at is None:
        return None
    char = value[at]
    if CONTROL_CHARS.match(char):
        what = "a control character"
    elif LONE_SURROGATES.match(char):
        what = "half of an emoji or symbol (a lone surrogate)"
    else:
        what = "a character reserved by Unicode (a non-character)"
    return (f"The {label} contains {what} (U+{ord(char):04X}, at character {at + 1:,}); remove it and retype "
            "the text around it (it was probably pasted by accident)")


def text(fields: dict[str, Any], name: str, errors: dict[str, str], *, label: str,
         required: bool = False, limit: int = LONG_TEXT_LIMIT, multiline: bool = True) -> str | None:
    """The value of free-text field ``name`` under the text rule (module docstring), or None when empty.

    Refusals go to ``errors[name]``: not text, longer than ``limit``
    characters as sent, empty when ``required``, or a character the rule
    refuses (named, with its position). One-line fields (``multiline=False``) also refuse tabs and newlines.
    """
    value = fields.get(name)
    if value is None:
        if required:
            errors[name] = f"Enter the {label}"
        return None
    if not isinstance(value, str):
        errors[name] = f"The {label} must be text"
        return None
    # Counted as sent (a browser's line break is two characters, CR LF), which is
    # what the OpenAPI document's maxLength says: counted after trimming, a text
    # the document calls too long was accepted.
    if len(value) > limit:
        errors[name] = f"The {label} must be {limit:,} characters or fewer (it has {len(value):,})"
        return None
    value = value.replace("\r\n", "\n")
    fault = text_fault(value, label=label, multiline=multiline)
    if fault:
        errors[name] = fault
        return None
    if not value.strip():
        if required:
            errors[name] = f"Enter the {label}"
        return None
    return value.strip(EDGE_WHITESPACE)


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
             required: bool = True, not_after: dt.date | None = None,
             not_before: dt.date = EARLIEST_DATE) -> str | None:
    """A ``YYYY-MM-DD`` date (or a ``date``) from ``not_before`` (1900-01-01) to ``not_after``.

    Only the extended ``YYYY-MM-DD`` form is read: Python 3.11's
    ``fromisoformat`` would also take ``20081120`` or ``2008-W47-4``, which
    the OpenAPI document's ``format: date`` does not allow.
    """
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
            if not isinstance(value, str) or not ISO_DATE.fullmatch(value.strip(EDGE_WHITESPACE)):
                raise ValueError
            parsed = dt.date.fromisoformat(value.strip(EDGE_WHITESPACE))
        except ValueError:
            errors[name] = f"The {label} must be a real date, for example 2008-03-27"
            return None
    if parsed < not_before:
        errors[name] = f"The {label} must be on or after {not_before:%-d %B %Y}"
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


def whole_number(value: Any, *, low: int = 0, high: int = MAX_INT, strings: bool = True) -> int | None:
    """``value`` as an int from ``low`` to ``high``, or None when it is not one.

    Strict: ``True`` and ``17.9`` are not whole numbers (``int()`` would make
    them 1 and 17), nor are ``"+5"``, ``" 5"``, ``"1_000"`` or other scripts'
    digits (all of which ``int()`` takes). ``17.0`` is 17, as JSON Schema's
    ``integer`` says. Strings of ASCII digits count only with ``strings`` (a
    form posts text; a JSON client must send a number).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) <= high:
        value = int(value)
    if isinstance(value, int):
        number = value
    elif strings and isinstance(value, str) and DIGITS.fullmatch(value):
        number = int(value)
    else:
        return None
    return number if low <= number <= high else None


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
    row_id = whole_number(value, low=1)
    if row_id is None:
        errors[name] = f"Select a {label} from the list"
        return None
    found = db.execute(f"SELECT 1 FROM {table} WHERE id = ? AND review_id = ?", [row_id, review_id]).fetchone()
    if not found:
        errors[name] = f"Select a {label} from this review's list"
        return None
    return row_id


def review_row_ids(db: Database, table: str, value: Any, name: str, review_id: int, errors: dict[str, str], *,
                   label: str, limit: int) -> list[int]:
    """The ids of rows of ``table`` that must all belong to ``review_id``, in ascending order.

    ``value`` is a list of ids (a JSON client's numbers, a form's digit
    strings) or one id; empty is none. Refused with one message in
    ``errors[name]``: not a list of whole numbers, an id given twice (a client
    that repeats one has lost track of what it cites), more than ``limit``, or
    an id that is not a row of this review (unknown and another review's alike).
    """
    if value in (None, "", [], ()):
        return []
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    if len(items) > limit:
        errors[name] = f"Choose at most {limit} {label} (there are {len(items):,})"
        return []
    ids: list[int] = []
    for item in items:
        row_id = whole_number(item.strip() if isinstance(item, str) else item, low=1)
        if row_id is None:
            shown = repr(item) if len(repr(item)) <= 40 else repr(item)[:37] + "…"
            errors[name] = f"Give the {label} by their numbers ({shown} is not one)"
            return []
        if row_id in ids:
            errors[name] = f"Choose each of the {label} once (number {row_id} is given twice)"
            return []
        ids.append(row_id)
    marks = ", ".join("?" for _ in ids)
    found = {row_id for (row_id,) in db.execute(
        f"SELECT id FROM {table} WHERE review_id = ? AND id IN ({marks})", [review_id, *ids])}
    unknown = [row_id for row_id in ids if row_id not in found]
    if unknown:
        errors[name] = f"Choose {label} of this review (there is no number {unknown[0]} in it)"
        return []
    return sorted(ids)


def content_hash(values: dict[str, Any]) -> str:
    """A stable hash of a submission, to tell a replay from a conflicting reuse of a uuid."""
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()


def client_uuid(value: Any) -> str:
    """A client's uuid in the canonical form: 36 characters, lowercase, hyphenated.

    Uppercase hex digits are lowered (RFC 9562 §4: uuids are compared
    without regard to case, and some platforms print them in capitals), so
    ``ABC…`` and ``abc…`` are the same submission. Every other spelling that
    ``uuid.UUID`` would take is refused (braces, ``urn:uuid:``, no hyphens,
    surrounding spaces): a retry must send the id exactly as first sent, and
    one id must not have two stored spellings. The nil and max uuids are
    refused too.

    :raises ValueError: when ``value`` is not such a uuid.
    """
    if not isinstance(value, str) or not CANONICAL_UUID.fullmatch(value):
        raise ValueError(f"not a canonical uuid: {value!r}")
    value = value.lower()
    if value in RESERVED_UUIDS:
        raise ValueError(f"a reserved uuid: {value}")
    return value


def submission_uuid(value: Any, *, field: str = "client_uuid") -> str:
    """The client uuid of a form or API submission, canonical (see :func:`client_uuid`).

    :raises ValidationError: when it is not one (a damaged form or client).
    """
    try:
        return client_uuid(value)
    except ValueError:
        raise ValidationError(
            "The submission id is damaged: send a fresh uuid4 such as 0f8fad5b-d9cb-469f-a165-70867728950e "
            "(lowercase, hyphenated, no braces), or reload the page and try again.",
            field_errors={field: "Not a valid uuid: use the 36-character form, for example "
                                 "0f8fad5b-d9cb-469f-a165-70867728950e"}) from None


def undecodable_form_fields(body: bytes) -> list[str]:
    """The names of the fields of an ``application/x-www-form-urlencoded`` body
    whose name or value is not UTF-8 once percent-decoded, in order.

    Werkzeug keeps such a value as its percent-encoded text (``bad%FF%FE``),
    which would then be stored as if typed; UTF-8's own check also refuses an
    encoded lone surrogate (``%ED%A0%80``).
    """
    bad: list[str] = []
    for pair in body.split(b"&"):
        if not pair:
            continue
        name, _, value = pair.partition(b"=")
        name_bytes = urllib.parse.unquote_to_bytes(name.replace(b"+", b" "))
        shown = name_bytes.decode("utf-8", errors="replace")
        for part in (name_bytes, urllib.parse.unquote_to_bytes(value.replace(b"+", b" "))):
            try:
                part.decode("utf-8")
            except UnicodeDecodeError:
                if shown not in bad:
                    bad.append(shown)
                break
    return bad
