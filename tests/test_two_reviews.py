"""Two reviews in one store: inspector codes and case refs
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


def test_the_review_switcher_keeps_pages_api_and_exports_in_the_chosen_review(store):
    """One account, the inspector POL-02 in two reviews sharing case refs; after choosing
    a review, every page, the API (session and token) and the workbook hold that review only."""
    import io
    import re

    from openpyxl import load_workbook

    from inspect_kit import findings

    markers = {"testshire": "testshiremarker", "otherton": "othertonmarker"}
    with contextlib.closing(store.evidence()) as db:
        built = {slug: small_review(db, slug) for slug in ("testshire", "otherton")}
        for slug, review in built.items():
            findings.record_finding(db, review.police, {**review.finding(), "evidence_text": f"Seen {markers[slug]}."},
                                    client_uuid=str(uuid.uuid4()), submit=True)
    with contextlib.closing(store.private()) as db:
        accounts.add_account(db, username="police2", password="correct horse battery", role="inspector",
                             strand="police", inspector_code="POL-02")
        token = accounts.issue_token(db, "police2")
    app = create_app({"TESTING": True, "INSPECT_KIT_HOME": str(store.home), "SECRET_KEY": TEST_SECRET,
                      "WTF_CSRF_ENABLED": False})
    client = app.test_client()
    with client.session_transaction() as session:
        session["actor"] = {"id": "police2", "role": "inspector", "strand": "police", "inspector": "POL-02"}

    def everything() -> str:
        pages = [client.get(path).get_data(as_text=True) for path in ("/", "/findings", "/cases/C-017")]
        pages.append(json.dumps(client.get("/api/findings").get_json()))
        response = client.get("/excel/evidence.xlsx")
        content = response.data
        response.close()  # the download's temporary file is removed on close
        workbook = load_workbook(io.BytesIO(content), read_only=True)
        pages.append(" ".join(str(cell) for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True)
                              for cell in row if cell is not None))
        workbook.close()
        return "\n".join(pages)

    # The latest review by default.
    seen = everything()
    assert markers["otherton"] in seen and markers["testshire"] not in seen
    switcher = client.get("/reviews").get_data(as_text=True)
    assert re.findall(r'name="review" type="radio" value="([^"]+)"', switcher) == ["otherton", "testshire"]
    assert client.post("/reviews", data={"review": "testshire"}).status_code == 302
    seen = everything()
    assert markers["testshire"] in seen and markers["otherton"] not in seen
    assert "Special joint review of Testshire" in client.get("/").get_data(as_text=True)
    # A review the account is no inspector of cannot be chosen.
    with contextlib.closing(store.evidence()) as db:
        small_review(db, "elsewhere")
        db.execute("DELETE FROM inspectors WHERE code = 'POL-02' AND review_id = "
                   "(SELECT id FROM reviews WHERE slug = 'elsewhere')")
    assert client.post("/reviews", data={"review": "elsewhere"}).status_code == 404
    assert markers["testshire"] in everything()
    # With a token: the latest review the account is an inspector of, or ?review=.
    headers = {"Authorization": f"Bearer {token}"}
    listed = json.dumps(client.get("/api/findings", headers=headers).get_json())
    assert markers["otherton"] in listed and markers["testshire"] not in listed
    assert client.get("/api/findings?review=elsewhere", headers=headers).status_code == 404
