"""Capture on plain http from a LAN address, and a judge's title shown once.

A phone on the office Wi-Fi opens Courtwatch as http://<LAN address>. That is not a secure
context: no service worker and no `crypto.randomUUID`. Capture must still record and sync
online there, and say plainly that offline use needs https. Chromium treats only localhost
and 127.x as secure, so the test maps a made-up LAN host name onto the live server.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Playwright, expect
from sqlmodel import select

from app.observations.models import Hearing, Observation, Turn
from app.sessions.models import Judge
from tests.browser.capture_helpers import expect_status, observation_id_of, tap, wait_ready
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE, sign_in
from tests.capture.factories import capture_setup
from tests.factories import DEFAULT_PASSWORD

LAN_HOST = "courtwatch-office.lan"


@pytest.fixture
def lan_browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {LAN_HOST} 127.0.0.1"],
    )
    yield browser
    browser.close()


def test_capture_records_and_syncs_on_plain_http_from_a_lan_address(
    lan_browser, live_server, artifacts
):
    with live_server.session() as db:
        setup = capture_setup(db)
        # The court typed the title into the name: it must not be doubled.
        judge = db.get(Judge, setup.court_session.judge_id)
        judge.name = "Judge Linda Okafor"
        db.add(judge)
        db.commit()
    port = urlsplit(live_server.url).port
    context = lan_browser.new_context(base_url=f"http://{LAN_HOST}:{port}", **PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    sign_in(page, setup.volunteer.email, DEFAULT_PASSWORD)
    assert page.evaluate("window.isSecureContext") is False
    assert page.evaluate("typeof crypto.randomUUID") == "undefined"
    page.goto(f"/capture?assignment={setup.assignment.id}")
    wait_ready(page)
    banner = page.locator("#insecure-banner")
    expect(banner).to_contain_text("cannot keep Courtwatch for offline use")
    expect(banner).to_contain_text("https")
    expect(page.locator("main")).to_contain_text("Judge Linda Okafor")
    expect(page.locator("main")).not_to_contain_text("Judge Judge")
    # The sitting's scheduled start is known from the assignment: filled in, still editable.
    expect(page.locator('[data-key="scheduled_start_time"] input')).to_have_value("09:00")
    page.screenshot(path=str(artifacts / "capture-insecure-origin-phone.png"))

    observation_id = observation_id_of(page)
    page.get_by_role("button", name="New hearing").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hearing 1")
    bar = page.get_by_test_id("clock-bar")
    height = bar.bounding_box()["height"]
    speaker = page.locator(".clock-speaker")
    for role in ("Prosecutor", "Probation officer", "Defense attorney", "Victim advocate", "Judge"):
        tap(page, role)
        # The clock bar shows the whole role name, and tapping does not change its height.
        expect(speaker).to_have_text(role)
        assert speaker.evaluate("e => e.scrollHeight <= e.clientHeight + 1"), role
        assert speaker.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), role
        assert bar.bounding_box()["height"] == height, role
        if role == "Victim advocate":
            page.screenshot(path=str(artifacts / "capture-clock-bar-phone.png"))
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(speaker).to_have_text("Judge")
    page.screenshot(path=str(artifacts / "capture-clock-bar-laptop.png"))
    page.get_by_role("button", name="End hearing").click()
    page.get_by_role("button", name="Sync now").click()
    expect_status(page, "All synced")
    assert errors == []

    with live_server.session() as db:
        observation = db.exec(select(Observation)).one()
        assert str(observation.id) == observation_id
        assert observation.session_answers == {"scheduled_start_time": "09:00"}
        hearing = db.exec(select(Hearing).where(Hearing.observation_id == observation.id)).one()
        turns = db.exec(select(Turn).where(Turn.hearing_id == hearing.id)).all()
        assert [t.role for t in sorted(turns, key=lambda t: t.seq)] == [
            "prosecutor",
            "probation",
            "defense",
            "advocate",
            "judge",
        ]
        # Ids made from crypto.getRandomValues are version-4 UUIDs like the others.
        assert observation.id.version == 4 and hearing.id.version == 4
    context.close()
