"""inspect_kit's Datasette plugin: one login, the generated catalogue, the intake look.

Registered through the ``datasette`` entry point in setup.cfg, so it is active
both under ``inspect-kit serve`` and in ``datasette evidence/evidence.db`` run
by hand. Hooks live in small modules and stay thin; what they do is in pure
helpers (:mod:`.session`, :mod:`inspect_kit.datasette_plugin.catalogue`):

- :mod:`.auth` — ``actor_from_request``: the intake app's signed session;
- :mod:`.metadata` — ``get_metadata`` and ``startup``: the catalogue with its
  ``allow`` blocks, and the refusal to serve ``private.db``;
- :mod:`.pages` — templates, links back to the intake app, cell links;
- :mod:`.criteria` — facets a view can afford, and a facet and a filter (``?_criterion=``) by criterion;
- :mod:`.search` — ``prepare_connection``: search boxes take plain words
  (typed text escaped into FTS5 phrases, never a syntax error);
- :mod:`.extras` — ``asgi_wrapper``: no CSV (no formula escaping, silent
  truncation, not audited: the ``.xlsx`` is the export) and no
  ``_extras=foreign_key_tables`` (counts from tables the reader may not see);
- :mod:`.scope` — every page, question and export keeps to the review chosen
  in the intake app.

Run by hand there is no intake secret (only :func:`configure` sets one), so
everyone is anonymous and every page is 403: access fails closed.
"""

from __future__ import annotations

from datasette import hookimpl
from datasette.filters import FilterArguments

from . import criteria, scope
from .auth import actor_from_request
from .config import configure, intake_session
from .criteria import register_facet_classes
from .extras import asgi_wrapper
from .metadata import get_metadata, startup
from .pages import extra_template_vars, menu_links, prepare_jinja2_environment, render_cell
from .scope import canned_queries, register_magic_parameters
from .search import prepare_connection

__all__ = [
    "actor_from_request", "asgi_wrapper", "canned_queries", "configure", "extra_template_vars", "filters_from_request",
    "get_metadata", "intake_session", "menu_links", "prepare_connection", "prepare_jinja2_environment",
    "register_facet_classes", "register_magic_parameters", "render_cell", "startup",
]


@hookimpl
def filters_from_request(request, database, table, datasette):
    """Datasette's table-page filter hook: the chosen review's rows (:mod:`.scope`) and
    ``?_criterion=`` (:mod:`.criteria`). A plugin module registers a hook once, so the two
    filters are asked here and their clauses joined (Datasette ANDs every clause)."""

    async def inner():
        clauses, params, descriptions = [], {}, []
        for hook in (scope.filters_from_request, criteria.filters_from_request):
            found = await hook(request, database, table, datasette)()
            if found is not None:
                clauses += found.where_clauses
                params.update(found.params)
                descriptions += found.human_descriptions
        return FilterArguments(clauses, params, descriptions) if clauses else None

    return inner
