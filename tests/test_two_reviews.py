"""Two reviews in one store: inspector codes and case refs
repeat from review to review, and recording, URLs and the API keep working."""

from __future__ import annotations

import contextlib
import json
import uuid

import pytest

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


# ------------------------------------------------------------------ every page, API answer, export and Datasette page
# Two reviews built alike (the same inspector codes, the same case refs C-017 and C-018), a word planted in each
# review's findings, chronology, alert and judgement; accounts in both reviews (one per role) and in one only.

MARKERS = {"testshire": "quokkamark", "otherton": "narwhalmark"}
# username → (role, strand, inspector code, the reviews it is an inspector of)
PEOPLE = {
    "police2": ("inspector", "police", "POL-02", ("testshire", "otherton")),
    "lead": ("lead", "ofsted", "OFS-01", ("testshire", "otherton")),
    "moderator": ("moderator", "ofsted", "MOD-01", ("testshire", "otherton")),
    "admin": ("admin", None, None, ("testshire", "otherton")),
    "lead-one": ("lead", "ofsted", "OFS-09", ("testshire",)),
    "health-one": ("inspector", "health", "HLT-07", ("testshire",)),
}
SESSION_COOKIE = "inspect_kit_session"
INTAKE_PAGES = ("/", "/admin", "/admin/accounts", "/admin/agencies", "/admin/cases", "/admin/status", "/alerts",
                "/audit", "/audit.xlsx", "/cases", "/cases/C-017", "/excel/evidence.xlsx", "/excel/capture.xlsx",
                "/findings", "/judgements", "/judgements/2.1", "/judgements/2.1/history", "/offline/reference.json",
                "/qa", "/report/draft.docx", "/reviews", "/api/findings", "/api/judgements", "/api/judgements/2.1",
                "/api/judgements/2.1/history", "/api/cases/C-017/chronology")


def build_two_reviews(store) -> dict:
    """testshire (older) and otherton; returns each review's id and its records' ids and public ids."""
    from inspect_kit import alerts, chronology, findings, judgements, reviews
    from inspect_kit.actors import SYSTEM, Actor

    built: dict = {}
    with contextlib.closing(store.evidence()) as db:
        for slug, marker in MARKERS.items():
            review = small_review(db, slug)
            police_finding = findings.record_finding(db, review.police, {
                **review.finding(), "evidence_text": f"Police file {marker}."},
                client_uuid=str(uuid.uuid4()), submit=True).record
            health_finding = findings.record_finding(db, review.health, {
                **review.finding(), "evidence_text": f"Health file {marker}."},
                client_uuid=str(uuid.uuid4()), submit=True).record
            event = chronology.record_event(db, review.police, {
                "case_id": review.infant, "agency_id": review.ed, "event_date": "2025-10-01",
                "event_type": "police_incident", "description": f"Police called {marker}."},
                client_uuid=str(uuid.uuid4()), review_id=review.review_id).record
            alert = alerts.raise_alert(db, review.police, review_id=review.review_id, urgency="routine",
                                       concern=f"Concern {marker}.", case_id=review.infant)
            judgements.record_judgement(db, review.lead, review_id=review.review_id, criterion_code="2.1",
                                        narrative=f"Narrative {marker}.", proposed_grade=2)
            built[slug] = {"id": review.review_id, "findings": [police_finding, health_finding],
                           "event": event["id"], "alert": alert["id"], "case": review.infant, "agency": review.ed}
        testshire = built["testshire"]["id"]
        for code, strand, role in (("OFS-09", "ofsted", "lead"), ("HLT-07", "health", "team")):
            reviews.add_inspector(db, review_id=testshire, code=code, strand=strand, role=role, actor=SYSTEM)
        lead_one = Actor("lead-one", "lead", "ofsted", db.execute(
            "SELECT id FROM inspectors WHERE code = 'OFS-09'").fetchone()[0])
        findings.record_finding(db, lead_one, {
            "review_id": testshire, "agency_id": built["testshire"]["agency"], "case_id": built["testshire"]["case"],
            "activity": "case_file_review", "collected_on": "2008-11-21", "evidence_text": "Lead one quokkamark.",
            "finding_type": "context", "criteria": {"2.1": "primary"}}, client_uuid=str(uuid.uuid4()))
    with contextlib.closing(store.private()) as db:
        for username, (role, strand, code, _) in PEOPLE.items():
            db.execute("INSERT INTO accounts (username, role, strand, inspector_code, password_hash, created_at)"
                       " VALUES (?, ?, ?, ?, 'not-a-hash', '2026-01-01T00:00:00+00:00')",
                       [username, role, strand, code])
    return built


def session_cookie(username: str, review: str | None, secret: str) -> dict[str, str]:
    """The intake app's signed session of ``username`` after choosing ``review`` at /reviews."""
    from inspect_kit.datasette_plugin.session import login_session, sign_session

    role, strand, code, _ = PEOPLE[username]
    session = login_session(username, role, strand, code)
    if review:
        session["review"] = review
    return {SESSION_COOKIE: sign_session(session, secret)}


def text_of(response) -> str:
    """A response as searchable text: workbooks and documents are unzipped (their XML is compressed)."""
    import io
    import zipfile

    content = response.content
    if content[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            content = b"".join(archive.read(name) for name in archive.namelist())
    return content.decode("utf-8", "replace").lower()


def owning_review(db, table: str, row: dict) -> int | None:
    """The review a Datasette row belongs to, read from the store (None: a row of no review)."""
    if table == "reviews":
        return row["id"]
    if "review_id" in row:
        return row["review_id"]
    if "review" in row:
        return db.execute("SELECT id FROM reviews WHERE slug = ?", [row["review"]]).fetchone()[0]
    for column, parent in (("finding_id", "findings"), ("judgement_id", "judgements"), ("criterion_id", "criteria")):
        if column in row:
            return db.execute(f"SELECT review_id FROM {parent} WHERE id = ?", [row[column]]).fetchone()[0]
    if table in ("findings_fts", "chronology_events_fts"):
        base = table.removesuffix("_fts")
        return db.execute(f"SELECT review_id FROM {base} WHERE id = ?", [row["rowid"]]).fetchone()[0]
    return None


@pytest.fixture(scope="module")
def two_reviews(tmp_path_factory):
    from inspect_kit.store import Store
    from inspect_kit.web.server import build_app

    store = Store(tmp_path_factory.mktemp("two-reviews") / "evidence")
    store.init()
    built = build_two_reviews(store)
    return store, built, build_app(store, secret_key=TEST_SECRET)


async def everything_as(server, store, built, username: str, review: str | None) -> tuple[dict[str, str], list[str]]:
    """Every intake page, API answer and export, and every Datasette table, view, row, question, facet and
    .json/.xlsx answer, as ``username`` having chosen ``review``: (path → text, rows outside the review)."""
    import httpx

    from inspect_kit.datasette_plugin import questions

    cookies = session_cookie(username, review, TEST_SECRET)
    texts: dict[str, str] = {}
    outside: list[str] = []
    chosen = built[review or "otherton"]["id"]
    other = next(slug for slug in MARKERS if built[slug]["id"] != chosen)
    with contextlib.closing(store.evidence()) as db:
        names = [name for name in [*db.table_names(), *db.view_names()]
                 if "_fts_" not in name and name != "_sqlite_migrations"]
    own_ids = [finding["public_id"] for finding in built[review or "otherton"]["findings"]]
    other_ids = [finding["public_id"] for finding in built[other]["findings"]]
    paths = [*INTAKE_PAGES, *(f"/findings/{public_id}" for public_id in own_ids + other_ids),
             *(f"/api/findings/{public_id}" for public_id in own_ids + other_ids),
             f"/alerts/{built[other]['alert']}", f"/api/chronology/{built[other]['event']}",
             f"/admin/agencies/{built[other]['agency']}"]
    for name in names:
        paths += [f"/data/evidence/{name}", f"/data/evidence/{name}.json?_shape=objects&_size=max",
                  f"/data/evidence/{name}.xlsx"]
    paths += ["/data/", "/data/evidence", "/data/evidence.json",
              "/data/evidence/findings.json?_facet=case_id&_facet=strand_id",
              "/data/evidence/cases.json?_shape=objects&case_ref=C-017",
              f"/data/evidence/findings.json?_shape=objects&_search={MARKERS[other]}",
              "/data/evidence/chronology_events.json?_shape=objects&_sort_desc=review_id",
              *(f"/data/evidence/{table}/{row_id}.json" for table, row_id in (
                  ("findings", built[other]["findings"][0]["id"]), ("chronology_events", built[other]["event"]),
                  ("safeguarding_alerts", built[other]["alert"]), ("cases", built[other]["case"]),
                  ("agencies", built[other]["agency"]), ("reviews", built[other]["id"])))]
    for question in questions.questions():
        paths += [f"/data/evidence/{question.name}.json?_shape=objects&case_ref=C-017",
                  f"/data/evidence/{question.name}.xlsx?case_ref=C-017"]
    transport = httpx.ASGITransport(app=server)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", cookies=cookies) as client:
        for path in paths:
            response = await client.get(path)
            texts[path] = f"{response.status_code} " + text_of(response)
            is_row = path.count("/") == 4 and path.startswith("/data/evidence/")
            if is_row and response.status_code not in (403, 404):
                outside.append(f"{path}: {response.status_code} (a row of the other review)")
            if response.status_code != 200 or "_shape=objects" not in path:
                continue
            table = path.split("/data/evidence/", 1)[1].split(".json", 1)[0]
            if table not in names:
                continue
            with contextlib.closing(store.evidence()) as db:
                for row in response.json()["rows"]:
                    if owning_review(db, table, row) not in (None, chosen):
                        outside.append(f"{path}: {row}")
    return texts, outside


@pytest.mark.slow  # about 2,000 requests: ten account × review pairs, every page
async def test_every_page_question_and_export_keeps_to_the_chosen_review_for_every_role(two_reviews):
    """For each role, with either review chosen: nothing of the other review on any intake page, API answer,
    workbook, report, audit export or Datasette table, row, question, facet, .json or .xlsx answer; and
    the chosen review's own words are there (so the checks cannot pass on empty pages)."""
    from inspect_kit import policy
    from inspect_kit.actors import Actor

    store, built, server = two_reviews
    wrong: list[str] = []
    for username, (role, strand, _, member_of) in PEOPLE.items():
        for review in member_of:
            texts, outside = await everything_as(server, store, built, username, review)
            wrong += [f"{username} in {review}: {line}" for line in outside]
            other = next(slug for slug in MARKERS if slug != review)
            # (A search for the other review's word echoes it back: its rows were checked above.)
            wrong += [f"{username} in {review}: {MARKERS[other]} on {path}"
                      for path, text in texts.items() if MARKERS[other] in text and MARKERS[other] not in path]
            mine = MARKERS[review]
            actor = Actor(username, role, strand, 1 if strand else None)
            expected = []
            if policy.may(actor, policy.READ_CHRONOLOGIES):
                expected += ["/cases/C-017", "/api/cases/C-017/chronology",
                             "/data/evidence/case_chronology.json?_shape=objects&case_ref=C-017",
                             "/data/evidence/chronology_events.xlsx"]
            if policy.may(actor, policy.READ_ALL_FINDINGS):
                expected += ["/findings", "/api/findings", "/excel/evidence.xlsx",
                             "/data/evidence/findings.json?_shape=objects&_size=max", "/data/evidence/findings.xlsx",
                             "/data/evidence/judgements.json?_shape=objects&_size=max"]
            if policy.may(actor, policy.READ_OWN_STRAND_FINDINGS):
                expected += ["/findings", "/api/findings"]
            wrong += [f"{username} in {review}: {mine} missing from {path} ({texts[path][:60]!r})"
                      for path in expected if mine not in texts[path]]
            if policy.may(actor, policy.SIGN_IN) and role != "admin":
                # One C-017 however many reviews have one; the facet counts only the chosen review's findings.
                cases = texts["/data/evidence/cases.json?_shape=objects&case_ref=C-017"]
                if cases.count('"case_ref": "c-017"') != 1:
                    wrong.append(f"{username} in {review}: {cases[:300]}")
            title = f"special joint review of {review}"
            if role != "admin" and title not in texts["/data/evidence/cases"]:
                wrong.append(f"{username} in {review}: the Datasette page does not name {title}")
    assert not wrong, "\n".join(wrong)


def chronology_rows(response) -> list[dict]:
    assert response.status_code == 200, response.text[:300]
    return response.json()["rows"]


async def test_switching_review_in_the_intake_app_switches_datasette(two_reviews):
    """The switcher's POST changes the session; the next Datasette table, question, row and .xlsx follow it."""
    import httpx

    from .pages import hidden

    store, built, server = two_reviews
    transport = httpx.ASGITransport(app=server)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                 cookies=session_cookie("lead", None, TEST_SECRET)) as client:
        for slug in ("otherton", "testshire", "otherton"):
            if slug != "otherton" or client.cookies:
                csrf = hidden((await client.get("/reviews")).text, "csrf_token")
                switched = await client.post("/reviews", data={"review": slug, "csrf_token": csrf})
                assert switched.status_code == 302, switched.text[:300]
                # The new session cookie alone (the jar would keep the first one beside it, for another domain).
                client.cookies = {SESSION_COOKIE: switched.cookies[SESSION_COOKIE]}
            other = next(other for other in MARKERS if other != slug)
            events = chronology_rows(await client.get("/data/evidence/chronology_events.json?_shape=objects"))
            assert {row["review_id"] for row in events} == {built[slug]["id"]}
            question = await client.get("/data/evidence/case_chronology.json?_shape=objects&case_ref=C-017")
            assert MARKERS[slug] in question.text and MARKERS[other] not in question.text
            assert (await client.get(f"/data/evidence/findings/{built[other]['findings'][0]['id']}.json")
                    ).status_code == 404
            assert (await client.get(f"/data/evidence/findings/{built[slug]['findings'][0]['id']}.json")
                    ).status_code == 200
            workbook = text_of(await client.get("/data/evidence/findings.xlsx"))
            assert MARKERS[slug] in workbook and MARKERS[other] not in workbook
            intake = (await client.get("/findings")).text
            assert MARKERS[slug] in intake and MARKERS[other] not in intake


# An attacker's parameters on the tables, for an account that belongs to testshire only.
HOSTILE = ("review_id=2", "review_id=2&review_id=1", "review%5Fid=2", "review_id__in=1,2", "review_id__not=1",
           "review_id__gte=0", "_where=review_id%3D2", "_where=1%3D1)%20OR%20(1%3D1", "_where=1=1%20or%201=1",
           "_sort=review_id", "_sort_desc=review_id", "_facet=review_id", "case_ref=C-017", "_next=0",
           "_size=max&_nocount=1", "_search=narwhalmark", "_search_description=narwhalmark", "_ik_review=otherton",
           "_ik_review_id=2", "_actor_review=otherton", "_through=%7B%22table%22%3A%22reviews%22%2C%22column%22%3A"
           "%22id%22%2C%22value%22%3A%222%22%7D", "sql=select+*+from+findings", "_extras=foreign_key_tables")


async def test_an_account_of_one_review_never_reaches_the_others_rows(two_reviews):
    """lead-one and health-one belong to testshire: whatever review their session names (a stale choice)
    and whatever they add, Datasette shows testshire's rows only, a row of otherton is a 404 however its
    id is spelled, its questions ignore a review parameter, and SQL is refused (it would read both)."""
    import httpx

    from .conftest import TEST_SECRET as secret

    store, built, server = two_reviews
    testshire, otherton = built["testshire"]["id"], built["otherton"]["id"]
    other_finding, other_event = built["otherton"]["findings"][0]["id"], built["otherton"]["event"]
    transport = httpx.ASGITransport(app=server)
    wrong: list[str] = []
    # A session naming otherton (a choice they cannot make: stale, or forged with the secret) and one naming none.
    for username, tables, choices in (
            ("lead-one", ("findings", "chronology_events", "cases", "safeguarding_alerts", "findings_readable",
                          "case_chronologies", "audit_log"), ("otherton", None)),
            ("health-one", ("chronology_events", "cases", "case_chronologies", "agencies"), ("otherton",))):
        for review in choices:
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                         cookies=session_cookie(username, review, secret)) as client:
                paths = [f"/data/evidence/{table}.json?_shape=objects&{attack}" for table in tables
                         for attack in HOSTILE]
                paths += [f"/data/evidence/findings/{spelling}.json" for spelling in (
                    other_finding, f"%3{other_finding}" if other_finding < 10 else other_finding,
                    f"~3{other_finding}" if other_finding < 10 else other_finding, f"{other_finding}?_shape=objects")]
                paths += [f"/data/evidence/chronology_events/{other_event}", f"/data/evidence/reviews/{otherton}",
                          f"/data/evidence/reviews/{otherton}.json", "/data/evidence.json?sql=select+1",
                          "/data/evidence/case_chronology.json?_shape=objects&case_ref=C-017&_ik_review=otherton",
                          "/data/evidence/case_chronology.json?_shape=objects&case_ref=C-017&_ik_review_id=2",
                          "/data/evidence/case_chronology.xlsx?case_ref=C-017&_ik_review=otherton"]
                for path in paths:
                    response = await client.get(path)
                    body = text_of(response)
                    if "narwhalmark" in body and "narwhalmark" not in path:
                        wrong.append(f"{username} ({review}) {path}: the other review's words")
                    if "sql=" in path or "_where=" in path:
                        if response.status_code != 403 or (username == "lead-one" and "every review" not in body):
                            wrong.append(f"{username} ({review}) {path}: {response.status_code}, expected 403")
                        continue
                    if response.status_code == 200 and "_shape=objects" in path and "/rows" not in body[:0]:
                        rows = response.json().get("rows") or []
                        table = path.split("/data/evidence/", 1)[1].split(".json", 1)[0]
                        with contextlib.closing(store.evidence()) as db:
                            strays = [row for row in rows if "/" not in table
                                      and owning_review(db, table, row) not in (None, testshire)]
                        if strays:
                            wrong.append(f"{username} ({review}) {path}: rows of otherton {strays}")
                    elif "/findings/" in path or "/chronology_events/" in path or "/reviews/" in path:
                        if response.status_code != 404 and not (username == "health-one" and "/findings/" in path
                                                                and response.status_code == 403):
                            wrong.append(f"{username} ({review}) {path}: {response.status_code}, expected 404")
    assert not wrong, "\n".join(wrong)


async def test_sql_is_for_those_who_open_every_review(two_reviews):
    """The lead is an inspector of both reviews: SQL (which reads the whole file) is open to them, and says so."""
    import httpx

    store, built, server = two_reviews
    transport = httpx.ASGITransport(app=server)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                 cookies=session_cookie("lead", "testshire", TEST_SECRET)) as client:
        everything = await client.get("/data/evidence.json?_shape=objects&sql=select+evidence_text+from+findings")
        assert everything.status_code == 200
        assert "quokkamark" in everything.text and "narwhalmark" in everything.text
        assert (await client.get("/data/evidence/findings.json?_where=review_id%3D2")).status_code == 200
        actor = (await client.get("/data/-/actor.json")).json()["actor"]
        assert actor["review"] == "testshire" and actor["sql_role"] == "lead"
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                 cookies=session_cookie("lead-one", "otherton", TEST_SECRET)) as client:
        actor = (await client.get("/data/-/actor.json")).json()["actor"]
        assert actor["review"] == "testshire" and actor["sql_role"] is None
        # The database page's counts would count both reviews' rows: not given in a store of several reviews.
        tables = (await client.get("/data/evidence.json")).json()["tables"]
        assert tables and {table["count"] for table in tables} == {None}
        strand = (await client.get("/data/evidence/strands/1")).text
        assert "Links from other tables" not in strand  # (the lead of both reviews has them)


@pytest.mark.slow  # starts inspect-kit serve
def test_through_the_real_server_on_one_keep_alive_connection(live_server):
    """Accounts of different reviews take turns on one keep-alive connection to the real server (its
    workers keep a connection per thread): each answer is of the asker's review only."""
    import httpx

    built = build_two_reviews(live_server.store)
    cookie = {name: "; ".join(f"{key}={value}" for key, value in session_cookie(name, review, live_server.secret_key)
                              .items()) for name, review in (("health-one", "otherton"), ("police2", "otherton"),
                                                             ("lead-one", None))}
    expected = {"health-one": built["testshire"]["id"], "police2": built["otherton"]["id"],
                "lead-one": built["testshire"]["id"]}
    ports = set()
    with httpx.Client(base_url=live_server.url, limits=httpx.Limits(max_connections=1)) as client:
        for username in ("health-one", "police2", "lead-one", "health-one", "police2", "lead-one"):
            response = client.get("/data/evidence/chronology_events.json?_shape=objects",
                                  headers={"Cookie": cookie[username]})
            ports.add(response.extensions["network_stream"].get_extra_info("client_addr"))
            assert {row["review_id"] for row in chronology_rows(response)} == {expected[username]}, username
            other = "narwhalmark" if expected[username] == built["testshire"]["id"] else "quokkamark"
            for path in (f"/data/evidence/chronology_events/{built['otherton']['event']}.json",
                         "/data/evidence/case_chronology.json?case_ref=C-017&_ik_review=otherton",
                         "/data/evidence/chronology_events.json?review_id=2&review_id=1", "/cases/C-017"):
                answer = client.get(path, headers={"Cookie": cookie[username]})
                assert other not in answer.text, (username, path)
        refused = client.get("/data/evidence.json?sql=select+1", headers={"Cookie": cookie["lead-one"]})
        assert refused.status_code == 403
    assert len(ports) == 1  # every request went over the one connection


async def test_one_readers_questions_never_stay_in_the_catalogue_for_the_next(store):
    """Datasette 0.65 writes the canned queries a request's actor gets into the dict its metadata
    returns; the coverage matrix of one review (its own strands) must not be what the next request,
    or ``/-/metadata.json``, finds there."""
    from inspect_kit.datasette_plugin import metadata
    from inspect_kit.datasette_plugin.app import make_datasette

    with contextlib.closing(store.evidence()) as db:
        first, second = small_review(db, "testshire"), small_review(db, "otherton")
        db.execute("DELETE FROM review_strands WHERE review_id = ? AND strand_id = "
                   "(SELECT id FROM strands WHERE code = 'health')", [first.review_id])
    datasette = make_datasette(store, TEST_SECRET)
    shared = metadata.current(datasette)["databases"]["evidence"]["queries"]["coverage_matrix"]["sql"]
    actor = {"id": "lead", "role": "lead", "review": "testshire", "review_id": first.review_id}
    asked = (await datasette.get_canned_queries("evidence", actor))["coverage_matrix"]["sql"]
    assert asked != shared, "the two reviews' coverage matrices must differ for this test to mean anything"
    assert second.review_id != first.review_id
    assert datasette.metadata("queries", database="evidence", fallback=False)["coverage_matrix"]["sql"] == shared
    assert metadata.current(datasette)["databases"]["evidence"]["queries"]["coverage_matrix"]["sql"] == shared


async def test_two_session_cookies_are_one_account_to_both_halves(two_reviews):
    """A request carrying two session cookies (say a planted one beside the real one) is the first
    cookie's account to the intake app and to Datasette alike, as Werkzeug reads cookies."""
    import httpx

    store, built, server = two_reviews
    first = session_cookie("health-one", "testshire", TEST_SECRET)[SESSION_COOKIE]
    second = session_cookie("lead", "otherton", TEST_SECRET)[SESSION_COOKIE]
    header = {"cookie": f"{SESSION_COOKIE}={first}; {SESSION_COOKIE}={second}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=server), base_url="http://testserver") as client:
        rows = chronology_rows(await client.get("/data/evidence/chronology_events.json?_shape=objects&_size=max",
                                                headers=header))
        intake = (await client.get("/findings", headers=header)).text
    assert rows and {row["review_id"] for row in rows} == {built["testshire"]["id"]}
    assert MARKERS["testshire"] in intake.lower() and MARKERS["otherton"] not in intake.lower()
