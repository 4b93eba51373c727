"""Anything a client can send gets a clear 4xx, never a 500, on both backends.

Each test here was a server error (or stored something the other backend refused) before the
bounds, depth limits and checks it names; the `client`s raise server exceptions, so a 500
fails the test loudly.
"""

from __future__ import annotations

import json
import uuid

import pytest
from sqlmodel import Session, func, select

from app.auth.models import Role
from app.observations.models import Hearing, Observation, Turn
from app.protocols.models import ProtocolVersion
from app.sessions.models import CourtSession
from tests.protocols.factories import published_protocol, small_definition
from tests.sessions import factories as session_factories
from tests.sync.builders import BATCH, hearing_body, observation_body, send

INT32_PAST = 2**31
INT64_PAST = 2**63


@pytest.fixture
def version(db: Session) -> ProtocolVersion:
    return published_protocol(db, definition=small_definition())


def count(db: Session, model: type) -> int:
    db.expire_all()
    return db.exec(select(func.count()).select_from(model)).one()


def only_invalid(results: list[dict], loc: str) -> dict:
    (result,) = results
    assert result["result"] == "invalid", result
    locs = [e["loc"] for e in result["errors"]]
    assert loc in locs, locs
    return next(e for e in result["errors"] if e["loc"] == loc)


# --- the sync batch: integers past the columns ----------------------------------------------


@pytest.mark.parametrize("value", [INT32_PAST, INT64_PAST, 10**30])
@pytest.mark.parametrize("field", ["start_ms", "end_ms"])
def test_turn_offsets_past_int32_are_invalid_on_both_backends(db, volunteer, version, field, value):
    client, _ = volunteer
    turn = {"role": "judge", "start_ms": 0, "end_ms": 1000, field: value}
    if field == "start_ms":
        turn["end_ms"] = None
    hearing = {**hearing_body(0), "turns": [turn]}
    error = only_invalid(
        send(client, observation_body(version.id, hearings=[hearing])),
        f"hearings[0].turns[0].{field}",
    )
    assert "at most 2147483647" in error["msg"]
    assert count(db, Turn) == 0 and count(db, Observation) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("protocol_version_id", INT64_PAST),
        ("protocol_version_id", INT32_PAST),
        ("assignment_id", INT64_PAST),
        ("based_on_revision", INT32_PAST),
    ],
)
def test_ids_past_the_columns_are_invalid(db, volunteer, version, field, value):
    client, _ = volunteer
    body = {**observation_body(version.id), field: value}
    only_invalid(send(client, body), field)
    assert count(db, Observation) == 0


@pytest.mark.parametrize("value", [10**400, -(10**400), INT64_PAST * 10])
def test_huge_numeric_answers_are_invalid(db, client_for, value):
    definition = small_definition()
    definition["sections"][1]["questions"].append(
        {"key": "jail_days", "type": "count", "label": "Jail days"}
    )
    definition["sections"][1]["questions"].append(
        {"key": "fine", "type": "number", "label": "Fine"}
    )
    version = published_protocol(db, definition=definition)
    client, _ = client_for(Role.volunteer)
    for key in ("jail_days", "fine"):
        hearing = hearing_body(0, answers={key: value})
        only_invalid(
            send(client, observation_body(version.id, hearings=[hearing])),
            f"hearings[0].answers.{key}",
        )
    # The rest of each observation is kept as a draft; the refused hearing is not stored.
    assert count(db, Observation) == 2
    assert count(db, Hearing) == 0


# --- the sync batch: datetimes that overflow in UTC -----------------------------------------


@pytest.mark.parametrize(
    "value", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "9999-12-31T23:00:00-01:00"]
)
@pytest.mark.parametrize("where", ["client_edited_at", "started_at"])
def test_datetimes_that_overflow_in_utc_are_invalid(db, volunteer, version, where, value):
    client, _ = volunteer
    if where == "client_edited_at":
        body = {**observation_body(version.id), "client_edited_at": value}
        loc = "client_edited_at"
    else:
        hearing = {**hearing_body(0), "started_at": value, "ended_at": None}
        body = observation_body(version.id, hearings=[hearing])
        loc = "hearings[0].started_at"
    only_invalid(send(client, body), loc)
    assert count(db, Observation) == 0


# --- the sync batch: strict types ------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        (
            lambda b: b["hearings"][0]["turns"][0].update(start_ms="0"),
            "hearings[0].turns[0].start_ms",
        ),
        (
            lambda b: b["hearings"][0]["turns"][0].update(end_ms=4000.5),
            "hearings[0].turns[0].end_ms",
        ),
        (lambda b: b["hearings"][0].update(position="0"), "hearings[0].position"),
        (lambda b: b.update(protocol_version_id="1"), "protocol_version_id"),
        (lambda b: b.update(client_edited_at=1_764_000_000), "client_edited_at"),
        (lambda b: b["hearings"][0].update(started_at=1_764_000_000.5), "hearings[0].started_at"),
        (lambda b: b.update(notes=5), "notes"),
        (lambda b: b["court"].update(session_date=20261124), "court.session_date"),
        (lambda b: b.update(based_on_revision=True), "based_on_revision"),
    ],
)
def test_the_sync_api_does_not_coerce_types(db, volunteer, version, change, loc):
    client, _ = volunteer
    body = observation_body(version.id)
    change(body)
    only_invalid(send(client, body), loc)
    assert count(db, Observation) == 0


def test_a_capture_page_payload_stays_valid(db, volunteer, version):
    """The shape app/static/js/store.js toObservationIn sends (ISO strings, rounded offsets)."""
    client, _ = volunteer
    body = observation_body(version.id)
    body["hearings"][0].update(
        started_at="2026-11-24T09:01:02.345Z", ended_at="2026-11-24T09:04:00.000Z"
    )
    body.update(client_edited_at="2026-11-24T09:05:00.123Z", based_on_revision=None, device_id="d1")
    (result,) = send(client, body)
    assert result["result"] == "created", result


# --- the sync batch: what the body is --------------------------------------------------------


@pytest.mark.parametrize("depth", [40, 5_000, 100_000])
def test_json_nested_deep_is_refused_before_parsing(db, volunteer, version, depth):
    client, _ = volunteer
    nested = "[" * depth + "]" * depth
    body = '{"observations": [' + nested + "]}"
    response = client.post(BATCH, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == "body"
    assert "nested" in response.json()["detail"]


def test_deep_answers_inside_an_observation_are_refused(db, volunteer, version):
    client, _ = volunteer
    body = observation_body(version.id)
    text = json.dumps({"observations": [body]})
    text = text.replace('"yes"', "[" * 3000 + '"yes"' + "]" * 3000, 1)
    response = client.post(BATCH, content=text, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert count(db, Observation) == 0


def test_normal_nesting_is_accepted(db, volunteer, version):
    client, _ = volunteer
    hearing = hearing_body(0, answers={"safety_mentioned": "yes"})
    (result,) = send(client, observation_body(version.id, hearings=[hearing]))
    assert result["result"] == "created"


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        ("application/x-www-form-urlencoded", "observations=1"),
        ("multipart/form-data; boundary=x", "--x--\r\n"),
        ("text/plain", '{"observations": []}'),
        ("application/xml", "<observations/>"),
    ],
)
def test_a_body_that_is_not_json_gets_415(db, volunteer, version, content_type, content):
    client, _ = volunteer
    response = client.post(BATCH, content=content, headers={"Content-Type": content_type})
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]


def test_json_with_a_charset_is_json(db, volunteer, version):
    client, _ = volunteer
    body = json.dumps({"observations": [observation_body(version.id)]})
    response = client.post(
        BATCH, content=body, headers={"Content-Type": "application/json; charset=utf-8"}
    )
    assert response.status_code == 200
    assert response.json()["results"][0]["result"] == "created"


# --- files: backup, protocol, JSON import ---------------------------------------------------


def _deep_document(key: str) -> bytes:
    return ('{"' + key + '": ' + "[" * 50_000 + "]" * 50_000 + "}").encode()


def test_a_deep_backup_file_is_refused(db, volunteer, version):
    client, _ = volunteer
    response = client.post(
        "/backup", files={"file": ("b.json", _deep_document("observations"), "application/json")}
    )
    assert response.status_code == 422
    assert "nested" in response.text
    assert count(db, Observation) == 0


@pytest.mark.parametrize("observer_id", ["99999999999999999999", str(INT32_PAST), "²"])
def test_an_admin_backup_for_an_impossible_observer_is_a_field_error(
    db, admin, volunteer, observer_id
):
    client, _ = admin
    body = json.dumps({"observations": [{}]}).encode()
    response = client.post(
        "/backup",
        files={"file": ("b.json", body, "application/json")},
        data={"observer_id": observer_id},
    )
    assert response.status_code == 422
    assert "Choose whose observations these are." in response.text


def test_a_deep_protocol_file_is_refused(db, trainer):
    client, _ = trainer
    before = count(db, ProtocolVersion)
    response = client.post(
        "/protocols/import",
        files={"file": ("p.json", _deep_document("sections"), "application/json")},
    )
    assert response.status_code == 422
    assert "nested" in response.text
    assert count(db, ProtocolVersion) == before


def test_a_deep_json_import_is_refused(db, organizer):
    client, _ = organizer
    response = client.post(
        "/import", files={"file": ("e.json", _deep_document("format"), "application/json")}
    )
    assert response.status_code == 422
    assert "nested" in response.text


@pytest.mark.parametrize("bound", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"])
def test_non_finite_question_bounds_in_a_protocol_file_are_field_errors(db, trainer, bound):
    client, _ = trainer
    definition = small_definition("Bounds")
    definition["sections"][1]["questions"].append(
        {"key": "jail_days", "type": "number", "label": "Jail days", "min": 0, "max": 1}
    )
    text = json.dumps({"name": "Bounds", "definition": definition}).replace(
        '"max": 1', f'"max": {bound}'
    )
    before = count(db, ProtocolVersion)
    response = client.post(
        "/protocols/import", files={"file": ("p.json", text.encode(), "application/json")}
    )
    assert response.status_code == 422
    if "e400" in bound:  # read as infinity: refused as a bound
        assert "Maximum: expected a finite number" in response.text
    else:  # not JSON at all
        assert f"{bound.lstrip('-')} is not a number" in response.text
    assert count(db, ProtocolVersion) == before


# --- HTML forms: NUL characters, ids and filters ---------------------------------------------


@pytest.mark.parametrize("field", ["court", "courtroom", "judge", "notes"])
def test_nul_in_form_text_is_a_field_error_on_both_backends(db, trainer, field):
    client, _ = trainer
    response = client.post("/sessions", data=session_factories.form(**{field: "3\x00B"}))
    assert response.status_code == 422
    assert "NUL" in response.text
    assert count(db, CourtSession) == 0


def test_nul_in_a_set_name_is_refused(db, organizer):
    client, _ = organizer
    response = client.post("/sets", data={"name": "All\x00"})
    assert response.status_code == 422
    assert "NUL" in response.text


@pytest.mark.parametrize(
    "path",
    [
        f"/sessions/{INT32_PAST}",
        f"/sessions/{INT64_PAST}",
        f"/protocols/{INT64_PAST}",
        f"/protocols/versions/{INT64_PAST}",
        f"/protocols/versions/{INT32_PAST}/diff",
        "/protocols/versions/1/diff?against=99999999999999999999",
        f"/sessions/volunteers/{INT64_PAST}",
        f"/admin/users/{INT64_PAST}",
        f"/sets/{INT64_PAST}",
        f"/sets/{INT64_PAST}/export.json",
        f"/hearings/{uuid.uuid4()}",
    ],
)
def test_out_of_range_ids_in_paths_are_404_or_422(admin, path):
    client, _ = admin
    assert client.get(path).status_code in (404, 422)


@pytest.mark.parametrize(
    "post", [f"/assignments/{INT64_PAST}/cancel", f"/protocols/versions/{INT64_PAST}/publish"]
)
def test_out_of_range_ids_in_posted_paths_are_404_or_422(admin, post):
    client, _ = admin
    assert client.post(post).status_code in (404, 422)


@pytest.mark.parametrize(
    "query",
    [
        f"court_id={INT64_PAST}",
        f"judge_id={INT32_PAST}",
        f"observer_id={INT64_PAST}",
        f"protocol_id={INT64_PAST}",
        f"protocol_version_id={INT32_PAST}",
    ],
)
@pytest.mark.parametrize("listing", ["/hearings", "/observations", "/compare"])
def test_out_of_range_ids_in_filters_are_field_errors(organizer, listing, query):
    client, _ = organizer
    response = client.get(f"{listing}?{query}")
    assert response.status_code in (200, 422)
    assert "at most 2147483647" in response.text


def test_a_saved_set_with_an_out_of_range_id_is_refused(db, organizer):
    client, _ = organizer
    response = client.post("/sets", data={"name": "Far", "court_id": str(INT64_PAST)})
    assert response.status_code == 422
    assert "at most 2147483647" in response.text


def test_the_sync_api_refuses_an_out_of_range_limit_plainly(volunteer):
    client, _ = volunteer
    response = client.get(f"/api/v1/observations?limit={10**30}")
    assert response.status_code in (200, 422)
