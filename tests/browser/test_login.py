"""Signing in on a phone, in Debian's Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.auth.models import Role
from tests.browser.conftest import sign_in
from tests.factories import DEFAULT_PASSWORD, create_user

pytestmark = pytest.mark.browser


def test_volunteer_signs_in_on_a_phone(phone, live_server, artifacts):
    with live_server.session() as db:
        user = create_user(
            db, role=Role.volunteer, email="phone@example.org", display_name="Pat Observer"
        )
    page = phone.new_page()
    page.goto("/")
    expect(page).to_have_url(f"{live_server.url}/login?next=%2F")

    # A wrong password: a clear message, still on the form.
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match an active account")

    sign_in(page, user.email, DEFAULT_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Pat Observer")
    # Readable on 360 px: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    # Dark theme by default.
    bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert bg == "rgb(17, 21, 28)"
    page.screenshot(path=str(artifacts / "login-phone.png"), full_page=True)
    assert (artifacts / "login-phone.png").stat().st_size > 1000

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_server.url}/login")
    expect(page.locator(".flash")).to_have_text("You are signed out.")
