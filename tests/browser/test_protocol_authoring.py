"""A trainer builds a small protocol through the pages and previews it at phone width."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.auth.models import Role
from tests.browser.conftest import PHONE, sign_in
from tests.factories import DEFAULT_PASSWORD, create_user

pytestmark = pytest.mark.browser


def test_trainer_builds_publishes_and_previews_a_protocol(laptop, browser, live_server, artifacts):
    with live_server.session() as db:
        trainer = create_user(db, role=Role.trainer, email="trainer@example.org")
    page = laptop.new_page()
    sign_in(page, trainer.email, DEFAULT_PASSWORD)
    page.get_by_role("link", name="Protocols").first.click()
    page.get_by_label("Name").fill("Review hearing watch")
    page.get_by_role("button", name="Create draft").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Review hearing watch")

    # A session-level section with one question.
    page.locator("#ns-title").fill("The sitting")
    page.locator("#ns-level").select_option("session")
    page.get_by_role("button", name="Add section").click()
    expect(page.locator(".flash")).to_have_text("Section added.")

    # A hearing question with choices and a tag.
    page.get_by_role("link", name="Add a question to Hearing").click()
    page.get_by_label("Question, as the volunteer reads it").fill(
        "Was a no-contact order addressed?"
    )
    page.get_by_label("Type").select_option("single_choice")
    page.get_by_label("Choices (one choice and several choices)").fill(
        "Ordered\nContinued\nnot_mentioned | Not mentioned | absent"
    )
    page.get_by_label("safety").check()
    page.get_by_role("button", name="Save question").click()
    expect(page.locator("[data-question=was_a_no_contact_order_addressed]")).to_contain_text(
        "Not mentioned"
    )

    # A mistake gets a message beside the field and changes nothing.
    page.get_by_role("link", name="Add a question to Hearing").click()
    page.get_by_label("Question, as the volunteer reads it").fill("Pick")
    page.get_by_label("Type").select_option("multi_choice")
    page.get_by_role("button", name="Save question").click()
    expect(page.locator("#e-choices")).to_be_visible()
    page.get_by_role("link", name="Cancel").click()

    # Reorder: move the new question above the notes.
    page.get_by_role("button", name="Move Was a no-contact order addressed? up").click()
    rows = page.locator("section[aria-labelledby=s-hearing] .question-row")
    expect(rows.nth(1)).to_have_attribute("data-question", "was_a_no_contact_order_addressed")

    page.get_by_role("button", name="Publish version 1").click()
    expect(page.locator("[data-page=protocol-version]")).to_have_attribute(
        "data-status", "published"
    )
    preview_url = page.get_by_role("link", name="Preview on a phone").get_attribute("href")

    phone = browser.new_context(base_url=live_server.url, **PHONE)
    phone_page = phone.new_page()
    sign_in(phone_page, trainer.email, DEFAULT_PASSWORD)
    phone_page.goto(preview_url)
    frame = phone_page.get_by_test_id("phone-preview")
    expect(frame).to_contain_text("Was a no-contact order addressed?")
    expect(frame.get_by_role("button", name="Judge")).to_be_visible()
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 360
    phone_page.screenshot(path=str(artifacts / "protocol-preview-phone.png"), full_page=True)
    phone.close()
