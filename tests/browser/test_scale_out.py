"""Scale-out, proven: two real app processes (uvicorn) on one PostgreSQL store. A volunteer's
offline capture and sync go through one; an organizer's comparison, export job and download
through the other (the job made by whichever process's worker claims it)."""

from __future__ import annotations

import io
import re
import time
import zipfile
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser
from sqlmodel import Session

from app.auth.models import Role
from app.db import make_engine
from app.exports.models import ObservationSet
from bench.phones import app_processes
from tests.browser.capture_helpers import answer, expect_status, go_offline, tap, wait_ready
from tests.browser.conftest import PHONE, sign_in
from tests.capture.factories import capture_setup
from tests.factories import DEFAULT_PASSWORD, create_user

pytestmark = pytest.mark.browser

CASE = "27-CR-26-4242"


def _organizer_client(base: str, email: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30.0)
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    response = client.post("/login", data={"email": email, "password": DEFAULT_PASSWORD, "csrf_token": token, "next": "/"})  # fmt: skip
    assert response.status_code == 303, response.text[:300]
    return client


def _csrf(client: httpx.Client, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text[:300]
    return re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]


def test_capture_through_one_process_compare_and_export_through_the_other(
    browser: Browser, database_url: str, tmp_path: Path
):
    if not database_url.startswith("postgresql"):
        pytest.skip("scale-out runs on PostgreSQL (TEST_DATABASE_URL)")
    engine = make_engine(database_url)
    with Session(engine, expire_on_commit=False) as db:
        setup = capture_setup(db)
        organizer = create_user(db, role=Role.organizer)
        observation_set = ObservationSet(name="Scale-out", owner_id=organizer.id)  # type: ignore[arg-type]
        db.add(observation_set)
        db.commit()
        set_id = observation_set.id
    engine.dispose()

    with app_processes(database_url, 2, tmp_path) as (capture_base, office_base):
        # The volunteer, on process 1: offline capture, then sync and submit.
        context = browser.new_context(base_url=capture_base, **PHONE)
        try:
            page = context.new_page()
            sign_in(page, setup.volunteer.email, DEFAULT_PASSWORD)
            page.goto("/my/assignments")
            page.wait_for_function(
                "() => navigator.serviceWorker.controller !== null", timeout=15_000
            )
            go_offline(context, page)
            page.locator(f'a[data-assignment="{setup.assignment.id}"]').click()
            wait_ready(page)
            answer(page, "could_hear", "well")
            page.get_by_role("button", name="New hearing").click()
            page.get_by_label("Case reference").fill(CASE)
            for role in ("Judge", "Prosecutor", "Defense attorney", "Judge"):
                tap(page, role)
            answer(page, "continued", "no")
            answer(page, "safety_mentioned", "yes")
            page.get_by_role("button", name="End hearing (last of the sitting)").click()
            expect_status(page, "Offline — saved on this phone")
            context.set_offline(False)
            expect_status(page, "All synced")
            page.get_by_role("link", name="Review and submit").click()
            page.get_by_role("button", name="Submit observation").click()
            page.get_by_role("button", name="Yes, submit").click()
            expect_status(page, "All synced")
        finally:
            context.close()

        # The organizer, on process 2: the comparison sees it, an export job makes it.
        office = _organizer_client(office_base, organizer.email)
        try:
            compare = office.get("/compare")
            assert compare.status_code == 200
            assert "Hennepin County District Court" in compare.text
            token = _csrf(office, f"/sets/{set_id}")
            made = office.post(
                f"/sets/{set_id}/exports", data={"format": "csv", "csrf_token": token}
            )
            assert made.status_code == 303, made.text[:300]
            job_url = made.headers["location"]
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                state = re.search(r'data-state="(\w+)"', office.get(job_url).text)
                if state and state.group(1) in ("done", "failed"):
                    break
                time.sleep(0.5)
            assert state and state.group(1) == "done", office.get(job_url).text[:500]
            for base in (office_base, capture_base):  # any process serves the file
                office.base_url = httpx.URL(base)
                download = office.get(f"{job_url.rstrip('/')}/download")
                assert download.status_code == 200, (base, download.text[:300])
                with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
                    hearings = next(n for n in archive.namelist() if n.startswith("hearings"))
                    assert CASE in archive.read(hearings).decode("utf-8")
        finally:
            office.close()
