"""A trainer creates today's sitting and assigns it; the volunteer sees it under Today on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.auth.models import Role
from tests.browser.conftest import PHONE, sign_in
from tests.factories import DEFAULT_PASSWORD, create_user
from tests.sessions.factories import protocol_version

pytestmark = pytest.mark.browser


def test_trainer_assigns_today_and_the_volunteer_sees_it_on_a_phone(
    laptop, browser, live_server, artifacts
):
    with live_server.session() as db:
        trainer = create_user(db, role=Role.trainer, email="trainer@example.org")
        volunteer = create_user(
            db, role=Role.volunteer, email="ann@example.org", display_name="Ann Observer"
        )
        create_user(db, role=Role.volunteer, email="bob@example.org", display_name="Bob Observer")
        protocol_version(db, name="Sentencing calendar — CCR observation")

    page = laptop.new_page()
    sign_in(page, trainer.email, DEFAULT_PASSWORD)
    page.get_by_role("link", name="Court sessions").first.click()
    page.get_by_role("link", name="New session").click()
    # The date defaults to today.
    page.get_by_label("Start time").fill("09:00")
    # Inputs with a datalist are comboboxes: the known names are offered as one types.
    page.get_by_role("combobox", name="Court", exact=True).fill("Hennepin County District Court")
    page.get_by_role("combobox", name="Courtroom").fill("3B")
    page.get_by_label("Calendar").select_option("sentencing")
    page.get_by_role("combobox", name="Presiding judge").fill("Maria Alvarez")
    page.get_by_role("button", name="Create session").click()
    expect(page.locator(".flash")).to_contain_text("Court session created")

    page.get_by_label("Ann Observer").check()
    page.get_by_label("Protocol").select_option(label="Sentencing calendar — CCR observation — v1")
    page.get_by_role("button", name="Assign").click()
    expect(page.locator(".flash")).to_have_text("Assigned 1 volunteer.")
    row = page.locator("tr[data-assignment]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Ann Observer")
    expect(row.locator(".badge")).to_have_text("assigned")

    phone = browser.new_context(base_url=live_server.url, **PHONE)
    try:
        mobile = phone.new_page()
        sign_in(mobile, volunteer.email, DEFAULT_PASSWORD)
        mobile.get_by_role("link", name="My assignments").first.click()
        root = mobile.locator("[data-page=my-assignments]")
        expect(root).to_be_visible()
        card = root.locator("[data-group=today] .assignment-card")
        expect(card).to_have_count(1)
        expect(card).to_contain_text("Hennepin County District Court")
        expect(card).to_contain_text("Courtroom 3B · Sentencing")
        expect(card).to_contain_text("09:00")
        expect(card).to_contain_text("Maria Alvarez")
        expect(card.locator(".badge")).to_have_text("assigned")
        expect(root.locator("[data-group=upcoming] .assignment-card")).to_have_count(0)
        assert card.get_attribute("href", timeout=1000).startswith("/capture?assignment=")
        box = card.bounding_box()
        assert box is not None and box["height"] >= 48 and box["width"] >= 300
        adhoc = mobile.get_by_role("link", name="Start an observation without an assignment")
        expect(adhoc).to_have_attribute("href", "/capture?adhoc=1")
        assert mobile.evaluate("document.documentElement.scrollWidth") <= 360
        mobile.screenshot(path=str(artifacts / "my-assignments-phone.png"), full_page=True)
    finally:
        phone.close()
