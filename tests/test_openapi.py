"""/openapi.json and /api/v1/openapi.json describe what the app really answers."""

from __future__ import annotations

import json
import re

import pytest

from app.messages import labelled_message
from tests.sync.builders import BATCH

DOCUMENTS = ["/openapi.json", "/api/v1/openapi.json"]


def _resolve(document: dict, ref: str) -> object:
    node: object = document
    for part in ref.removeprefix("#/").split("/"):
        assert isinstance(node, dict) and part in node, f"unresolvable $ref {ref}"
        node = node[part]
    return node


@pytest.mark.parametrize("path", DOCUMENTS)
def test_every_ref_resolves(volunteer, path):
    document = volunteer[0].get(path).json()
    refs = set(re.findall(r'"\$ref": "([^"]+)"', json.dumps(document)))
    assert refs
    for ref in refs:
        _resolve(document, ref)


@pytest.mark.parametrize("path", DOCUMENTS)
def test_error_shapes_and_security_are_documented(volunteer, path):
    document = volunteer[0].get(path).json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["sessionCookie"] == {
        **schemes["sessionCookie"],
        "in": "cookie",
        "name": "courtwatch_session",
    }
    assert schemes["csrfToken"]["in"] == "header" and schemes["csrfToken"]["name"] == "X-CSRF-Token"
    batch = document["paths"]["/api/v1/observations/batch"]["post"]
    assert batch["security"] == [{"sessionCookie": [], "csrfToken": []}]
    assert {"401", "403", "409", "413", "415", "422"} <= set(batch["responses"])
    error = batch["responses"]["422"]["content"]["application/json"]["schema"]
    shape = _resolve(document, error["$ref"])
    assert "errors" in shape["properties"] and shape["required"] == ["detail"]
    one = document["paths"]["/api/v1/observations/{observation_id}"]["get"]
    assert "404" in one["responses"] and one["security"] == [{"sessionCookie": []}]
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_enums_where_the_app_takes_only_some_values(volunteer):
    document = volunteer[0].get("/api/v1/openapi.json").json()
    schemas = document["components"]["schemas"]
    observation = schemas["ObservationIn"]["properties"]
    assert observation["status"]["enum"] == ["draft", "submitted"]
    assert "sentencing" in schemas["CourtDetails"]["properties"]["calendar_type"]["enum"]
    status = document["paths"]["/api/v1/observations"]["get"]["parameters"][0]
    assert _resolve(document, status["schema"]["anyOf"][0]["$ref"])["enum"] == [
        "draft",
        "submitted",
    ]
    batch = document["paths"]["/api/v1/observations/batch"]["post"]
    body = batch["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["observations"]["maxItems"] == 200  # the configured limit


def test_the_documented_error_shape_is_what_comes_back(volunteer, client):
    assert client.get("/api/v1/observations").json() == {"detail": "Sign in first."}
    answer = volunteer[0].get("/api/v1/observations?status=final")
    assert answer.status_code == 422
    (error,) = answer.json()["errors"]
    assert error["loc"] == "query.status" and error["msg"].startswith("Status: expected one of")
    assert (
        volunteer[0].post(BATCH, content="x", headers={"Content-Type": "text/plain"}).status_code
        == 415
    )


@pytest.mark.parametrize(
    ("error", "message"),
    [
        ({"type": "string_too_long", "loc": ("court", "courtroom"), "ctx": {"max_length": 60}},
         "Courtroom: at most 60 characters."),
        ({"type": "missing", "loc": ("body", "court")}, "Court: required."),
        ({"type": "int_type", "loc": ("hearings", 0, "turns", 3, "start_ms")},
         "Turn start (ms): expected a whole number."),
        ({"type": "less_than_equal", "loc": ("limit",), "ctx": {"le": 2147483647}},
         "Limit: at most 2147483647."),
        ({"type": "datetime_type", "loc": ("client_edited_at",)},
         "Edited at: expected a date and time like 2026-11-24T09:00:00Z."),
        ({"type": "model_type", "loc": ()}, "Expected an object ({…})."),
    ],
)  # fmt: skip
def test_validation_messages_are_plain_words(error, message):
    assert labelled_message(error) == message


def test_the_api_and_the_forms_use_the_same_words(trainer, volunteer, db):
    from tests.sessions import factories as f

    page = trainer[0].post("/sessions", data=f.form(courtroom="x" * 61))
    assert page.status_code == 422
    assert "Courtroom: at most 60 characters." in page.text
    from tests.protocols.factories import published_protocol, small_definition
    from tests.sync.builders import AD_HOC_COURT, observation_body, send

    version = published_protocol(db, definition=small_definition())
    body = observation_body(version.id)
    body["court"] = {**AD_HOC_COURT, "courtroom": "x" * 61}
    (result,) = send(volunteer[0], body)
    assert {"loc": "court.courtroom", "msg": "Courtroom: at most 60 characters."} in result[
        "errors"
    ]
