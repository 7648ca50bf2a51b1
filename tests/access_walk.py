"""The role × resource walk's world and helpers (``tests/test_access_walk*.py``).

The world is two reviews (strand findings with planted marker words, attachments, an alert, an event,
a judgement, one account per role) built through the library and served by the one-process server
in-process; the ``world`` fixture builds it once per test module. The walk itself (what is asked and
why) is described in ``tests/test_access_walk.py``.
"""

from __future__ import annotations

import contextlib
import io
import uuid
import zipfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from inspect_kit import accounts, alerts, attachments, chronology, findings, judgements, policy, reviews
from inspect_kit.actors import SYSTEM, Actor
from inspect_kit.store import Store

if TYPE_CHECKING:
    from inspect_kit.datasette_plugin import questions

SECRET = "access-walk-secret"
COOKIE = "inspect_kit_session"
# username → (role, strand, inspector code): one inspector per strand, the lead, the moderator, the admin.
ACCOUNTS = {
    "ofsted": ("inspector", "ofsted", "OFS-02"),
    "health": ("inspector", "health", "HLT-01"),
    "police": ("inspector", "police", "POL-01"),
    "lead": ("lead", "ofsted", "OFS-01"),
    "moderator": ("moderator", "ofsted", "MOD-01"),
    "admin": ("admin", None, None),
}
WHO = ["anonymous", *ACCOUNTS]
INSPECTOR_ROLES = {"inspector": "team", "lead": "lead", "moderator": "moderator"}
# A word planted in every text of each strand's findings (evidence, evaluation, a later version, the
# attachment's bytes); and one in the other review's finding. Nowhere else.
MARKERS = {"ofsted": "zebraofstedmark", "health": "quokkahealthmark", "police": "narwhalpolicemark"}
OTHER_REVIEW_MARKER = "otherreviewmark"
CASE, OTHER_REVIEW_CASE = "C-001", "C-900"
PDF = b"%PDF-1.4\n% "


@dataclass
class World:
    """The built store, the server and the ids the walk asks for."""

    store: Store
    server: Any
    actors: dict[str, Actor | None]
    finding: dict[str, dict[str, Any]] = field(default_factory=dict)   # strand → finding
    attachment: dict[str, int] = field(default_factory=dict)           # strand → attachment id
    other_finding: dict[str, Any] = field(default_factory=dict)
    other_attachment: int = 0
    alert: int = 0
    other_alert: int = 0
    event: int = 0
    other_event: int = 0
    cookies: dict[str, dict[str, str]] = field(default_factory=dict)
    csrf: dict[str, str] = field(default_factory=dict)
    columns: dict[str, set[str]] = field(default_factory=dict)        # page → its columns (page_column)


def _new_uuid() -> str:
    return str(uuid.uuid4())


def build_world(store: Store) -> dict[str, Any]:
    """Two reviews: an older one (its own inspector, case, finding, attachment, alert, event) and the
    current one with three strands, a finding per strand (submitted, then edited), an attachment each,
    a chronology event, an alert and a judgement; and one account per role."""
    ids: dict[str, Any] = {"finding": {}, "attachment": {}}
    with contextlib.closing(store.evidence()) as db:
        other = reviews.create_review(db, slug="otherton", title="Otherton review", area="Otherton",
                                      review_type="jar", framework="sjar-2008", actor=SYSTEM)
        other_case = reviews.add_case(db, review_id=other["id"], case_ref=OTHER_REVIEW_CASE, age_band="5_9",
                                      legal_status="none", selection_route="sampled", actor=SYSTEM)
        other_agency = reviews.add_agency(db, review_id=other["id"], name="Otherton MASH", agency_type="mash",
                                          lead_strand="ofsted", actor=SYSTEM)
        other_inspector = reviews.add_inspector(db, review_id=other["id"], code="OTH-01", strand="ofsted",
                                                role="team", actor=SYSTEM)
        stranger = Actor("stranger", "inspector", "ofsted", other_inspector)
        found = findings.record_finding(db, stranger, {
            "agency_id": other_agency, "case_id": other_case, "activity": "case_file_review",
            "collected_on": "2026-01-02", "evidence_text": f"Otherton evidence {OTHER_REVIEW_MARKER}.",
            "finding_type": "strength", "criteria": ["2.1"]}, client_uuid=_new_uuid(), submit=True,
            review_id=other["id"]).record
        ids["other_finding"] = found
        ids["other_attachment"] = attachments.add_attachment(
            db, store, stranger, found["id"], filename="other.pdf", content=PDF + OTHER_REVIEW_MARKER.encode())["id"]
        ids["other_alert"] = alerts.raise_alert(db, stranger, review_id=other["id"], urgency="routine",
                                                concern="Otherton concern", case_id=other_case)["id"]
        ids["other_event"] = chronology.record_event(db, stranger, {
            "case_id": other_case, "agency_id": other_agency, "event_date": "2025-09-01",
            "event_type": "referral", "description": "Otherton referral"}, client_uuid=_new_uuid(),
            review_id=other["id"]).record["id"]

        review = reviews.create_review(db, slug="testshire", title="Special review of Testshire", area="Testshire",
                                       review_type="special_jar", framework="sjar-2008", actor=SYSTEM,
                                       fieldwork_start="2026-01-05", fieldwork_end="2026-01-16")
        rid = review["id"]
        agency = {"ofsted": reviews.add_agency(db, review_id=rid, name="Testshire MASH", agency_type="mash",
                                               lead_strand="ofsted", actor=SYSTEM),
                  "health": reviews.add_agency(db, review_id=rid, name="Testshire ED",
                                               agency_type="emergency_department", lead_strand="health", actor=SYSTEM),
                  "police": reviews.add_agency(db, review_id=rid, name="Testshire CAIT", agency_type="police_cait",
                                               lead_strand="police", actor=SYSTEM)}
        case_id = reviews.add_case(db, review_id=rid, case_ref=CASE, age_band="under_1", legal_status="cp_plan",
                                   selection_route="index", actor=SYSTEM)
        reviews.add_case(db, review_id=rid, case_ref="C-002", age_band="5_9", legal_status="child_in_need",
                         selection_route="sampled", actor=SYSTEM)
        actors: dict[str, Actor] = {}
        for username, (role, strand, code) in ACCOUNTS.items():
            if code:
                inspector = reviews.add_inspector(db, review_id=rid, code=code, strand=strand,
                                                  role=INSPECTOR_ROLES[role], actor=SYSTEM)
                actors[username] = Actor(username, role, strand, inspector)
        for strand, marker in MARKERS.items():
            author = actors[strand]
            fields = {
                "agency_id": agency[strand], "case_id": case_id, "activity": "case_file_review",
                "collected_on": "2026-01-06", "evidence_text": f"The {strand} file shows {marker} in the record.",
                "evaluation_text": f"Evaluation {marker}.", "finding_type": "area_for_improvement",
                "impact_on_child": "negative", "criteria": ["2.1"]}
            record = findings.record_finding(db, author, fields, client_uuid=_new_uuid(), submit=True,
                                             review_id=rid).record
            findings.edit_finding(db, author, record["id"], {**fields, "evidence_text": f"Edited: {marker} again."},
                                  reason=f"Corrected {marker}", expected_version=record["version"])
            ids["finding"][strand] = findings.get_finding(db, record["id"])
            ids["attachment"][strand] = attachments.add_attachment(
                db, store, author, record["id"], filename=f"{strand}.pdf", content=PDF + marker.encode())["id"]
        ids["event"] = chronology.record_event(db, actors["police"], {
            "case_id": case_id, "agency_id": agency["police"], "event_date": "2025-10-01",
            "event_type": "police_incident", "description": "Police called to the home."},
            client_uuid=_new_uuid(), review_id=rid).record["id"]
        ids["alert"] = alerts.raise_alert(db, actors["health"], review_id=rid, urgency="urgent",
                                          concern="The child was not seen for nine weeks.", case_id=case_id,
                                          finding_id=ids["finding"]["health"]["id"])["id"]
        judgements.record_judgement(db, actors["lead"], review_id=rid, criterion_code="2.1", scope="partnership",
                                    narrative="Partnership judgement narrative.", proposed_grade=2)
    with contextlib.closing(store.private()) as db:
        for username, (role, strand, code) in ACCOUNTS.items():
            db.execute(
                "INSERT INTO accounts (username, role, strand, inspector_code, password_hash, created_at)"
                " VALUES (?, ?, ?, ?, 'not-a-hash', '2026-01-01T00:00:00+00:00')", [username, role, strand, code])
    return ids


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    """The walk's world, built once per test module (``test_flask_posts`` writes, last in its module).

    Registered for every test by ``conftest.py``, so the shells (Flask, Datasette) are imported here, when a
    walk module first asks for it, not when the suite starts."""
    from inspect_kit.datasette_plugin.session import login_session, logout_csrf_token, sign_session
    from inspect_kit.web.server import build_app

    store = Store(tmp_path_factory.mktemp("access-walk") / "evidence")
    store.init()
    ids = build_world(store)
    server = build_app(store, secret_key=SECRET)
    with contextlib.closing(store.evidence()) as db, contextlib.closing(store.private()) as private:
        review_id = reviews.current_review(db)["id"]
        actors: dict[str, Actor | None] = {"anonymous": None}
        for username in ACCOUNTS:
            actors[username] = accounts.actor_for(accounts.get_account(private, username), db, review_id)
    built = World(store=store, server=server, actors=actors, finding=ids["finding"], attachment=ids["attachment"],
                  other_finding=ids["other_finding"], other_attachment=ids["other_attachment"], alert=ids["alert"],
                  other_alert=ids["other_alert"], event=ids["event"], other_event=ids["other_event"])
    for username, (role, strand, code) in ACCOUNTS.items():
        session = login_session(username, role, strand, code)
        built.cookies[username] = {COOKIE: sign_session(session, SECRET)}
        built.csrf[username] = logout_csrf_token(session, SECRET) or ""
    built.cookies["anonymous"] = {}
    return built


async def fetch(world: World, who: str, path: str, *, method: str = "GET", data: dict | None = None,
                headers: dict | None = None, files: dict | None = None) -> httpx.Response:
    transport = httpx.ASGITransport(app=world.server)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                 cookies=world.cookies[who]) as client:
        return await client.request(method, path, data=data, headers=headers, files=files)


def body_text(response: httpx.Response) -> str:
    """The response as searchable text; an .xlsx is unzipped (its sheets are compressed XML)."""
    content = response.content
    if content[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(content)) as workbook:
            content = b"".join(workbook.read(name) for name in workbook.namelist())
    return content.decode("utf-8", "replace").lower()


def forbidden_words(world: World, who: str, *, datasette: bool) -> list[str]:
    """The markers ``who`` must never see: other strands' (by the policy), the other review's, the store's path."""
    actor = world.actors[who]
    strands = policy.finding_strands(actor)
    words = [marker for strand, marker in MARKERS.items() if not (strands is True or strands == strand)]
    # Datasette keeps to the chosen review as the intake app does (every account here opens testshire only).
    words.append(OTHER_REVIEW_MARKER)
    if not policy.may(actor, policy.SEE_STORE_PATHS):
        words.append(str(world.store.home).lower())
    return words


def leaks(world: World, who: str, response: httpx.Response, *, datasette: bool) -> list[str]:
    text = body_text(response)
    return [word for word in forbidden_words(world, who, datasette=datasette) if word in text]



def allowed(ok: bool) -> int:
    return 200 if ok else 403




# ------------------------------------------------------------------ Datasette

def table_expectation(name: str):
    """The policy's table rule; a table without one is for SQL over the whole store, which no account here
    may write (the lead and moderator open testshire only, of two reviews)."""
    permission = policy.datasette_table_permission(name)
    return lambda actor: allowed(actor is not None and policy.may(actor, permission) and permission != policy.WRITE_SQL)


def query_expectation(question: questions.Question):
    return lambda actor: allowed(actor is not None and actor.role in question.allow_roles)


async def datasette_pages(world: World) -> list[tuple[str, Any]]:
    """(path, expectation) for the index, the database, every table and view (HTML and JSON), a row of
    every table that has one, every canned query and every /-/ endpoint."""
    from inspect_kit.datasette_plugin import questions

    database = world.server.datasette.get_database("evidence")
    names = [*await database.table_names(), *await database.view_names()]
    sign_in = lambda actor: allowed(policy.may(actor, policy.SIGN_IN))  # noqa: E731
    pages: list[tuple[str, Any]] = [("/data/", sign_in), ("/data/.json", sign_in), ("/data/evidence", sign_in),
                                    ("/data/evidence.json", sign_in)]
    with contextlib.closing(world.store.evidence()) as db:
        for name in names:
            pages.append((f"/data/evidence/{name}.json", table_expectation(name)))
            if "_fts_" not in name:
                pages.append((f"/data/evidence/{name}", table_expectation(name)))
            if name in db.table_names() and "_fts" not in name and db[name].pks == ["id"]:
                # The review's newest row; and the other review's oldest (created first): a 404 for every account.
                newest, oldest = (db.execute(f"SELECT id FROM [{name}] ORDER BY id {order} LIMIT 1").fetchone()
                                  for order in ("DESC", "ASC"))
                if newest:
                    pages.append((f"/data/evidence/{name}/{newest[0]}.json", table_expectation(name)))
                if oldest and oldest != newest and name in OTHER_REVIEW_ROWS:
                    pages.append((f"/data/evidence/{name}/{oldest[0]}.json", lambda actor: 404 if actor else 403))
    for question in questions.questions(list(MARKERS)):
        query = f"?case_ref={CASE}" if "case_ref" in question.params else ""
        pages.append((f"/data/evidence/{question.name}.json{query}", query_expectation(question)))
    for endpoint, permission in policy.DATASETTE_ENDPOINTS.items():
        if endpoint in ("static", "static-plugins"):
            continue
        path = f"/data/-/{endpoint}" + (".json" if endpoint in ("metadata", "versions", "plugins", "settings",
                                                                  "threads", "actor", "databases") else "")
        pages.append((path, lambda actor, permission=permission: allowed(
            permission == policy.EVERYONE or actor is not None and policy.may(actor, permission))))
    return pages


# Tables whose oldest row is the other review's (built first in build_world).
OTHER_REVIEW_ROWS = {"reviews", "cases", "agencies", "inspectors", "findings", "finding_versions", "qa_actions",
                     "attachments", "safeguarding_alerts", "chronology_events", "criteria", "judgement_areas"}


def status_matches(path: str, expected: int, got: int) -> bool:
    # /-/config is a permanent redirect to /-/settings; /-/logout redirects home when signed in.
    if expected == 200 and ("/-/config" in path or "/-/logout" in path):
        return got in (200, 301, 302)
    return got == expected



SEARCH_EVERY_MARKER = "_searchmode=raw&_search=" + "+OR+".join(MARKERS.values())
# (query string, refused to those who may not write SQL: 403 for SQL, 400 for anything else; None: allowed)
ATTACKS: list[tuple[str, int | None]] = [
    (f"_fts_table=findings_fts&_fts_pk=rowid&_col=id&{SEARCH_EVERY_MARKER}", 400),
    (f"_fts%5Ftable=findings_fts&_fts%5Fpk=rowid&_col=id&{SEARCH_EVERY_MARKER}", 400),
    (f"_fts_table=chronology_events_fts&_fts_table=findings_fts&{SEARCH_EVERY_MARKER}", 400),
    ("_where=1%3D1", 403),
    ("%5Fwhere=id>0", 403),
    ("sql=select+evidence_text+from+findings", 403),
    ("_extras=foreign_key_tables", 400),
    ("_extras=foreign%5Fkey%5Ftables", 400),
    ('_through={"table":"findings","column":"case_id","value":"1"}', 400),
    ("_facet=evidence_text", 400),
    ("_facet=id&_facet=evidence_text", 400),
    ("review=otherton", 400),  # …except where the page has a review column (see review_column)
    ("_SEARCH=zebraofstedmark", 400),
    ("_actor_strand=health", 400),
    ("_shape=array&_shape=objects", None),
]


def page_column(world: World, path: str, column: str) -> bool:
    """Whether a table or view page has ``column`` (the views name each row's ``review``)."""
    name = path.split("/data/evidence/", 1)[-1].split(".json", 1)[0].split("/", 1)[0]
    if name not in world.columns:  # the walk changes rows, never the schema: read each page's columns once
        with contextlib.closing(world.store.evidence()) as db:
            world.columns[name] = set(db[name].columns_dict) if name in [*db.table_names(), *db.view_names()] else set()
    return column in world.columns[name]

