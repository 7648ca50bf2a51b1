"""Files the intake app hands out (workbooks, the audit log, the draft report):
written to a private temporary file, sent once, then removed.

They hold case content, so no cache may keep them (``Cache-Control: private,
no-store``) and the browser must not guess their type.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from flask import send_file

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def temporary_file(suffix: str = ".xlsx") -> Path:
    """A new, empty temporary file (0600, as ``mkstemp`` makes it) for a download to be written to."""
    handle, name = tempfile.mkstemp(prefix="inspect-kit-", suffix=suffix)
    os.close(handle)
    return Path(name)


def send_and_remove(path: Path, download_name: str, mimetype: str = XLSX):
    """Send ``path`` as an attachment that no cache keeps, and remove it once sent."""
    response = send_file(path, mimetype=mimetype, as_attachment=True, download_name=download_name, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.call_on_close(lambda: path.unlink(missing_ok=True))
    return response
