"""Offline-first capture on a phone, in Debian's Chromium, against the real app and sync API.

A volunteer opens their assignment online once; then, with the connection off, records hearing
after hearing; reloads and reopens lose nothing; back online, the server holds exactly what was
recorded.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import col, select

from app.observations.models import Answer, Hearing, Observation, ObservationRevision, Turn
from tests.browser.capture_helpers import (
    answer,
    axe_violations,
    choose,
    expect_status,
    go_offline,
    local_observation,
    next_hearing,
    observation_id_of,
    open_online,
    tap,
    wait_ready,
)
from tests.browser.conftest import sign_in
from tests.capture.factories import capture_setup
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.browser

# Three hearings: taps on the pad (roles by label, Pause, Undo) and answers by question key.
HEARINGS = [
    {
        "case": "27-CR-24-1001",
        "taps": ["Judge", "Prosecutor", "Defense attorney", "Judge"],
        "roles": ["judge", "prosecutor", "defense", "judge"],
        "answers": {"continued": "no", "safety_mentioned": "yes", "no_contact_order": "ordered"},
    },
    {
        "case": "27-CR-24-1002",
        # A wrong tap undone, a pause for a sidebar, then the judge again.
        "taps": ["Judge", "Victim", "Undo", "Probation officer", "Pause", "Judge"],
        "roles": ["judge", "probation", "judge"],
        "answers": {
            "continued": "yes",
            "continuance_requested_by": "defense",
            "sentence_components": ["jail", "probation"],
        },
    },
    {
        "case": "",
        "taps": ["Prosecutor", "Defendant", "Judge"],
        "roles": ["prosecutor", "defendant", "judge"],
        "answers": {"continued": "not_observed", "observer_notes": "Judge read the terms quickly."},
    },
]


def _sign_in_and_open(page: Page, live_server, setup) -> None:
    sign_in(page, setup.volunteer.email, DEFAULT_PASSWORD)
    open_online(page, f"/capture?assignment={setup.assignment.id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hennepin County District Court")


def _end_hearing(page: Page) -> None:
    page.get_by_role("button", name="End hearing").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hennepin County District Court")


def _record(page: Page, hearing: dict, *, first: bool) -> None:
    heading = page.get_by_role("heading", level=1)
    # Wait for the new hearing's own page: the previous one also has a "Case reference".
    number = 1 if first else int(heading.inner_text().split()[-1]) + 1
    if first:
        page.get_by_role("button", name="New hearing").click()
    else:
        next_hearing(page)
    expect(heading).to_have_text(f"Hearing {number}")
    if hearing["case"]:
        page.get_by_label("Case reference").fill(hearing["case"])
    for label in hearing["taps"]:
        tap(page, label)
    for key, value in hearing["answers"].items():
        answer(page, key, value)


def _check_on_screen(page: Page, observation_id: str) -> dict:
    """Everything recorded is on screen and in IndexedDB; returns the IndexedDB record."""
    record = local_observation(page, observation_id)
    # The scheduled start comes from the assignment; the volunteer answered the rest.
    assert record["session_answers"] == {"scheduled_start_time": "09:00", "could_hear": "mostly"}
    assert [h["case_reference"] or "" for h in record["hearings"]] == [h["case"] for h in HEARINGS]
    for stored, expected in zip(record["hearings"], HEARINGS, strict=True):
        assert [t["role"] for t in stored["turns"]] == expected["roles"]
        assert stored["answers"] == expected["answers"]
    expect(page.locator(".hearing-item")).to_have_count(3)
    page.get_by_role("link", name="Hearing 2").click()
    expect(page.get_by_label("Case reference")).to_have_value(HEARINGS[1]["case"])
    page.get_by_test_id("all-turns").locator("summary").click()
    expect(page.locator(".turn")).to_have_count(3)
    expect(page.locator('[data-key="continued"] input[value="yes"]')).to_be_checked()
    expect(page.locator('[data-key="sentence_components"] input[value="jail"]')).to_be_checked()
    page.go_back()
    wait_ready(page)
    return record


def test_three_hearings_recorded_offline_survive_reload_and_reopen_then_sync_exactly(
    phone, live_server, artifacts
):
    with live_server.session() as db:
        setup = capture_setup(db)
    page = phone.new_page()
    sign_in(page, setup.volunteer.email, DEFAULT_PASSWORD)
    # Opening My assignments online is all it takes: the worker installs, the pack is stored.
    page.goto("/my/assignments")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15_000)
    expect(page.locator("[data-unsynced-count]")).to_have_text("All synced", timeout=15_000)

    go_offline(phone, page)
    page.locator(f'a[data-assignment="{setup.assignment.id}"]').click()
    wait_ready(page)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hennepin County District Court")
    observation_id = observation_id_of(page)

    choose(page, "could_hear", "mostly")
    for index, hearing in enumerate(HEARINGS):
        _record(page, hearing, first=index == 0)
        if index == 1:
            # The artifact: clock bar, the turn list and the tap pad, at 360 px.
            page.locator(".timeline").scroll_into_view_if_needed()
            page.screenshot(path=str(artifacts / "capture-timeline-phone.png"))
            assert page.evaluate("document.documentElement.scrollWidth") <= 360
    _end_hearing(page)
    expect_status(page, "Offline — saved on this phone")

    # Reload with no connection: the worker serves the shell, IndexedDB the record.
    page.reload()
    wait_ready(page)
    before = _check_on_screen(page, observation_id)

    # Close the tab, open a new one, still offline, through the assignment's link.
    page.close()
    page = phone.new_page()
    page.goto(f"/capture?assignment={setup.assignment.id}")
    wait_ready(page)
    assert observation_id_of(page) == observation_id, "reopening must not fork a new record"
    assert _check_on_screen(page, observation_id) == before

    # My assignments, from the worker's copy, counts what is not yet on the server.
    other = phone.new_page()
    other.goto("/my/assignments")
    expect(other.locator("[data-sync-status]")).to_contain_text("1 observation on this phone")
    other.close()

    phone.set_offline(False)
    expect_status(page, "All synced")

    with live_server.session() as db:
        observations = db.exec(select(Observation)).all()
        assert [str(o.id) for o in observations] == [observation_id]
        assert observations[0].observer_id == setup.volunteer.id
        assert observations[0].session_answers == {
            "scheduled_start_time": "09:00",
            "could_hear": "mostly",
        }
        hearings = db.exec(
            select(Hearing)
            .where(Hearing.observation_id == uuid.UUID(observation_id))
            .order_by(col(Hearing.position))
        ).all()
        assert [(h.case_reference or "") for h in hearings] == [h["case"] for h in HEARINGS]
        for row, stored, expected in zip(hearings, before["hearings"], HEARINGS, strict=True):
            assert str(row.id) == stored["id"]
            turns = db.exec(
                select(Turn).where(Turn.hearing_id == row.id).order_by(col(Turn.seq))
            ).all()
            assert [(t.role, t.start_ms, t.end_ms) for t in turns] == [
                (t["role"], t["start_ms"], t["end_ms"]) for t in stored["turns"]
            ]
            assert [t.role for t in turns] == expected["roles"]
            assert all(t.end_ms is not None for t in turns), (
                "ending the hearing closes its last turn"
            )
            assert row.answers == expected["answers"]
            answers = db.exec(select(Answer).where(Answer.hearing_id == row.id)).all()
            flat = Counter((a.question_key, a.value_text) for a in answers)
            wanted = Counter(
                (key, item)
                for key, value in expected["answers"].items()
                for item in (value if isinstance(value, list) else [value])
            )
            assert flat == wanted


def test_a_failed_first_sync_is_retried_and_stored_exactly_once(phone, live_server):
    with live_server.session() as db:
        setup = capture_setup(db)
    page = phone.new_page()
    _sign_in_and_open(page, live_server, setup)
    observation_id = observation_id_of(page)

    go_offline(phone, page)
    choose(page, "could_hear", "well")
    _record(page, HEARINGS[0], first=True)
    _record(page, HEARINGS[2], first=False)
    _end_hearing(page)
    # Let the edits' debounce timer (1.5 s) fire while still offline, so that coming online is
    # the only trigger: on a loaded machine a late edit timer started the retry at once, and
    # the failure was never on screen long enough to read.
    page.wait_for_timeout(2_000)

    # The first attempt reaches the server but the answer is lost (the connection drops).
    calls: list[int] = []
    bodies: list[dict] = []

    def drop_first_answer(route):
        calls.append(1)
        bodies.append(json.loads(route.request.post_data or "{}"))
        if len(calls) == 1:
            route.fetch()  # the server receives and stores it…
            route.abort("connectionreset")  # …the phone never hears back
        else:
            route.continue_()

    page.route("**/api/v1/observations/batch", drop_first_answer)
    phone.set_offline(False)
    expect_status(page, "Sync failed — will retry")
    expect_status(page, "All synced")
    assert len(calls) >= 2

    with live_server.session() as db:
        assert db.exec(select(Observation)).all()[0].id == uuid.UUID(observation_id)
        assert len(db.exec(select(Observation)).all()) == 1
        hearings = db.exec(select(Hearing)).all()
        assert len(hearings) == 2
        turns = db.exec(select(Turn)).all()
        assert sorted(Counter(t.role for t in turns).items()) == sorted(
            Counter(HEARINGS[0]["roles"] + HEARINGS[2]["roles"]).items()
        )
        # The resend was the same content, and the same content is stored once.
        hashes = [r.payload_hash for r in db.exec(select(ObservationRevision)).all()]
        assert len(hashes) == len(set(hashes))
    assert bodies[0] == bodies[1]


def test_an_answer_the_server_refuses_is_shown_beside_its_hearing_until_fixed(phone, live_server):
    with live_server.session() as db:
        setup = capture_setup(db)
    page = phone.new_page()
    _sign_in_and_open(page, live_server, setup)
    observation_id = observation_id_of(page)

    # The phone sends a count the protocol cannot take (as an older or broken client might).
    def tamper(route):
        body = json.loads(route.request.post_data or "{}")
        for obs in body.get("observations", []):
            if len(obs["hearings"]) > 1:
                obs["hearings"][1]["answers"]["jail_days_executed"] = -3
        route.continue_(post_data=json.dumps(body))

    page.route("**/api/v1/observations/batch", tamper)
    go_offline(phone, page)
    _record(page, HEARINGS[0], first=True)
    _record(page, HEARINGS[1], first=False)
    _end_hearing(page)
    phone.set_offline(False)
    page.get_by_role("button", name="Sync now").click()

    second = page.locator(".hearing-item").nth(1)
    expect(second).to_have_class("hearing-item has-error", timeout=20_000)
    expect(second).to_contain_text("Jail days to serve")
    expect(second).to_contain_text("0 or more")
    expect(page.locator(".hearing-item").nth(0)).not_to_contain_text("0 or more")
    expect_status(page, "to fix")
    assert (
        not page.locator(".hearing-item").nth(0).evaluate("e => e.classList.contains('has-error')")
    )

    # Beside the question too, in hearing 2.
    page.get_by_role("link", name="Hearing 2").click()
    expect(page.locator('[data-key="jail_days_executed"] .q-error')).to_contain_text("0 or more")
    local = local_observation(page, observation_id)
    assert local["errors"][0]["hearing_id"] == local["hearings"][1]["id"]

    # Fixed on the phone (the tampering stops): the item leaves the outbox.
    page.unroute("**/api/v1/observations/batch")
    page.locator('[data-key="jail_days_executed"] input').fill("30")
    page.locator('[data-key="jail_days_executed"] input').blur()
    expect(page.locator('[data-key="jail_days_executed"] .q-error')).to_be_empty()
    page.get_by_role("button", name="Sync now").click()
    expect_status(page, "All synced")
    with live_server.session() as db:
        hearing = db.exec(select(Hearing).order_by(col(Hearing.position))).all()[1]
        assert hearing.answers["jail_days_executed"] == 30


def test_two_tabs_share_one_record_submit_makes_it_read_only_and_pages_pass_axe(phone, live_server):
    with live_server.session() as db:
        setup = capture_setup(db)
    page = phone.new_page()
    _sign_in_and_open(page, live_server, setup)
    observation_id = observation_id_of(page)
    assert axe_violations(page) == []

    other = phone.new_page()
    other.goto(f"/capture?assignment={setup.assignment.id}")
    wait_ready(other)
    assert observation_id_of(other) == observation_id
    other.close()

    choose(page, "could_hear", "well")
    _record(page, HEARINGS[0], first=True)
    assert axe_violations(page) == []
    # Fix the turns by hand (the whole list is below the questions): an impossible edit is
    # refused on the phone, with a reason…
    page.get_by_test_id("all-turns").locator("summary").click()
    page.get_by_role("button", name="Edit turn 1, Judge").click()
    page.get_by_label("Start (m:ss)").fill("0:10")
    page.get_by_label("End (m:ss)").fill("0:05")
    page.get_by_role("button", name="Save turn").click()
    expect(page.get_by_role("alert")).to_have_text("The end must not be before the start.")
    page.get_by_role("button", name="Cancel").click()
    # …the second speaker was the probation officer, and the defense never spoke.
    page.get_by_role("button", name="Edit turn 2, Prosecutor").click()
    page.get_by_label("Role").select_option(label="Probation officer")
    page.get_by_role("button", name="Save turn").click()
    page.get_by_role("button", name="Delete turn 3, Defense attorney").click()
    expect(page.locator(".turn")).to_have_count(3)
    _end_hearing(page)

    page.get_by_role("link", name="Review and submit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Review and submit")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Submit observation").click()
    page.get_by_role("button", name="Yes, submit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Submitted observation")
    expect_status(page, "All synced")

    page.get_by_role("link", name="‹ Session").click()
    expect(page.get_by_role("button", name="New hearing")).to_have_count(0)
    expect(page.locator('[data-key="could_hear"] input[value="hardly"]')).to_be_disabled()
    with live_server.session() as db:
        observation = db.get(Observation, uuid.UUID(observation_id))
        assert observation is not None and observation.status == "submitted"
        turns = db.exec(select(Turn).order_by(col(Turn.seq))).all()
        assert [t.role for t in turns] == ["judge", "probation", "judge"]

    page.goto("/capture?adhoc=1")
    wait_ready(page)
    assert axe_violations(page) == []


def test_signing_out_warns_about_unsynced_notes_and_clears_synced_ones(phone, live_server):
    with live_server.session() as db:
        setup = capture_setup(db)
    page = phone.new_page()
    _sign_in_and_open(page, live_server, setup)
    observation_id = observation_id_of(page)
    go_offline(phone, page)
    _record(page, HEARINGS[0], first=True)
    # Back online but the sends fail, so the record is still unsynced when signing out.
    page.route("**/api/v1/observations/batch", lambda route: route.abort())
    phone.set_offline(False)
    page.goto("/")
    dialogs: list[str] = []

    def dismiss(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_enabled()
    assert dialogs and "not yet on the server" in dialogs[0]
    assert page.url.endswith("/")
    assert local_observation(page, observation_id) is not None

    page.unroute("**/api/v1/observations/batch")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")
    assert local_observation(page, observation_id) is None
    with live_server.session() as db:
        assert db.get(Observation, uuid.UUID(observation_id)) is not None


def test_drafts_come_back_on_another_phone_and_a_backup_holds_unsynced_work(
    browser, phone, live_server
):
    from tests.browser.conftest import PHONE

    with live_server.session() as db:
        setup = capture_setup(db)
    page = phone.new_page()
    _sign_in_and_open(page, live_server, setup)
    observation_id = observation_id_of(page)
    _record(page, HEARINGS[0], first=True)
    _end_hearing(page)
    expect_status(page, "All synced")

    second_phone = browser.new_context(base_url=live_server.url, **PHONE)
    try:
        other = second_phone.new_page()
        _sign_in_and_open(other, live_server, setup)
        assert observation_id_of(other) == observation_id
        expect(other.locator(".hearing-item")).to_have_count(1)
        expect(other.locator(".hearing-item")).to_contain_text(HEARINGS[0]["case"])

        # Offline work on the second phone goes into the backup file, in the batch shape.
        go_offline(second_phone, other)
        other.get_by_role("button", name="New hearing").click()
        other.get_by_label("Case reference").fill("27-CR-24-2000")
        tap(other, "Judge")
        other.get_by_role("link", name="‹ Session").click()
        with other.expect_download() as download_info:
            other.get_by_role("button", name="Download backup").click()
        backup = json.loads(Path(download_info.value.path()).read_text())
        assert [o["id"] for o in backup["observations"]] == [observation_id]
        assert [h["case_reference"] for h in backup["observations"][0]["hearings"]] == [
            HEARINGS[0]["case"],
            "27-CR-24-2000",
        ]
        assert "rev" not in backup["observations"][0]
    finally:
        second_phone.close()


def test_a_lost_session_asks_to_sign_in_again_and_a_new_session_token_is_picked_up(
    phone, live_server
):
    with live_server.session() as db:
        setup = capture_setup(db)
    page = phone.new_page()
    _sign_in_and_open(page, live_server, setup)
    observation_id = observation_id_of(page)
    go_offline(phone, page)
    _record(page, HEARINGS[0], first=True)
    _end_hearing(page)

    statuses: list[int] = []
    page.on(
        "response",
        lambda r: statuses.append(r.status) if r.url.endswith("/observations/batch") else None,
    )
    # The session expired while the phone was offline: nothing is dropped, the volunteer is told.
    phone.clear_cookies()
    phone.set_offline(False)
    page.get_by_role("button", name="Sync now").click()
    expect_status(page, "Sign in again to sync")
    assert local_observation(page, observation_id)["hearings"][0]["turns"]
    # Capture keeps working without a session: the worker answers the sign-in redirect with
    # the shell, and the record is still there to add to.
    page.reload()
    wait_ready(page)
    expect(page.locator(".hearing-item")).to_have_count(1)
    expect_status(page, "Sign in again to sync")

    # Signing in again (another tab) makes a new session with a new CSRF token; the capture page
    # still holds the old one, is refused (403), fetches a fresh pack and sends.
    other = phone.new_page()
    sign_in(other, setup.volunteer.email, DEFAULT_PASSWORD)
    other.close()
    page.get_by_role("button", name="Sync now").click()
    expect_status(page, "All synced")
    # (Without a session the CSRF check refuses first, 403; the pack then answers 401.)
    assert statuses[-2:] == [403, 200], statuses
    with live_server.session() as db:
        hearings = db.exec(select(Hearing)).all()
        assert [h.case_reference for h in hearings] == [HEARINGS[0]["case"]]


def test_a_new_version_waits_while_records_are_unsynced_and_keeps_them(
    phone, live_server, monkeypatch
):
    from app.capture import service as capture_service

    with live_server.session() as db:
        setup = capture_setup(db)
    page = phone.new_page()
    _sign_in_and_open(page, live_server, setup)
    old_caches = page.evaluate("async () => await caches.keys()")
    _record(page, HEARINGS[0], first=True)

    # A deployment changes the shell: the worker script changes, the browser installs it.
    monkeypatch.setattr(capture_service, "shell_version", lambda: "0123456789ab")
    page.evaluate("async () => (await navigator.serviceWorker.getRegistration()).update()")
    banner = page.locator("#update-banner")
    expect(banner).to_contain_text("A new version of Courtwatch is ready", timeout=15_000)

    go_offline(phone, page)
    tap(page, "Victim")
    banner.get_by_role("button", name="Update").click()
    expect(banner).to_contain_text("1 observation is not on the server")
    # The new shell is installed beside the old one, which still serves this page.
    assert set(old_caches) < set(page.evaluate("async () => await caches.keys()"))

    phone.set_offline(False)
    expect_status(page, "All synced")
    with page.expect_navigation():
        banner.get_by_role("button", name="Update").click()
    wait_ready(page)
    caches_now = page.evaluate("async () => await caches.keys()")
    assert "courtwatch-shell-0123456789ab" in caches_now
    old_shell = set(old_caches) - {"courtwatch-pages"}
    assert old_shell and not (old_shell & set(caches_now)), "the old shell's cache is pruned"
    page.get_by_test_id("all-turns").locator("summary").click()
    expect(page.locator(".turn")).to_have_count(len(HEARINGS[0]["roles"]) + 1)
