"""Response headers that make hostile input harmless even if a template slipped:
a Content Security Policy that runs only our own scripts (inline scripts carry a
per-request nonce), no framing, no MIME sniffing.

The intake app gets them from :func:`add_headers`; Datasette's pages under
``/data/`` get the same from :func:`security_headers` (applied by
``inspect_kit/server.py``), with one difference argued in :func:`content_security_policy`.
"""

from __future__ import annotations

import secrets

from flask import Flask, g, request

# Headers on every response, the intake app's and Datasette's.
# same-origin keeps the Referer that Flask-WTF checks on https form posts.
COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def new_nonce() -> str:
    """A fresh nonce for one response's inline scripts."""
    return secrets.token_urlsafe(16)


def content_security_policy(nonce: str, *, inline_styles: bool = False) -> str:
    """The Content-Security-Policy for an HTML page whose inline scripts carry ``nonce``.

    ``inline_styles`` allows ``style`` attributes and ``<style>`` blocks, for
    Datasette's pages only: Datasette 0.65's templates set the database colour
    and the SQL editor's height in ``style`` attributes and build per-page
    ``<style>`` rules from column names. A nonce cannot cover a ``style``
    attribute, and hashes would need 'unsafe-hashes' plus one per colour and
    per height. Inline CSS runs no script; what CSS could still do, read a page
    through attribute selectors and send it away in a ``url()``, is stopped by
    ``img-src``/``font-src``/``default-src 'self'`` (nothing is fetched from
    another origin). Scripts never get 'unsafe-inline'.
    """
    styles = "'self' 'unsafe-inline'" if inline_styles else "'self'"
    return (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        # The offline app's service worker and manifest: our own origin only.
        "worker-src 'self'; manifest-src 'self'; "
        f"style-src {styles}; img-src 'self' data:; font-src 'self'; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )


def security_headers(content_type: str, nonce: str, *, inline_styles: bool = False) -> dict[str, str]:
    """Every security header for a response of ``content_type`` (the CSP for HTML only)."""
    headers = dict(COMMON_HEADERS)
    if content_type.split(";")[0].strip().lower() == "text/html":
        headers["Content-Security-Policy"] = content_security_policy(nonce, inline_styles=inline_styles)
    return headers


def csp_nonce() -> str:
    """This request's nonce for the layout's inline script (``cspNonce`` in govuk-frontend-jinja's template)."""
    if "csp_nonce" not in g:
        g.csp_nonce = new_nonce()
    return g.csp_nonce


def add_headers(response):
    for name, value in COMMON_HEADERS.items():
        response.headers.setdefault(name, value)
    if response.mimetype == "text/html" and not request.path.startswith("/api/"):
        response.headers.setdefault("Content-Security-Policy", content_security_policy(csp_nonce()))
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_headers)
    app.context_processor(lambda: {"cspNonce": csp_nonce()})
