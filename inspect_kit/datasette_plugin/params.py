"""Which query-string parameters a Datasette page may take, judged as Datasette reads them.

Datasette (0.65) reads ``request.args``: the query string decoded by
``urllib.parse.parse_qs`` (percent-escapes and ``+`` decoded, every repeat of
a key kept, keys case-sensitive). :func:`decoded_pairs` decodes it the same
way, and every ``(key, value)`` pair, repeats included, must be in the
allow-list of the page it is sent to; anything else is refused with a message
saying what the page takes. A deny-list of raw bytes missed
``_fts%5Ftable`` (Datasette decodes it to ``_fts_table`` and let a police
inspector choose the findings index to search the shared chronology: the ids
of other strands' findings containing a word) and ``foreign%5Fkey%5Ftables``
(counts of findings and alerts of a case).

Only those who may write SQL over the whole store
(:func:`inspect_kit.policy.datasette_sql_role`) are not judged: they can read
every table with SQL anyway. Pure functions: the hook
that calls them is :mod:`.extras`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl

# Datasette's column filters (datasette/filters.py, Filters._filters): ``column__op=value``.
FILTER_OPS = frozenset({
    "exact", "not", "contains", "endswith", "startswith", "gt", "gte", "lt", "lte", "like", "notlike", "glob",
    "in", "notin", "arraycontains", "arraynotcontains", "date", "isnull", "notnull", "isblank", "notblank",
})
# Parameters that need the right to write SQL: refused with 403, not 400.
SQL_PARAMETERS = frozenset({"sql", "_where"})

SHAPES = frozenset({"objects", "array", "arrays", "object", "arrayfirst"})
FORMATS = frozenset({"json", "xlsx"})
NUMBER = re.compile(r"^\d{1,9}$")
NUMBERED = re.compile(r"^(_filter_column|_filter_op|_filter_value)_\d{1,3}$")

ANY = "any value"
A_COLUMN = "a column of this table"
A_NUMBER = "a number"
A_SIZE = "a number or max"

# Every page: how the answer is shaped, never what it reads.
COMMON: dict[str, str | frozenset[str]] = {
    "_format": FORMATS, "_shape": SHAPES, "_nl": ANY, "_json": ANY, "_json_infinity": ANY,
    "_ttl": A_NUMBER, "_dl": ANY, "_timelimit": A_NUMBER,
}
TABLE: dict[str, str | frozenset[str]] = {
    **COMMON,
    "_size": A_SIZE, "_next": ANY, "_nocount": ANY, "_nofacet": ANY, "_nosuggest": ANY,
    "_labels": ANY, "_label": A_COLUMN,
    "_search": ANY, "_searchmode": frozenset({"escaped", "raw"}),
    "_sort": A_COLUMN, "_sort_desc": A_COLUMN, "_sort_by_desc": ANY,
    "_facet": A_COLUMN, "_facet_array": A_COLUMN, "_facet_date": A_COLUMN, "_facet_size": A_SIZE,
    "_col": A_COLUMN, "_nocol": A_COLUMN,
    "_filter_column": A_COLUMN, "_filter_op": "a filter", "_filter_value": ANY,
    # A criterion code on views listing findings' criteria (datasette_plugin/criteria.py); ignored elsewhere.
    "_criterion": ANY,
}
QUERY: dict[str, str | frozenset[str]] = {**COMMON, "_hide_sql": ANY, "_show_sql": ANY}
ROW: dict[str, str | frozenset[str]] = dict(COMMON)
# The instance and database pages: Datasette 0.65 answers 500 to some shapes there (_shape=array
# on /evidence.json), and they list tables, not rows.
PLAIN: dict[str, str | frozenset[str]] = {"_format": FORMATS}
ENDPOINT: dict[str, str | frozenset[str]] = {}          # Datasette's /-/ pages take nothing


@dataclass(frozen=True)
class Refusal:
    """A refused parameter: the HTTP status and a message naming what the page takes."""

    status: int
    message: str


def decoded_pairs(query_string: bytes | str) -> list[tuple[str, str]]:
    """Every ``(key, value)`` of a query string, decoded exactly as Datasette's ``request.args``."""
    text = query_string.decode("latin-1") if isinstance(query_string, bytes) else query_string
    return parse_qsl(text, keep_blank_values=True)


def _value_ok(rule: str | frozenset[str], value: str, columns: frozenset[str]) -> bool:
    if isinstance(rule, frozenset):
        return value in rule
    if rule == ANY:
        return True
    if rule == A_NUMBER:
        return bool(NUMBER.match(value))
    if rule == A_SIZE:
        return value == "max" or bool(NUMBER.match(value))
    if rule == A_COLUMN:
        return value == "" or value.lower() in columns or value == "rowid"
    if rule == "a filter":
        op = value.split("__", 1)[0]
        return op in FILTER_OPS or value == ""
    return False


def _describe(allowed: dict[str, str | frozenset[str]], columns: Iterable[str], takes_filters: bool,
              query_params: Iterable[str]) -> str:
    names = [*query_params, *sorted(allowed)]
    text = "This page takes: " + ", ".join(names) if names else "This page takes no parameters"
    if takes_filters:
        text += "; and filters column__op=value on this table's columns (" + ", ".join(sorted(columns)) + ")"
        text += " with op one of " + ", ".join(sorted(FILTER_OPS))
    return text + "."


def judge(kind: str, pairs: list[tuple[str, str]], *, columns: Iterable[str] = (),
          query_params: Iterable[str] = (), sql_refusal: str | None = None) -> Refusal | None:
    """The first refused parameter of a page, or None when every pair is allowed.

    ``kind`` is ``table`` (tables and views: ``columns`` are its own),
    ``query`` (a canned query: ``query_params`` are its named parameters),
    ``row``, ``plain`` (the instance and database pages) or ``endpoint``
    (Datasette's ``/-/`` pages). ``sql`` and ``_where`` are a 403 (SQL is a
    permission; ``sql_refusal`` says why when the role has it but not in this
    store); anything else outside the page's allow-list a 400.
    """
    allowed = {"table": TABLE, "query": QUERY, "row": ROW, "plain": PLAIN, "endpoint": ENDPOINT}[kind]
    own = frozenset(column.lower() for column in columns)
    named = tuple(query_params)
    for key, value in pairs:
        if key in SQL_PARAMETERS:
            return Refusal(403, sql_refusal or f"{key}= is for those who may write SQL (lead inspectors and moderators).")
        rule = allowed.get(key)
        if rule is None and kind == "table" and NUMBERED.match(key):
            rule = allowed[key.rsplit("_", 1)[0]]
        if rule is None and kind == "table" and key.startswith("_search_"):
            rule = ANY if key[len("_search_"):].lower() in own else None
        if rule is None and kind == "query" and key in named:
            rule = ANY
        if rule is None and kind == "table" and (not key.startswith("_") or "__" in key):
            column, _, op = key.rpartition("__") if "__" in key else (key, "", "exact")
            if column.lower() in own and op in FILTER_OPS:
                continue
        if rule is not None and _value_ok(rule, value, own):
            continue
        what = f"{key}={value}" if rule is not None else f"{key}="
        return Refusal(400, f"{what} is not something this page takes. "
                            + _describe(allowed, own, kind == "table", named))
    return None
