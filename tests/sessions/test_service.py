"""Court sessions, recurring calendars, assignments and their life cycle, on the real database."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import func, select

from app.auth.models import Role
from app.protocols.models import VersionStatus
from app.sessions import service as sessions_service
from app.sessions.models import Assignment, Court, CourtSession, Judge
from app.sessions.schemas import AssignIn, CourtSessionIn, RecurrenceIn, parse_form
from tests.factories import create_user
from tests.sessions import factories as f

TODAY = date(2026, 12, 3)  # a Thursday


def count(db, model) -> int:
    return db.exec(select(func.count()).select_from(model)).one()


def recurrence(**values) -> RecurrenceIn:
    base = {
        "court": "Hennepin County District Court",
        "courtroom": "3B",
        "calendar_type": "sentencing",
        "judge": "Maria Alvarez",
        "start_time": "09:00",
        "weekday": "1",
        "start_date": "2026-12-03",
        "weeks": "",
        "end_date": "",
    }
    base.update(values)
    data, errors = parse_form(RecurrenceIn, base)
    assert not errors, errors
    return data


# --- forms -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"session_date": "2026-02-30"}, "session_date", "Enter the date of the sitting"),
        ({"session_date": ""}, "session_date", "This field is required."),
        ({"session_date": "1999-05-01"}, "session_date", "between 2000 and 2100"),
        ({"start_time": "25:00"}, "start_time", "Enter a time like 09:00"),
        ({"calendar_type": ""}, "calendar_type", "Choose a calendar type."),
        ({"calendar_type": "trial-by-combat"}, "calendar_type", "Choose a calendar type."),
        ({"court": "   "}, "court", "This field is required."),
        ({"courtroom": "x" * 61}, "courtroom", "at most 60 characters"),
    ],
)
def test_bad_single_session_fields_get_a_field_message(values, field, message):
    data, errors = parse_form(CourtSessionIn, f.form(**values))
    assert data is None
    assert message in errors[field]


def test_optional_fields_may_be_empty_and_names_are_tidied():
    data, errors = parse_form(
        CourtSessionIn, f.form(judge="", start_time="", court="  Hennepin   County ")
    )
    assert not errors
    assert (data.judge, data.start_time, data.court) == (None, None, "Hennepin County")


# --- single sessions and names ---------------------------------------------------------------


def test_create_session_stores_court_and_judge_once(db):
    first = f.sitting(db, day=TODAY)
    second = f.sitting(db, day=TODAY + timedelta(days=7), courtroom="5A")
    assert first.court_id == second.court_id and first.judge_id == second.judge_id
    assert count(db, Court) == 1 and count(db, Judge) == 1


def test_the_same_sitting_twice_is_refused_with_a_date_message(db):
    f.sitting(db, day=TODAY)
    data, _ = parse_form(CourtSessionIn, f.form(session_date=TODAY.isoformat(), courtroom="3b"))
    with pytest.raises(sessions_service.FormInvalid) as exc:
        sessions_service.create_court_session(session=db, data=data, created_by_id=None)
    assert "already has that sitting" in exc.value.fields["session_date"]
    assert count(db, CourtSession) == 1
    # One sitting per court, courtroom, date and calendar type, whatever its start time: ad hoc
    # observations of one sitting must meet on one row to be compared.
    data, _ = parse_form(CourtSessionIn, f.form(session_date=TODAY.isoformat(), start_time="13:30"))
    with pytest.raises(sessions_service.FormInvalid) as exc:
        sessions_service.create_court_session(session=db, data=data, created_by_id=None)
    assert "already has that sitting" in exc.value.fields["session_date"]
    # Another calendar type the same day is another sitting.
    data, _ = parse_form(
        CourtSessionIn, f.form(session_date=TODAY.isoformat(), calendar_type="review")
    )
    sessions_service.create_court_session(session=db, data=data, created_by_id=None)
    assert count(db, CourtSession) == 2


def test_the_database_refuses_a_second_row_for_one_sitting(db):
    """The unique index holds even for a writer that skips the service's check."""
    first = f.sitting(db, day=TODAY, courtroom="3B")
    db.add(
        CourtSession(
            court_id=first.court_id, courtroom="3b", session_date=TODAY,
            calendar_type=first.calendar_type,
        )
    )  # fmt: skip
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()
    assert count(db, CourtSession) == 1


def test_another_spelling_of_a_known_court_is_the_same_court_without_asking(db):
    f.sitting(db, day=TODAY)
    data, _ = parse_form(
        CourtSessionIn,
        f.form(court="HENNEPIN county district court.", judge="Judge Maria Alvarez"),
    )
    made = sessions_service.create_court_session(session=db, data=data, created_by_id=None)
    assert count(db, Court) == 1 and count(db, Judge) == 1
    assert db.get(Court, made.court_id).name == "Hennepin County District Court"


def test_a_near_miss_name_is_offered_as_a_match_until_confirmed(db):
    f.sitting(db, day=TODAY)
    data, _ = parse_form(
        CourtSessionIn,
        f.form(court="Hennepin County Distrct Court", judge="Judge Maria Alvares"),
    )
    with pytest.raises(sessions_service.NamesToConfirm) as exc:
        sessions_service.create_court_session(session=db, data=data, created_by_id=None)
    assert exc.value.suggestions == {
        "court": ["Hennepin County District Court"],
        "judge": ["Maria Alvarez"],
    }
    assert exc.value.fields["court"] == "Did you mean “Hennepin County District Court”?"
    assert count(db, CourtSession) == 1 and count(db, Court) == 1

    data, _ = parse_form(
        CourtSessionIn,
        f.form(
            court="Hennepin County Distrct Court",
            judge="Judge Maria Alvares",
            court_is_new="1",
            judge_is_new="on",
        ),
    )
    sessions_service.create_court_session(session=db, data=data, created_by_id=None)
    assert count(db, Court) == 2 and count(db, Judge) == 2


def test_choices_list_known_names_and_courtrooms_once(db):
    f.sitting(db, day=TODAY, courtroom="3B")
    f.sitting(db, day=TODAY + timedelta(days=1), courtroom="3b", judge="Thomas Becker")
    f.sitting(db, day=TODAY, courtroom="1753", judge=None)
    choices = sessions_service.court_and_judge_choices(session=db)
    assert choices.courts == ["Hennepin County District Court"]
    assert choices.judges == ["Maria Alvarez", "Thomas Becker"]
    assert sorted(c.lower() for c in choices.courtrooms) == ["1753", "3b"]


# --- recurring calendars -----------------------------------------------------------------------


def test_every_tuesday_for_six_weeks():
    days = sessions_service.recurrence_dates(recurrence(weeks="6"))
    assert days[0] == date(2026, 12, 8) and all(d.weekday() == 1 for d in days)
    assert days == [date(2026, 12, 8) + timedelta(weeks=n) for n in range(6)]


def test_until_an_end_date_includes_the_end_date():
    days = sessions_service.recurrence_dates(recurrence(weekday="3", end_date="2026-12-17"))
    assert days == [date(2026, 12, 3), date(2026, 12, 10), date(2026, 12, 17)]


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"end_date": "2026-11-01"}, "end_date", "before the first date"),
        ({}, "weeks", "number of weeks or an end date"),
        ({"weeks": "3", "end_date": "2027-01-01"}, "end_date", "not both"),
        ({"end_date": "2028-06-01"}, "end_date", "at most 52"),
        ({"weekday": "1", "end_date": "2026-12-05"}, "end_date", "no Tuesday"),
    ],
)
def test_recurrences_that_make_no_sense_get_a_field_message(values, field, message):
    with pytest.raises(sessions_service.FormInvalid) as exc:
        sessions_service.recurrence_dates(recurrence(**values))
    assert message in exc.value.fields[field]


@pytest.mark.parametrize(
    ("values", "field"),
    [({"weeks": "53"}, "weeks"), ({"weeks": "0"}, "weeks"), ({"weekday": "7"}, "weekday"),
     ({"start_date": "2026-13-01"}, "start_date"), ({"end_date": "someday"}, "end_date")],
)  # fmt: skip
def test_recurring_form_fields_are_checked(values, field):
    base = {"court": "C", "courtroom": "1", "calendar_type": "review", "weekday": "1",
            "start_date": "2026-12-01", "weeks": "4"}  # fmt: skip
    data, errors = parse_form(RecurrenceIn, {**base, **values})
    assert data is None and field in errors


def test_recurring_sessions_share_a_series_and_skip_existing_sittings(db):
    f.sitting(db, day=date(2026, 12, 15))  # the second Tuesday already exists
    plan = sessions_service.plan_recurrence(session=db, data=recurrence(weeks="6"))
    assert [p.exists for p in plan] == [False, True, False, False, False, False]
    created, skipped = sessions_service.create_recurring_sessions(
        session=db, data=recurrence(weeks="6"), created_by_id=None
    )
    assert len(created) == 5 and skipped == [date(2026, 12, 15)]
    assert len({s.series_id for s in created}) == 1 and created[0].series_id
    assert count(db, CourtSession) == 6
    # Running it again creates nothing new.
    created, skipped = sessions_service.create_recurring_sessions(
        session=db, data=recurrence(weeks="6"), created_by_id=None
    )
    assert created == [] and len(skipped) == 6


def test_recurring_with_a_near_miss_name_asks_first_and_stores_nothing(db):
    f.sitting(db, day=TODAY)
    with pytest.raises(sessions_service.NamesToConfirm):
        sessions_service.create_recurring_sessions(
            session=db, data=recurrence(weeks="2", court="Hennepin Cnty District Court"),
            created_by_id=None,
        )  # fmt: skip
    assert count(db, CourtSession) == 1


# --- assigning ------------------------------------------------------------------------------


@pytest.fixture
def setup(db):
    trainer = create_user(db, role=Role.trainer)
    ann = create_user(db, role=Role.volunteer, display_name="Ann")
    bob = create_user(db, role=Role.volunteer, display_name="Bob")
    version = f.protocol_version(db)
    today = f.sitting(db, day=TODAY)
    return {"trainer": trainer, "ann": ann, "bob": bob, "version": version, "today": today}


def assign(db, s, *people, sitting=None, version=None):
    return sessions_service.assign(
        session=db,
        court_session_id=(sitting or s["today"]).id,
        data=AssignIn(
            volunteer_ids=[p.id for p in people], protocol_version_id=(version or s["version"]).id
        ),
        assigned_by_id=s["trainer"].id,
    )


def test_two_volunteers_on_one_session(db, setup):
    made = assign(db, setup, setup["ann"], setup["bob"])
    assert [a.status for a in made] == ["assigned", "assigned"]
    views = sessions_service.list_assignments_for_session(
        session=db, court_session_id=setup["today"].id
    )
    assert [v.volunteer_name for v in views] == ["Ann", "Bob"]
    assert views[0].protocol_name.startswith("Sentencing watch")
    assert views[0].court_session.judge == "Maria Alvarez"


def test_the_same_volunteer_twice_is_refused_and_nothing_is_stored(db, setup):
    assign(db, setup, setup["ann"])
    with pytest.raises(sessions_service.FormInvalid) as exc:
        assign(db, setup, setup["bob"], setup["ann"])
    assert exc.value.fields["volunteer_ids"] == "Already assigned to this session: Ann."
    assert count(db, Assignment) == 1


def test_after_a_cancellation_the_volunteer_can_be_assigned_again(db, setup):
    (first,) = assign(db, setup, setup["ann"])
    sessions_service.cancel_assignment(session=db, assignment_id=first.id)
    (again,) = assign(db, setup, setup["ann"])
    assert again.id != first.id and again.status == "assigned"


@pytest.mark.parametrize("status", [VersionStatus.draft, VersionStatus.retired])
def test_only_published_versions_can_be_assigned(db, setup, status):
    version = f.protocol_version(db, status=status)
    with pytest.raises(sessions_service.FormInvalid) as exc:
        assign(db, setup, setup["ann"], version=version)
    assert "published" in exc.value.fields["protocol_version_id"]
    assert count(db, Assignment) == 0


def test_organizers_and_inactive_accounts_cannot_be_assigned(db, setup):
    organizer = create_user(db, role=Role.organizer)
    gone = create_user(db, role=Role.volunteer, is_active=False)
    for person in (organizer, gone):
        with pytest.raises(sessions_service.FormInvalid):
            assign(db, setup, person)
    assert count(db, Assignment) == 0
    # Trainers observe too (reference notes for calibration).
    assign(db, setup, setup["trainer"])


def test_published_versions_lists_only_published(db, setup):
    f.protocol_version(db, name="Draft only", status=VersionStatus.draft)
    assert [v.id for v in sessions_service.published_versions(session=db)] == [setup["version"].id]


def test_status_moves_forward_only_and_never_out_of_cancelled(db, setup):
    (a, b) = assign(db, setup, setup["ann"], setup["bob"])
    mark = sessions_service.mark_assignment_status
    assert mark(session=db, assignment_id=a.id, status="in_progress").status == "in_progress"
    assert mark(session=db, assignment_id=a.id, status="assigned").status == "in_progress"
    assert mark(session=db, assignment_id=a.id, status="submitted").status == "submitted"
    assert mark(session=db, assignment_id=a.id, status="in_progress").status == "submitted"
    db.commit()
    sessions_service.cancel_assignment(session=db, assignment_id=b.id)
    assert mark(session=db, assignment_id=b.id, status="submitted").status == "cancelled"
    with pytest.raises(sessions_service.DomainError):
        mark(session=db, assignment_id=a.id, status="done")
    with pytest.raises(sessions_service.NotFound):
        mark(session=db, assignment_id=9999, status="submitted")


def test_cancel_only_before_the_observation_started(db, setup):
    (a,) = assign(db, setup, setup["ann"])
    sessions_service.mark_assignment_status(session=db, assignment_id=a.id, status="in_progress")
    db.commit()
    with pytest.raises(sessions_service.AssignmentLocked) as exc:
        sessions_service.cancel_assignment(session=db, assignment_id=a.id)
    assert exc.value.status_code == 409
    assert "in progress" in exc.value.message
    assert db.get(Assignment, a.id).status == "in_progress"


def test_reassign_cancels_the_old_and_makes_a_new_one(db, setup):
    (a,) = assign(db, setup, setup["ann"])
    new = sessions_service.reassign(
        session=db, assignment_id=a.id, volunteer_id=setup["bob"].id, assigned_by_id=None
    )
    db.refresh(a)
    assert (a.status, new.status, new.volunteer_id) == ("cancelled", "assigned", setup["bob"].id)
    assert new.protocol_version_id == a.protocol_version_id


def test_reassign_refuses_the_same_person_someone_already_there_or_a_started_one(db, setup):
    (a, b) = assign(db, setup, setup["ann"], setup["bob"])
    for target in (setup["ann"].id, setup["bob"].id, None):
        with pytest.raises(sessions_service.FormInvalid):
            sessions_service.reassign(
                session=db, assignment_id=a.id, volunteer_id=target, assigned_by_id=None
            )
    sessions_service.mark_assignment_status(session=db, assignment_id=b.id, status="submitted")
    db.commit()
    carl = create_user(db, role=Role.volunteer)
    with pytest.raises(sessions_service.AssignmentLocked):
        sessions_service.reassign(
            session=db, assignment_id=b.id, volunteer_id=carl.id, assigned_by_id=None
        )
    assert count(db, Assignment) == 2


# --- the volunteer's list and the pack ---------------------------------------------------------


def test_my_assignments_today_then_upcoming_then_past_each_in_order(db, setup):
    ann, bob = setup["ann"], setup["bob"]
    later_today = f.sitting(db, day=TODAY, courtroom="5A", start=time(13, 30))
    no_time_today = f.sitting(db, day=TODAY, courtroom="1753", start=None)
    tomorrow = f.sitting(db, day=TODAY + timedelta(days=1))
    next_week = f.sitting(db, day=TODAY + timedelta(days=7))
    yesterday = f.sitting(db, day=TODAY - timedelta(days=1))
    last_month = f.sitting(db, day=TODAY - timedelta(days=30))
    cancelled = f.sitting(db, day=TODAY + timedelta(days=2))
    for s in (next_week, later_today, last_month, tomorrow, setup["today"], yesterday,
              no_time_today, cancelled):  # fmt: skip
        assign(db, setup, ann, sitting=s)
    assign(db, setup, bob, sitting=tomorrow)
    (gone,) = [
        a for a in db.exec(select(Assignment).where(Assignment.court_session_id == cancelled.id))
    ]
    sessions_service.cancel_assignment(session=db, assignment_id=gone.id)

    mine = sessions_service.list_assignments_for_volunteer(
        session=db, volunteer_id=ann.id, today=TODAY
    )
    ids = lambda views: [v.court_session.id for v in views]  # noqa: E731
    assert ids(mine.today) == [setup["today"].id, later_today.id, no_time_today.id]
    assert ids(mine.upcoming) == [tomorrow.id, next_week.id]
    assert ids(mine.past) == [yesterday.id, last_month.id]
    assert all(v.volunteer_id == ann.id for v in mine.today + mine.upcoming + mine.past)
    assert mine.today[0].capture_url == f"/capture?assignment={mine.today[0].id}"

    theirs = sessions_service.list_assignments_for_volunteer(
        session=db, volunteer_id=bob.id, today=TODAY
    )
    assert (theirs.total, ids(theirs.upcoming)) == (1, [tomorrow.id])


def test_status_and_what_came_back_show_on_the_lists(db, setup):
    (a,) = assign(db, setup, setup["ann"])
    f.observation(db, assignment=a, observer=setup["ann"], court_session=setup["today"],
                  version=setup["version"], status="submitted", hearings=3)  # fmt: skip
    sessions_service.mark_assignment_status(session=db, assignment_id=a.id, status="submitted")
    db.commit()
    (view,) = sessions_service.list_assignments_for_volunteer(
        session=db, volunteer_id=setup["ann"].id, today=TODAY
    ).today
    assert (view.status, view.status_label) == ("submitted", "submitted")
    assert view.observation.hearing_count == 3 and view.observation.status == "submitted"


def test_pack_holds_open_assignments_from_a_week_back(db, setup):
    ann = setup["ann"]
    days = {n: f.sitting(db, day=TODAY + timedelta(days=n)) for n in (-8, -7, 1, 2, 3)}
    open_today = assign(db, setup, ann)[0]
    for s in days.values():
        assign(db, setup, ann, sitting=s)
    by_day = {a.court_session_id: a for a in db.exec(select(Assignment))}
    sessions_service.mark_assignment_status(
        session=db, assignment_id=by_day[days[1].id].id, status="in_progress"
    )
    sessions_service.mark_assignment_status(
        session=db, assignment_id=by_day[days[2].id].id, status="submitted"
    )
    db.commit()
    sessions_service.cancel_assignment(session=db, assignment_id=by_day[days[3].id].id)
    obs = f.observation(db, assignment=by_day[days[1].id], observer=ann,
                        court_session=days[1], version=setup["version"])  # fmt: skip

    pack = sessions_service.open_assignments_for_pack(session=db, volunteer_id=ann.id, today=TODAY)
    assert [p.court_session_id for p in pack] == [days[-7].id, setup["today"].id, days[1].id]
    assert pack[1].id == open_today.id and pack[1].protocol_version_id == setup["version"].id
    assert pack[1].court_session.court == "Hennepin County District Court"
    assert pack[1].court_session.start_time == time(9, 0)
    assert pack[2].observation_id == obs.id and pack[2].status == "in_progress"
    assert pack[0].model_dump(mode="json")["court_session"]["session_date"] == "2026-11-26"
    assert (
        sessions_service.open_assignments_for_pack(session=db, volunteer_id=setup["bob"].id) == []
    )


# --- ad hoc sittings, trainer overviews ---------------------------------------------------------


def test_find_or_create_reuses_the_same_sitting_whatever_the_spelling(db, setup):
    existing = setup["today"]
    found = sessions_service.find_or_create_court_session(
        session=db, court="hennepin county district court", courtroom=" 3b ",
        session_date=TODAY, start_time=None, judge=None, calendar_type="sentencing",
        created_by_id=None,
    )  # fmt: skip
    assert found.id == existing.id
    other = sessions_service.find_or_create_court_session(
        session=db, court="Hennepin County District Court", courtroom="3B",
        session_date=TODAY, start_time=time(9), judge="Judge Thomas Becker",
        calendar_type="review", created_by_id=setup["ann"].id,
    )  # fmt: skip
    assert other.id != existing.id and other.created_by_id == setup["ann"].id
    assert db.get(Judge, other.judge_id).name == "Judge Thomas Becker"
    db.commit()
    assert count(db, CourtSession) == 2 and count(db, Court) == 1


def test_find_or_create_refuses_an_unknown_calendar_type(db, setup):
    with pytest.raises(sessions_service.FormInvalid) as exc:
        sessions_service.find_or_create_court_session(
            session=db, court="Somewhere", courtroom="1", session_date=TODAY, start_time=None,
            judge=None, calendar_type="bail", created_by_id=None,
        )  # fmt: skip
    assert "calendar_type" in exc.value.fields
    db.rollback()
    assert count(db, Court) == 1


def test_find_or_create_fills_in_a_missing_judge(db, setup):
    bare = f.sitting(db, day=TODAY, courtroom="9", judge=None, start=None)
    found = sessions_service.find_or_create_court_session(
        session=db, court="Hennepin County District Court", courtroom="9", session_date=TODAY,
        start_time=time(10, 15), judge="Maria Alvarez", calendar_type="sentencing",
        created_by_id=None,
    )  # fmt: skip
    assert found.id == bare.id
    assert found.judge_id == setup["today"].judge_id and found.start_time == time(10, 15)


def test_session_list_counts_assignments_in_sql(db, setup):
    tomorrow = f.sitting(db, day=TODAY + timedelta(days=1))
    f.sitting(db, day=TODAY - timedelta(days=1))
    _, b = assign(db, setup, setup["ann"], setup["bob"])
    sessions_service.mark_assignment_status(session=db, assignment_id=b.id, status="submitted")
    db.commit()
    (c,) = assign(db, setup, setup["trainer"])
    sessions_service.cancel_assignment(session=db, assignment_id=c.id)
    rows = sessions_service.list_court_sessions(session=db, today=TODAY)
    assert [r.info.id for r in rows] == [setup["today"].id, tomorrow.id]
    assert (rows[0].assigned, rows[0].in_progress, rows[0].submitted) == (1, 0, 1)
    assert rows[1].active == 0
    past = sessions_service.list_court_sessions(session=db, today=TODAY, when="past")
    assert len(past) == 1


def test_volunteer_overview_and_history(db, setup):
    (a,) = assign(db, setup, setup["ann"])
    sessions_service.mark_assignment_status(session=db, assignment_id=a.id, status="in_progress")
    db.commit()
    elsewhere = f.sitting(db, day=TODAY, courtroom="7")
    f.observation(db, observer=setup["ann"], court_session=elsewhere, version=setup["version"],
                  hearings=2)  # fmt: skip
    rows = {r.name: r for r in sessions_service.list_volunteers(session=db)}
    ann = rows["Ann"]
    assert (ann.assigned, ann.in_progress, ann.submitted, ann.adhoc) == (0, 1, 0, 1)
    assert set(rows) == {"Ann", "Bob", setup["trainer"].display_name}
    (adhoc,) = sessions_service.adhoc_observations(session=db, volunteer_id=setup["ann"].id)
    assert adhoc[0].hearing_count == 2 and adhoc[1].courtroom == "7"
    history = sessions_service.volunteer_assignments(session=db, volunteer_id=setup["ann"].id)
    assert [h.id for h in history] == [a.id]


def test_demo_seed_is_idempotent_and_assigns_today(db, settings):
    from app.demo import seed_accounts
    from app.protocols.demo import seed_protocols
    from app.sessions.demo import seed_sessions

    lines: list[str] = []
    seed_accounts(session=db, settings=settings, log=lines.append)
    seed_sessions(session=db, settings=settings, log=lines.append)
    assert any("no assignment" in line for line in lines)
    assert count(db, Assignment) == 0
    seed_protocols(session=db, settings=settings, log=lines.append)
    seed_sessions(session=db, settings=settings, log=lines.append)
    sittings, judges = count(db, CourtSession), count(db, Judge)
    assert sittings >= 10 and judges == 3
    seed_sessions(session=db, settings=settings, log=lines.append)
    assert (count(db, CourtSession), count(db, Assignment)) == (sittings, 1)
    (mine,) = db.exec(select(Assignment)).all()
    assert db.get(CourtSession, mine.court_session_id).session_date == date.today()
