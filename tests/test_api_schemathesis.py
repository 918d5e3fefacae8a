"""Schemathesis: requests generated from /api/v1/openapi.json, run in-process against the app
(WSGI), with a read-write token of a volunteer and of HQ: no 5xx, and every response conforms to
the document (status code documented, content type, body schema). Bounded: a few examples per
operation, so it stays well under a minute per database."""
from __future__ import annotations

import os

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .test_api import make_token

# More for a deeper run: LIAISON_API_FUZZ_EXAMPLES=200 pytest tests/test_api_schemathesis.py
MAX_EXAMPLES = int(os.environ.get("LIAISON_API_FUZZ_EXAMPLES", "8"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_api_conforms_to_its_schema(app, world):
    with app.test_request_context():
        secrets = [make_token(app, world, "vol_hanoi"), make_token(app, world, "hq")]
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case):
            for secret in secrets:
                response = case.call(headers={"Authorization": f"Bearer {secret}", "If-Match": "*",
                                                  "Accept-Encoding": "identity"})
                case.validate_response(response, checks=CHECKS)

        run()
