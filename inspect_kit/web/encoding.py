"""Form posts whose text is not UTF-8 are refused before any view reads them.

The pages are served as UTF-8 and browsers post forms back in it, so bytes
that do not decode come from a misconfigured tool or a hostile client.
Werkzeug would keep them as percent-encoded text (``bad%FF%FE``) in a
urlencoded post, drop the whole form when raw bytes stand unescaped, or
put U+FFFD in their place in a multipart one; each of these would then be
stored as if someone had typed it, or fail as a missing CSRF token. Here
they are a 400 naming the fields, and nothing is stored.
"""

from __future__ import annotations

from flask import Flask, request

from ..validation import undecodable_form_fields
from .errors import is_api_request, render_error

# What a multipart parser leaves where bytes did not decode.
REPLACEMENT = "\ufffd"


def refuse_undecodable_forms():
    """Before-request hook: a 400 with a field error for each field that is not UTF-8."""
    if request.method != "POST" or is_api_request():
        return None
    if request.mimetype == "application/x-www-form-urlencoded":
        bad = undecodable_form_fields(request.get_data(cache=True))
    elif request.mimetype == "multipart/form-data":
        # Only the upload forms post multipart, and none of their text fields
        # takes U+FFFD: it stands for bytes Werkzeug could not decode.
        bad = list(dict.fromkeys(name for name, value in request.form.items(multi=True) if REPLACEMENT in value))
    else:
        return None
    if not bad:
        return None
    names = ", ".join(bad)
    return render_error(
        400, f"Nothing was saved: the form's {names} did not arrive as UTF-8 text (the tool that sent it used "
             "another character encoding). Type or paste the text into the page again and submit it from the "
             "browser.",
        field_errors={name: "Not UTF-8 text: type or paste it again" for name in bad})


def init_app(app: Flask) -> None:
    """Register the check; call before ``CSRFProtect(app)``, whose own check reads the form first."""
    app.before_request(refuse_undecodable_forms)
