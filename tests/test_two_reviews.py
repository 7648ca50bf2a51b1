"""Two reviews in one store (issue 8, item 4): inspector codes and case refs
repeat from review to review, and recording, URLs and the API keep working."""

from __future__ import annotations

import contextlib
import json
import uuid

from inspect_kit import accounts
from inspect_kit.web import create_app

from .conftest import TEST_SECRET
from .library_fixtures import small_review


def test_the_same_inspector_records_in_two_reviews_through_the_api_and_each_review_finds_its_own(store):
    with contextlib.closing(store.evidence()) as db:
        reviews = {slug: small_review(db, slug) for slug in ("testshire", "otherton")}
        fields = {slug: {k: v for k, v in review.finding().items() if k != "review_id"}
                  for slug, review in reviews.items()}
    with contextlib.closing(store.private()) as db:
        accounts.add_account(db, username="police2", password="correct horse battery", role="inspector",
                             strand="police", inspector_code="POL-02")
        token = accounts.issue_token(db, "police2")
    client = create_app({"TESTING": True, "INSPECT_KIT_HOME": str(store.home), "SECRET_KEY": TEST_SECRET}).test_client()
    headers = {"Authorization": f"Bearer {token}"}
    recorded: dict[str, list[str]] = {"testshire": [], "otherton": []}
    for slug in ("testshire", "otherton", "testshire", "otherton"):
        response = client.post(f"/api/findings?review={slug}", headers=headers, content_type="application/json",
                               data=json.dumps({**fields[slug], "client_uuid": str(uuid.uuid4())}))
        assert response.status_code == 201, response.get_data(as_text=True)
        recorded[slug].append(response.get_json()["public_id"])
    assert recorded == {"testshire": ["EF-POL-02-0001", "EF-POL-02-0003"],
                        "otherton": ["EF-POL-02-0002", "EF-POL-02-0004"]}
    for slug, other in (("testshire", "otherton"), ("otherton", "testshire")):
        for public_id in recorded[slug]:
            own = client.get(f"/api/findings/{public_id}?review={slug}", headers=headers)
            assert own.status_code == 200 and own.get_json()["case_ref"] == "C-017"
            assert own.get_json()["public_id"] == public_id
            assert client.get(f"/api/findings/{public_id}?review={other}", headers=headers).status_code == 404
    with contextlib.closing(store.evidence()) as db:
        by_review = {slug: sorted(public_id for (public_id,) in db.execute(
            "SELECT public_id FROM findings JOIN reviews ON reviews.id = findings.review_id WHERE reviews.slug = ?",
            [slug])) for slug in recorded}
    assert by_review == recorded
