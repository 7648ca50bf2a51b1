"""Page hooks: our templates first, the intake app's header and links, cell links.

Datasette's pages get the intake app's GOV.UK look (its stylesheet, served
by Flask under ``/static/``), links back to the intake app and a working
logout; a finding's public id links to ``/findings/<public_id>`` and a case
reference to ``/cases/<case_ref>`` in the intake app (a contract with it).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from urllib.parse import quote

from datasette import hookimpl
from jinja2 import ChoiceLoader, FileSystemLoader
from markupsafe import Markup, escape

from .. import chart_specs, charts, paths, vocab
from .config import intake_session
from .session import decode_session, logout_csrf_token

INTAKE_HOME = "/"
INTAKE_LOGOUT = "/logout"
GOVUK_CSS = "govuk-frontend/govuk-frontend.min.css"
CHARTS_JS = "vega/vega-embed.min.js"
PUBLIC_ID_RE = re.compile(r"^EF-[A-Z]+-\d\d-\d{4,}$")
CASE_REF_RE = re.compile(r"^C-\d{3,}$")


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
    env.loader = ChoiceLoader([FileSystemLoader(templates_dir()), env.loader])
    env.globals["ik"] = page_globals(datasette)


async def readable_referring_tables(datasette, actor, database: str, table: str) -> list[str]:
    """The tables with a foreign key to ``table`` that ``actor`` may read.

    A row page lists "Links from other tables" with a count from each, whatever
    the reader's rights: an inspector saw how many findings of every strand and
    how many safeguarding alerts a case has. The row template lists only these.
    """
    incoming = (await datasette.get_database(database).get_all_foreign_keys()).get(table, {}).get("incoming", [])
    readable = []
    for other in sorted({fk["other_table"] for fk in incoming}):
        visible, _ = await datasette.check_visibility(
            actor, permissions=[("view-table", (database, other)), ("view-database", database), "view-instance"])
        if visible:
            readable.append(other)
    return readable


@hookimpl
def extra_template_vars(request, datasette, view_name, database, table):
    async def template_vars():
        intake = intake_session(datasette)
        csrf = None
        if intake is not None and request is not None:
            csrf = logout_csrf_token(decode_session(request.cookies.get(intake.cookie_name), intake),
                                     intake.secret)
        readable: list[str] = []
        if view_name == "row" and database and table:
            readable = await readable_referring_tables(datasette, request.actor if request else None, database, table)
        return {"ik_logout_csrf": csrf, "ik_readable_tables": readable}

    return template_vars


@hookimpl
def render_cell(value, column):
    if isinstance(value, str):
        if column == "public_id" and PUBLIC_ID_RE.match(value):
            return finding_link(value)
        if column == "case_ref" and CASE_REF_RE.match(value):
            return case_link(value)
    return None


@hookimpl
def menu_links(datasette, actor):
    if not actor:
        return []
    return [{"href": INTAKE_HOME, "label": "Back to the intake app"}]
