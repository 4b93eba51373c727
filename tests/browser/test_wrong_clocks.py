"""Phone clocks are wrong; records must still be right. The page's wall clock (Date) is moved
by a test hook while the monotonic clock (performance.now) runs on, as on a phone whose time
is set by hand or corrected by the network. Each case ends with the server's current copy
equal to the phone's."""

from __future__ import annotations

import uuid
from datetime import UTC

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlmodel import col, select

from app.observations.models import Hearing, Observation
from tests.browser.capture_helpers import (
    answer,
    end_and_sync,
    expect_status,
    local_observation,
    observation_id_of,
    open_online,
    tap,
    wait_ready,
)
from tests.browser.conftest import sign_in
from tests.capture.factories import capture_setup
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.browser

HOUR = 3_600_000
# Date as the page sees it: the real time plus a shift kept in localStorage (so it survives a
# reload, like a phone's clock); performance.now() runs on, and performance.timeOrigin is the
# wall clock when the page started.
SHIFTED_DATE = """
(() => {
  const RealDate = Date;
  const shift = () => { try { return Number(localStorage.getItem("test-clock-shift") || 0); } catch (_) { return 0; } };
  class ShiftedDate extends RealDate {
    constructor(...args) { if (args.length === 0) super(RealDate.now() + shift()); else super(...args); }
    static now() { return RealDate.now() + shift(); }
  }
  window.Date = ShiftedDate;
  // A page's time origin is read from the wall clock when the page starts.
  const origin = performance.timeOrigin + shift();
  Object.defineProperty(performance, "timeOrigin", { get: () => origin });
})();
"""


def _set_clock(page: Page, shift_ms: int) -> None:
    page.evaluate("(s) => localStorage.setItem('test-clock-shift', String(s))", shift_ms)


def _open(phone: BrowserContext, live_server) -> tuple[Page, str]:
    with live_server.session() as db:
        setup = capture_setup(db)
    phone.add_init_script(SHIFTED_DATE)
    page = phone.new_page()
    sign_in(page, setup.volunteer.email, DEFAULT_PASSWORD)
    open_online(page, f"/capture?assignment={setup.assignment.id}")
    answer(page, "could_hear", "well")
    page.get_by_role("button", name="New hearing").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hearing 1")
    return page, observation_id_of(page)


def _server_equals_phone(page: Page, live_server, observation_id: str) -> list[Hearing]:
    record = local_observation(page, observation_id)
    doc = page.evaluate(
        "async (id) => (await fetch('/api/v1/observations/' + id)).json()", observation_id
    )
    assert [h["id"] for h in doc["hearings"]] == [h["id"] for h in record["hearings"]]
    for mine, theirs in zip(record["hearings"], doc["hearings"], strict=True):
        assert theirs["answers"] == mine["answers"]
        assert theirs["turns"] == [
            {"role": t["role"], "start_ms": t["start_ms"], "end_ms": t["end_ms"]}
            for t in mine["turns"]
        ]
    assert doc["session_answers"] == record["session_answers"]
    with live_server.session() as db:
        return db.exec(
            select(Hearing)
            .where(Hearing.observation_id == uuid.UUID(observation_id))
            .order_by(col(Hearing.position))
        ).all()


def _aware(value):
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def test_a_clock_pulled_back_mid_hearing_still_gives_a_hearing_that_ends_after_it_starts(
    phone, live_server
):
    page, observation_id = _open(phone, live_server)
    tap(page, "Judge")
    page.wait_for_timeout(300)
    _set_clock(page, -HOUR)  # the phone's time is set an hour back
    tap(page, "Prosecutor")
    page.wait_for_timeout(300)
    end_and_sync(page)
    (hearing,) = _server_equals_phone(page, live_server, observation_id)
    assert _aware(hearing.ended_at) >= _aware(hearing.started_at)
    assert (_aware(hearing.ended_at) - _aware(hearing.started_at)).total_seconds() < 60
    record = local_observation(page, observation_id)
    judge, prosecutor = record["hearings"][0]["turns"]
    assert 0 <= judge["start_ms"] <= prosecutor["start_ms"] <= prosecutor["end_ms"] < 60_000
    assert hearing.clock_jump is True  # flagged for staff


def test_a_clock_moved_while_the_page_was_closed_keeps_the_offsets_and_flags_the_hearing(
    phone, live_server
):
    page, observation_id = _open(phone, live_server)
    tap(page, "Judge")
    page.wait_for_timeout(300)
    tap(page, "Prosecutor")
    # Closed once the tap is saved on the phone (a tap is committed within a frame).
    page.wait_for_function("() => performance.getEntriesByName('cw-turn-saved').length >= 2")
    hearing_url = page.url
    page.close()
    page = phone.new_page()
    page.goto("/static/icons/icon.svg")  # same origin: move the clock while capture is closed
    _set_clock(page, 3 * HOUR)
    page.goto(hearing_url)
    wait_ready(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Hearing 1")
    tap(page, "Defense attorney")
    end_and_sync(page)
    record = local_observation(page, observation_id)
    turns = record["hearings"][0]["turns"]
    assert [t["role"] for t in turns] == ["judge", "prosecutor", "defense"]
    for turn in turns:
        assert turn["end_ms"] - turn["start_ms"] < 60_000, turns  # no three-hour turn
    assert turns[-1]["end_ms"] < 60_000
    (hearing,) = _server_equals_phone(page, live_server, observation_id)
    assert hearing.clock_jump is True


def test_a_fast_clock_corrected_later_still_makes_the_new_edits_current(phone, live_server):
    page, observation_id = _open(phone, live_server)
    _set_clock(page, HOUR)  # an hour fast
    tap(page, "Judge")
    answer(page, "continued", "no")
    end_and_sync(page)
    _set_clock(page, 0)  # corrected by the network: later edits carry earlier times
    page.get_by_role("link", name="Hearing 1").click()
    answer(page, "continued", "yes")
    page.get_by_role("link", name="‹ Session").click()
    page.get_by_role("button", name="Sync now").click()
    expect_status(page, "All synced")
    (hearing,) = _server_equals_phone(page, live_server, observation_id)
    assert hearing.answers["continued"] == "yes"
    with live_server.session() as db:
        stored = db.get(Observation, uuid.UUID(observation_id))
        assert stored is not None and stored.current_revision == stored.revision_count
