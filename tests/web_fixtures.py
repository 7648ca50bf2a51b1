"""Fixtures for the intake app's tests: a small review with one account per role.

The review is built once per session with the library (password hashing is
deliberately slow) and each test gets its own copy of the store files, so
tests never share a database. ``login_as`` signs a test client in by writing
the session the way ``/login`` does (the real login is tested in
``test_web_auth.py``); the app still re-reads the account on every request.

Registered once for every test by the root ``conftest.py`` (``pytest_plugins``):
test files import the helpers from here and need no ``pytest_plugins`` of their own.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import uuid
from dataclasses import dataclass

import pytest
from jinja2 import BytecodeCache

from inspect_kit import accounts
from inspect_kit.store import Store

from .pages import hidden
from .review_builder import add_review, agency, case, inspector

PASSWORD = "correct-horse-battery"
# Kept for tests written before ``pages.hidden``: prefer ``hidden(page, "csrf_token")``,
# which does not depend on the order of the input's attributes.
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')

# username → (role, strand, inspector code)
ACCOUNTS = {
    "ofsted1": ("inspector", "ofsted", "OFS-01"),
    "ofsted2": ("inspector", "ofsted", "OFS-02"),
    "police1": ("inspector", "police", "POL-02"),
    "health1": ("inspector", "health", "HEA-01"),
    "lead": ("lead", "ofsted", "LI-01"),
    "moderator": ("moderator", "ofsted", "MOD-01"),
    "admin": ("admin", None, None),
}
INSPECTOR_ROLES = {"inspector": "team", "lead": "lead", "moderator": "moderator"}


@dataclass
class ReviewIds:
    """Ids in the test review (and one from another review, for hostile input)."""

    review_id: int
    case_id: int
    other_case_id: int
    agency_id: int
    other_agency_id: int
    foreign_case_id: int
    foreign_agency_id: int


def build_review(store: Store) -> ReviewIds:
    """An Ofsted/police/health review "Testbridge" (sjar-2008) with two cases,
    two agencies and one account per role. An older review holds the
    foreign case and agency."""
    # Built in a session fixture, before the autouse closer runs: close by hand.
    with contextlib.closing(store.evidence()) as db:
        other = add_review(db, slug="elsewhere", title="Another review", area="Elsewhere", review_type="jar", steps=[
            case("C-900", "5_9", "child_in_need", "sampled"),
            agency("Elsewhere GP", "gp", "health"),
        ])
        review = add_review(db, slug="testbridge", title="Special review of Testbridge", area="Testbridge",
                            fieldwork_start="2026-11-01", fieldwork_end="2026-11-20", draft_due="2099-12-31",
                            status="fieldwork", steps=[
                                case("C-017", "under_1", "cp_plan", "index"),
                                case("C-018", "1_4", "child_in_need", "sampled"),
                                agency("Testbridge MASH", "mash", "ofsted"),
                                agency("Testbridge ED", "emergency_department", "health"),
                                *[inspector(code, strand, INSPECTOR_ROLES[role])
                                  for role, strand, code in ACCOUNTS.values() if code],
                            ])
    with contextlib.closing(store.private()) as private:
        for username, (role, strand, code) in ACCOUNTS.items():
            accounts.add_account(private, username=username, password=PASSWORD, role=role, strand=strand,
                                 inspector_code=code)
    return ReviewIds(review.id, review.cases["C-017"], review.cases["C-018"], review.agencies["Testbridge MASH"],
                     review.agencies["Testbridge ED"], other.cases["C-900"], other.agencies["Elsewhere GP"])


@pytest.fixture(scope="session")
def review_template(tmp_path_factory):
    """The built review's store folder (read-only: tests copy it)."""
    store = Store(tmp_path_factory.mktemp("review-template") / "evidence")
    store.init()
    ids = build_review(store)
    for database in (store.evidence(), store.private()):
        database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        database.close()
    return store, ids


@pytest.fixture
def review_store(review_template, tmp_path) -> Store:
    """A private copy of the review's store for one test."""
    template, _ = review_template
    home = tmp_path / "evidence"
    shutil.copytree(template.home, home)
    return Store(home)


@pytest.fixture
def ids(review_template) -> ReviewIds:
    return review_template[1]


class MemoryBytecodeCache(BytecodeCache):
    """Compiled templates shared by every test's app: compiling the GOV.UK
    macros again for each new app would be most of a test's time."""

    def __init__(self):
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket):
        self.compiled[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_CACHE = MemoryBytecodeCache()


def make_app(store: Store, **config):
    """The intake app on ``store`` for tests (shared template cache)."""
    from inspect_kit.web import create_app

    app = create_app({"TESTING": True, "INSPECT_KIT_HOME": str(store.home), "SECRET_KEY": "test-secret", **config})
    app.jinja_env.bytecode_cache = TEMPLATE_CACHE
    return app


@pytest.fixture
def web_app(review_store):
    return make_app(review_store)


@pytest.fixture
def web(web_app):
    return web_app.test_client()


def login_as(client, username: str):
    """Sign ``client`` in as ``username`` (one of ``ACCOUNTS``) without a password check; returns ``client``."""
    role, strand, code = ACCOUNTS[username]
    with client.session_transaction() as session:
        session.permanent = True
        session["actor"] = {"id": username, "role": role, "strand": strand, "inspector": code}
    return client


def csrf_token(client, path: str = "/login") -> str:
    """A valid CSRF token for ``client``'s session, read from a form page."""
    return hidden(client.get(path).get_data(as_text=True), "csrf_token")


def new_uuid() -> str:
    return str(uuid.uuid4())


def finding_form(ids: ReviewIds, **overrides) -> dict:
    """A complete, valid finding form submission (as the browser posts it)."""
    form = {
        "client_uuid": new_uuid(),
        "case_id": str(ids.case_id),
        "agency_id": str(ids.agency_id),
        "activity": "case_file_review",
        "collected_on": ["3", "11", "2026"],
        "evidence_text": "The strategy discussion on 3 March did not include health.",
        "evaluation_text": "Health information was not available to the decision.",
        "finding_type": "area_for_improvement",
        "impact_on_child": "negative",
        "criteria": ["2.3"],
        "relevance-2.3": "primary",
        "action": "submit",
    }
    form.update(overrides)
    return {key: value for key, value in form.items() if value is not None}


def post(client, path: str, data: dict, *, token_from: str | None = None, **kwargs):
    """POST ``data`` with a valid CSRF token."""
    data = {**data, "csrf_token": csrf_token(client, token_from or "/login")}
    return client.post(path, data=data, **kwargs)


def record(store: Store, username: str, ids: ReviewIds, *, submit: bool = False, **fields) -> dict:
    """A finding recorded through the library by ``username``."""
    from inspect_kit import findings

    evidence = store.evidence()  # closed when the test ends (conftest.close_databases)
    private = store.private()
    actor = accounts.actor_for(accounts.get_account(private, username), evidence, ids.review_id)
    values = {"case_id": ids.case_id, "agency_id": ids.agency_id, "activity": "interview",
              "collected_on": "2026-11-03", "evidence_text": f"Evidence by {username}",
              "finding_type": "strength", "criteria": ["2.1"], **fields}
    return findings.record_finding(evidence, actor, values, client_uuid=new_uuid(), submit=submit,
                                   review_id=ids.review_id).record

