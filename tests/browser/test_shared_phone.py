"""A shared phone: after a sign-out, offline or not, nobody can use that account on the phone.
Offline the sign-out is recorded on the phone, capture stays locked, and the session is ended
on the server as soon as the connection is back; then the next person signs in."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from app.auth.models import Role, SignInSession
from tests.browser.capture_helpers import expect_status, go_offline, tap, wait_ready
from tests.browser.conftest import sign_in
from tests.capture.factories import capture_setup
from tests.factories import DEFAULT_PASSWORD, create_user

pytestmark = pytest.mark.browser


def _live_sessions(live_server, user_id: int) -> int:
    with live_server.session() as db:
        rows = db.exec(select(SignInSession).where(SignInSession.user_id == user_id)).all()
        return sum(1 for r in rows if r.ended_at is None)


def test_signing_out_offline_locks_the_account_on_the_phone_until_it_ends_online(
    phone, live_server, artifacts
):
    with live_server.session() as db:
        setup = capture_setup(db)
        other = create_user(db, role=Role.volunteer)
    page = phone.new_page()
    sign_in(page, setup.volunteer.email, DEFAULT_PASSWORD)
    page.goto("/my/assignments")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15_000)
    page.locator(f'a[data-assignment="{setup.assignment.id}"]').click()
    wait_ready(page)
    page.get_by_role("button", name="New hearing").click()
    tap(page, "Judge")
    page.get_by_role("button", name="End hearing (last of the sitting)").click()
    page.get_by_role("button", name="Sync now").click()
    expect_status(page, "All synced")
    assert _live_sessions(live_server, setup.volunteer.id) == 1

    go_offline(phone, page)
    page.goto("/my/assignments")  # the copy kept on the phone
    expect(page.locator("[data-copy-as-of]")).to_contain_text("as of")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/capture")
    wait_ready(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Signed out on this phone")
    expect_status(page, "Signed out")
    page.screenshot(path=str(artifacts / "signed-out-offline-phone.png"))
    # Nothing of that account opens, however it is reached.
    for url in (f"/capture?assignment={setup.assignment.id}", "/capture?adhoc=1", "/capture"):
        page.goto(url)
        wait_ready(page)
        expect(page.get_by_role("heading", level=1)).to_have_text("Signed out on this phone")
    assert _live_sessions(live_server, setup.volunteer.id) == 1  # the server was not reached

    phone.set_offline(False)
    page.wait_for_url("**/login", timeout=15_000)
    assert _live_sessions(live_server, setup.volunteer.id) == 0
    page.goto("/my/assignments")
    page.wait_for_url("**/login**")  # the old cookie opens nothing

    # The next person signs in on the same phone and sees only their own.
    sign_in(page, other.email, DEFAULT_PASSWORD)
    page.goto("/capture")
    wait_ready(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Capture")
    expect(page.locator("main")).to_contain_text("Nothing recorded on this phone yet.")
