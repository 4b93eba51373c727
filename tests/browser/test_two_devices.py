"""One volunteer, two phones, one observation: edits from the same revision merge by hearing,
the phone whose copy was merged takes the server's copy before it says "All synced", and the
other phone then shows that copy too."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from app.observations.models import Observation
from tests.browser.capture_helpers import (
    answer,
    end_and_sync,
    expect_status,
    local_observation,
    observation_id_of,
    open_online,
    tap,
    wait_ready,
)
from tests.browser.conftest import PHONE, sign_in
from tests.capture.factories import capture_setup
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.browser


def test_two_phones_editing_one_observation_merge_and_agree(browser, phone, live_server, artifacts):
    with live_server.session() as db:
        setup = capture_setup(db)
    a = phone.new_page()
    sign_in(a, setup.volunteer.email, DEFAULT_PASSWORD)
    open_online(a, f"/capture?assignment={setup.assignment.id}")
    observation_id = observation_id_of(a)
    answer(a, "could_hear", "well")
    a.get_by_role("button", name="New hearing").click()
    tap(a, "Judge")
    end_and_sync(a)

    # The second phone picks the record up from the server and answers hearing 1.
    other = browser.new_context(base_url=live_server.url, **PHONE)
    try:
        b = other.new_page()
        sign_in(b, setup.volunteer.email, DEFAULT_PASSWORD)
        open_online(b, f"/capture?assignment={setup.assignment.id}")
        assert observation_id_of(b) == observation_id, "one record, not a fork"
        b.get_by_role("link", name="Hearing 1").click()
        answer(b, "continued", "no")
        b.get_by_role("link", name="‹ Session").click()
        b.get_by_role("button", name="Sync now").click()
        expect_status(b, "All synced")

        # The first phone, not knowing, records hearing 2 from the revision it had.
        a.get_by_role("button", name="New hearing").click()
        expect(a.get_by_role("heading", level=1)).to_have_text("Hearing 2")
        tap(a, "Prosecutor")
        end_and_sync(a)  # "All synced" only once it holds the merged copy
        mine = local_observation(a, observation_id)
        assert len(mine["hearings"]) == 2
        assert mine["hearings"][0]["answers"] == {"continued": "no"}  # the other phone's answer
        assert [t["role"] for t in mine["hearings"][1]["turns"]] == ["prosecutor"]
        expect(a.locator(".hearing-item")).to_have_count(2)
        a.screenshot(path=str(artifacts / "two-devices-merged-phone.png"))
        doc = a.evaluate(
            "async (id) => (await fetch('/api/v1/observations/' + id)).json()", observation_id
        )
        assert [h["id"] for h in doc["hearings"]] == [h["id"] for h in mine["hearings"]]
        assert [h["answers"] for h in doc["hearings"]] == [h["answers"] for h in mine["hearings"]]
        with live_server.session() as db:
            stored = db.get(Observation, uuid.UUID(observation_id))
            assert stored is not None and stored.device_conflict is False

        # The second phone, opened again, shows the merged copy.
        b.reload()
        wait_ready(b)
        expect(b.locator(".hearing-item")).to_have_count(2, timeout=15_000)
        theirs = local_observation(b, observation_id)
        assert [h["id"] for h in theirs["hearings"]] == [h["id"] for h in mine["hearings"]]
    finally:
        other.close()
