"""Old name of ``tests/web_fixtures.py``, kept while tests written against it are merged.

The fixtures themselves are registered once by the root ``conftest.py``; this
module only re-exports the helpers, so ``from .test_web_fixtures import login_as``
and ``pytest_plugins = ["tests.test_web_fixtures"]`` keep working. New tests
import from ``tests.web_fixtures``.
"""

from .web_fixtures import (  # noqa: F401
    ACCOUNTS,
    CSRF_RE,
    INSPECTOR_ROLES,
    PASSWORD,
    TEMPLATE_CACHE,
    MemoryBytecodeCache,
    ReviewIds,
    build_review,
    csrf_token,
    finding_form,
    login_as,
    make_app,
    new_uuid,
    post,
    record,
)
