"""Running the program in Chromium: the volunteer's correction round trip (has issues → fix on
the phone → resubmit) and a trainee's calibration exercise, with screenshots of the pages."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlmodel import select

from app.auth.models import Role
from app.calibration.models import CalibrationExercise
from app.observations.models import Hearing, Observation
from app.review import service as review_service
from tests.browser.capture_helpers import (
    answer,
    axe_violations,
    choose,
    expect_status,
    observation_id_of,
    open_online,
    wait_ready,
)
from tests.browser.conftest import sign_in
from tests.capture.factories import capture_setup
from tests.factories import DEFAULT_PASSWORD, create_user

pytestmark = pytest.mark.browser

SCREENS = Path("test-results/screens")


def shoot(page: Page, name: str) -> None:
    """The page at phone (360x740) and laptop (1280x800) sizes."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    for width, height, label in ((360, 740, "phone"), (1280, 800, "laptop")):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(SCREENS / f"{name}-{label}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= max(width, 360) + 1, name


def _record_one_hearing(page: Page, case: str, answers: dict) -> None:
    choose(page, "could_hear", "mostly")
    page.get_by_role("button", name="New hearing").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hearing 1")
    page.get_by_label("Case reference").fill(case)
    pad = page.get_by_role("group", name="Who is speaking")
    pad.get_by_role("button", name="Judge", exact=True).click()
    pad.get_by_role("button", name="Prosecutor", exact=True).click()
    for key, value in answers.items():
        answer(page, key, value)
    page.get_by_role("button", name="End hearing").click()


def _submit(page: Page) -> None:
    page.get_by_role("link", name="Review and submit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Review and submit")
    page.get_by_role("button", name="Submit observation").click()
    page.get_by_role("button", name="Yes, submit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Submitted observation")
    expect_status(page, "All synced")


def _laptop_page(laptop: BrowserContext, email: str) -> Page:
    page = laptop.new_page()
    sign_in(page, email, DEFAULT_PASSWORD)
    return page


def test_has_issues_is_fixed_on_the_phone_and_resubmitted(phone, laptop, live_server):
    with live_server.session() as db:
        setup = capture_setup(db)
    page = phone.new_page()
    sign_in(page, setup.volunteer.email, DEFAULT_PASSWORD)
    open_online(page, f"/capture?assignment={setup.assignment.id}")
    observation_id = observation_id_of(page)
    _record_one_hearing(page, "27-CR-24-5005", {"continued": "no"})
    _submit(page)

    # The trainer reads it and sends it back with a comment.
    staff = _laptop_page(laptop, setup.trainer.email)
    staff.goto("/review")
    shoot(staff, "review-queue")
    staff.locator(f'tr[data-observation="{observation_id}"] a').click()
    staff.get_by_label("Comment to the volunteer").fill(
        "Hearing 1 was continued, wasn't it? Please check who asked."
    )
    staff.get_by_role("button", name="Has issues: send back").click()
    expect(staff.locator(".review-panel")).to_contain_text("Sent back to the volunteer")
    assert axe_violations(staff) == []
    shoot(staff, "observation-review")

    # On the phone: the comment on the start page, then in the list and the observation.
    page.goto("/")
    expect(page.locator("[data-sent-back]")).to_contain_text("Please check who asked.")
    shoot(page, "home-volunteer-sent-back")
    page.goto("/capture")
    wait_ready(page)
    expect(page.locator(".hearing-item [data-review-comment]")).to_contain_text(
        "Please check who asked."
    )
    page.goto(f"/capture?observation={observation_id}")
    wait_ready(page)
    expect(page.locator("[data-review-comment]")).to_contain_text("Please check who asked.")
    expect(page.get_by_role("button", name="New hearing")).to_be_visible()  # editable again
    assert axe_violations(page) == []
    shoot(page, "capture-sent-back")

    page.get_by_role("link", name="Hearing 1").click()
    answer(page, "continued", "yes")
    answer(page, "continuance_requested_by", "defense")
    page.go_back()
    wait_ready(page)
    _submit(page)

    with live_server.session() as db:
        observation = db.get(Observation, uuid.UUID(observation_id))
        assert observation is not None and observation.status == "submitted"
        review = review_service.review_of(session=db, observation_id=observation.id)
        assert review is not None and review.state == "received"
        (stored,) = db.exec(select(Hearing).where(Hearing.observation_id == observation.id)).all()
        assert stored.answers["continued"] == "yes"
        assert stored.answers["continuance_requested_by"] == "defense"
        hearing_id = stored.id

    staff.goto(f"/hearings/{hearing_id}")
    changes = staff.locator("[data-changes]")
    expect(changes).to_contain_text("Who asked to continue it?")
    expect(changes).to_contain_text(setup.volunteer.display_name)
    expect(changes).to_contain_text(setup.trainer.display_name)
    shoot(staff, "hearing-changes")
    staff.goto("/cases?docket=27cr245005")
    shoot(staff, "cases-search")


def test_a_trainee_records_an_exercise_and_sees_agreement(phone, laptop, live_server):
    with live_server.session() as db:
        setup = capture_setup(db)
        trainee = create_user(db, role=Role.volunteer)
    # The trainer records the reference on their own device, like any observer.
    trainer_phone = laptop.new_page()
    sign_in(trainer_phone, setup.trainer.email, DEFAULT_PASSWORD)
    trainer_phone.goto("/capture?adhoc=1")
    wait_ready(trainer_phone)
    trainer_phone.get_by_label("Court", exact=True).fill("Training room")
    trainer_phone.get_by_label("Courtroom").fill("Video 1")
    trainer_phone.get_by_role("button", name="Start observing").click()
    wait_ready(trainer_phone)
    expect(trainer_phone.get_by_role("button", name="New hearing")).to_be_visible()
    _record_one_hearing(trainer_phone, "PETERSON-1", {"continued": "no", "safety_mentioned": "no"})
    _submit(trainer_phone)

    staff = trainer_phone
    staff.goto("/exercises")
    staff.get_by_label("Title").fill("Mr. Peterson's sentencing (training video)")
    staff.get_by_label("Reference: your notes").select_option(index=1)
    staff.get_by_label(trainee.display_name).check()
    staff.get_by_role("button", name="Make the exercise").click()
    expect(staff.get_by_role("heading", level=1)).to_have_text(
        "Mr. Peterson's sentencing (training video)"
    )

    page = phone.new_page()
    sign_in(page, trainee.email, DEFAULT_PASSWORD)
    page.goto("/my/exercises")
    shoot(page, "my-exercises")
    page.get_by_role("link", name="Record it").click()
    wait_ready(page)
    _record_one_hearing(page, "peterson 1", {"continued": "no", "safety_mentioned": "yes"})
    _submit(page)

    page.goto("/my/exercises")
    page.get_by_role("link", name="My agreement").click()
    expect(page.locator("[data-page=exercise-result]")).to_have_attribute(
        "data-status", "submitted"
    )
    expect(page.locator("[data-agreement]")).to_have_text("50 %")
    expect(page.locator("[data-script]")).to_have_text("100 %")
    assert axe_violations(page) == []
    shoot(page, "exercise-result")

    with live_server.session() as db:
        exercise = db.exec(select(CalibrationExercise)).one()
    staff.goto(f"/exercises/{exercise.id}")
    expect(staff.locator(f'tr[data-trainee="{trainee.id}"]')).to_contain_text("50 %")
    expect(staff.locator('[data-question="safety_mentioned"]')).to_contain_text("0 / 1")
    assert axe_violations(staff) == []
    shoot(staff, "exercise-class")
    staff.goto("/")
    shoot(staff, "home-trainer")


def test_scheduling_and_case_pages_work_on_a_phone_and_a_laptop(phone, laptop, live_server):
    from datetime import date, timedelta

    from app.scheduling import service as scheduling_service
    from tests.sessions import factories as session_factories

    with live_server.session() as db:
        setup = capture_setup(db)
        upcoming = session_factories.sitting(
            db, day=date.today() + timedelta(days=2), courtroom="5C"
        )
        scheduling_service.open_signup(session=db, court_session_id=upcoming.id, places="2",
                                       protocol_version_id=str(setup.version.id), opened_by_id=None)  # fmt: skip
        organizer = create_user(db, role=Role.organizer)

    page = phone.new_page()
    sign_in(page, setup.volunteer.email, DEFAULT_PASSWORD)
    page.goto("/")
    expect(page.locator(f'[data-today-assignment="{setup.assignment.id}"]')).to_be_visible()
    shoot(page, "home-volunteer")
    page.goto("/my/conflicts")
    page.get_by_label("Court").select_option(label="Hennepin County District Court")
    page.get_by_role("button", name="Declare").click()
    expect(page.locator("[data-conflict]")).to_have_count(1)
    assert axe_violations(page) == []
    shoot(page, "conflicts")
    page.goto("/my/signups")
    expect(page.locator(f'[data-sitting="{upcoming.id}"]')).to_contain_text("Not for you")
    assert axe_violations(page) == []
    shoot(page, "signups")
    page.goto("/my/calendar")
    assert axe_violations(page) == []
    shoot(page, "calendar")
    page.goto("/my/assignments")
    shoot(page, "my-assignments")

    staff = _laptop_page(laptop, setup.trainer.email)
    staff.goto(f"/sessions/{upcoming.id}")
    expect(staff.locator("[data-conflicted]")).to_contain_text(setup.volunteer.display_name)
    expect(staff.locator("[data-signup]")).to_have_attribute("data-signup", "open")
    shoot(staff, "session-detail")
    staff.goto("/schedule/overdue")
    shoot(staff, "overdue")
    staff.goto("/cases")
    assert axe_violations(staff) == []
    shoot(staff, "cases")

    boss = laptop.new_page()
    boss.context.clear_cookies()
    sign_in(boss, organizer.email, DEFAULT_PASSWORD)
    boss.goto("/")
    expect(boss.locator('[data-home="organizer"]')).to_be_visible()
    shoot(boss, "home-organizer")
