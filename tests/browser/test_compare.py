"""An organizer opens the comparison page on a laptop and on a phone and sees real figures."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect

from app.auth.models import Role
from tests.analysis.builders import comparison_definition, hearing, send_observation
from tests.browser.capture_helpers import axe_violations
from tests.browser.conftest import LAPTOP, PHONE, sign_in
from tests.conftest import login
from tests.factories import DEFAULT_PASSWORD, create_user
from tests.protocols.factories import published_protocol

pytestmark = pytest.mark.browser

SITTING = {
    "court": "District Court",
    "courtroom": "3B",
    "session_date": "2026-10-06",
    "judge": "Judge Ada Alvarez",
    "calendar_type": "sentencing",
}


def _seed(live_server) -> str:
    """Two volunteers observe the same two hearings through the sync API; returns the
    organizer's email.

    Hearing CR-1: J 0-10 s, P 10-30 s, J 30-40 s (both observers); safety mentioned: yes / yes.
    Hearing CR-2: J 0-5 s, D 5-15 s (both); safety mentioned: no / yes.
    So 4 hearings, judge talk 2·(20 + 5) = 50 s of 2·(40 + 15) = 110 s → 45 %, and a gap of
    one "no" in the four hearings where the observers could tell → 25 % (n 4, greyed: fewer
    than the minimum of 10)."""
    with live_server.session() as db:
        organizer = create_user(db, role=Role.organizer, email="organizer@example.org")
        volunteers = [
            create_user(db, role=Role.volunteer, email=f"{n}@example.org", display_name=name)
            for n, name in (("ann", "Ann Observer"), ("bob", "Bob Observer"))
        ]
        version = published_protocol(db, name="Comparison", definition=comparison_definition())
        version_id = version.id
    for user, second_safety in zip(volunteers, ("no", "yes"), strict=True):
        with httpx.Client(base_url=live_server.url, follow_redirects=False) as client:
            login(client, user.email)  # type: ignore[arg-type]
            send_observation(
                client,  # type: ignore[arg-type]
                protocol_version_id=version_id,
                court=SITTING,
                session_answers={"influence": "judge"},
                hearings=[
                    hearing(
                        [
                            ("judge", 0, 10_000),
                            ("prosecutor", 10_000, 30_000),
                            ("judge", 30_000, 40_000),
                        ],
                        {"safety_mentioned": "yes", "decided_by": "judge", "components": ["jail"]},
                        case_reference="CR-1",
                    ),
                    hearing(
                        [("judge", 0, 5_000), ("defense", 5_000, 15_000)],
                        {"safety_mentioned": second_safety, "decided_by": "prosecutor"},
                        case_reference="CR-2",
                    ),
                ],
            )
    return organizer.email


def _check_figures(page: Page) -> None:
    root = page.locator("[data-page=compare]")
    expect(root.get_by_test_id("hearing-count")).to_contain_text("4 hearings")
    speaks = root.locator("#who-speaks")
    judge_row = speaks.locator("tbody tr", has_text="Judge")
    expect(judge_row).to_contain_text("45 %")
    expect(speaks.locator(".hbar-row")).to_have_count(3)
    expect(root.locator("#who-decides")).to_contain_text("Who decided the sentence?")
    gaps = root.locator("#gaps")
    safety = gaps.locator("table.gaps tbody tr", has_text="Victim safety mentioned?").first
    expect(safety).to_contain_text("25 %")
    expect(safety).to_contain_text("too few hearings to compare")
    expect(root.locator("#patterns")).to_contain_text("Most common orders")
    expect(root.get_by_test_id("matched-count")).to_have_text("2")
    expect(root.locator("#agreement")).to_contain_text("Victim safety mentioned?")


def test_organizer_sees_the_comparison_on_a_laptop_and_a_phone(browser, live_server, artifacts):
    email = _seed(live_server)

    for name, device in (("laptop", LAPTOP), ("phone", PHONE)):
        context = browser.new_context(base_url=live_server.url, **device)
        try:
            page = context.new_page()
            sign_in(page, email, DEFAULT_PASSWORD)
            page.goto("/compare")
            _check_figures(page)
            if name == "phone":
                width = PHONE["viewport"]["width"]  # type: ignore[index]
                assert page.evaluate("document.documentElement.scrollWidth") <= width
            (artifacts / "screens").mkdir(exist_ok=True)
            page.screenshot(path=str(artifacts / "screens" / f"compare-{name}.png"), full_page=True)
            assert axe_violations(page) == []
        finally:
            context.close()

    # A filter that keeps nothing still gives a clean page.
    context = browser.new_context(base_url=live_server.url, **LAPTOP)
    try:
        page = context.new_page()
        sign_in(page, email, DEFAULT_PASSWORD)
        page.goto("/compare?date_from=2027-01-01")
        expect(page.get_by_test_id("hearing-count")).to_contain_text("0 hearings")
        expect(page.locator("#agreement")).to_contain_text("No hearing in this set")
    finally:
        context.close()
