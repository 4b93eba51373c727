"""Scheduling through the real app: conflicts of interest refuse assignments and sign-ups,
sign-up respects places (also when volunteers race), deadlines show overdue and due, and the
private iCalendar feed lists only its owner's sittings and can be renewed."""

from __future__ import annotations

import threading
from datetime import date, time, timedelta

import pytest
from icalendar import Calendar
from sqlmodel import Session, select

from app.auth.models import Role
from app.scheduling import service as scheduling_service
from app.scheduling.models import ConflictOfInterest
from app.sessions.models import Assignment, AssignmentStatus, Judge
from tests.factories import create_user
from tests.sessions import factories as session_factories


@pytest.fixture
def version(db: Session):
    return session_factories.protocol_version(db)


def _judge_id(db: Session, name: str = "Maria Alvarez") -> int:
    return db.exec(select(Judge.id).where(Judge.name == name)).one()


def test_a_declared_judge_conflict_refuses_the_assignment_and_shows_who_is_free(
    db, version, client_for, trainer
):
    staff, _ = trainer
    sitting = session_factories.sitting(db, day=date.today() + timedelta(days=3))
    (phone, conflicted), (_, free) = client_for(Role.volunteer), client_for(Role.volunteer)
    made = phone.post("/my/conflicts", data={"judge_id": str(_judge_id(db)), "court_id": "",
                                             "relationship": "I clerked for this judge"})  # fmt: skip
    assert made.status_code == 303
    assert "Judge Maria Alvarez" in phone.get("/my/conflicts").text

    refused = staff.post(
        f"/sessions/{sitting.id}/assign",
        data={"volunteer_ids": [str(conflicted.id)], "protocol_version_id": str(version.id)},
    )
    assert refused.status_code == 422
    assert f"{conflicted.display_name} declared a conflict with Judge Maria Alvarez" in refused.text
    assert db.exec(select(Assignment)).all() == []

    page = staff.get(f"/sessions/{sitting.id}").text
    fieldset = page.split("<legend>Volunteers</legend>")[1].split("</fieldset>")[0]
    assert f'value="{free.id}"' in fieldset and f'value="{conflicted.id}"' not in fieldset
    assert "Not free (conflict of interest)" in fieldset

    assert (
        staff.post(
            f"/sessions/{sitting.id}/assign",
            data={"volunteer_ids": [str(free.id)], "protocol_version_id": str(version.id)},
        ).status_code
        == 303
    )


def test_bad_conflict_declarations_are_field_errors_and_store_nothing(db, volunteer):
    phone, _me = volunteer
    for data, message in [
        ({"judge_id": "", "court_id": "", "relationship": "  "}, "Choose a judge or a court"),
        ({"judge_id": "999", "court_id": "", "relationship": ""}, "Choose from the list."),
        ({"judge_id": "", "court_id": "", "relationship": "x" * 301}, "At most 300"),
    ]:
        response = phone.post("/my/conflicts", data=data)
        assert response.status_code == 422 and message in response.text
    assert db.exec(select(ConflictOfInterest)).all() == []
    assert phone.post("/my/conflicts/12345/withdraw").status_code == 404


def test_sign_up_respects_places_and_conflicts(db, version, client_for, trainer):
    staff, _ = trainer
    sitting = session_factories.sitting(db, day=date.today() + timedelta(days=2))
    bad = staff.post(
        f"/sessions/{sitting.id}/signup",
        data={"places": "0", "protocol_version_id": str(version.id)},
    )
    assert bad.status_code == 422 and "from 1 to 50" in bad.text
    opened = staff.post(
        f"/sessions/{sitting.id}/signup",
        data={"places": "1", "protocol_version_id": str(version.id)},
    )
    assert opened.status_code == 303

    (first, a), (second, _), (third, _c) = (client_for(Role.volunteer) for _ in range(3))
    third.post(
        "/my/conflicts",
        data={"judge_id": "", "court_id": str(sitting.court_id), "relationship": ""},
    )
    assert "Not for you" in third.get("/my/signups").text
    assert third.post(f"/my/signups/{sitting.id}").status_code == 409

    listing = first.get("/my/signups").text
    assert f'data-sitting="{sitting.id}"' in listing and "1 of 1 place left" in listing
    assert first.post(f"/my/signups/{sitting.id}").status_code == 303
    assert first.post(f"/my/signups/{sitting.id}").status_code == 409  # already on it
    full = second.post(f"/my/signups/{sitting.id}")
    assert full.status_code == 409 and "All places on this sitting are taken." in full.text
    assigned = db.exec(select(Assignment.volunteer_id)).all()
    assert assigned == [a.id]

    staff.post(f"/sessions/{sitting.id}/signup/close")
    assert second.post(f"/my/signups/{sitting.id}").status_code == 409
    assert first.get("/my/signups").text.count("data-sitting=") == 0


def test_concurrent_sign_ups_never_overfill_the_places(app, db, version):
    sitting = session_factories.sitting(db, day=date.today() + timedelta(days=1))
    scheduling_service.open_signup(session=db, court_session_id=sitting.id, places="2",
                                   protocol_version_id=str(version.id), opened_by_id=None)  # fmt: skip
    people = [create_user(db, role=Role.volunteer) for _ in range(6)]
    barrier = threading.Barrier(len(people))
    outcomes: list[str] = []

    def attempt(person) -> None:
        with Session(app.state.engine, expire_on_commit=False) as own:
            barrier.wait()
            try:
                scheduling_service.sign_up(
                    session=own, volunteer=person, court_session_id=sitting.id
                )
                outcomes.append("in")
            except scheduling_service.SchedulingInvalid:
                outcomes.append("full")

    threads = [threading.Thread(target=attempt, args=(p,)) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.expire_all()
    assert sorted(outcomes) == ["full"] * 4 + ["in"] * 2
    assert (
        len(db.exec(select(Assignment).where(Assignment.court_session_id == sitting.id)).all()) == 2
    )


def test_overdue_for_trainers_and_due_on_the_volunteer_home(
    db, version, volunteer, trainer, settings
):
    phone, me = volunteer
    staff, _ = trainer
    past = session_factories.sitting(db, day=date.today() - timedelta(days=3), start=time(9, 0))
    today = session_factories.sitting(db, day=date.today(), courtroom="5C", start=None)
    late = session_factories.assignment(db, court_session=past, volunteer=me, version=version)
    due = session_factories.assignment(db, court_session=today, volunteer=me, version=version)

    overdue = staff.get("/schedule/overdue").text
    assert (
        f'data-assignment="{late.id}"' in overdue and f'data-assignment="{due.id}"' not in overdue
    )
    home = phone.get("/").text
    assert "overdue" in home and f"/capture?assignment={due.id}" in home
    deadline = scheduling_service.due_at(
        today.session_date, None, settings.submission_deadline_hours
    )
    assert deadline.strftime("%a %d %b %H:%M") in home

    late.status = AssignmentStatus.submitted
    db.add(late)
    db.commit()
    assert f'data-assignment="{late.id}"' not in staff.get("/schedule/overdue").text
    assert phone.get("/schedule/overdue").status_code == 403


def test_the_calendar_feed_is_private_renewable_and_lists_only_its_owner(db, version, client_for):
    (phone, me), (_, other) = client_for(Role.volunteer), client_for(Role.volunteer)
    mine = session_factories.sitting(db, day=date.today() + timedelta(days=4), courtroom="1753")
    theirs = session_factories.sitting(db, day=date.today() + timedelta(days=5), courtroom="999")
    session_factories.assignment(db, court_session=mine, volunteer=me, version=version)
    session_factories.assignment(db, court_session=theirs, volunteer=other, version=version)

    page = phone.get("/my/calendar").text
    url = page.split("data-feed-url")[0].rsplit('value="', 1)[1].split('"')[0]
    path = url.removeprefix("http://testserver")
    anonymous = phone.__class__(phone.app, follow_redirects=False)
    feed = anonymous.get(path)
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    events = [e for e in Calendar.from_ical(feed.content).walk("VEVENT")]
    assert [str(e["location"]) for e in events] == [
        "Hennepin County District Court, courtroom 1753"
    ]
    assert "Submit your notes by" in str(events[0]["description"])

    assert phone.post("/my/calendar/renew").status_code == 303
    assert anonymous.get(path).status_code == 404
    assert anonymous.get("/calendar/not-a-token.ics").status_code == 404
    assert anonymous.get("/my/calendar").status_code == 303  # the page itself needs sign-in
