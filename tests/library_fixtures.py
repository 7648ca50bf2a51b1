"""A small review built through the library (``tests/review_builder.py``), for tests of the domain modules."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlite_utils import Database

from inspect_kit.actors import Actor

from .review_builder import add_review, agency, case, inspector


@dataclass
class SmallReview:
    """One review with two agencies, two cases, a health and a police inspector, and a lead."""

    db: Database
    review_id: int
    ed: int
    gp: int
    infant: int
    sibling: int
    health: Actor
    police: Actor
    lead: Actor
    moderator: Actor

    def finding(self, **overrides) -> dict:
        """A valid finding's fields, with ``overrides``."""
        return {
            "review_id": self.review_id, "agency_id": self.ed, "case_id": self.infant,
            "activity": "case_file_review", "collected_on": "2008-11-20",
            "evidence_text": "ED notes record a bruise to the forehead; referral made the same day.",
            "evaluation_text": "Prompt referral; good recognition of risk.",
            "finding_type": "strength", "impact_on_child": "positive", "criteria": {"2.1": "primary"},
            **overrides,
        }


def small_review(db: Database, slug: str = "testshire") -> SmallReview:
    """The review ``slug``; a second call with another slug makes a second review with the same codes and case refs."""
    built = add_review(db, slug=slug, title=f"Special joint review of {slug.title()}", area=slug.title(), steps=[
        agency("Emergency department", "emergency_department", "health", organisation="Testshire Hospitals"),
        agency("Elm GP practice", "gp", "health"),
        case("C-017", "under_1", "cp_plan", "index", cp_category="physical_abuse"),
        case("C-018", "1_4", "child_in_need", "sampled"),
        inspector("HLT-01", "health", "team"),
        inspector("POL-02", "police", "team"),
        inspector("OFS-01", "ofsted", "lead"),
        inspector("MOD-01", "ofsted", "moderator"),
    ])
    codes = built.inspectors
    return SmallReview(
        db, built.id, built.agencies["Emergency department"], built.agencies["Elm GP practice"],
        built.cases["C-017"], built.cases["C-018"],
        health=Actor("health1", "inspector", "health", codes["HLT-01"]),
        police=Actor("police2", "inspector", "police", codes["POL-02"]),
        lead=Actor("lead", "lead", "ofsted", codes["OFS-01"]),
        moderator=Actor("moderator", "moderator", "ofsted", codes["MOD-01"]),
    )


def new_uuid() -> str:
    return str(uuid.uuid4())
