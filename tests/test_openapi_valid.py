"""The served OpenAPI document is valid (openapi-spec-validator, requirements-test.txt) and names every operation:
an id (its view's name) and a tag for each, and every route of the API is in it (issue 31, point 1)."""
from openapi_spec_validator import OpenAPIV30SpecValidator

from evalapp.api.openapi import _openapi_path
from tests.factories import app_on_demo  # noqa: F401  (the demo database)


def test_the_served_document_passes_openapi_spec_validator(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    errors = [f"{list(e.path)}: {e.message}" for e in OpenAPIV30SpecValidator(doc).iter_errors()]
    assert errors == []


def test_every_operation_has_a_unique_id_and_a_tag(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    ids = [op.get("operationId") for ops in doc["paths"].values() for op in ops.values()]
    assert None not in ids and len(ids) == len(set(ids))
    tags = {t["name"] for t in doc["tags"]}
    assert all(op["tags"] and set(op["tags"]) <= tags for ops in doc["paths"].values() for op in ops.values())
    assert doc["paths"]["/sync"]["post"]["operationId"] == "sync"
    assert doc["paths"]["/sheets/{sheet_id}/scores/{indicator_code}"]["put"]["operationId"] == "put_score"


def test_every_route_of_the_api_is_in_the_document(app, client):
    doc = client.get("/api/v1/openapi.json").get_json()
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api.") or rule.endpoint == "api.openapi":
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if method.lower() not in doc["paths"].get(_openapi_path(rule.rule), {}):
                missing.append(f"{method} {rule.rule}")
    assert missing == []


def test_the_new_offline_operations_are_described(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/sync", "/devices/report", "/rounds/{round_id}/catalogue", "/auth/refresh"} <= set(paths)
    assert "200" in paths["/sheets/{sheet_id}/scores/{indicator_code}/photos"]["post"]["responses"]


def _codes(doc, path, method, status):
    return doc["paths"][path][method]["responses"][status]["x-error-codes"]


def test_each_operation_names_the_error_codes_it_can_answer(client):
    """Read from the code (api.error_codes): what the services raise on each operation's way, by status."""
    doc = client.get("/api/v1/openapi.json").get_json()
    score = "/sheets/{sheet_id}/scores/{indicator_code}"
    assert {"score.conflict", "score.missing", "sheet.not_open"} <= set(_codes(doc, score, "put", "409"))
    assert {"score.invalid", "request.not_json"} <= set(_codes(doc, score, "put", "422"))
    assert "sheet.read_only" in _codes(doc, score, "put", "403")
    submit = "/sheets/{sheet_id}/submit"
    assert {"sheet.device_pending", "sheet.submit_blocked"} <= set(_codes(doc, submit, "post", "409"))
    assert "sheet.unscored" in _codes(doc, submit, "post", "422")
    assert "sync.invalid" in _codes(doc, "/sync", "post", "422")
    assert {"auth.refresh_reused", "auth.invalid_refresh_token"} <= set(_codes(doc, "/auth/refresh", "post", "401"))
    assert "signature.published" in _codes(doc, "/sheets/{sheet_id}/signatures", "post", "409")
    assert "auth.invalid_token" in _codes(doc, "/rounds", "get", "401")
    # the schema narrows `code` to them, so the fuzz test holds each answer to its operation's list
    schema = doc["paths"][score]["put"]["responses"]["409"]["content"]["application/json"]["schema"]
    assert schema["allOf"][1]["properties"]["code"]["enum"] == _codes(doc, score, "put", "409")
    total = {c for ops in doc["paths"].values() for op in ops.values() for r in op["responses"].values()
             for c in r.get("x-error-codes", [])}
    assert len(total) > 60


def test_the_document_is_the_same_on_every_request(client):
    """(The shared response dicts are copied before each operation narrows its codes.)"""
    assert client.get("/api/v1/openapi.json").get_json() == client.get("/api/v1/openapi.json").get_json()
