"""The one review builder: every test review is made here, through the library.

The small reviews the tests use (``library_fixtures.small_review``,
``web_fixtures.build_review``, ``datasette_support.build_small_review``) differ
only in their data: each passes its agencies, cases and inspectors here, in
the order it wants them made (the order fixes their ids).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlite_utils import Database

from inspect_kit import reviews
from inspect_kit.actors import SYSTEM


@dataclass
class BuiltReview:
    """A review's row and the ids of what was added, by name, case ref and inspector code."""

    review: dict
    agencies: dict[str, int] = field(default_factory=dict)
    cases: dict[str, int] = field(default_factory=dict)
    inspectors: dict[str, int] = field(default_factory=dict)

    @property
    def id(self) -> int:
        return self.review["id"]


def add_review(db: Database, *, slug: str, title: str, area: str, review_type: str = "special_jar",
               framework: str = "sjar-2008", steps: list[tuple[str, dict]] = (), **review_fields) -> BuiltReview:
    """Create the review ``slug`` as the system, then each of ``steps`` in order.

    A step is ``("agency", {...})``, ``("case", {...})`` or ``("inspector", {...})``
    with the keyword arguments of ``reviews.add_agency``, ``add_case`` or
    ``add_inspector`` (without ``review_id`` and ``actor``).
    """
    built = BuiltReview(reviews.create_review(db, slug=slug, title=title, area=area, review_type=review_type,
                                              framework=framework, actor=SYSTEM, **review_fields))
    for kind, values in steps:
        if kind == "agency":
            built.agencies[values["name"]] = reviews.add_agency(db, review_id=built.id, actor=SYSTEM, **values)
        elif kind == "case":
            built.cases[values["case_ref"]] = reviews.add_case(db, review_id=built.id, actor=SYSTEM, **values)
        elif kind == "inspector":
            built.inspectors[values["code"]] = reviews.add_inspector(db, review_id=built.id, actor=SYSTEM, **values)
        else:
            raise ValueError(f"unknown step {kind!r}")
    return built


def agency(name: str, agency_type: str, lead_strand: str, **more) -> tuple[str, dict]:
    return "agency", {"name": name, "agency_type": agency_type, "lead_strand": lead_strand, **more}


def case(case_ref: str, age_band: str, legal_status: str, selection_route: str, **more) -> tuple[str, dict]:
    return "case", {"case_ref": case_ref, "age_band": age_band, "legal_status": legal_status,
                    "selection_route": selection_route, **more}


def inspector(code: str, strand: str, role: str) -> tuple[str, dict]:
    return "inspector", {"code": code, "strand": strand, "role": role}
