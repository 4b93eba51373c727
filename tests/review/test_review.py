"""Review states through the real app: received on submit, approved or has issues with a
comment (which reopens the observation for the volunteer), resubmission makes it received
again, every change kept; the staff queue and its filters; what the volunteer sees."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from app.audit.models import AuditEntry
from app.auth.models import Role
from app.db import utcnow
from app.observations.models import Observation, ObservationRevision
from app.review.models import ReviewEvent
from tests.program.builders import hearing, submit
from tests.protocols.factories import default_published
from tests.sync.builders import send


@pytest.fixture
def version(db: Session):
    return default_published(db)


def _review(client, observation_id, state, comment=""):
    return client.post(f"/review/{observation_id}", data={"state": state, "comment": comment})


def test_submitted_is_received_then_has_issues_reopens_and_resubmission_is_received_again(
    db, version, volunteer, trainer
):
    phone, me = volunteer
    staff, reviewer = trainer
    hid = str(uuid.uuid4())
    oid, body = submit(phone, version.id, hearings=[hearing(0, hearing_id=hid, case="27-CR-1")])

    doc = phone.get(f"/api/v1/observations/{oid}").json()
    assert doc["review"]["state"] == "received" and doc["review"]["comment"] is None

    # Final while received: a later change from the phone is refused.
    late = {**body, "notes": "late", "client_edited_at": "2026-11-24T10:00:00+00:00"}
    assert send(phone, late)[0]["result"] == "invalid"

    response = _review(staff, oid, "has_issues", "Hearing 1: who asked for the continuance?")
    assert response.status_code == 303
    doc = phone.get(f"/api/v1/observations/{oid}").json()
    assert doc["status"] == "draft"
    assert doc["review"] == {
        "state": "has_issues",
        "comment": "Hearing 1: who asked for the continuance?",
        "updated_at": doc["review"]["updated_at"],
    }
    # The phone gets it back as an editable draft, newer than its submitted copy.
    pack = phone.get("/api/v1/offline-pack").json()
    (draft,) = [d for d in pack["drafts"] if d["id"] == oid]
    assert draft["revision"] == 2 and draft["review"]["state"] == "has_issues"
    reopen = db.exec(
        select(ObservationRevision).where(
            ObservationRevision.observation_id == uuid.UUID(oid), ObservationRevision.revision == 2
        )
    ).one()
    assert reopen.user_id == reviewer.id and reopen.status == "draft"

    # The volunteer corrects it (a draft save, then the resubmission), based on revision 2.
    fixed = [hearing(0, hearing_id=hid, case="27-CR-1", continued="yes",
                     continuance_requested_by="defense")]  # fmt: skip
    submit(
        phone, version.id, observation_id=oid, hearings=fixed, status="draft", edited=60, based_on=2
    )
    submit(phone, version.id, observation_id=oid, hearings=fixed, edited=120, based_on=3)
    doc = phone.get(f"/api/v1/observations/{oid}").json()
    assert doc["status"] == "submitted" and doc["revision"] == 4
    assert doc["review"]["state"] == "received"
    assert doc["hearings"][0]["answers"]["continuance_requested_by"] == "defense"

    db.expire_all()
    events = db.exec(
        select(ReviewEvent)
        .where(ReviewEvent.observation_id == uuid.UUID(oid))
        .order_by(col(ReviewEvent.id))
    ).all()
    assert [(e.state, e.actor_id) for e in events] == [
        ("received", me.id),
        ("has_issues", reviewer.id),
        ("received", me.id),
    ]
    audit = db.exec(select(AuditEntry).where(AuditEntry.action == "review.has_issues")).one()
    assert audit.actor_id == reviewer.id and audit.target == f"observation:{oid}"
    assert "continuance" not in str(audit.detail)  # no observation content in the log

    # The hearing's page shows the correction field by field, with who.
    page = staff.get(f"/hearings/{hid}")
    assert page.status_code == 200
    changes = page.text.split('id="changes-h"')[1]
    assert "Who asked to continue it?</th><td>—</td><td>Defense" in changes
    assert reviewer.display_name in changes and me.display_name in changes
    assert "Revision 4" in changes

    # Approve now: approved, and the history is on the observation's page.
    assert _review(staff, oid, "approved").status_code == 303
    assert phone.get(f"/api/v1/observations/{oid}").json()["review"]["state"] == "approved"
    detail = staff.get(f"/observations/{oid}").text
    assert detail.count("<li><strong>") >= 4 and "Has issues" in detail


def test_bad_review_input_is_a_field_error_and_changes_nothing(db, version, volunteer, trainer):
    phone, _ = volunteer
    staff, _ = trainer
    oid, _ = submit(phone, version.id)
    draft_id, _ = submit(phone, version.id, status="draft")

    for state, comment, message in [
        ("has_issues", "   ", "Say what the volunteer should fix."),
        ("maybe", "", "Choose Approve or Has issues."),
        ("has_issues", "x" * 2001, "At most 2000 characters."),
    ]:
        response = staff.post(
            f"/review/{oid}",
            data={"state": state, "comment": comment},
            headers={"Accept": "text/html"},
        )
        assert response.status_code == 422, (state, response.text[:200])
        assert message in response.text
    assert staff.post(f"/review/{draft_id}", data={"state": "approved"}).status_code == 409
    assert staff.post(f"/review/{uuid.uuid4()}", data={"state": "approved"}).status_code == 404
    db.expire_all()
    assert db.exec(select(ReviewEvent).where(ReviewEvent.state != "received")).all() == []
    assert db.get(Observation, uuid.UUID(oid)).status == "submitted"  # type: ignore[union-attr]

    # Sent back once, it cannot be reviewed again until the volunteer resubmits.
    assert _review(staff, oid, "has_issues", "Please check hearing 1.").status_code == 303
    assert _review(staff, oid, "approved").status_code == 422


def test_the_queue_filters_by_state_flag_and_age_and_is_staff_only(
    db, version, volunteer, client_for, organizer
):
    phone, _ = volunteer
    staff, _ = organizer
    plain, _ = submit(phone, version.id)
    flagged, _ = submit(phone, version.id, hearings=[hearing(0), hearing(1, flag=True)])
    approved, _ = submit(phone, version.id)
    assert _review(staff, approved, "approved").status_code == 303
    # An old submission.
    old = db.get(Observation, uuid.UUID(plain))
    old.submitted_at = utcnow() - timedelta(days=5)  # type: ignore[union-attr]
    db.add(old)
    db.commit()

    def ids(query: str) -> set[str]:
        response = staff.get(f"/review{query}")
        assert response.status_code == 200, response.text
        return {o for o in (plain, flagged, approved) if f'data-observation="{o}"' in response.text}

    assert ids("") == {plain, flagged, approved}
    assert ids("?state=received") == {plain, flagged}
    assert ids("?state=approved") == {approved}
    assert ids("?flagged=1") == {flagged}
    assert ids("?older_than_days=3") == {plain}
    assert ids("?capture_flagged=1") == set()  # nothing flagged by the capture yet
    # A hearing whose phone clock jumped while it was open is flagged for staff.
    jumped_hearing = hearing(0)
    jumped_hearing["clock_jump_ms"] = -3_600_000
    jumped, _ = submit(phone, version.id, hearings=[jumped_hearing])
    assert ids("?capture_flagged=1") == set()  # (only the three above are looked for)
    response = staff.get("/review?capture_flagged=1")
    assert f'data-observation="{jumped}"' in response.text
    for other_id in (plain, flagged, approved):
        assert f'data-observation="{other_id}"' not in response.text

    bad = staff.get("/review?state=lost&older_than_days=soon")
    assert bad.status_code == 422
    assert "Choose received" in bad.text and "whole number of days" in bad.text

    other, _ = client_for(Role.volunteer)
    assert phone.get("/review").status_code == 403
    assert phone.post(f"/review/{plain}", data={"state": "approved"}).status_code == 403
    assert other.get(f"/api/v1/observations/{plain}").status_code == 404


def test_a_volunteer_sees_only_their_own_comments(db, version, client_for, trainer):
    staff, _ = trainer
    (alice, _), (bob, _) = client_for(Role.volunteer), client_for(Role.volunteer)
    mine, _ = submit(alice, version.id)
    theirs, _ = submit(bob, version.id)
    assert _review(staff, mine, "has_issues", "Alice: fix the docket number.").status_code == 303
    assert _review(staff, theirs, "has_issues", "Bob: what was the sentence?").status_code == 303

    for page in ("/", "/my/assignments"):
        text = alice.get(page).text
        assert "Alice: fix the docket number." in text and "Bob:" not in text
    pack = alice.get("/api/v1/offline-pack").json()
    assert [d["review"]["comment"] for d in pack["drafts"]] == ["Alice: fix the docket number."]


def test_approved_only_filter_and_review_state_in_the_json_export(
    db, version, volunteer, organizer
):
    phone, _ = volunteer
    staff, _ = organizer
    approved, _ = submit(phone, version.id, hearings=[hearing(0, case="A-1")])
    submit(phone, version.id, hearings=[hearing(0, case="B-2")])
    assert _review(staff, approved, "approved").status_code == 303

    everything = staff.get("/hearings").text
    only = staff.get("/hearings?approved_only=true").text
    assert "A-1" in everything and "B-2" in everything
    assert "A-1" in only and "B-2" not in only

    made = staff.post(
        "/sets", data={"name": "Approved", "description": "", "approved_only": "true"}
    )
    assert made.status_code == 303, made.text[:300]
    exported = staff.get(made.headers["location"] + "/export.json")
    assert exported.status_code == 200
    observations = json.loads(exported.content)["observations"]
    assert [(o["id"], o["review"]["state"]) for o in observations] == [(approved, "approved")]
    doc = staff.get(f"/api/v1/observations/{approved}").json()
    assert doc["review"]["state"] == "approved"
