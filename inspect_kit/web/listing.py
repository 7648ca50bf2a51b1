"""Lists of findings narrowed in the URL: the records list and the QA queue read
their filters from the query string (a filtered list is a link to share or
bookmark) and show a page of GOV.UK pagination at a time.

Nothing here decides who sees what (:mod:`inspect_kit.finding_queries` asks
the access policy) or what a filter means; these helpers only read the query
string leniently, since a search box must answer anything typed with a
page: an unknown choice is dropped, a bad date is named next to its field,
a bad page number is the first page.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from flask import url_for

from .. import validation, vocab
from ..finding_queries import FindingFilters

PAGE_SIZE = 50
# Query-string name → FindingFilters field; the names are what a person sees in the URL.
PARAMETERS = {"q": "text", "case": "case_ref", "strand": "strand", "inspector": "inspector",
              "criterion": "criterion", "type": "finding_type", "status": "qa_status",
              "from": "collected_from", "to": "collected_to"}
# Longest text a filter reads (a case ref, a code, a search): longer is cut, not refused.
TEXT_LIMIT = 500
CHOICES = {"finding_type": vocab.FINDING_TYPES, "qa_status": vocab.QA_STATUSES}


def finding_filters(args: Mapping[str, str], *, allowed: tuple[str, ...] = tuple(PARAMETERS)
                    ) -> tuple[FindingFilters, dict[str, str]]:
    """The filters in ``args`` (only the ``allowed`` parameters) and an error message per
    parameter that could not be read (a date that is not one); that filter is left off."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in allowed:
        field = PARAMETERS[name]
        value = (args.get(name) or "")[:TEXT_LIMIT].strip()
        if not value:
            continue
        if field in CHOICES and value not in CHOICES[field]:
            continue
        if field in ("collected_from", "collected_to"):
            label = "date to search from" if field == "collected_from" else "date to search to"
            value = validation.iso_date({name: value}, name, errors, label=label, required=False) or ""
        values[field] = value
    if "mine" in allowed and args.get("mine") == "1":
        values["mine"] = True
    return FindingFilters(**values), errors


def query_args(filters: FindingFilters, *, allowed: tuple[str, ...] = tuple(PARAMETERS), **extra: Any
               ) -> dict[str, str]:
    """The query-string arguments that give ``filters`` back (empty ones left out), plus ``extra``."""
    args = {name: getattr(filters, PARAMETERS[name]) for name in allowed if name in PARAMETERS}
    if "mine" in allowed and filters.mine:
        args["mine"] = "1"
    args.update({name: value for name, value in extra.items() if value is not None})
    return {name: str(value) for name, value in args.items() if value not in ("", None, False)}


def tidy_url(endpoint: str, asked: Mapping[str, str], args: dict[str, str]) -> str | None:
    """The address of this list without the empty fields a GET form sends (``?case=&strand=police``
    becomes ``?strand=police``), or None when ``asked`` is already that tidy."""
    page = asked.get("page", "")
    wanted = {**args, **({"page": page} if page not in ("", "1") else {})}
    if {name: value for name, value in asked.items()} == wanted:
        return None
    return url_for(endpoint, **wanted)


def page_number(args: Mapping[str, str], total: int) -> tuple[int, int]:
    """The page asked for (1 when missing or not a number; the last when past it) and the number of pages."""
    pages = max(1, math.ceil(total / PAGE_SIZE))
    raw = args.get("page", "")
    page = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 7 else 1
    return min(max(page, 1), pages), pages


def pagination(endpoint: str, page: int, pages: int, args: dict[str, str]) -> dict[str, Any] | None:
    """Parameters for the GOV.UK pagination component (None for a single page): previous,
    next, the first and last page and those either side of this one, with ellipses between."""
    if pages <= 1:
        return None

    def href(number: int) -> str:
        return url_for(endpoint, **args, page=number)

    shown = sorted({1, pages, page - 1, page, page + 1} & set(range(1, pages + 1)))
    items: list[dict[str, Any]] = []
    for number in shown:
        if items and number - items[-1].get("number", number) > 1:
            items.append({"ellipsis": True})
        items.append({"number": number, "href": href(number), "current": number == page})
    return {
        "items": [item if "ellipsis" in item else {**item, "number": str(item["number"])} for item in items],
        "previous": {"href": href(page - 1)} if page > 1 else None,
        "next": {"href": href(page + 1)} if page < pages else None,
        "landmarkLabel": "Pages of results",
    }


# The QA queue is narrowed by these and sorted by one of qa.QUEUE_SORTS; a record opened
# from the queue carries them, so that "accept and next" stays in the same queue.
QUEUE_PARAMETERS = ("strand", "inspector", "case")
QUEUE_SORT_LABELS = {"age": "Waiting longest", "strand": "Strand", "inspector": "Inspector", "case": "Case"}


def queue_view(args: Mapping[str, str]) -> tuple[FindingFilters, str]:
    """The QA queue's filters and sort in ``args`` (a form or a query string); unknown sorts are by age."""
    filters, _ = finding_filters(args, allowed=QUEUE_PARAMETERS)
    sort = args.get("sort", "")
    return filters, sort if sort in QUEUE_SORT_LABELS else "age"


def queue_args(filters: FindingFilters, sort: str) -> dict[str, str]:
    """The query-string arguments of a queue view (the default sort left out)."""
    return query_args(filters, allowed=QUEUE_PARAMETERS, sort=None if sort == "age" else sort)
