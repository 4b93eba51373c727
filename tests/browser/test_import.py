"""An admin previews a JSON import, maps its observer, confirms, and reads the outcome, in
Debian's Chromium (laptop and phone), with screenshots of each step."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import BrowserContext, Page, expect
from sqlmodel import select

from app.auth.models import Role
from app.observations.models import Observation
from tests.browser.conftest import sign_in
from tests.conftest import login
from tests.exports.builders import make_set, seed
from tests.factories import DEFAULT_PASSWORD, create_user

pytestmark = pytest.mark.browser
SCREENS = Path(__file__).resolve().parents[2] / "test-results" / "screens"


def _file(live_server, tmp_path: Path) -> tuple[Path, str, str]:
    """An export of this deployment, changed: one entry as it is (already here), one
    submitted observation rewritten (a conflict), and one new (the volunteer's, again)."""
    with live_server.session() as db:
        volunteer = create_user(db, role=Role.volunteer, display_name="Vera Volunteer")
        organizer = create_user(db, role=Role.organizer)
        with (
            TestClient(live_server.app, follow_redirects=False) as sender,
            TestClient(live_server.app, follow_redirects=False) as exporter,
        ):
            login(sender, volunteer.email)
            world = seed(db, sender)
            login(exporter, organizer.email)
            document = exporter.get(f"/sets/{make_set(exporter, 'All')}/export.json").json()
    rewritten, kept = document["observations"]
    rewritten["hearings"][0]["answers"]["nco"] = "continued"
    new = json.loads(json.dumps(kept))
    new["id"] = str(uuid.uuid4())
    for h in new["hearings"]:
        h["id"] = str(uuid.uuid4())
    document["observations"].append(new)
    path = tmp_path / "court-watch-export.json"
    path.write_text(json.dumps(document))
    assert set(world.observation_ids) == {rewritten["id"], kept["id"]}
    return path, new["id"], volunteer.email


def _preview(page: Page, path: Path) -> None:
    page.goto("/import")
    page.get_by_label("Export file (.json)").set_input_files(str(path))
    page.get_by_role("button", name="Preview the import").click()
    expect(page.get_by_test_id("import-preview")).to_contain_text(
        "1 new, 0 updated, 1 already here, 1 conflict"
    )


def test_import_preview_then_confirm(
    laptop: BrowserContext, phone: BrowserContext, live_server, tmp_path
):
    SCREENS.mkdir(parents=True, exist_ok=True)
    path, new_id, volunteer_email = _file(live_server, tmp_path)
    with live_server.session() as db:
        admin = create_user(db, role=Role.admin)

    small = phone.new_page()
    sign_in(small, admin.email, DEFAULT_PASSWORD)
    _preview(small, path)
    assert small.evaluate("document.documentElement.scrollWidth") <= 360
    small.screenshot(path=str(SCREENS / "import-preview-phone.png"), full_page=True)

    page = laptop.new_page()
    sign_in(page, admin.email, DEFAULT_PASSWORD)
    page.goto("/import")
    page.screenshot(path=str(SCREENS / "import-form-laptop.png"), full_page=True)
    _preview(page, path)
    entries = page.get_by_test_id("import-entries").locator("li")
    expect(entries).to_have_count(3)
    expect(page.locator('[data-outcome="conflict"]')).to_contain_text("final")
    expect(page.locator('[data-outcome="unchanged"]')).to_contain_text("Already here")
    mapping = page.get_by_label(
        f"Record them as the existing account Vera Volunteer ({volunteer_email}"
    )
    expect(mapping).not_to_be_checked()
    page.screenshot(path=str(SCREENS / "import-preview-laptop.png"), full_page=True)
    with live_server.session() as db:  # the preview stored nothing
        assert db.get(Observation, uuid.UUID(new_id)) is None

    mapping.check()
    page.get_by_test_id("import-confirm").click()
    result = page.get_by_test_id("import-result")
    expect(result).to_contain_text("1 new, 0 updated, 1 already here, 1 conflict")
    expect(result).to_contain_text("kept as imported revisions")
    page.screenshot(path=str(SCREENS / "import-result-laptop.png"), full_page=True)
    with live_server.session() as db:
        created = db.get(Observation, uuid.UUID(new_id))
        assert created is not None
        observers = set(db.exec(select(Observation.observer_id)).all())
        assert len(observers) == 1  # the mapped account, no placeholder

    # The phone's preview, confirmed again later, is gone: the file was confirmed on the laptop
    # in another preview, and this one re-plans against the database as it now is.
    small.get_by_test_id("import-confirm").click()
    expect(small.get_by_test_id("import-result")).to_contain_text(
        "0 new, 0 updated, 3 already here, 0 conflicts"
    )
    small.screenshot(path=str(SCREENS / "import-result-phone.png"), full_page=True)
