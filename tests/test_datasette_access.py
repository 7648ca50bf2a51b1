"""Who may see what in Datasette, over ASGI for every role.

Pages and JSON alike: anonymous → 403 everywhere; SQL and ``_where=`` for
leads and moderators only; inspectors see their own strand's findings (through
a strand-scoped query), every case chronology and the queries allowed to them;
``private.db`` is never served; run by hand, access fails closed.
"""

from __future__ import annotations

import contextlib
import json
import re

import pytest
from datasette.app import Datasette

from inspect_kit.datasette_plugin.app import make_datasette
from inspect_kit.datasette_plugin.session import login_session, sign_session
from tests.conftest import copy_store
from tests.datasette_support import SECRET, build_small_review, cookies_for
from tests.pages import links


@pytest.fixture(scope="module")
def review_copy(datasette_review_template, tmp_path_factory):
    """(store, review): one copy of the session's small review for the module's readers."""
    template, review = datasette_review_template
    return copy_store(template, tmp_path_factory.mktemp("datasette-access")), review


@pytest.fixture(scope="module")
def store(review_copy):
    """The module's store: read-only here (a test that changes accounts uses ``own_store``)."""
    return review_copy[0]


@pytest.fixture(scope="module")
def small_review(review_copy):
    return review_copy[1]


@pytest.fixture(scope="module")
def ds(store):
    """One Datasette for the module's readers: making one (plugin, metadata, queries) took about 0.3 s a test."""
    return make_datasette(store, SECRET)


@pytest.fixture
def own_store(tmp_path, datasette_review_template):
    """A private copy of the small review, for a test that changes it."""
    return copy_store(datasette_review_template[0], tmp_path)


async def status(ds, path: str, role: str) -> int:
    return (await ds.client.get(path, cookies=cookies_for(role))).status_code


def test_plugin_is_installed():
    """Registered through the setup.cfg entry point, like any Datasette plugin."""
    from datasette.plugins import get_plugins

    names = {plugin["name"] for plugin in get_plugins()}
    assert "inspect_kit" in names


# path → roles that get 200 (every other role gets 403)
LEADS = {"lead", "moderator"}
LOGGED_IN = {"lead", "moderator", "admin", "police_inspector", "health_inspector"}
READERS = {"lead", "moderator", "police_inspector", "health_inspector"}
PAGES = {
    "/": LOGGED_IN,
    "/evidence": LOGGED_IN,
    "/evidence/strands": LOGGED_IN,
    "/evidence/cases": LOGGED_IN,
    "/evidence/agencies/1": LOGGED_IN,
    "/evidence/findings": LEADS,
    "/evidence/findings/1": LEADS,
    "/evidence/findings?_search=strategy": LEADS,
    "/evidence/findings?_facet=strand_id": LEADS,
    "/evidence/findings_fts": LEADS,
    "/evidence/findings_fts_data": LEADS,
    "/evidence/findings_readable": LEADS,
    "/evidence/finding_versions": LEADS,
    "/evidence/audit_log": LEADS,
    "/evidence/safeguarding_alerts": READERS,  # every inspector reads every alert (inspect_kit.policy)
    "/evidence/judgements": LEADS,
    "/evidence/audit_outline": LEADS | {"admin"},
    "/evidence/criterion_strand_coverage": LEADS,
    "/evidence/chronology_events": READERS,
    "/evidence/chronology_events?_search=bruise": READERS,
    "/evidence/case_chronology": READERS,
    "/evidence/case_chronologies": READERS,
    "/evidence/case_chronologies?case_ref=C-001": READERS,
    "/evidence/case_chronology?case_ref=C-001": READERS,
    "/evidence/contested_events": READERS,
    "/evidence/coverage_matrix": LEADS,
    "/evidence/identifier_check": LEADS,
    "/evidence/qa_queue_by_inspector": LEADS,
    "/evidence/my_strand_findings": {"police_inspector", "health_inspector"},
    "/evidence?sql=select+count(*)+from+findings": LEADS,
    "/evidence/chronology_events?_where=1%3D1": LEADS,
}
ALL_ROLES = ["anonymous", *sorted(LOGGED_IN)]


@pytest.mark.parametrize("path", sorted(PAGES))
@pytest.mark.parametrize("fmt", ["html", "json"])
async def test_every_role_on_every_page(ds, path, fmt):
    if fmt == "json":
        base, _, query = path.partition("?")
        path = (base.rstrip("/") or "/index") + ".json" + ("?" + query if query else "")
        path = path.replace("/index.json", "/.json")
    got = {role: await status(ds, path, role) for role in ALL_ROLES}
    expected = {role: 200 if role in PAGES[_page_key(path)] else 403 for role in ALL_ROLES}
    assert got == expected, path


def _page_key(path: str) -> str:
    """The PAGES key of an HTML or JSON path."""
    if ".json" not in path:
        return path
    base, rest = path.split(".json", 1)
    return (base if base else "/") + rest


async def test_anonymous_is_refused_everywhere_even_metadata(ds):
    for path in ("/", "/-/metadata.json", "/evidence.json", "/-/databases.json", "/evidence/findings.xlsx",
                 "/evidence/case_chronology.xlsx?case_ref=C-001"):
        assert (await ds.client.get(path)).status_code == 403, path


@pytest.mark.parametrize("role", ALL_ROLES)
async def test_csv_is_refused_for_everyone_with_a_pointer_to_xlsx(ds, role):
    """Datasette's CSV does no formula escaping, is cut silently past max_csv_mb and is not audited."""
    for path in ("/evidence/findings.csv", "/evidence/findings.csv?_stream=1", "/evidence/chronology_events.csv",
                 "/evidence/case_chronology.csv?case_ref=C-001", "/evidence.csv?sql=select+1",
                 "/evidence/cases/1.csv", "/evidence/cases.json?_format=csv", "/evidence/cases?_format=CSV"):
        response = await ds.client.get(path, cookies=cookies_for(role))
        assert response.status_code == 400, (role, path)
        assert "Use the .xlsx link" in response.text
    page = await ds.client.get("/evidence/chronology_events", cookies=cookies_for("lead"))
    assert page.status_code == 200  # the page itself is untouched


async def test_inspector_sql_refused_in_every_form(ds):
    police = cookies_for("police_inspector")
    for path in ("/evidence?sql=select+*+from+findings", "/evidence.json?sql=select+*+from+findings",
                 "/evidence.xlsx?sql=select+1", "/evidence/strands?_where=1%3D1",
                 "/evidence/chronology_events.json?_where=1%3D1"):
        response = await ds.client.get(path, cookies=police)
        assert response.status_code == 403, path
    page = await ds.client.get("/evidence", cookies=police)
    assert 'name="sql"' not in page.text


async def test_inspector_tries_a_lead_only_query(ds):
    response = await ds.client.get("/evidence/coverage_matrix.json", cookies=cookies_for("police_inspector"))
    assert response.status_code == 403
    # …and the lead's listing of queries does not offer it to them.
    listing = (await ds.client.get("/evidence.json", cookies=cookies_for("police_inspector"))).json()
    names = {query["name"] for query in listing["queries"]}
    assert "coverage_matrix" not in names and "identifier_check" not in names
    assert {"case_chronology", "my_strand_findings"} <= names


async def test_inspectors_see_only_their_own_strand(ds, small_review):
    police = await ds.client.get("/evidence/my_strand_findings.json?_shape=array",
                                 cookies=cookies_for("police_inspector"))
    health = await ds.client.get("/evidence/my_strand_findings.json?_shape=array",
                                 cookies=cookies_for("health_inspector"))
    assert [row["public_id"] for row in police.json()] == [small_review.police_finding]
    assert [row["public_id"] for row in health.json()] == [small_review.health_finding]


async def test_actor_strand_cannot_be_chosen_in_the_url(ds, small_review):
    # Datasette falls back to a URL parameter when the actor lacks the key;
    # our actor always carries "strand", and the parameter is refused before
    # Datasette sees it, however it is spelt.
    for spelling in ("_actor_strand", "_actor%5Fstrand", "%5Factor_strand"):
        response = await ds.client.get(f"/evidence/my_strand_findings.json?_shape=array&{spelling}=health",
                                       cookies=cookies_for("police_inspector"))
        assert response.status_code == 400, spelling
        assert "This page takes: search, case_ref, qa_status" in response.json()["error"]
    response = await ds.client.get("/evidence/my_strand_findings.json?_shape=array",
                                   cookies=cookies_for("police_inspector"))
    assert [row["public_id"] for row in response.json()] == [small_review.police_finding]


async def test_strand_query_search_and_filters(ds, small_review):
    police = cookies_for("police_inspector")
    found = await ds.client.get("/evidence/my_strand_findings.json?_shape=array&search=strategy", cookies=police)
    assert [row["public_id"] for row in found.json()] == [small_review.police_finding]
    none = await ds.client.get("/evidence/my_strand_findings.json?_shape=array&search=bruised", cookies=police)
    assert none.json() == []


async def test_chronologies_are_shared_with_every_inspector(ds):
    for role in ("police_inspector", "health_inspector"):
        rows = (await ds.client.get("/evidence/case_chronology.json?_shape=array&case_ref=C-001",
                                    cookies=cookies_for(role))).json()
        assert len(rows) == 4


async def test_lead_sees_everything_and_may_write_sql(ds):
    lead = cookies_for("lead")
    rows = (await ds.client.get("/evidence.json?_shape=array&sql=select+count(*)+as+n+from+findings",
                                cookies=lead)).json()
    assert rows == [{"n": 2}]
    page = await ds.client.get("/evidence", cookies=lead)
    assert 'name="sql"' in page.text


async def test_bad_cookies_are_anonymous(ds):
    good = cookies_for("lead")["inspect_kit_session"]
    for value in ("", "garbage", good[:-2] + "xx", good.replace(".", "", 1),
                  cookies_for("lead", secret="another-secret")["inspect_kit_session"]):
        response = await ds.client.get("/evidence", cookies={"inspect_kit_session": value})
        assert response.status_code == 403, value
    actor = (await ds.client.get("/-/actor.json", cookies={"inspect_kit_session": "garbage"}))
    assert actor.status_code == 403


async def test_actor_is_id_role_strand_and_the_chosen_review(ds):
    actor = (await ds.client.get("/-/actor.json", cookies=cookies_for("police_inspector"))).json()
    assert actor == {"actor": {"id": "police-inspector", "role": "inspector", "strand": "police",
                               "review": "testshire", "review_id": 1, "sql_role": None}}
    lead = (await ds.client.get("/-/actor.json", cookies=cookies_for("lead"))).json()["actor"]
    assert lead["sql_role"] == "lead"  # a store of one review: every lead may write SQL


async def test_private_db_is_never_served(ds, store):
    assert (await ds.client.get("/private", cookies=cookies_for("lead"))).status_code == 404
    assert [db["name"] for db in (await ds.client.get("/-/databases.json", cookies=cookies_for("lead"))).json()] \
        == ["evidence"]


async def test_private_db_refused_when_served_by_hand(store):
    ds = Datasette([str(store.evidence_path), str(store.private_path)])
    await ds.invoke_startup()
    assert set(ds.databases) - {"_internal"} == {"evidence"}


async def test_by_hand_without_intake_secret_everyone_is_refused(store, small_review):
    """``datasette evidence/evidence.db``: no intake secret, so no actor, so 403."""
    ds = Datasette([str(store.evidence_path)], secret=SECRET)
    await ds.invoke_startup()
    for role in ALL_ROLES:
        for path in ("/", "/evidence", "/evidence/findings.json", "/evidence.json?sql=select+1"):
            assert (await ds.client.get(path, cookies=cookies_for(role))).status_code == 403, (role, path)
    # …and the same templates are in use.
    response = await ds.client.get("/")
    assert "inspect_kit – joint inspection evidence" in response.text


async def test_disabled_or_changed_accounts_lose_access(own_store):
    from inspect_kit.datasette_plugin import standing

    store, ds = own_store, make_datasette(own_store, SECRET)
    lead = cookies_for("lead")
    assert (await ds.client.get("/evidence/findings", cookies=lead)).status_code == 200
    with contextlib.closing(store.private()) as db:
        db.execute("UPDATE accounts SET disabled = 1 WHERE username = 'lead'")
        db.execute("UPDATE accounts SET role = 'inspector', strand = 'police' WHERE username = 'moderator'")
    standing.forget()  # otherwise within standing.CACHE_SECONDS
    assert (await ds.client.get("/evidence/findings", cookies=lead)).status_code == 403
    assert (await ds.client.get("/evidence/findings", cookies=cookies_for("moderator"))).status_code == 403
    unknown = {"inspect_kit_session": sign_session(login_session("nobody", "lead"), SECRET)}
    assert (await ds.client.get("/evidence", cookies=unknown)).status_code == 403


async def test_metadata_holds_no_secret(ds):
    body = (await ds.client.get("/-/metadata.json", cookies=cookies_for("lead"))).text
    assert SECRET not in body
    assert "password" not in body.lower()
    settings = (await ds.client.get("/-/settings.json", cookies=cookies_for("lead"))).text
    assert SECRET not in settings


async def test_admin_reads_reference_lists_only(ds):
    admin = cookies_for("admin")
    tables = (await ds.client.get("/evidence.json", cookies=admin)).json()["tables"]
    visible = {table["name"] for table in tables}
    assert "findings" not in visible and "chronology_events" not in visible
    assert {"cases", "agencies", "strands"} <= visible
    assert json.dumps(tables).count("evidence_text") == 0


@pytest.mark.parametrize("role, listed", [
    ("police_inspector", {"chronology_events", "safeguarding_alerts"}),
    ("admin", set()),
    ("lead", {"findings", "chronology_events", "safeguarding_alerts"}),
])
async def test_a_row_page_counts_only_tables_the_reader_may_open(ds, role, listed):
    """A case's row page listed a count from every table pointing at it: an
    inspector learnt how many findings of every strand and how many
    safeguarding alerts the child has."""
    html = (await ds.client.get("/evidence/cases/1", cookies=cookies_for(role))).text
    links = set(re.findall(r"from case_id in (\w+)", html))
    assert links == listed


async def test_row_json_gives_no_counts_from_other_tables(ds):
    """Those who may not read every table are refused the counts, however the parameter is spelt;
    leads and moderators, who read every table, get them."""
    for role in ("police_inspector", "admin"):
        for extras in ("_extras=foreign_key_tables", "_extras=foreign_key_tables,foreign_key_tables",
                       "_extras=foreign%5Fkey%5Ftables", "%5Fextras=foreign_key_tables", "_extras=x&_extras=foreign_key_tables"):
            response = await ds.client.get(f"/evidence/cases/1.json?{extras}", cookies=cookies_for(role))
            assert response.status_code == 400, (role, extras)
            assert "foreign_key_tables\"" not in response.text and "This page takes" in response.json()["error"]
    body = (await ds.client.get("/evidence/cases/1.json?_extras=foreign_key_tables", cookies=cookies_for("lead"))).json()
    assert "foreign_key_tables" in body


async def test_the_url_cannot_choose_another_full_text_index(ds):
    """With _fts_table=findings_fts a search of the shared chronology returned the
    events whose ids are those of findings (any strand) containing the word."""
    police = cookies_for("police_inspector")
    # "same" is only in the health finding's text, never in a chronology event.
    for extra in ("&_fts_table=findings_fts", "&_fts_table=findings_fts&_fts_pk=id", "&_fts_pk=case_id",
                  "&_fts%5Ftable=findings_fts", "&%5Ffts_pk=rowid", "&_fts_table=x&_fts_table=findings_fts",
                  "&_through=%7B%22table%22%3A%22findings%22%7D"):
        response = await ds.client.get(f"/evidence/chronology_events.json?_shape=array&_search=same{extra}",
                                       cookies=police)
        assert response.status_code == 400, extra
        assert "_search" in response.json()["error"]  # …and it says what the page does take
    rows = (await ds.client.get("/evidence/chronology_events.json?_shape=array&_search=same", cookies=police)).json()
    assert rows == []
    rows = (await ds.client.get("/evidence/chronology_events.json?_shape=array&_search=bruise", cookies=police)).json()
    assert [row["id"] for row in rows] == [1]  # the chronology's own index


async def test_a_folder_name_with_hash_or_question_mark_does_not_hide_private_db(tmp_path):
    """The read-only URI was not quoted: "#" cut the path short, the private
    store was not recognised and was served; accounts could not be read."""
    from inspect_kit.store import Store

    store = Store(tmp_path / "review #2?" / "evidence")
    store.init()
    build_small_review(store)
    by_hand = Datasette([str(store.evidence_path), str(store.private_path)])
    await by_hand.invoke_startup()
    assert set(by_hand.databases) - {"_internal"} == {"evidence"}
    # (Datasette itself cannot serve such a path: its own URI is unquoted too.)
    from inspect_kit.datasette_plugin.standing import read_account

    assert read_account(store.private_path, "lead") == {"role": "lead", "strand": None, "disabled": False,
                                                        "inspector_code": None}


async def test_a_file_that_cannot_be_checked_is_not_served(tmp_path, store):
    not_sqlite = tmp_path / "notes.db"
    not_sqlite.write_bytes(b"this is not a database" * 100)
    ds = Datasette([str(store.evidence_path), str(not_sqlite)])
    await ds.invoke_startup()
    assert set(ds.databases) - {"_internal"} == {"evidence"}


@pytest.mark.parametrize("first", ["inspect_kit.datasette_plugin", "inspect_kit.datasette_plugin.extras",
                                   "inspect_kit.web.server", "inspect_kit.datasette_plugin.catalogue", "datasette.app"])
def test_every_hook_is_registered_whatever_is_imported_first(first):
    """Importing datasette.plugins loads the plugin entry points: when one of our modules did so at
    import time, the plugin was registered half-imported, without get_metadata and asgi_wrapper, and
    every page was open to everyone (found by tests/test_access_walk.py)."""
    import subprocess
    import sys

    script = (f"import {first}\n"
              "from inspect_kit.datasette_plugin.app import ensure_plugin_registered\n"
              "ensure_plugin_registered()\n"
              "from datasette.plugins import pm\n"
              "for hook in ('get_metadata', 'asgi_wrapper', 'actor_from_request', 'startup', 'menu_links'):\n"
              "    names = [impl.plugin_name for impl in getattr(pm.hook, hook).get_hookimpls()]\n"
              "    assert 'inspect_kit' in names, (hook, names)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.parametrize("role", ["police_inspector", "admin"])
async def test_every_link_datasette_draws_is_let_through(ds, role):
    """The allow-lists must not break Datasette's own pages: every link with a query string that a
    page draws for a reader (facets, sorting, paging, shapes, the .json and .xlsx links, column
    actions) is answered, not refused with a 400."""
    from urllib.parse import urlsplit

    cookies = cookies_for(role)
    pages = ["/evidence/cases", "/evidence/strands?_facet=code", "/evidence/cases/1"]
    if role == "police_inspector":
        pages += ["/evidence/chronology_events", "/evidence/chronology_events?_search=bruise&_sort_desc=event_date",
                  "/evidence/case_chronologies?case_ref=C-001", "/evidence/safeguarding_alerts",
                  "/evidence/case_chronology?case_ref=C-001", "/evidence/my_strand_findings?search=strategy"]
    else:
        pages += ["/evidence/audit_outline"]
    checked = set()
    for page in pages:
        response = await ds.client.get(page, cookies=cookies)
        assert response.status_code == 200, page
        for href in links(response.text, ("href",)):
            url = urlsplit(href)
            path = url.path
            while path.startswith("/data/"):  # base_url (doubled without the server's dispatcher): ds.client adds it
                path = path[len("/data"):]
            if not url.query or not path.startswith("/evidence") or path.endswith(".csv"):
                continue
            link = f"{path}?{url.query}"
            if link in checked:
                continue
            checked.add(link)
            followed = await ds.client.get(link, cookies=cookies)
            assert followed.status_code in (200, 302), (page, link, followed.status_code, followed.text[:300])
    assert len(checked) > 10
