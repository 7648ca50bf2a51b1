"""The judgement workspace's library: proposals with cited evidence, warnings, moderation, versions, the lock."""

from __future__ import annotations

import pytest

from inspect_kit import audit, findings, judgements, qa, reviews
from inspect_kit.actors import SYSTEM, Actor
from inspect_kit.datasette_plugin import questions
from inspect_kit.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationError

from .library_fixtures import new_uuid, small_review


@pytest.fixture
def review(fresh_db):
    return small_review(fresh_db)


def accepted(review, author=None, **overrides) -> dict:
    """A finding recorded, submitted and accepted; returns it."""
    author = author or review.health
    record = findings.record_finding(review.db, author, review.finding(**overrides), client_uuid=new_uuid(),
                                     submit=True).record
    return qa.accept(review.db, review.lead, record["id"])


def negatives_and_a_strength(review) -> list[dict]:
    return [
        accepted(review, evidence_text="The GP saw bruising on a non-mobile infant and did not refer.",
                 finding_type="serious_weakness", impact_on_child="negative"),
        accepted(review, review.police, evidence_text="Police checks took nine days; the strategy discussion waited.",
                 finding_type="area_for_improvement", impact_on_child="negative"),
        accepted(review, evidence_text="ED notes record a bruise; referral made the same day.",
                 finding_type="strength", impact_on_child="positive"),
    ]


def propose(review, cited, grade=3, **extra):
    return judgements.record_judgement(
        review.db, review.lead, review_id=review.review_id, criterion_code="2.1", narrative="Concerns are referred.",
        proposed_grade=grade, citations=[{"finding": f["public_id"], "quote": q} for f, q in cited], **extra)


def test_the_lead_cites_three_findings_with_quotes(review):
    cited = negatives_and_a_strength(review)
    judgement = propose(review, [(cited[0], "did not refer"), (cited[1], "Police checks took nine days"),
                                 (cited[2], None)])
    assert [c["public_id"] for c in judgement["citations"]] == [f["public_id"] for f in cited]
    assert [c["quote"] for c in judgement["citations"]] == ["did not refer", "Police checks took nine days", None]
    assert all(c["finding_version"] == 1 for c in judgement["citations"])
    assert judgement["version"] == 1 and judgement["proposed_by"] == "lead"


@pytest.mark.parametrize("quote, fault", [
    ("did not refer at all", "not in the text"),
    ("x" * 1001, "1,000 characters or fewer"),
    ("did not\x07refer", "control character"),
])
def test_a_quote_must_be_taken_from_the_finding(review, quote, fault):
    finding = negatives_and_a_strength(review)[0]
    with pytest.raises(ValidationError) as raised:
        propose(review, [(finding, quote)])
    assert fault in raised.value.field_errors[f"quote-{finding['public_id']}"]
    assert review.db.execute("SELECT count(*) FROM judgements").fetchone()[0] == 0, "nothing half-written"


def test_a_withdrawn_or_unknown_finding_cannot_be_cited(review):
    finding = negatives_and_a_strength(review)[0]
    qa.withdraw(review.db, review.health, finding["id"], "Duplicate record")  # only its author withdraws it
    with pytest.raises(ValidationError) as raised:
        propose(review, [(finding, None)])
    assert "withdrawn" in raised.value.field_errors["citations"]
    with pytest.raises(ValidationError) as raised:
        propose(review, [({"public_id": "EF-XXX-99-9999"}, None)])
    assert "no finding EF-XXX-99-9999" in raised.value.field_errors["citations"]


def test_a_good_grade_on_mostly_negative_cited_evidence_is_warned(review):
    cited = negatives_and_a_strength(review)
    judgement = propose(review, [(f, None) for f in cited], grade=3)
    found = judgements.warnings(review.db, review.review_id, "2.1", judgement)
    grade_warnings = [w["message"] for w in found if w["kind"] == "grade"]
    assert any("cited evidence: good or better on mostly negative evidence" in m for m in grade_warnings)
    fitting = propose(review, [(f, None) for f in cited], grade=1)
    assert not [w for w in judgements.warnings(review.db, review.review_id, "2.1", fitting) if w["kind"] == "grade"]


def test_the_workspace_and_question_9_apply_the_same_rule(review):
    cited = negatives_and_a_strength(review)
    propose(review, [(f, None) for f in cited], grade=4)
    q9 = questions.question("grades_against_evidence")
    rows = review.db.execute(q9.sql, q9.bind(_ik_review="testshire")).fetchall()
    columns = [c[0] for c in review.db.execute(q9.sql, q9.bind(_ik_review="testshire")).description]
    reason = dict(zip(columns, rows[0], strict=True))["reason"]
    assert reason == judgements.grade_disagreement(4, judgements.EvidenceMix.of(f["finding_type"] for f in cited))
    assert reason == "good or better on mostly negative evidence"


@pytest.mark.parametrize("grade, types, expected", [
    (3, [], "graded with no linked evidence"),
    (3, ["strength"] * 9 + ["serious_weakness"], "good or better despite serious weaknesses"),
    (2, ["strength"] * 3 + ["area_for_improvement"], "adequate or worse on mostly positive evidence"),
    (2, ["strength"] * 2 + ["area_for_improvement"], None),
    (None, ["serious_weakness"], None),
])
def test_grade_disagreement_rule(grade, types, expected):
    assert judgements.grade_disagreement(grade, judgements.EvidenceMix.of(types)) == expected


def test_citations_of_evidence_edited_or_no_longer_accepted_are_warned(review):
    cited = negatives_and_a_strength(review)
    judgement = propose(review, [(cited[0], "did not refer"), (cited[2], None)], grade=2)
    findings.edit_finding(review.db, review.health, cited[0]["id"],
                          {**review.finding(), "evidence_text": "The GP saw bruising and referred late.",
                           "finding_type": "serious_weakness"}, reason="Corrected after interview")
    found = [w["message"] for w in judgements.warnings(review.db, review.review_id, "2.1",
                                                          judgements.get_judgement(review.db, judgement["id"]))]
    public_id = cited[0]["public_id"]
    assert any(f"{public_id} is cited but is Submitted" in m for m in found), found
    assert any(f"The quote from {public_id} is no longer in its text" in m for m in found), found
    qa.accept(review.db, review.lead, cited[0]["id"])
    found = [w["message"] for w in judgements.warnings(review.db, review.review_id, "2.1",
                                                          judgements.get_judgement(review.db, judgement["id"]))]
    assert any("edited after it was cited (cited version 1, now version 2)" in m for m in found), found


def test_coverage_warnings_follow_question_6(review):
    assert {"kind": "coverage", "message": "No evidence is linked to this criterion yet."} in judgements.warnings(
        review.db, review.review_id, "2.1", None)
    accepted(review)
    messages = [w["message"] for w in judgements.warnings(review.db, review.review_id, "2.1", None)]
    assert any("single source" in m for m in messages) and any("No evidence from: " in m for m in messages)


def test_moderation_sits_beside_the_proposal_and_both_are_versioned(review):
    cited = negatives_and_a_strength(review)
    judgement = propose(review, [(f, None) for f in cited], grade=3)
    moderated = judgements.moderate_judgement(review.db, review.moderator, review_id=review.review_id,
                                              criterion_code="2.1", moderated_grade=1,
                                              note="A serious weakness in the sample outweighs the strengths.")
    assert (moderated["proposed_grade"], moderated["moderated_grade"]) == (3, 1)
    assert moderated["moderated_by"] == "moderator" and moderated["moderation_reason"].startswith("A serious")
    revised = propose(review, [(f, None) for f in cited[:2]], grade=2, reason="Moderation accepted in part")
    assert (revised["proposed_grade"], revised["moderated_grade"], revised["version"]) == (2, 1, 3)
    history = judgements.history(review.db, judgement["id"], review.lead)
    assert [(v["version"], v["action"], v["changed_by"]) for v in history] == [
        (1, "propose", "lead"), (2, "moderate", "moderator"), (3, "revise", "lead")]
    assert history[1]["snapshot"]["moderated_grade"] == 1 and history[0]["snapshot"]["proposed_grade"] == 3
    assert len(history[0]["snapshot"]["citations"]) == 3 and len(history[2]["snapshot"]["citations"]) == 2
    actions = [row["action"] for row in audit.trail(review.db, "judgements", judgement["id"])]
    assert actions == ["judgement.propose", "judgement.moderate", "judgement.revise"]
    assert [d["id"] for d in judgements.disagreements(review.db, review.lead, review.review_id)] == [judgement["id"]]


def test_a_save_that_changes_nothing_makes_no_version(review):
    cited = negatives_and_a_strength(review)
    first = propose(review, [(cited[2], None)], grade=3)
    again = propose(review, [(cited[2], None)], grade=3)
    assert again["version"] == first["version"] == 1


def test_a_stale_version_is_a_conflict(review):
    propose(review, [], grade=3)
    propose(review, [], grade=2)
    with pytest.raises(Conflict):
        propose(review, [], grade=4, expected_version=1)


@pytest.mark.parametrize("who, call", [
    ("health", "propose"), ("moderator", "propose"), ("admin", "propose"),
    ("lead", "moderate"), ("health", "moderate"), ("admin", "moderate"),
])
def test_only_the_lead_proposes_and_only_a_moderator_moderates(review, who, call):
    actor = {"health": review.health, "moderator": review.moderator, "lead": review.lead,
             "admin": Actor("admin", "admin")}[who]
    propose(review, [], grade=3)
    with pytest.raises(Forbidden):
        if call == "propose":
            judgements.record_judgement(review.db, actor, review_id=review.review_id, criterion_code="2.1",
                                        narrative="x", proposed_grade=2)
        else:
            judgements.moderate_judgement(review.db, actor, review_id=review.review_id, criterion_code="2.1",
                                          moderated_grade=2, note="x")


def test_inspectors_and_administrators_see_nothing_of_judgements(review):
    judgement = propose(review, [], grade=3)
    for actor in (review.health, Actor("admin", "admin")):
        assert not judgements.may_read(actor)
        with pytest.raises(Forbidden):
            judgements.list_judgements(review.db, actor, review.review_id)
        with pytest.raises(Forbidden):
            judgements.history(review.db, judgement["id"], actor)
    assert judgements.list_judgements(review.db, review.moderator, review.review_id)


def test_judgements_lock_at_factual_accuracy(review):
    propose(review, [], grade=3)
    review.db.execute("UPDATE reviews SET status = 'factual_accuracy' WHERE id = ?", [review.review_id])
    with pytest.raises(InvalidTransition, match="locked"):
        propose(review, [], grade=2)
    with pytest.raises(InvalidTransition, match="locked"):
        judgements.moderate_judgement(review.db, review.moderator, review_id=review.review_id, criterion_code="2.1",
                                      moderated_grade=2, note="Too late")
    assert judgements.find_judgement(review.db, review.review_id, "2.1")["proposed_grade"] == 3


def test_moderating_before_a_proposal_is_not_found(review):
    with pytest.raises(NotFound):
        judgements.moderate_judgement(review.db, review.moderator, review_id=review.review_id, criterion_code="2.1",
                                      moderated_grade=2, note="Nothing to moderate")


def test_an_ungraded_framework_takes_statements_not_grades(fresh_db):
    review = reviews.create_review(fresh_db, slug="frontdoor", title="JTAI front door", area="Testshire",
                                   review_type="jtai_front_door", framework="jtai-front-door-2024", actor=SYSTEM)
    lead = Actor("lead", "lead", "ofsted", None)
    with pytest.raises(ValidationError) as raised:
        judgements.record_judgement(fresh_db, lead, review_id=review["id"], criterion_code="A1", narrative="n",
                                    proposed_grade=3)
    assert "not graded" in raised.value.field_errors["proposed_grade"]
    with pytest.raises(ValidationError) as raised:
        judgements.record_judgement(fresh_db, lead, review_id=review["id"], criterion_code="A1", narrative="n")
    assert "strengths" in raised.value.field_errors
    judgement = judgements.record_judgement(fresh_db, lead, review_id=review["id"], criterion_code="A1",
                                            narrative="n", strengths="Referrals are timely.",
                                            areas_for_improvement="Health does not attend strategy discussions.")
    assert judgement["proposed_grade"] is None and judgement["strengths"] == "Referrals are timely."


def test_datasette_shows_judgements_to_leads_and_moderators_only(fresh_db):
    from inspect_kit.datasette_plugin import catalogue

    for table in ("judgements", "judgement_versions", "judgement_citations"):
        assert catalogue.table_allow(table) == {"role": ["lead", "moderator"]}
    metadata = catalogue.evidence_database_metadata(fresh_db)
    query = metadata["queries"]["judgements_and_evidence"]
    assert query["title"] == "Judgements and their evidence" and query["allow"] == {"role": ["lead", "moderator"]}
    assert metadata["tables"]["judgement_citations"]["columns"]["finding_version"].startswith("The cited finding")
