"""Property-based API test: schemathesis generates requests from the app's own OpenAPI
spec and checks every response - no 5xx, status codes and bodies as documented.

In-process (ASGI, no sockets), on a small store of invented articles, with a bounded
number of examples per operation so the file stays well under a minute.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis import checks  # noqa: E402

from lagebild.web.app import create_app  # noqa: E402
from test_api import TOKEN, make_store  # noqa: E402

CHECKS = [checks.not_a_server_error, checks.status_code_conformance,
          checks.content_type_conformance, checks.response_schema_conformance]


def _app():
    """Built at import: schemathesis parametrizes at collection time, before fixtures."""
    folder = tempfile.mkdtemp(prefix="lagebild-st-")
    atexit.register(shutil.rmtree, folder, True)
    db = make_store(Path(folder) / "st.db")
    return create_app(str(db), token=TOKEN, use_models=False, analyze_timeout=30)


schema = schemathesis.openapi.from_asgi("/openapi.json", _app())


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_spec(case):
    # with the token, so POST /api/documents is exercised beyond the 401
    case.call_and_validate(checks=CHECKS, headers={"Authorization": f"Bearer {TOKEN}"})
