"""Page hooks: our templates first, the intake app's header and links, cell links.

Datasette's pages get the intake app's GOV.UK look (its stylesheet, served
by Flask under ``/static/``), links back to the intake app and a working
logout; a finding's public id links to ``/findings/<public_id>`` and a case
reference to ``/cases/<case_ref>`` in the intake app (a contract with it); in
the lead's questions counts and ids link to the rows behind them
(``Question.links``), and grades show with their labels.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from urllib.parse import quote

from datasette import hookimpl
from jinja2 import ChoiceLoader, FileSystemLoader
from markupsafe import Markup, escape

from .. import chart_specs, charts, paths, policy, review_scope, vocab
from . import catalogue
from .accessible import PatchedLoader
from .config import intake_session
from .scope import evidence_database
from .session import decode_session, logout_csrf_token

INTAKE_HOME = "/"
INTAKE_LOGOUT = "/logout"
GOVUK_CSS = "govuk-frontend/govuk-frontend.min.css"
CHARTS_JS = "vega/vega-embed.min.js"
PUBLIC_ID_RE = re.compile(r"^EF-[A-Z]+-\d\d-\d{4,}$")
CASE_REF_RE = re.compile(r"^C-\d{3,}$")
PLACEHOLDER_RE = re.compile(r"\{(\w+)\}")
# Grades show with the review's label: "2 — Adequate".
GRADE_COLUMNS = frozenset({"proposed_grade", "moderated_grade", "grade"})
# The page being answered (set by the request guard in .extras): render_cell is not told which
# canned query a cell belongs to.
CURRENT_PAGE: ContextVar = ContextVar("inspect_kit_current_page", default=None)


@cache
def plugin_name() -> str:
    """The name Datasette serves our static files under: the distribution's name
    when installed (``inspect_kit``), the module's when registered by hand."""
    from datasette.plugins import get_plugins

    ours = str(Path(__file__).resolve().parent / "static")
    for plugin in get_plugins():
        if plugin.get("static_path") and str(Path(plugin["static_path"]).resolve()) == ours:
            return plugin["name"]
    return __name__.rsplit(".", 1)[0]


def templates_dir() -> str:
    """``templates/datasette`` of the checkout or the installed wheel."""
    return str(paths.templates_dir() / "datasette")


def finding_link(public_id: str) -> Markup:
    """A link to a finding's page in the intake app."""
    return Markup(f'<a href="/findings/{quote(public_id)}" class="ik-intake-link">{escape(public_id)}</a>')


def case_link(case_ref: str) -> Markup:
    """A link to a case's page (with its chronology) in the intake app."""
    return Markup(f'<a href="/cases/{quote(case_ref)}" class="ik-intake-link">{escape(case_ref)}</a>')


def timeline_spec(rows, gap_days) -> dict:
    """The case chronology query's rows as the intake case page's timeline (its Vega-Lite spec)."""
    try:
        threshold = max(1, int(gap_days or charts.GAP_DAYS))
    except ValueError:
        threshold = charts.GAP_DAYS
    events = [{"id": row["event_id"], "event_date": row["event_date"], "agency": row["agency"],
               "event_type": row["event"], "gap_days": row["gap_days"], "key_event": row["key_event"],
               "missed_opportunity": row["missed_opportunity"], "good_practice": row["good_practice"]}
              for row in rows]
    return chart_specs.timeline_spec(charts.timeline(events, threshold), link_events=False)


def page_globals(datasette) -> dict:
    """What every page's header needs (the error page too, which gets no extra template vars)."""
    govuk_css = (paths.static_dir() / GOVUK_CSS).is_file()
    return {
        "intake_home": INTAKE_HOME,
        "logout_url": INTAKE_LOGOUT,
        "govuk_css": "/static/" + GOVUK_CSS if govuk_css else None,
        "css": datasette.urls.static_plugins(plugin_name(), "inspect_kit.css"),
        "charts_ready": (paths.static_dir() / CHARTS_JS).is_file(),
        "timeline_spec": timeline_spec,
        "role_labels": vocab.ACCOUNT_ROLES,
        "precision_labels": vocab.DATE_PRECISIONS,
    }


@hookimpl
def prepare_jinja2_environment(env, datasette):
    # Our templates win over Datasette's; they extend "default:..." for the rest.
    # Then Datasette's own, with the attributes they lack for assistive technology (.accessible).
    env.loader = ChoiceLoader([FileSystemLoader(templates_dir()), PatchedLoader(env.loader), env.loader])
    env.globals["ik"] = page_globals(datasette)


async def readable_referring_tables(datasette, actor, database: str, table: str) -> list[str]:
    """The tables with a foreign key to ``table`` that ``actor`` may read.

    A row page lists "Links from other tables" with a count from each, whatever
    the reader's rights: an inspector saw how many findings of every strand and
    how many safeguarding alerts a case has. The row template lists only these.
    """
    if table in review_scope.SHARED_TABLES and not (actor or {}).get(policy.DATASETTE_SQL_ROLE):
        # A strand's rows are shared by every review: their counts would count the other reviews' records.
        return []
    incoming = (await datasette.get_database(database).get_all_foreign_keys()).get(table, {}).get("incoming", [])
    readable = []
    for other in sorted({fk["other_table"] for fk in incoming}):
        visible, _ = await datasette.check_visibility(
            actor, permissions=[("view-table", (database, other)), ("view-database", database), "view-instance"])
        if visible:
            readable.append(other)
    return readable


async def chosen_review(datasette, actor) -> dict | None:
    """The title and description of the review the actor chose in the intake app (None: none)."""
    review_id = (actor or {}).get("review_id")
    database = evidence_database(datasette)
    if not review_id or database is None:
        return None

    def read(conn) -> dict:
        (title,) = conn.execute("SELECT title FROM reviews WHERE id = ?", [review_id]).fetchone()
        return {"title": title, "description": catalogue.review_description(conn, review_id)}

    return await database.execute_fn(read)


@hookimpl
def extra_template_vars(request, datasette, view_name, database, table):
    async def template_vars():
        intake = intake_session(datasette)
        csrf = None
        if intake is not None and request is not None:
            csrf = logout_csrf_token(decode_session(request.cookies.get(intake.cookie_name), intake),
                                     intake.secret)
        actor = request.actor if request else None
        readable: list[str] = []
        if view_name == "row" and database and table:
            readable = await readable_referring_tables(datasette, actor, database, table)
        return {"ik_logout_csrf": csrf, "ik_readable_tables": readable, "ik_review": await chosen_review(datasette, actor)}

    return template_vars


def question_link(template: str, row, database_url: str) -> str | None:
    """The URL of ``template`` (:attr:`Question.links`) for ``row``, or None when a value it needs is missing.

    Values are quoted into the URL; a template starting with ``/`` is the intake app's, any
    other a page of the database at ``database_url``.
    """
    values = {}
    for name in PLACEHOLDER_RE.findall(template):
        value = row[name] if name in row.keys() else None
        if value is None or value == "":
            return None
        values[name] = quote(str(value), safe="")
    url = template.format_map(values)
    return url if url.startswith("/") else f"{database_url}/{url}"


async def grade_label(datasette, database: str, grade: int, review_id: int | None) -> str | None:
    """The review's label of ``grade`` (of the latest review when the row does not say)."""
    rows = await datasette.get_database(database).execute(
        "SELECT label FROM grades WHERE grade = ? AND review_id = coalesce(?, (SELECT max(id) FROM reviews))",
        [grade, review_id])
    return rows.rows[0][0] if rows.rows else None


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    if isinstance(value, str):
        if column == "public_id" and PUBLIC_ID_RE.match(value):
            return finding_link(value)
        if column == "case_ref" and CASE_REF_RE.match(value):
            return case_link(value)
    page = CURRENT_PAGE.get()
    if table is None and page is not None and page.name and value not in (None, ""):
        # A canned query's cell: counts and ids link to the rows behind them.
        query = (datasette.metadata("queries", database=database) or {}).get(page.name) or {}
        template = (query.get("links") or {}).get(column)
        url = question_link(template, row, datasette.urls.database(database)) if template else None
        if url:
            return Markup(f'<a href="{escape(url)}">{escape(value)}</a>')
    if column in GRADE_COLUMNS and table != "grades" and isinstance(value, int) and not isinstance(value, bool):
        review_id = row["review_id"] if table and "review_id" in row.keys() else None
        if isinstance(review_id, dict):  # a labelled foreign key: {"value": 1, "label": "…"}
            review_id = review_id.get("value")

        async def labelled():
            label = await grade_label(datasette, database, value, review_id)
            return Markup(f"{value} — {escape(label)}") if label else None

        return labelled
    return None


@hookimpl
def menu_links(datasette, actor):
    if not actor:
        return []
    return [{"href": INTAKE_HOME, "label": "Back to the intake app"}]
