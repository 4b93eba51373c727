"""The sessions pages through the real app: trainers create and assign, volunteers see their own."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlmodel import func, select

from app.auth.models import Role
from app.sessions import service as sessions_service
from app.sessions.models import Assignment, Court, CourtSession
from tests.factories import create_user
from tests.sessions import factories as f

TODAY = date.today()


def count(db, model, *where) -> int:
    return db.exec(select(func.count()).select_from(model).where(*where)).one()


def field_error(html: str, field: str) -> str:
    match = re.search(rf'<p class="error" id="e-{field}">([^<]*)</p>', html)
    assert match, f"no error shown for {field}"
    return match.group(1)


# --- creating sessions --------------------------------------------------------------------


def test_trainer_creates_a_session_and_lands_on_it(trainer, db):
    client, user = trainer
    response = client.post("/sessions", data=f.form(session_date=TODAY.isoformat()))
    assert response.status_code == 303
    sitting = db.exec(select(CourtSession)).one()
    assert response.headers["location"].endswith(f"/sessions/{sitting.id}")
    assert sitting.created_by_id == user.id
    page = client.get(f"/sessions/{sitting.id}")
    assert page.status_code == 200
    assert "Court session created" in page.text
    assert "Hennepin County District Court" in page.text and "Maria Alvarez" in page.text
    listing = client.get("/sessions")
    assert f"/sessions/{sitting.id}" in listing.text and "today" in listing.text


def test_new_session_form_offers_known_names_in_datalists(trainer, db):
    f.sitting(db, day=TODAY, courtroom="1753", judge="Thomas Becker")
    page = trainer[0].get("/sessions/new")
    assert page.status_code == 200
    assert 'list="courts-list"' in page.text and 'list="judges-list"' in page.text
    assert '<option value="Hennepin County District Court">' in page.text
    assert '<option value="Thomas Becker">' in page.text
    assert '<option value="1753">' in page.text


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"session_date": "2026-02-30"}, "session_date", "Enter the date of the sitting"),
        ({"session_date": ""}, "session_date", "This field is required."),
        ({"start_time": "9 o'clock"}, "start_time", "Enter a time like 09:00"),
        ({"calendar_type": "party"}, "calendar_type", "Choose a calendar type."),
        ({"court": ""}, "court", "This field is required."),
    ],
)
def test_bad_input_gets_a_field_message_and_stores_nothing(trainer, db, values, field, message):
    response = trainer[0].post("/sessions", data=f.form(**values))
    assert response.status_code == 422
    assert message in field_error(response.text, field)
    assert count(db, CourtSession) == 0


def test_a_near_miss_court_is_offered_and_can_be_used_or_confirmed(trainer, db):
    client, _ = trainer
    f.sitting(db, day=TODAY)
    typo = f.form(court="Hennepin County Distrct Court", session_date="2026-12-08")
    response = client.post("/sessions", data=typo)
    assert response.status_code == 422
    assert field_error(response.text, "court") == "Did you mean “Hennepin County District Court”?"
    assert 'name="court_use" value="Hennepin County District Court"' in response.text
    assert "This is a different court" in response.text
    assert count(db, CourtSession) == 1

    # "Use …": the existing court, no new one.
    used = client.post("/sessions", data={**typo, "court_use": "Hennepin County District Court"})
    assert used.status_code == 303
    assert count(db, Court) == 1 and count(db, CourtSession) == 2

    # Or confirm the new spelling explicitly.
    confirmed = client.post(
        "/sessions", data={**typo, "session_date": "2026-12-09", "court_is_new": "1"}
    )
    assert confirmed.status_code == 303
    assert count(db, Court) == 2


def test_recurring_preview_lists_dates_and_stores_nothing_then_creates(trainer, db):
    client, _ = trainer
    form = {
        **f.form(),
        "weekday": "1",
        "start_date": "2026-12-01",
        "weeks": "6",
        "end_date": "",
    }
    del form["session_date"]
    preview = client.post("/sessions/recurring", data={**form, "action": "preview"})
    assert preview.status_code == 200
    assert "6 dates" in preview.text
    for day in ("Tue 01 Dec 2026", "Tue 05 Jan 2027"):
        assert day in preview.text
    assert count(db, CourtSession) == 0

    created = client.post("/sessions/recurring", data={**form, "action": "create"})
    assert created.status_code == 303
    days = db.exec(select(CourtSession.session_date).order_by(CourtSession.session_date)).all()
    assert days == [date(2026, 12, 1) + timedelta(weeks=n) for n in range(6)]
    listing = client.get("/sessions?when=upcoming")
    assert "Created 6 court sessions." in listing.text


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"end_date": "2026-11-01", "weeks": ""}, "end_date", "before the first date"),
        ({"start_date": "2026-12-32"}, "start_date", "Enter the first date"),
        ({"weeks": "60"}, "weeks", "from 1 to 52"),
        ({"weeks": "", "end_date": "2029-01-01"}, "end_date", "at most 52"),
    ],
)
def test_bad_recurring_calendars_get_field_messages(trainer, db, values, field, message):
    form = {**f.form(), "weekday": "1", "start_date": "2026-12-01", "weeks": "6", **values}
    for action in ("preview", "create"):
        response = trainer[0].post("/sessions/recurring", data={**form, "action": action})
        assert response.status_code == 422
        assert message in field_error(response.text, field)
    assert count(db, CourtSession) == 0


# --- assigning -------------------------------------------------------------------------------


@pytest.fixture
def planned(db):
    version = f.protocol_version(db, name="Sentencing calendar")
    sitting = f.sitting(db, day=TODAY)
    ann = create_user(db, role=Role.volunteer, display_name="Ann Observer")
    bob = create_user(db, role=Role.volunteer, display_name="Bob Observer")
    return {"version": version, "sitting": sitting, "ann": ann, "bob": bob}


def assign_url(p) -> str:
    return f"/sessions/{p['sitting'].id}/assign"


def test_trainer_assigns_two_volunteers_and_sees_them(trainer, db, planned):
    client, user = trainer
    page = client.get(f"/sessions/{planned['sitting'].id}")
    assert "Sentencing calendar — v1" in page.text and "Ann Observer" in page.text
    response = client.post(
        assign_url(planned),
        data={
            "volunteer_ids": [str(planned["ann"].id), str(planned["bob"].id)],
            "protocol_version_id": str(planned["version"].id),
        },
    )
    assert response.status_code == 303
    rows = db.exec(select(Assignment)).all()
    assert {a.volunteer_id for a in rows} == {planned["ann"].id, planned["bob"].id}
    assert {a.assigned_by_id for a in rows} == {user.id}
    page = client.get(f"/sessions/{planned['sitting'].id}")
    assert "Assigned 2 volunteers." in page.text
    assert page.text.count('data-status="assigned"') >= 2


def test_assigning_twice_or_without_volunteers_is_a_field_error(trainer, db, planned):
    client, _ = trainer
    data = {
        "volunteer_ids": [str(planned["ann"].id)],
        "protocol_version_id": str(planned["version"].id),
    }
    assert client.post(assign_url(planned), data=data).status_code == 303
    again = client.post(assign_url(planned), data=data)
    assert again.status_code == 422
    assert "Already assigned to this session: Ann Observer." in field_error(
        again.text, "volunteer_ids"
    )
    empty = client.post(
        assign_url(planned), data={"protocol_version_id": str(planned["version"].id)}
    )
    assert empty.status_code == 422
    assert "Choose at least one volunteer." in field_error(empty.text, "volunteer_ids")
    junk = client.post(
        assign_url(planned), data={"volunteer_ids": ["abc"], "protocol_version_id": "x"}
    )
    assert junk.status_code == 422
    assert count(db, Assignment) == 1


def test_a_draft_protocol_cannot_be_assigned(trainer, db, planned):
    draft = f.protocol_version(db, status="draft")
    response = trainer[0].post(
        assign_url(planned),
        data={"volunteer_ids": [str(planned["ann"].id)], "protocol_version_id": str(draft.id)},
    )
    assert response.status_code == 422
    assert "published" in field_error(response.text, "protocol_version_id")
    assert count(db, Assignment) == 0


def test_cancel_before_start_then_409_once_started(trainer, db, planned):
    client, _ = trainer
    a, b = (
        f.assignment(db, court_session=planned["sitting"], volunteer=p, version=planned["version"])
        for p in (planned["ann"], planned["bob"])
    )
    response = client.post(f"/assignments/{a.id}/cancel")
    assert response.status_code == 303
    db.refresh(a)
    assert a.status == "cancelled"

    sessions_service.mark_assignment_status(session=db, assignment_id=b.id, status="in_progress")
    db.commit()
    refused = client.post(f"/assignments/{b.id}/cancel")
    assert refused.status_code == 409
    assert (
        "This assignment is in progress: only an assignment that has not started can be cancelled."
        in refused.text
    )
    db.refresh(b)
    assert b.status == "in_progress"
    assert client.post("/assignments/999/cancel").status_code == 404


def test_reassign_hands_over_to_another_volunteer(trainer, db, planned):
    client, _ = trainer
    a = f.assignment(
        db, court_session=planned["sitting"], volunteer=planned["ann"], version=planned["version"]
    )
    same = client.post(
        f"/assignments/{a.id}/reassign", data={"volunteer_id": str(planned["ann"].id)}
    )
    assert same.status_code == 422
    assert "someone other" in field_error(same.text, f"re-{a.id}")
    response = client.post(
        f"/assignments/{a.id}/reassign", data={"volunteer_id": str(planned["bob"].id)}
    )
    assert response.status_code == 303
    db.refresh(a)
    assert a.status == "cancelled"
    (new,) = db.exec(select(Assignment).where(Assignment.status == "assigned")).all()
    assert new.volunteer_id == planned["bob"].id
    started = client.post(
        f"/assignments/{a.id}/reassign", data={"volunteer_id": str(planned["bob"].id)}
    )
    assert started.status_code == 409


def test_trainer_sees_what_came_back_per_session_and_per_volunteer(trainer, db, planned):
    client, _ = trainer
    a = f.assignment(
        db, court_session=planned["sitting"], volunteer=planned["ann"], version=planned["version"]
    )
    obs = f.observation(db, assignment=a, observer=planned["ann"], court_session=planned["sitting"],
                        version=planned["version"], status="submitted", hearings=4)  # fmt: skip
    sessions_service.mark_assignment_status(session=db, assignment_id=a.id, status="submitted")
    db.commit()
    detail = client.get(f"/sessions/{planned['sitting'].id}")
    assert str(obs.id)[:8] in detail.text and "4 hearings" in detail.text
    assert "can no longer change" in detail.text
    people = client.get("/sessions/volunteers")
    assert people.status_code == 200 and "Ann Observer" in people.text
    one = client.get(f"/sessions/volunteers/{planned['ann'].id}")
    assert one.status_code == 200
    assert f'data-assignment="{a.id}"' in one.text and "submitted" in one.text
    assert client.get("/sessions/volunteers/99999").status_code == 404


# --- the volunteer's list and who sees what ----------------------------------------------------


def test_my_assignments_groups_and_shows_only_my_own(client_for, db, planned):
    ann_client, ann = client_for(Role.volunteer, display_name="Ann Again")
    later = f.sitting(db, day=TODAY + timedelta(days=3), courtroom="5A", judge="Thomas Becker")
    before = f.sitting(db, day=TODAY - timedelta(days=3), courtroom="1753")
    v = planned["version"]
    mine_today = f.assignment(db, court_session=planned["sitting"], volunteer=ann, version=v)
    mine_later = f.assignment(db, court_session=later, volunteer=ann, version=v)
    mine_before = f.assignment(db, court_session=before, volunteer=ann, version=v)
    sessions_service.mark_assignment_status(
        session=db, assignment_id=mine_before.id, status="submitted"
    )
    db.commit()
    theirs = f.assignment(db, court_session=later, volunteer=planned["bob"], version=v)

    page = ann_client.get("/my/assignments")
    assert page.status_code == 200
    html = page.text
    assert 'data-page="my-assignments"' in html
    assert '<script type="module" src="/static/js/register-sw.js"></script>' in html
    assert 'href="/capture?adhoc=1"' in html
    groups = {
        name: re.search(rf'data-group="{name}">(.*?)</section>', html, re.S).group(1)
        for name in ("today", "upcoming", "past")
    }
    assert f'href="/capture?assignment={mine_today.id}"' in groups["today"]
    assert f'href="/capture?assignment={mine_later.id}"' in groups["upcoming"]
    assert (
        "Thomas Becker" in groups["upcoming"] and "Courtroom 5A · Sentencing" in groups["upcoming"]
    )
    assert f'data-assignment="{mine_before.id}" data-status="submitted"' in groups["past"]
    assert f"assignment={theirs.id}" not in html
    assert (
        html.index('data-group="today"')
        < html.index('data-group="upcoming"')
        < html.index('data-group="past"')
    )


def test_a_cancelled_assignment_leaves_the_volunteers_list(client_for, db, planned):
    ann_client, ann = client_for(Role.volunteer)
    a = f.assignment(
        db, court_session=planned["sitting"], volunteer=ann, version=planned["version"]
    )
    assert f"assignment={a.id}" in ann_client.get("/my/assignments").text
    sessions_service.cancel_assignment(session=db, assignment_id=a.id)
    assert f"assignment={a.id}" not in ann_client.get("/my/assignments").text


def test_volunteers_cannot_use_the_trainer_pages(volunteer, db, planned):
    client, user = volunteer
    a = f.assignment(
        db, court_session=planned["sitting"], volunteer=user, version=planned["version"]
    )
    for method, path in [
        ("GET", "/sessions"),
        ("GET", f"/sessions/{planned['sitting'].id}"),
        ("GET", "/sessions/volunteers"),
        ("POST", "/sessions"),
        ("POST", f"/sessions/{planned['sitting'].id}/assign"),
        ("POST", f"/assignments/{a.id}/cancel"),
        ("POST", f"/assignments/{a.id}/reassign"),
    ]:
        assert client.request(method, path).status_code == 403, path
    db.refresh(a)
    assert a.status == "assigned"


def test_organizers_have_no_assignments_page_and_anonymous_must_sign_in(organizer, client):
    assert organizer[0].get("/my/assignments").status_code == 403
    assert organizer[0].get("/sessions").status_code == 403
    response = client.get("/my/assignments")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_without_csrf_token_nothing_is_created(app, trainer, db):
    client, _ = trainer
    token = client.headers.pop("X-CSRF-Token")
    try:
        assert client.post("/sessions", data=f.form()).status_code == 403
    finally:
        client.headers["X-CSRF-Token"] = token
    assert count(db, CourtSession) == 0


def test_nav_shows_the_pages_by_role(trainer, volunteer):
    assert "Court sessions" in trainer[0].get("/").text
    home = volunteer[0].get("/").text
    assert "My assignments" in home and "Court sessions" not in home
