"""Where inspect_kit's templates, static files and framework files are.

Two layouts are supported:

- a checkout (or an editable install): ``templates/`` sits beside the
  ``inspect_kit`` package, at the top of the repository;
- an installed wheel: setup.py ships ``templates/`` as data files under
  ``<prefix>/share/inspect_kit/templates``. The exact place comes from the
  distribution's RECORD (so ``--user`` and ``--prefix`` installs work too),
  with ``sys.prefix`` as the fallback.

Static files and framework files are package data and always live inside the
package folder.
"""

from __future__ import annotations

import sys
from functools import cache
from importlib import metadata
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
DISTRIBUTION = "inspect_kit"
SHARE_PARTS = ("share", "inspect_kit", "templates")


def _checkout_templates() -> Path | None:
    """The checkout's ``templates/``, if this package runs from a checkout."""
    root = PACKAGE_DIR.parent
    candidate = root / "templates"
    # setup.cfg next to it tells a checkout from an unrelated templates/ folder
    # that happens to sit beside site-packages.
    if candidate.is_dir() and (root / "setup.cfg").is_file():
        return candidate
    return None


def _installed_templates() -> Path | None:
    """The templates folder recorded in the installed distribution, if any."""
    try:
        files = metadata.distribution(DISTRIBUTION).files or []
    except metadata.PackageNotFoundError:
        return None
    for record in files:
        parts = record.parts
        for start in range(len(parts) - len(SHARE_PARTS)):
            if parts[start : start + len(SHARE_PARTS)] == SHARE_PARTS:
                located = Path(record.locate()).resolve()
                # Walk back up from the file to the templates folder itself.
                depth = len(parts) - (start + len(SHARE_PARTS))
                folder = located
                for _ in range(depth):
                    folder = folder.parent
                if folder.is_dir():
                    return folder
    return None


@cache
def templates_dir() -> Path:
    """The folder holding the Flask app's Jinja templates.

    :raises FileNotFoundError: when neither a checkout nor an installed
        distribution provides one (a broken install).
    """
    for found in (_checkout_templates(), _installed_templates()):
        if found is not None:
            return found
    fallback = Path(sys.prefix).joinpath(*SHARE_PARTS)
    if fallback.is_dir():
        return fallback
    raise FileNotFoundError(
        "inspect_kit's templates/ folder was not found beside the package "
        f"({PACKAGE_DIR.parent}) nor under {fallback}: reinstall inspect_kit."
    )


def static_dir() -> Path:
    """The folder of static files (CSS, JavaScript, fonts) served under ``/static``."""
    return PACKAGE_DIR / "static"


def frameworks_dir() -> Path:
    """The folder of the judgement framework files shipped with inspect_kit."""
    return PACKAGE_DIR / "frameworks"
