"""Schemathesis: requests generated from /api/v1/openapi.json, run in-process against the app
(WSGI), with a read-write token of a volunteer and of HQ: no 5xx, and every response conforms to
the document (status code documented, content type, body schema, documented response headers).

Beyond random ids (which mostly answer 404), half the cases aim at the world's real records, and
the operations that require ``If-Match`` send sometimes ``*``, sometimes the header as generated
from the schema (a stale ETag: 412) and sometimes none (428); a targeted check then makes sure the
412 and 428 answers of every such operation conform. Bounded: a few examples per operation, so it
stays well under a minute per database."""
from __future__ import annotations

import os
import re

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .test_api import make_token

# More for a deeper run: LIAISON_API_FUZZ_EXAMPLES=200 pytest tests/test_api_schemathesis.py
MAX_EXAMPLES = int(os.environ.get("LIAISON_API_FUZZ_EXAMPLES", "8"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
IF_MATCH_MODES = ("*", "as generated", "missing")


def _real_ids(app, world) -> dict:
    """Path parameters that name records of the world (the Hanoi station's), and an event of the
    station open for registration, with a registration."""
    from .test_api_events_demands import _event, _registration

    with app.app_context():
        event_id = _event(world)
        registration_id = _registration(event_id, email="hoa@example.org", email_normalized="hoa@example.org")
    return {"lead_id": world.leads["hanoi_draft"], "contact_id": world.contacts["hanoi"],
            "station_id": world.stations["hanoi"], "consent_id": world.consents["hanoi_pass_to_hq"],
            "event_id": event_id, "registration_id": registration_id}


def _declares(operation, location: str, name: str) -> bool:
    return any(p.get("in") == location and p.get("name") == name
               for p in operation.definition.raw.get("parameters", []))


def test_api_conforms_to_its_schema(app, world):
    with app.test_request_context():
        secrets = [make_token(app, world, "vol_hanoi"), make_token(app, world, "hq")]
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    real = _real_ids(app, world)
    statuses: dict[str, set[int]] = {}
    for operation in operations:
        path_names = set(re.findall(r"{(\w+)}", operation.path))
        cases = operation.as_strategy()
        if path_names and path_names <= set(real):  # also aim at real records
            cases = st.one_of(cases, operation.as_strategy(path_parameters={n: real[n] for n in path_names}))
        if_match = _declares(operation, "header", "If-Match")

        @given(case=cases, mode=st.sampled_from(IF_MATCH_MODES))
        @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case, mode):
            headers = {"Accept-Encoding": "identity"}
            if if_match and mode == "*":
                headers["If-Match"] = "*"
            elif if_match and mode == "missing" and case.headers:
                case.headers.pop("If-Match", None)
            for secret in secrets:
                response = case.call(headers={"Authorization": f"Bearer {secret}", **headers})
                case.validate_response(response, checks=CHECKS)
                statuses.setdefault(operation.label, set()).add(response.status_code)

        run()
    assert not any(status >= 500 for seen in statuses.values() for status in seen)
    # The fuzzer itself went down the If-Match paths (the targeted check below covers each one).
    guarded = set().union(*(seen for label, seen in statuses.items() if label in IF_MATCH_BODIES))
    assert {412, 428} <= guarded, statuses


# The bodies of the targeted If-Match check: valid, so that only the header decides.
IF_MATCH_BODIES = {"PATCH /api/v1/contacts/{contact_id}": {"city": "Hanoi"},
                   "PATCH /api/v1/leads/{lead_id}": {"summary": "Checked"},
                   "POST /api/v1/leads/{lead_id}/moves": {"move": "submit"},
                   "POST /api/v1/events/{event_id}/moves": {"move": "close_registration"}}


def test_if_match_answers_conform(app, world):
    """Every operation that requires If-Match: 428 without it, 412 with a stale ETag — on a real
    record, each answer checked against the document by Schemathesis."""
    with app.test_request_context():
        secret = make_token(app, world, "vol_hanoi")
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    guarded = [op for op in operations if _declares(op, "header", "If-Match")]
    assert {op.label for op in guarded} == set(IF_MATCH_BODIES)
    real = _real_ids(app, world)
    for operation in guarded:
        names = re.findall(r"{(\w+)}", operation.path)
        for if_match, expected in ((None, 428), ('"stale"', 412), ('W/"0", "999999"', 412)):
            headers = {"Authorization": f"Bearer {secret}"}
            if if_match is not None:
                headers["If-Match"] = if_match
            case = operation.Case(path_parameters={n: real[n] for n in names}, headers=headers,
                                  body=IF_MATCH_BODIES[operation.label], media_type="application/json")
            response = case.call()
            assert response.status_code == expected, (operation.label, if_match, response.text)
            case.validate_response(response, checks=CHECKS)


def test_undeclared_methods_are_405_with_allow(app, world, client):
    """Every path of the document answers a method it does not list with 405 problem+json and
    ``Allow`` (documented as ``components.responses.MethodNotAllowed``)."""
    with app.test_request_context():
        secret = make_token(app, world, "hq")
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "Allow" in spec["components"]["responses"]["MethodNotAllowed"]["headers"]
    real = {**_real_ids(app, world), "record_id": 1, "demand_id": 1}
    for path, item in spec["paths"].items():
        listed = {method.upper() for method in item if method != "parameters"}
        method = next(m for m in ("DELETE", "PUT", "PATCH", "POST") if m not in listed)
        url = path
        for name, value in real.items():
            url = url.replace("{" + name + "}", str(value))
        response = client.open(url, method=method, headers={"Authorization": f"Bearer {secret}"})
        assert response.status_code == 405, (method, url)
        assert response.mimetype == "application/problem+json"
        assert listed <= {m.strip() for m in response.headers["Allow"].split(",")}
