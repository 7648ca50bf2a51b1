"""References typed by a person, turned into ids with one rule.

A case reference, an agency name, a criterion code or an inspector code may
arrive from a form, the JSON API, a capture workbook or the command line.
Each used to be looked up its own way (the API compared agency names exactly,
so "ashbridge police mash desk" was a 422 there while the importer's
case-folding look-up found the agency). The rule, everywhere:

- whitespace is normalised (ends trimmed, runs of spaces, tabs and line
  breaks read as one space) and case is folded (:meth:`str.casefold`);
- only the review's own rows count (another review's case is unknown);
- where two of the review's rows fold to the same key, only the exact
  spelling finds one: a guess between two agencies would file evidence
  against the wrong one.
"""

from __future__ import annotations

import re
from typing import Any

from sqlite_utils import Database

# The kinds of reference: table → the column a person types.
KINDS: dict[str, str] = {"cases": "case_ref", "agencies": "name", "criteria": "code", "inspectors": "code"}


# A chronology event is cited by its number, as the case page ("Event 12") and the
# evidence workbook's "event" column show it.
_EVENT_NUMBER = re.compile(r"(?:event\s*|#)?([0-9]+)", re.IGNORECASE)


def event_numbers(text: str) -> list[str]:
    """The chronology events named in a typed list (``12; 15``, ``Event 12, #15``): each
    number's digits, in the order typed; a token that is not a number is kept as typed, for
    the check to name it. Separators: ``;``, ``,`` and line breaks."""
    numbers = []
    for token in re.split(r"[;,\n]", text):
        token = " ".join(token.split())
        if token:
            match = _EVENT_NUMBER.fullmatch(token)
            numbers.append(match.group(1) if match else token)
    return numbers


def key(text: str) -> str:
    """The form a reference is compared in: whitespace runs as one space, ends trimmed, case folded."""
    return " ".join(text.split()).casefold()


class References:
    """The look-ups of one review, each read from the database on first use
    (an import resolves thousands of rows with one query per kind)."""

    def __init__(self, db: Database, review_id: int):
        self.db = db
        self.review_id = review_id
        self._tables: dict[str, dict[str, list[tuple[int, str]]]] = {}

    def _index(self, table: str) -> dict[str, list[tuple[int, str]]]:
        if table not in self._tables:
            column = KINDS[table]
            index: dict[str, list[tuple[int, str]]] = {}
            for row_id, value in self.db.execute(
                    f"SELECT id, [{column}] FROM [{table}] WHERE review_id = ? ORDER BY id", [self.review_id]):
                index.setdefault(key(value), []).append((row_id, value))
            self._tables[table] = index
        return self._tables[table]

    def find(self, table: str, typed: Any) -> tuple[int, str] | None:
        """The id and stored spelling of the row of ``table`` that ``typed`` names, or None
        (not text, empty, unknown, or ambiguous under the rule)."""
        if not isinstance(typed, str) or not typed.strip():
            return None
        found = self._index(table).get(key(typed), [])
        if len(found) == 1:
            return found[0]
        exact = [row for row in found if row[1] == typed.strip()]
        return exact[0] if len(exact) == 1 else None

    def row_id(self, table: str, typed: Any) -> int | None:
        """The id of the row of ``table`` that ``typed`` names, or None."""
        found = self.find(table, typed)
        return found[0] if found else None

    def criterion_code(self, code: Any) -> str | None:
        """The review's criterion code as stored (``1.1a`` finds ``1.1A``), or None."""
        found = self.find("criteria", code)
        return found[1] if found else None


def case_id(db: Database, review_id: int, case_ref: Any) -> int | None:
    """The id of the review's case ``case_ref`` under the rule (module docstring), or None."""
    if isinstance(case_ref, str) and case_ref.strip():
        # The exact spelling always wins under the rule, and (review_id, case_ref) is
        # unique and indexed: one row read, where the folded index reads every case
        # of the review (250,000 cases: 2.2 s of SQL and ~10 s of Python per case page).
        exact = db.execute("SELECT id FROM cases WHERE review_id = ? AND case_ref = ?",
                           [review_id, case_ref.strip()]).fetchone()
        if exact:
            return exact[0]
    return References(db, review_id).row_id("cases", case_ref)


def agency_id(db: Database, review_id: int, name: Any) -> int | None:
    """The id of the review's agency called ``name`` under the rule, or None."""
    return References(db, review_id).row_id("agencies", name)


def inspector_id(db: Database, review_id: int, code: Any) -> int | None:
    """The id of the review's inspector with code ``code`` under the rule, or None."""
    return References(db, review_id).row_id("inspectors", code)


def criterion_code(db: Database, review_id: int, code: Any) -> str | None:
    """The review's criterion code as stored, for ``code`` under the rule, or None."""
    return References(db, review_id).criterion_code(code)
