"""Response headers that make hostile input harmless even if a template slipped:
a Content Security Policy that runs only our own scripts (the layout's one
inline script carries a per-request nonce), no framing, no MIME sniffing."""

from __future__ import annotations

import secrets

from flask import Flask, g, request


def csp_nonce() -> str:
    """This request's nonce for the layout's inline script (``cspNonce`` in govuk-frontend-jinja's template)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def add_headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    # same-origin keeps the Referer that Flask-WTF checks on https form posts.
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html" and not request.path.startswith("/api/"):
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; "
            f"script-src 'self' 'nonce-{csp_nonce()}'; "
            # The offline app's service worker and manifest: our own origin only.
            "worker-src 'self'; manifest-src 'self'; "
            "style-src 'self'; img-src 'self' data:; font-src 'self'; "
            "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        )
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_headers)
    app.context_processor(lambda: {"cspNonce": csp_nonce()})
