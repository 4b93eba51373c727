"""Changing one's password on a phone, and the admin's session and audit pages, in Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from app.auth.models import Role
from tests.browser.conftest import LAPTOP, PHONE, sign_in
from tests.factories import DEFAULT_PASSWORD, create_user

pytestmark = pytest.mark.browser

NEW_PASSWORD = "marble otter lantern quietly"


def screens(artifacts: Path) -> Path:
    out = artifacts / "screens"
    out.mkdir(parents=True, exist_ok=True)
    return out


def test_a_volunteer_changes_their_password_and_the_other_device_is_signed_out(
    browser: Browser, live_server, artifacts
):
    with live_server.session() as db:
        create_user(db, role=Role.volunteer, email="rosa@example.org", display_name="Rosa Lima")
    phone = browser.new_context(base_url=live_server.url, **PHONE)
    laptop = browser.new_context(base_url=live_server.url, **LAPTOP)
    try:
        other = laptop.new_page()
        sign_in(other, "rosa@example.org", DEFAULT_PASSWORD)

        page = phone.new_page()
        sign_in(page, "rosa@example.org", DEFAULT_PASSWORD)
        page.get_by_role("link", name="Change password").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Change password")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.screenshot(path=str(screens(artifacts) / "password-360.png"), full_page=True)

        # A guessable password: the field says why and what would be better.
        page.get_by_label("Current password").fill(DEFAULT_PASSWORD)
        page.locator("#f-new_password").fill("rosalima2024")
        page.get_by_label("New password again").fill("rosalima2024")
        page.get_by_role("button", name="Change password").click()
        error = page.locator("#e-new_password")
        expect(error).to_contain_text("contains your name")
        expect(error).to_contain_text("four or more unrelated words")
        expect(page.locator("#f-new_password")).to_have_attribute("aria-invalid", "true")
        page.screenshot(path=str(screens(artifacts) / "password-error-360.png"), full_page=True)

        # With the keyboard only: type, Tab to the next field, Enter submits.
        page.get_by_label("Current password").fill(DEFAULT_PASSWORD)
        page.locator("#f-new_password").fill(NEW_PASSWORD)
        page.keyboard.press("Tab")
        page.keyboard.type(NEW_PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{live_server.url}/")
        expect(page.locator(".flash")).to_contain_text("Your password is changed.")
        expect(page.locator(".flash")).to_contain_text("Signed out 1 other session.")

        # The phone stays signed in; the laptop is sent to sign in.
        page.reload()
        expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Rosa Lima")
        other.goto("/")
        expect(other).to_have_url(f"{live_server.url}/login?next=%2F")
        sign_in(other, "rosa@example.org", NEW_PASSWORD)
        expect(other.get_by_role("heading", level=1)).to_have_text("Hello, Rosa Lima")
        other.goto("/account/password")
        other.screenshot(path=str(screens(artifacts) / "password-1280.png"), full_page=True)
    finally:
        phone.close()
        laptop.close()


@pytest.mark.parametrize(("name", "context"), [("360", PHONE), ("1280", LAPTOP)])
def test_admin_ends_a_session_and_reads_the_audit_log(
    browser: Browser, live_server, artifacts, name, context
):
    with live_server.session() as db:
        create_user(db, role=Role.admin, email="ada@example.org", display_name="Ada Admin")
        user = create_user(db, role=Role.volunteer, email="vic@example.org", display_name="Vic V")
    observer = browser.new_context(base_url=live_server.url, **PHONE)
    admin = browser.new_context(base_url=live_server.url, **context)
    try:
        sign_in(observer.new_page(), "vic@example.org", DEFAULT_PASSWORD)
        page = admin.new_page()
        sign_in(page, "ada@example.org", DEFAULT_PASSWORD)
        page.goto(f"/admin/users/{user.id}")
        sessions = page.locator("#sessions")
        expect(sessions.locator(".session-row")).to_have_count(1)
        expect(sessions).to_contain_text("127.0.0.1")
        width = context["viewport"]["width"]
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(screens(artifacts) / f"user-sessions-{name}.png"), full_page=True)

        sessions.get_by_role("button", name="End all").click()
        expect(page.locator(".flash")).to_contain_text("Ended 1 session of Vic V.")
        expect(page.locator("#sessions")).to_contain_text("Not signed in anywhere.")

        page.get_by_role("link", name="Audit log").first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")
        expect(page.locator("tbody tr").first).to_contain_text("session.end")
        page.get_by_label("Action").select_option("session.end")
        page.get_by_role("button", name="Filter").click()
        expect(page).to_have_url(
            f"{live_server.url}/admin/audit?action=session.end&actor_id=&target=&date_from=&date_to="
        )
        expect(page.locator("tbody tr")).to_have_count(1)
        page.screenshot(path=str(screens(artifacts) / f"audit-{name}.png"), full_page=True)
    finally:
        observer.close()
        admin.close()
