"""The start page by role: the volunteer's one tap to today's sitting, the trainer's to-do
figures, the organizer's headline findings."""

from __future__ import annotations

from datetime import date, timedelta

from app.auth.models import Role
from tests.program.builders import submit
from tests.protocols.factories import default_published
from tests.sessions import factories as session_factories


def test_each_role_starts_the_day_with_its_own_figures(db, client_for):
    version = default_published(db)
    phone, me = client_for(Role.volunteer)
    staff, _ = client_for(Role.trainer)
    boss, _ = client_for(Role.organizer)
    today = session_factories.sitting(db, day=date.today())
    session_factories.sitting(db, day=date.today() + timedelta(days=2), courtroom="9Z")
    todays = session_factories.assignment(db, court_session=today, volunteer=me, version=version)
    submit(phone, version.id, day=date.today())

    home = phone.get("/").text
    assert f'data-today-assignment="{todays.id}"' in home
    assert f'href="/capture?assignment={todays.id}"' in home
    assert 'data-home="trainer"' not in home and 'data-home="organizer"' not in home

    trainer_home = staff.get("/").text
    assert "<strong data-to-review>1</strong>" in trainer_home
    assert "<strong data-unassigned>1</strong>" in trainer_home
    assert "<strong data-overdue>0</strong>" in trainer_home

    organizer_home = boss.get("/").text
    assert "<strong data-hearings>1</strong>" in organizer_home
    assert 'data-home="observer"' not in organizer_home
