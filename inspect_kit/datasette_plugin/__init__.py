"""inspect_kit's Datasette plugin: one login, the generated catalogue, the intake look.

Registered through the ``datasette`` entry point in setup.cfg, so it is active
both under ``inspect-kit serve`` and in ``datasette evidence/evidence.db`` run
by hand. Hooks live in small modules and stay thin; what they do is in pure
helpers (:mod:`.session`, :mod:`inspect_kit.datasette_plugin.catalogue`):

- :mod:`.auth` — ``actor_from_request``: the intake app's signed session;
- :mod:`.metadata` — ``get_metadata`` and ``startup``: the catalogue with its
  ``allow`` blocks, and the refusal to serve ``private.db``;
- :mod:`.pages` — templates, links back to the intake app, cell links;
- :mod:`.extras` — ``asgi_wrapper``: no CSV (no formula escaping, silent
  truncation, not audited: the ``.xlsx`` is the export) and no
  ``_extras=foreign_key_tables`` (counts from tables the reader may not see);
- :mod:`.scope` — every page, question and export keeps to the review chosen
  in the intake app.

Run by hand there is no intake secret (only :func:`configure` sets one), so
everyone is anonymous and every page is 403: access fails closed.
"""

from __future__ import annotations

from .auth import actor_from_request
from .config import configure, intake_session
from .extras import asgi_wrapper
from .metadata import get_metadata, startup
from .pages import extra_template_vars, menu_links, prepare_jinja2_environment, render_cell
from .scope import canned_queries, filters_from_request, register_magic_parameters

__all__ = [
    "actor_from_request", "asgi_wrapper", "canned_queries", "configure", "extra_template_vars", "filters_from_request",
    "get_metadata", "intake_session", "menu_links", "prepare_jinja2_environment", "register_magic_parameters",
    "render_cell", "startup",
]
