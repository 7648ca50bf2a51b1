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
  ``_extras=foreign_key_tables`` (counts from tables the reader may not see).

Run by hand there is no intake secret (only :func:`configure` sets one), so
everyone is anonymous and every page is 403: access fails closed.
"""

from __future__ import annotations

from .auth import actor_from_request
from .config import configure, intake_session
from .criteria import filters_from_request, register_facet_classes
from .extras import asgi_wrapper
from .metadata import get_metadata, startup
from .pages import extra_template_vars, menu_links, prepare_jinja2_environment, render_cell
from .search import prepare_connection

__all__ = [
    "actor_from_request", "asgi_wrapper", "configure", "extra_template_vars", "filters_from_request", "get_metadata",
    "intake_session", "menu_links",
    "prepare_connection", "prepare_jinja2_environment", "register_facet_classes", "render_cell", "startup",
]
