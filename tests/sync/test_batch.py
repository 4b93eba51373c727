"""POST /api/v1/observations/batch through the real app and database."""

from __future__ import annotations

import json
import uuid
from datetime import date

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from app.auth.models import Role
from app.observations.models import (
    Answer,
    Hearing,
    HearingSpeaker,
    Observation,
    ObservationRevision,
    Turn,
)
from app.sessions.models import Assignment, CourtSession
from tests.protocols.factories import published_protocol, small_definition
from tests.sessions import factories as session_factories
from tests.sync.builders import BATCH, hearing_body, observation_body, send


@pytest.fixture
def version(db: Session):
    return published_protocol(db, definition=small_definition())


@pytest.fixture
def phone(client_for):
    c, user = client_for(Role.volunteer)
    return c, user


def stored(db: Session, observation_id: str) -> dict:
    oid = uuid.UUID(observation_id)
    db.expire_all()
    obs = db.get(Observation, oid)
    hearing_ids = db.exec(select(Hearing.id).where(Hearing.observation_id == oid)).all()
    return {
        "observation": obs,
        "hearings": db.exec(
            select(Hearing).where(Hearing.observation_id == oid).order_by(Hearing.position)
        ).all(),
        "turns": db.exec(
            select(Turn.role, Turn.start_ms, Turn.end_ms)
            .where(col(Turn.hearing_id).in_(hearing_ids))
            .order_by(Turn.hearing_id, Turn.seq)
        ).all(),
        "answers": db.exec(
            select(Answer.question_key, Answer.value_text).where(Answer.observation_id == oid)
        ).all(),
        "revisions": db.exec(
            select(ObservationRevision)
            .where(ObservationRevision.observation_id == oid)
            .order_by(ObservationRevision.revision)
        ).all(),
    }


def test_a_new_observation_is_created_with_rows_for_analysis(db, phone, version):
    client, user = phone
    body = observation_body(
        version.id,
        hearings=[
            hearing_body(
                0,
                turns=[("judge", 0, 3000), ("judge", 3000, 5000), ("prosecutor", 5000, 9000)],
                answers={"safety_mentioned": "no"},
                case_reference="27-CR-26-1234",
            ),
            hearing_body(1, turns=[("prosecutor", 0, 1000), ("judge", 1500, None)]),
        ],
    )
    (result,) = send(client, body)
    assert result["result"] == "created"
    assert result["revision"] == 1
    assert result["id"] == body["id"]

    state = stored(db, body["id"])
    obs = state["observation"]
    assert obs.observer_id == user.id
    assert obs.status == "draft"
    assert obs.session_answers == {"could_hear": "yes"}
    sitting = db.get(CourtSession, obs.court_session_id)
    assert (sitting.courtroom, sitting.session_date) == ("3B", date(2026, 11, 24))
    first, second = state["hearings"]
    assert first.case_reference == "27-CR-26-1234"
    assert (first.turn_count, first.talk_ms, first.first_role, first.last_role) == (
        3,
        9000,
        "judge",
        "prosecutor",
    )
    assert first.script == "judge>prosecutor"
    assert second.talk_ms == 1000  # the open last turn has no length yet
    assert len(state["turns"]) == 5
    assert sorted(state["answers"]) == [
        ("could_hear", "yes"),
        ("safety_mentioned", "no"),
        ("safety_mentioned", "yes"),
    ]
    speakers = db.exec(
        select(HearingSpeaker.role, HearingSpeaker.turn_count, HearingSpeaker.talk_ms).where(
            HearingSpeaker.hearing_id == first.id
        )
    ).all()
    assert sorted(speakers) == [("judge", 2, 5000), ("prosecutor", 1, 4000)]


def test_the_same_observation_sent_again_is_unchanged_and_stored_once(db, phone, version):
    client, _ = phone
    body = observation_body(version.id)
    assert send(client, body)[0]["result"] == "created"
    again = send(client, body)
    assert again[0]["result"] == "unchanged"
    assert again[0]["revision"] == 1
    # Same content with a different device id or base revision is still the same revision.
    travelled = {**body, "device_id": "phone-2", "based_on_revision": 1}
    assert send(client, travelled)[0]["result"] == "unchanged"
    state = stored(db, body["id"])
    assert len(state["revisions"]) == 1
    assert len(state["hearings"]) == 1
    assert len(state["turns"]) == 2
    assert db.exec(select(func.count()).select_from(Observation)).one() == 1


def test_an_edit_from_a_second_device_keeps_both_revisions_and_the_latest_wins(db, phone, version):
    client, _ = phone
    hearing = hearing_body(0)
    first = observation_body(version.id, hearings=[hearing], edited=0)
    send(client, first)
    # Phone B edits later: a second hearing and a changed answer.
    later = json.loads(json.dumps(first))
    later["hearings"][0]["answers"] = {"safety_mentioned": "not_observed"}
    later["hearings"].append(hearing_body(1, turns=[("judge", 0, 2000)]))
    later["client_edited_at"] = observation_body(version.id, edited=60)["client_edited_at"]
    later["device_id"] = "phone-b"
    (result,) = send(client, later)
    assert (result["result"], result["revision"]) == ("updated", 2)

    # Phone A's older edit arrives late: it is kept as a revision but does not win.
    stale = json.loads(json.dumps(first))
    stale["notes"] = "typed on phone A before phone B's edit"
    stale["client_edited_at"] = observation_body(version.id, edited=30)["client_edited_at"]
    (result,) = send(client, stale)
    assert result["result"] == "unchanged"
    assert result["revision"] == 3

    state = stored(db, first["id"])
    assert [r.revision for r in state["revisions"]] == [1, 2, 3]
    assert state["revisions"][2].payload["notes"] == "typed on phone A before phone B's edit"
    assert state["observation"].current_revision == 2
    assert state["observation"].notes == ""
    assert [h.position for h in state["hearings"]] == [0, 1]
    assert state["hearings"][0].answers == {"safety_mentioned": "not_observed"}


def test_one_invalid_observation_does_not_block_the_others(db, phone, version):
    client, _ = phone
    good = observation_body(version.id)
    bad = observation_body(
        version.id,
        hearings=[
            hearing_body(0, answers={"safety_mentioned": "maybe"}),
            hearing_body(1, turns=[("bailiff", 0, 10), ("judge", 5, 2)]),
        ],
    )
    unreadable = {"id": str(uuid.uuid4()), "protocol_version_id": "one"}
    results = send(client, good, bad, unreadable, "not an object")
    assert [r["result"] for r in results] == ["created", "invalid", "invalid", "invalid"]
    assert [r["index"] for r in results] == [0, 1, 2, 3]
    errors = {e["loc"]: e["msg"] for e in results[1]["errors"]}
    assert "hearings[0].answers.safety_mentioned" in errors
    assert "maybe" in errors["hearings[0].answers.safety_mentioned"]
    assert "not a role" in errors["hearings[1].turns[0].role"]
    assert "hearings[1].turns[1].start_ms" in errors or "hearings[1].turns[1].end_ms" in errors
    assert results[1]["reason"]
    locs = {e["loc"] for e in results[2]["errors"]}
    assert {"protocol_version_id", "client_edited_at"} <= locs
    assert results[2]["id"] == unreadable["id"]
    assert results[3]["id"] is None
    assert stored(db, good["id"])["observation"] is not None
    # The refused hearings are not stored; the rest of that observation is, as a draft, so
    # the volunteer is never left with nothing on the server.
    rest = stored(db, bad["id"])
    assert rest["observation"].status == "draft" and rest["hearings"] == []
    assert rest["observation"].session_answers == bad["session_answers"]
    assert "stored on the server as a draft" in results[1]["reason"]
    assert results[1]["revision"] == 1
    assert db.exec(select(func.count()).select_from(ObservationRevision)).one() == 2
    # Sent again as it was: refused again, nothing more stored.
    (again,) = send(client, bad)
    assert again["result"] == "invalid"
    assert db.exec(select(func.count()).select_from(ObservationRevision)).one() == 2


def test_another_users_uuid_is_refused_and_changes_nothing(db, client_for, version):
    alice, _ = client_for(Role.volunteer)
    mallory, _ = client_for(Role.volunteer)
    body = observation_body(version.id)
    send(alice, body)
    before = stored(db, body["id"])
    hijack = {
        **body,
        "notes": "overwritten",
        "hearings": [],
        "client_edited_at": "2027-01-01T00:00:00Z",
    }
    (result,) = send(mallory, hijack)
    assert result["result"] == "invalid"
    assert "another account" in result["reason"]
    assert result["revision"] is None  # nothing about someone else's record leaks
    after = stored(db, body["id"])
    assert after["observation"].notes == ""
    assert len(after["hearings"]) == len(before["hearings"]) == 1
    assert len(after["revisions"]) == 1
    # Reading it is refused too.
    assert mallory.get(f"/api/v1/observations/{body['id']}").status_code == 404
    assert alice.get(f"/api/v1/observations/{body['id']}").status_code == 200


def test_a_hearing_id_of_another_observation_is_refused(db, phone, version):
    client, _ = phone
    shared = hearing_body(0)
    send(client, observation_body(version.id, hearings=[shared]))
    (result,) = send(client, observation_body(version.id, hearings=[dict(shared)]))
    assert result["result"] == "invalid"
    assert result["errors"] == [
        {"loc": "hearings[0].id", "msg": "This hearing id already belongs to another observation."}
    ]


def test_submitted_is_final(db, phone, version):
    client, _ = phone
    body = observation_body(version.id, status="submitted", edited=10)
    assert send(client, body)[0]["result"] == "created"
    assert send(client, body)[0]["result"] == "unchanged"  # a resend of the submit itself
    draft = {
        **body,
        "status": "draft",
        "notes": "later",
        "client_edited_at": "2026-12-01T10:00:00Z",
    }
    (result,) = send(client, draft)
    assert result["result"] == "invalid"
    assert "submitted" in result["reason"] and "final" in result["reason"]
    assert result["revision"] == 1
    state = stored(db, body["id"])
    assert state["observation"].status == "submitted"
    assert state["observation"].notes == ""
    assert len(state["revisions"]) == 1


def test_answers_are_strict_on_submit_and_lenient_on_drafts(db, phone, version):
    client, _ = phone
    # could_hear is required: a draft may leave it out, a submit may not.
    draft = observation_body(version.id, session_answers={})
    assert send(client, draft)[0]["result"] == "created"
    submit = {**draft, "status": "submitted", "client_edited_at": "2026-11-24T10:00:00Z"}
    (result,) = send(client, submit)
    assert result["result"] == "invalid"
    assert result["errors"] == [
        {"loc": "session_answers.could_hear", "msg": "This question is required."}
    ]
    assert stored(db, draft["id"])["observation"].status == "draft"
    submit["session_answers"] = {"could_hear": "no"}
    (result,) = send(client, submit)
    assert (result["result"], result["revision"]) == ("updated", 2)
    assert stored(db, draft["id"])["observation"].submitted_at is not None


def test_an_assignment_moves_to_in_progress_then_submitted(db, phone, version):
    client, user = phone
    sitting = session_factories.sitting(db, day=date(2026, 11, 24))
    made = session_factories.assignment(db, court_session=sitting, volunteer=user, version=version)
    body = observation_body(version.id, assignment_id=made.id)
    assert send(client, body)[0]["result"] == "created"
    db.expire_all()
    assert db.get(Assignment, made.id).status == "in_progress"
    assert stored(db, body["id"])["observation"].court_session_id == sitting.id
    body.update(status="submitted", client_edited_at="2026-11-24T12:00:00Z")
    assert send(client, body)[0]["result"] == "updated"
    db.expire_all()
    assert db.get(Assignment, made.id).status == "submitted"


def test_someone_elses_assignment_or_an_unpublished_protocol_is_refused(db, client_for, version):
    client, _ = client_for(Role.volunteer)
    _, other = client_for(Role.volunteer)
    sitting = session_factories.sitting(db, day=date(2026, 11, 24))
    theirs = session_factories.assignment(
        db, court_session=sitting, volunteer=other, version=version
    )
    (result,) = send(client, observation_body(version.id, assignment_id=theirs.id))
    assert result["errors"] == [
        {"loc": "assignment_id", "msg": "You have no assignment with this id."}
    ]
    draft_version = session_factories.protocol_version(db, status="draft")
    (result,) = send(client, observation_body(draft_version.id))
    assert result["result"] == "invalid"
    assert result["errors"][0]["loc"] == "protocol_version_id"
    no_court = observation_body(version.id)
    del no_court["court"]
    (result,) = send(client, no_court)
    assert result["errors"][0]["loc"] == "court"
    bad_calendar = observation_body(version.id)
    bad_calendar["court"]["calendar_type"] = "karaoke"
    (result,) = send(client, bad_calendar)
    assert result["errors"][0]["loc"] == "court.calendar_type"
    assert db.exec(select(func.count()).select_from(Observation)).one() == 0


def test_malformed_bodies_get_422_with_where(phone):
    client, _ = phone
    response = client.post(
        BATCH, content=b'{"observations": [', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert "not valid JSON" in response.json()["detail"]
    response = client.post(BATCH, json={"observation": []})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == "observations"
    response = client.post(BATCH, json=[1, 2])
    assert response.status_code == 422
    response = client.post(BATCH, content=b"\xff\xfe", headers={"Content-Type": "application/json"})
    assert response.status_code == 422


def test_a_hearing_that_ends_before_it_starts_is_refused(db, phone, version):
    client, _ = phone
    hearing = hearing_body(0)
    hearing.update(started_at="2026-11-24T09:10:00-06:00", ended_at="2026-11-24T09:05:00-06:00")
    (result,) = send(client, observation_body(version.id, hearings=[hearing]))
    assert result["errors"] == [
        {"loc": "hearings[0].ended_at", "msg": "The hearing ends before it starts."}
    ]
    hearing.update(ended_at="2026-11-24T15:20:00Z")  # the same morning, written in UTC
    (result,) = send(client, observation_body(version.id, hearings=[hearing]))
    assert result["result"] == "created"


def test_text_with_a_nul_character_is_refused_for_that_item(db, phone, version):
    client, _ = phone
    body = observation_body(version.id)
    body["notes"] = "bad\u0000byte"
    (result,) = send(client, body)
    assert result["result"] == "invalid"
    assert result["errors"][0]["loc"] == "notes"


def test_limits_answer_413(app, db, phone, version):
    client, _ = phone
    settings = app.state.settings
    settings.sync_max_items = 3
    bodies = [observation_body(version.id) for _ in range(4)]
    response = client.post(BATCH, json={"observations": bodies})
    assert response.status_code == 413
    assert "at most 3" in response.json()["detail"]
    settings.sync_max_body_bytes = 2_000
    big = observation_body(version.id)
    big["notes"] = "x" * 3_000
    response = client.post(BATCH, json={"observations": [big]})
    assert response.status_code == 413
    assert "2,000 bytes" in response.json()["detail"]
    assert db.exec(select(func.count()).select_from(Observation)).one() == 0


def test_only_observers_may_send_and_anonymous_gets_401(client, client_for, version):
    organizer, _ = client_for(Role.organizer)
    response = organizer.post(BATCH, json={"observations": [observation_body(version.id)]})
    assert response.status_code == 403
    assert client.post(BATCH, json={"observations": []}).status_code in (401, 403)


def test_reading_back_a_whole_observation(db, phone, version):
    client, user = phone
    body = observation_body(
        version.id,
        hearings=[hearing_body(0, turns=[("judge", 0, 1200)], case_reference="CR-9")],
    )
    send(client, body)
    doc = client.get(f"/api/v1/observations/{body['id']}").json()
    assert doc["id"] == body["id"]
    assert doc["observer_id"] == user.id
    assert doc["court"]["courtroom"] == "3B"
    assert doc["court"]["start_time"] == "09:00"
    assert doc["hearings"][0]["turns"] == [{"role": "judge", "start_ms": 0, "end_ms": 1200}]
    assert doc["hearings"][0]["case_reference"] == "CR-9"
    assert doc["revision"] == 1
    listing = client.get("/api/v1/observations").json()["observations"]
    assert [o["id"] for o in listing] == [body["id"]]
    assert client.get("/api/v1/observations?status=lost").status_code == 422
    assert client.get(f"/api/v1/observations/{uuid.uuid4()}").status_code == 404
    # Only UUIDs route to an observation (so /observations/batch is never read as an id).
    assert client.get("/api/v1/observations/not-a-uuid").status_code == 404


def test_the_api_is_described_by_an_openapi_document(phone):
    client, _ = phone
    document = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/observations/batch" in document["paths"]
    assert "/api/v1/offline-pack" in document["paths"]
    request = document["paths"]["/api/v1/observations/batch"]["post"]["requestBody"]
    assert request["content"]["application/json"]["schema"]["properties"]["observations"]
    assert "ObservationIn" in document["components"]["schemas"]
    assert "HearingIn" in document["components"]["schemas"]


def _row_ids(db: Session, table, hearing_id: str) -> list[int]:
    db.expire_all()
    return list(db.exec(select(table.id).where(table.hearing_id == uuid.UUID(hearing_id))).all())


def test_a_resync_rewrites_the_rows_of_changed_hearings_only(db, phone, version):
    """A phone sends its whole calendar each time, one hearing longer: the rows of the
    hearings it did not change stay as stored, those of a changed one are its new content,
    and a hearing the phone no longer holds loses its rows."""
    client, _ = phone
    first, second, third = (str(uuid.uuid4()) for _ in range(3))
    hearings = [
        hearing_body(0, hearing_id=first, answers={"safety_mentioned": "yes"}),
        hearing_body(1, hearing_id=second, answers={"safety_mentioned": "no"}),
        hearing_body(2, hearing_id=third),
    ]
    body = observation_body(version.id, hearings=hearings)
    send(client, body)
    kept_turns, kept_answers = _row_ids(db, Turn, first), _row_ids(db, Answer, first)
    assert len(kept_turns) == 2 and len(kept_answers) == 1

    # The second hearing's answer and turns change, the third is gone, a fourth is new.
    hearings[1] = hearing_body(
        1, hearing_id=second, answers={"safety_mentioned": "yes"}, turns=[("prosecutor", 0, 700)]
    )
    hearings[2] = hearing_body(2, turns=[("judge", 0, 300)])
    body.update(hearings=hearings, client_edited_at="2026-11-24T09:05:00+00:00")
    assert send(client, body)[0]["result"] == "updated"

    assert _row_ids(db, Turn, first) == kept_turns  # untouched
    assert _row_ids(db, Answer, first) == kept_answers
    assert _row_ids(db, Turn, third) == [] and _row_ids(db, Answer, third) == []
    assert db.get(Hearing, uuid.UUID(third)) is None
    db.expire_all()
    rows = db.exec(
        select(Hearing.id, Hearing.script, Hearing.talk_ms)
        .where(Hearing.observation_id == uuid.UUID(body["id"]))
        .order_by(Hearing.position)
    ).all()
    assert [(str(h), s, t) for h, s, t in rows[:2]] == [
        (first, "judge>prosecutor", 9000),
        (second, "prosecutor", 700),
    ]
    assert rows[2][1:] == ("judge", 300)
    assert db.exec(
        select(Turn.role, Turn.start_ms, Turn.end_ms).where(Turn.hearing_id == uuid.UUID(second))
    ).all() == [("prosecutor", 0, 700)]
    answers = db.exec(
        select(Answer.hearing_id, Answer.value_text).where(
            Answer.observation_id == uuid.UUID(body["id"]), Answer.hearing_id.is_not(None)
        )
    ).all()
    assert sorted((str(h), v) for h, v in answers) == sorted(
        [(first, "yes"), (second, "yes"), (str(rows[2][0]), "yes")]
    )
    # Session answers are written again with each sync, once.
    assert (
        db.exec(
            select(func.count()).where(
                Answer.observation_id == uuid.UUID(body["id"]), Answer.hearing_id.is_(None)
            )
        ).one()
        == 1
    )
    # What the API gives back is what the phone holds.
    doc = client.get(f"/api/v1/observations/{body['id']}").json()
    assert [h["id"] for h in doc["hearings"]] == [h["id"] for h in hearings]
    assert doc["hearings"][1]["turns"] == [{"role": "prosecutor", "start_ms": 0, "end_ms": 700}]


def test_hearing_rows_without_a_digest_are_written_again(db, phone, version):
    """Rows stored before digests existed (content_hash NULL) are rewritten at the next sync,
    even when the hearing itself is the same."""
    client, _ = phone
    hearing_id = str(uuid.uuid4())
    body = observation_body(version.id, hearings=[hearing_body(0, hearing_id=hearing_id)])
    send(client, body)
    db.exec(  # type: ignore[call-overload]
        sa.update(Hearing).values(content_hash=None, script="stale", talk_ms=1)
    )
    db.commit()
    body.update(notes="later", client_edited_at="2026-11-24T09:05:00+00:00")
    assert send(client, body)[0]["result"] == "updated"
    db.expire_all()
    stored_hearing = db.get(Hearing, uuid.UUID(hearing_id))
    assert (stored_hearing.script, stored_hearing.talk_ms) == ("judge>prosecutor", 9000)
    assert stored_hearing.content_hash is not None
    assert len(_row_ids(db, Turn, hearing_id)) == 2


def test_a_refused_edit_keeps_the_stored_version_of_that_hearing(db, phone, version):
    """A hearing the server holds, edited on the phone into something refused, keeps its
    stored version; the rest of the edit (a new hearing) is stored as a draft."""
    client, _ = phone
    first = str(uuid.uuid4())
    body = observation_body(
        version.id, hearings=[hearing_body(0, hearing_id=first, answers={"safety_mentioned": "no"})]
    )
    send(client, body)
    body["hearings"] = [
        hearing_body(0, hearing_id=first, answers={"safety_mentioned": "maybe"}),
        hearing_body(1, answers={"safety_mentioned": "yes"}),
    ]
    body["client_edited_at"] = "2026-11-24T09:05:00+00:00"
    (result,) = send(client, body)
    assert result["result"] == "invalid"
    assert [e["loc"] for e in result["errors"]] == ["hearings[0].answers.safety_mentioned"]
    now = stored(db, body["id"])
    assert [(str(h.id), h.answers) for h in now["hearings"]] == [
        (first, {"safety_mentioned": "no"}),  # as accepted before, not dropped
        (body["hearings"][1]["id"], {"safety_mentioned": "yes"}),
    ]
