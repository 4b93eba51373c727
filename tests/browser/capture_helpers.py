"""Driving the capture page in Chromium: wait for it, tap roles, answer questions, read IndexedDB."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, Page, expect

AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1.min.js"


def wait_ready(page: Page) -> None:
    """capture.js sets data-capture-ready once it has drawn from IndexedDB."""
    page.wait_for_selector("html[data-capture-ready]", timeout=15_000)


def wait_for_worker(page: Page) -> None:
    """The service worker controls the page (reload once: the first load is not controlled)."""
    try:
        page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=8_000)
    except Exception:
        page.reload()
        wait_ready(page)
        page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15_000)


def open_online(page: Page, url: str) -> None:
    page.goto(url)
    wait_ready(page)
    wait_for_worker(page)


def go_offline(context: BrowserContext, page: Page) -> None:
    context.set_offline(True)
    page.wait_for_function("() => navigator.onLine === false")


def tap(page: Page, label: str) -> None:
    """A role button, Pause or Undo on the tap pad."""
    pad = page.get_by_role("group", name="Who is speaking")
    pad.get_by_role("button", name=label, exact=True).click()


def open_section_of(page: Page, key: str) -> None:
    """Open the hearing section holding question `key` (one is open at a time), by its header."""
    section = page.locator(f'details.cap-acc:has([data-key="{key}"])')
    if section.count() and section.get_attribute("open") is None:
        section.locator("summary").click()
        expect(section).to_have_attribute("open", "")


def choose(page: Page, key: str, value: str) -> None:
    """Tick a tile (radio or checkbox) of question `key` the way a thumb does: on its label."""
    open_section_of(page, key)
    page.locator(f'[data-key="{key}"] label:has(input[value="{value}"])').click()


def answer(page: Page, key: str, value: Any) -> None:
    kind = page.locator(f'[data-key="{key}"]').get_attribute("data-type")
    if kind in ("yes_no", "single_choice"):
        choose(page, key, value)
    elif kind in ("multi_choice", "roles_present"):
        for item in value:
            choose(page, key, item)
    else:
        open_section_of(page, key)
        page.locator(f'[data-key="{key}"]').locator("input, textarea").first.fill(str(value))


def local_observation(page: Page, observation_id: str) -> dict[str, Any]:
    """The observation as IndexedDB holds it on this phone."""
    return page.evaluate(
        """async (id) => {
            const store = await import('/static/js/store.js');
            return store.getObservation(id);
        }""",
        observation_id,
    )


def observation_id_of(page: Page) -> str:
    match = re.search(r"observation=([0-9a-f-]{36})", page.url)
    assert match, page.url
    return match.group(1)


def expect_status(page: Page, text: str, timeout: float = 20_000) -> None:
    expect(page.locator("#sync-status")).to_contain_text(text, timeout=timeout)


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations on the current page."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # add_script_tag(path=…) inserts an inline <script>, which the app's CSP (script-src
        # 'self') rightly blocks; evaluating the same file through DevTools is not a page script.
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    results = page.evaluate("() => axe.run(document, { resultTypes: ['violations'] })")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def next_hearing(page: Page) -> None:
    """Next hearing in the clock bar; when it first shows the hearing's unanswered safety and
    accountability questions, go on from there without answering them."""
    page.locator('.clock-bar [data-action="next-hearing"]').click()
    sheet = page.locator(".cap-sheet")
    go_on = sheet.locator('[data-action="sheet-next"]')
    if sheet.count() and sheet.is_visible():
        go_on.click()


def end_and_sync(page: Page) -> None:
    """End the last hearing of the sitting, back on the session page, and sync until done."""
    page.get_by_role("button", name="End hearing (last of the sitting)").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hennepin County District Court")
    page.get_by_role("button", name="Sync now").click()
    expect_status(page, "All synced")
