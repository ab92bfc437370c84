"""Schemathesis over every operation of /api/v1/openapi.json, in process (WSGI), with a Bearer token of each role
(issue 18, point 3): no 5xx, and every response conforms to the document (documented status, content type,
headers and body schema).

Reproducible: Hypothesis derandomized (its seed fixed by the test's name), no example database, a bounded number of
examples per operation (FUZZ_EXAMPLES, default 20). Path parameters are the world's own ids and codes three times
in four (so the fuzzer reaches past 404 into the bodies), whatever the schema allows otherwise.
"""
import contextvars
import os

import pytest
import schemathesis
from schemathesis import GenerationMode
from hypothesis import HealthCheck, Phase, given, settings, strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_headers_conformance, response_schema_conformance, status_code_conformance,
)
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.ids import ID_MAX
from evalapp.models import Sheet
from evalapp.services import accounts
from tests.factories import VILLAGE, make_round, make_sheet

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
# One persona per role (the world's usernames, tests/factories.make_round).
ROLES = {"admin": "admin", "district": "district", "inspector": "inspector", "township": "township",
         "village": "village", "finance": "finance"}


class Isolated:
    """The app as a WSGI callable whose every request runs in a fresh context (as IsolatedClient does: the test's own
    pushed app context would otherwise share `g`, and Flask-Login's cached user, between requests)."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        def run():
            body = self.app(environ, start_response)
            try:
                return [b"".join(body)]
            finally:
                if hasattr(body, "close"):
                    body.close()

        return contextvars.Context().run(run)


PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde\x00\x00"
       b"\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82")


def _real_values(world, user):
    """Ids and codes that exist: the sheets the user may edit first, then those they may see, then every sheet of
    the round; indicator codes of the catalogues (and one that is on none); the round; one photo."""
    from evalapp import access

    every = db.session.scalars(select(Sheet).where(Sheet.round_id == world.round.id).order_by(Sheet.id)).all()
    seen = [s for s in every if access.can_view_sheet(user, s)]
    editable = [s for s in seen if access.can_edit_sheet(user, s)]
    sheets = list(dict.fromkeys(s.id for s in editable + seen + every))
    return {"sheet_id": st.sampled_from(sheets), "round_id": st.just(world.round.id),
            "indicator_code": st.sampled_from(["A1", "A2", "A3", "B1", "C1", "Z9"]),
            "evidence_id": st.sampled_from(_photo_ids(world)),
            "unit_id": st.sampled_from(sorted(u.id for u in world.units.values()))}


def _photo_ids(world):
    from evalapp.services import evidence, sheet_views

    sheet = make_sheet(world, VILLAGE)
    indicator = sheet_views.find_indicator(sheet, "A1")
    ev = evidence.add_photo(sheet, indicator, PNG, "a.png", world.people["inspector"])
    db.session.commit()
    return [ev.id]


@pytest.fixture
def world(empty_app):
    return make_round("inspection")


def _operations(schema):
    for result in schema.get_all_operations():
        yield result.ok()


@pytest.mark.parametrize("role", sorted(ROLES))
def test_every_operation_with_a_token_of_each_role(empty_app, world, role):
    user = world.people[ROLES[role]]
    token, _ = accounts.issue_api_token(user)
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"}  # (compressed otherwise)
    real = _real_values(world, user)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", Isolated(empty_app))
    failures = []
    for operation in _operations(schema):
        names = [p.name for p in operation.path_parameters]

        @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                              operation.as_strategy(GenerationMode.NEGATIVE)), data=st.data())
        def run(case, data):
            for name in names:
                if data.draw(st.integers(0, 3), label=f"{name}: real (0-2) or generated (3)") < 3 and name in real:
                    case.path_parameters[name] = data.draw(real[name], label=name)
            response = case.call(headers=headers)
            case.validate_response(response, checks=CHECKS, headers=headers)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # every operation is tried; the failures are reported together
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("sheet_id", [ID_MAX + 1, 2**63, 62358252150194])
def test_a_summary_id_past_the_columns_is_404(empty_app, world, sheet_id):
    token, _ = accounts.issue_api_token(world.people["village"])
    response = empty_app.test_client().put(f"/api/v1/sheets/{sheet_id}/summary", json={"summary": "", "version": 0},
                                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 404 and response.get_json()["code"] == "not_found"
