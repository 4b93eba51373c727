"""An organizer browses to a hearing and sees its speaker timeline, in Debian's Chromium."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import expect

from app.auth.models import Role
from tests.browser.conftest import sign_in
from tests.conftest import login
from tests.exports.builders import seed
from tests.factories import DEFAULT_PASSWORD, create_user

pytestmark = pytest.mark.browser


def test_hearing_page_draws_its_timeline(laptop, phone, live_server, artifacts):
    with live_server.session() as db:
        volunteer = create_user(db, role=Role.volunteer)
        organizer = create_user(db, role=Role.organizer)
        with TestClient(live_server.app, follow_redirects=False) as sender:
            login(sender, volunteer.email)
            seed(db, sender)

    page = laptop.new_page()
    sign_in(page, organizer.email, DEFAULT_PASSWORD)
    page.get_by_role("link", name="Hearings").first.click()
    expect(page.get_by_test_id("total")).to_contain_text("3 hearings")
    page.get_by_role("row", name="27-CR-26-0001").get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hearing 1 of 2")

    bar = page.get_by_test_id("timeline")
    expect(bar).to_be_visible()
    turns = bar.locator("rect[data-role]")
    expect(turns).to_have_count(3)
    widths = [turns.nth(i).bounding_box()["width"] for i in range(3)]
    # 5 s, 4 s and 3 s of a 12 s hearing, drawn across the bar in those proportions.
    total = bar.bounding_box()["width"]
    assert [round(w / total * 12, 1) for w in widths] == [5.0, 4.0, 3.0]
    assert turns.nth(0).get_attribute("fill") == "#7cc4ff"
    page.screenshot(path=str(artifacts / "hearing-timeline-laptop.png"), full_page=True)

    small = phone.new_page()
    sign_in(small, organizer.email, DEFAULT_PASSWORD)
    small.goto(page.url)
    expect(small.get_by_test_id("timeline")).to_be_visible()
    assert small.evaluate("document.documentElement.scrollWidth") <= 360
    small.screenshot(path=str(artifacts / "hearing-timeline-phone.png"), full_page=True)
