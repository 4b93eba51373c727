"""A fast sentencing calendar on a 360×740 phone: eight hearings recorded with pad taps and
answers, Next hearing always in reach, nothing read moving under a tap, a typed turn edit
surviving a background sync, and the server then holding exactly what the phone recorded."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import col, select

from app.observations.models import Hearing, Observation, Turn
from tests.browser.capture_helpers import (
    answer,
    axe_violations,
    choose,
    expect_status,
    go_offline,
    local_observation,
    observation_id_of,
    open_online,
    tap,
)
from tests.browser.conftest import LAPTOP, sign_in
from tests.capture.factories import capture_setup
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.browser

ROLES = ["Judge", "Prosecutor", "Defense attorney", "Defendant", "Judge", "Probation officer"]
KEYS = ["judge", "prosecutor", "defense", "defendant", "judge", "probation"]


def _next_in_reach(page: Page) -> None:
    """The clock bar's Next hearing is on screen without any scrolling."""
    box = page.locator('.clock-bar [data-action="next-hearing"]').bounding_box()
    assert box is not None
    assert box["y"] >= 0 and box["y"] + box["height"] <= 740, box
    assert box["height"] >= 44 and box["width"] >= 44, box


def _top_of(page: Page, selector: str) -> float:
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    return box["y"]


def test_eight_hearings_at_the_pace_of_a_sentencing_calendar(phone, live_server, artifacts):
    with live_server.session() as db:
        setup = capture_setup(db)
    page = phone.new_page()
    sign_in(page, setup.volunteer.email, DEFAULT_PASSWORD)
    open_online(page, f"/capture?assignment={setup.assignment.id}")
    observation_id = observation_id_of(page)
    expect_status(page, "All synced")
    # Offline, the sync line counts what waits in hearings (before anything: nothing).
    go_offline(phone, page)
    expect_status(page, "All synced · offline")
    choose(page, "could_hear", "well")
    page.get_by_role("button", name="New hearing").click()
    scrolls = 0
    for n in range(1, 9):
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Hearing {n}")
        _next_in_reach(page)
        scrolls += page.evaluate("window.scrollY")
        page.get_by_label("Case reference").fill(f"27-CR-26-{n:04d}")
        # What the volunteer reads stays put while they tap (the first section is open).
        reading = '[data-key="continued"] label:has(input[value="no"])'
        before = _top_of(page, reading)
        for label in ROLES:
            tap(page, label)
            assert _top_of(page, reading) == before, (
                n,
                label,
                page.locator("#sync-status").inner_text(),
                page.evaluate("window.scrollY"),
            )
        expect(page.locator(".clock-speaker")).to_have_text("Probation officer")
        if n == 1:
            expect_status(page, "Offline — saved on this phone · 1 hearing waiting")
        if n == 2:
            expect_status(page, "2 hearings waiting")
            phone.set_offline(False)
        answer(page, "continued", "no")
        if n % 2:
            answer(page, "safety_mentioned", "yes")
        if n == 3:
            _turn_edit_survives_a_sync(page, artifacts)
        if n == 2:
            page.screenshot(path=str(artifacts / "calendar-hearing-phone.png"))
        if n < 8:
            page.locator('.clock-bar [data-action="next-hearing"]').click()
            sheet = page.locator(".cap-sheet")
            # The hearing's safety and accountability questions still unanswered, there to
            # answer in one tap each ("not observed" too) or to leave unanswered.
            expect(sheet).to_be_visible()
            expect(sheet).to_contain_text(f"Still unanswered in hearing {n}")
            if n == 2:
                sheet.locator(
                    '[data-key="safety_mentioned"] label:has(input[value="not_observed"])'
                ).click()
                page.screenshot(path=str(artifacts / "calendar-before-next-phone.png"))
                assert axe_violations(page) == []
            # The same place again goes on (the bar's button sits above the sheet).
            _next_in_reach(page)
            page.locator('.clock-bar [data-action="next-hearing"]').click()
    assert scrolls == 0
    page.get_by_role("button", name="End hearing (last of the sitting)").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hennepin County District Court")
    # The end-of-sitting debrief comes after the hearings.
    order = page.evaluate(
        """() => {
            const list = document.querySelector('.hearing-list');
            const debrief = [...document.querySelectorAll('.cap-section h2')].find((e) => e.textContent === 'Debrief');
            return list.compareDocumentPosition(debrief) & Node.DOCUMENT_POSITION_FOLLOWING;
        }"""
    )
    assert order, "the debrief follows the hearings"
    page.screenshot(path=str(artifacts / "calendar-session-phone.png"), full_page=True)
    expect_status(page, "All synced")

    record = local_observation(page, observation_id)
    assert len(record["hearings"]) == 8
    assert record["hearings"][1]["answers"]["safety_mentioned"] == "not_observed"
    with live_server.session() as db:
        stored = db.get(Observation, uuid.UUID(observation_id))
        assert stored is not None
        hearings = db.exec(
            select(Hearing)
            .where(Hearing.observation_id == stored.id)
            .order_by(col(Hearing.position))
        ).all()
        assert [str(h.id) for h in hearings] == [h["id"] for h in record["hearings"]]
        for row, mine in zip(hearings, record["hearings"], strict=True):
            assert row.case_reference == mine["case_reference"]
            assert row.answers == mine["answers"]
            assert "accountability" not in str(row.answers)  # left blank: stays unanswered
            turns = db.exec(
                select(Turn).where(Turn.hearing_id == row.id).order_by(col(Turn.seq))
            ).all()
            assert [(t.role, t.start_ms, t.end_ms) for t in turns] == [
                (t["role"], t["start_ms"], t["end_ms"]) for t in mine["turns"]
            ]
            assert row.ended_at is not None and row.started_at is not None
            assert row.ended_at >= row.started_at
        # Blank answers were never turned into "not observed".
        assert sum(1 for h in hearings if h.answers.get("safety_mentioned") == "not_observed") == 1
        assert all("prior_history_referenced" not in h.answers for h in hearings)
        # Hearing 3: the turn edit was cancelled; the roles are the taps.
        assert [t["role"] for t in record["hearings"][0]["turns"]] == KEYS

    # The review lists each hearing's unanswered safety and accountability questions, to
    # answer there.
    page.get_by_role("link", name="Review and submit").click()
    check = page.locator(f'[data-check="{record["hearings"][1]["id"]}"]')
    expect(check).to_contain_text("unanswered · answer here")
    check.locator("summary").click()
    check.locator('[data-key="prior_history_referenced"] label:has(input[value="yes"])').click()
    page.screenshot(path=str(artifacts / "calendar-review-phone.png"))
    assert axe_violations(page) == []
    page.wait_for_function(
        """async (id) => {
            const store = await import('/static/js/store.js');
            const obs = await store.getObservation(id);
            return obs.hearings[1].answers.prior_history_referenced === 'yes' && !store.isUnsynced(obs);
        }""",
        arg=observation_id,
        timeout=20_000,
    )
    expect_status(page, "All synced")
    with live_server.session() as db:
        row = db.get(Hearing, uuid.UUID(record["hearings"][1]["id"]))
        assert row is not None and row.answers["prior_history_referenced"] == "yes"
    page.get_by_role("link", name="‹ Session").click()

    page.set_viewport_size(LAPTOP["viewport"])
    page.get_by_role("link", name="Hearing 8").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hearing 8")
    page.screenshot(path=str(artifacts / "calendar-hearing-laptop.png"))
    assert axe_violations(page) == []
    page.get_by_role("link", name="‹ Session").click()
    page.screenshot(path=str(artifacts / "calendar-session-laptop.png"), full_page=True)


def _turn_edit_survives_a_sync(page: Page, artifacts) -> None:
    """A half-typed turn edit keeps what is typed through a pad tap and a background sync."""
    page.get_by_test_id("all-turns").locator("summary").click()
    page.get_by_role("button", name="Edit turn 1, Judge").click()
    start = page.get_by_label("Start (m:ss)")
    start.fill("0:01")
    page.evaluate("async () => (await import('/static/js/outbox.js')).syncNow()")
    expect_status(page, "All synced")
    tap(page, "Judge")  # a save redraws the list
    expect(start).to_have_value("0:01")
    page.screenshot(path=str(artifacts / "calendar-turn-edit-phone.png"))
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_label("Start (m:ss)")).to_have_count(0)
    # Leave the turns as tapped: the extra Judge tap is undone.
    tap(page, "Undo")
