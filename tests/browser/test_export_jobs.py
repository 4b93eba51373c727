"""An organizer prepares an export in the background and watches it become ready (htmx)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from app.auth.models import Role
from app.exports import jobs
from app.exports.models import ObservationSet
from tests.browser.conftest import LAPTOP, PHONE, sign_in
from tests.factories import DEFAULT_PASSWORD, create_user

pytestmark = pytest.mark.browser


def test_prepare_an_export_and_see_it_become_ready(browser: Browser, live_server, artifacts):
    with live_server.session() as db:
        organizer = create_user(db, role=Role.organizer)
        observation_set = ObservationSet(name="Spring sentencing", owner_id=organizer.id)
        db.add(observation_set)
        db.commit()
        set_id = observation_set.id
    screens = artifacts / "screens"
    screens.mkdir(parents=True, exist_ok=True)
    for label, device in (("laptop", LAPTOP), ("phone", PHONE)):
        context = browser.new_context(base_url=live_server.url, **device)
        page = context.new_page()
        sign_in(page, organizer.email, DEFAULT_PASSWORD)
        page.goto(f"/sets/{set_id}")
        page.get_by_text("Prepare it in the background instead").click()
        page.get_by_role("button", name="Prepare XLSX").click()
        job = page.get_by_test_id("export-job")
        expect(job).to_have_attribute("data-state", "queued")
        page.screenshot(path=str(screens / f"export-job-queued-{label}.png"), full_page=True)
        jobs.run_pending_jobs(engine=live_server.app.state.engine, settings=live_server.settings)
        expect(job).to_have_attribute("data-state", "done", timeout=10_000)  # the poll swapped it
        expect(page.get_by_role("link", name="Download")).to_be_visible()
        page.screenshot(path=str(screens / f"export-job-done-{label}.png"), full_page=True)
        page.goto(f"/sets/{set_id}")
        expect(page.get_by_test_id("export-jobs")).to_contain_text("XLSX")
        page.screenshot(path=str(screens / f"set-page-{label}.png"), full_page=True)
        context.close()
