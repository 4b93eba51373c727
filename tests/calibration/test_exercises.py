"""Calibration exercises through the real app: a trainer's reference, trainees invited and
recording the same hearings, agreement per question and on the script, the class view, and
exercise observations kept out of findings."""

from __future__ import annotations

import uuid

import pytest
from sqlmodel import Session, select

from app.audit.models import AuditEntry
from app.auth.models import Role
from app.calibration.models import CalibrationExercise
from app.observations.filters import HearingFilter, hearing_ids
from app.observations.models import Observation
from app.sessions.models import Assignment
from tests.program.builders import hearing, submit
from tests.protocols.factories import default_published

REFERENCE = [
    hearing(0, case="TRAIN-1", continued="no", safety_mentioned="yes"),
    hearing(1, case="TRAIN-2", continued="yes", continuance_requested_by="defense",
            safety_mentioned="no"),
]  # fmt: skip


@pytest.fixture
def version(db: Session):
    return default_published(db)


def _make(staff, reference_id, trainees, title="Peterson sentencing (video)"):
    return staff.post(
        "/exercises",
        data={
            "title": title,
            "reference_observation_id": reference_id,
            "trainee_ids": [str(t.id) for t in trainees],
        },
    )


def test_trainees_see_their_agreement_and_the_trainer_sees_the_class(db, version, client_for):
    staff, _trainer = client_for(Role.trainer)
    (alice, a), (bob, b), (carol, _) = (client_for(Role.volunteer) for _ in range(3))
    reference_id, _ = submit(staff, version.id, hearings=REFERENCE)
    made = _make(staff, reference_id, [a, b])
    assert made.status_code == 303
    exercise = db.exec(select(CalibrationExercise)).one()

    # Each trainee has an assignment on the reference's sitting, in their offline pack.
    pack = alice.get("/api/v1/offline-pack").json()
    (assignment,) = pack["assignments"]
    assert assignment["protocol_version_id"] == version.id
    assert "Peterson sentencing" in alice.get("/my/exercises").text
    before = alice.get(f"/my/exercises/{exercise.id}")
    assert before.status_code == 200 and "once you have submitted" in before.text

    # Alice agrees on everything; Bob misses the continuance and disagrees on safety.
    submit(alice, version.id, assignment_id=assignment["id"], hearings=[
        hearing(0, case="train 1", continued="no", safety_mentioned="yes"),
        hearing(1, case="TRAIN-2", continued="yes", continuance_requested_by="defense",
                safety_mentioned="no")])  # fmt: skip
    bob_assignment = bob.get("/api/v1/offline-pack").json()["assignments"][0]["id"]
    submit(bob, version.id, assignment_id=bob_assignment, hearings=[
        hearing(0, case="TRAIN-1", continued="no", safety_mentioned="no"),
        hearing(1, case="TRAIN-2", continued="yes", safety_mentioned="no")])  # fmt: skip

    mine = alice.get(f"/my/exercises/{exercise.id}").text
    assert 'data-status="submitted"' in mine
    assert "<strong data-agreement>100 %</strong>" in mine
    assert "<strong data-script>100 %</strong>" in mine
    theirs = bob.get(f"/my/exercises/{exercise.id}").text
    assert (
        "<strong data-agreement>" in theirs
        and "100 %</strong>" not in theirs.split("data-agreement>")[1][:8]
    )
    # A trainee sees only their own result.
    assert a.display_name not in theirs
    assert carol.get(f"/my/exercises/{exercise.id}").status_code == 404
    assert alice.get(f"/exercises/{exercise.id}").status_code == 403

    klass = staff.get(f"/exercises/{exercise.id}").text
    assert f'data-trainee="{a.id}"' in klass and f'data-trainee="{b.id}"' in klass
    questions = klass.split("Per question, most missed first")[1]
    order = [key for key in ("safety_mentioned", "continuance_requested_by", "continued")
             if f'data-question="{key}"' in questions]  # fmt: skip
    assert order[0] in ("safety_mentioned", "continuance_requested_by")
    assert questions.index('data-question="continued"') > questions.index(
        'data-question="safety_mentioned"'
    )

    # Never in findings: not the reference, not the trainees'.
    kept = set(db.exec(hearing_ids(HearingFilter())).all())
    exercise_obs = {uuid.UUID(reference_id)} | set(
        db.exec(select(Observation.id).where(Observation.observer_id.in_([a.id, b.id]))).all()  # type: ignore[attr-defined]
    )
    assert not kept & set(
        db.exec(select(Observation.id).where(Observation.id.in_(exercise_obs))).all()  # type: ignore[attr-defined]
    )
    assert kept == set()
    assert "TRAIN-1" not in staff.get("/hearings").text
    assert staff.get("/review").text.count("data-observation=") == 0

    actions = {e.action for e in db.exec(select(AuditEntry)).all()}
    assert {"calibration.exercise_create", "observation.reference"} <= actions


def test_bad_exercises_are_refused_and_store_nothing(db, version, client_for):
    staff, trainer = client_for(Role.trainer)
    other_staff, _ = client_for(Role.trainer)
    phone, volunteer = client_for(Role.volunteer)
    reference_id, _ = submit(staff, version.id)
    draft_id, _ = submit(staff, version.id, status="draft")
    not_mine, _ = submit(other_staff, version.id)

    for title, ref, people, message in [
        ("", reference_id, [volunteer], "Give the exercise a title"),
        ("T", draft_id, [volunteer], "your own submitted observations"),
        ("T", not_mine, [volunteer], "your own submitted observations"),
        ("T", "not-a-uuid", [volunteer], "your own submitted observations"),
        ("T", reference_id, [], "Invite at least one trainee"),
        ("T", reference_id, [trainer], "other than yourself"),
    ]:
        response = _make(staff, ref, people, title=title)
        assert response.status_code == 422, (title, ref)
        assert message in response.text
    assert db.exec(select(CalibrationExercise)).all() == []
    assert db.exec(select(Assignment)).all() == []
    assert phone.get("/exercises").status_code == 403
    assert phone.post("/exercises", data={}).status_code == 403
