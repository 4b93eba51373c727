"""Capture page figures (a benchmark that prints, not a timed test).

1. Bytes on the wire (compressed, as the server's GZip sends them) to load /capture cold on a
   phone, after signing in, with an empty browser cache and no service worker yet: the page and
   everything it loads (styles, scripts, the offline pack), then what the service worker
   precaches in the background on that first visit.
2. The time from a tap on a role button to that turn being committed to IndexedDB, over 200
   taps: capture.js sets the performance mark "cw-turn-saved" once the transaction completes,
   with the tap event's timestamp as detail.
3. An 8-hearing sentencing calendar recorded as a volunteer does (five speakers and one
   answer per hearing, then Next hearing): the taps it takes besides the speakers and answers,
   how far the volunteer must scroll to reach Next hearing, and the time from the tap on Next
   hearing to the new hearing's pad on screen (performance mark "cw-hearing-ready").

Run: .venv/bin/python bench/capture_page.py   (Debian's Chromium at /usr/bin/chromium)
Targets: the cold page with what it loads ≤ 60 KB compressed, ≤ 100 KB with the precache;
p95 tap→IndexedDB ≤ 16 ms (one frame); Next hearing → pad ready ≤ 100 ms; 0 px of scrolling.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from pathlib import Path

# Playwright reports a service worker's own requests only with this switch.
os.environ.setdefault("PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS", "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Request, sync_playwright  # noqa: E402

from app.db import upgrade  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE, sign_in, start_server  # noqa: E402
from tests.capture.factories import capture_setup  # noqa: E402
from tests.conftest import make_settings, sqlite_url  # noqa: E402
from tests.factories import DEFAULT_PASSWORD  # noqa: E402

TAPS = 200
ROLES = ["Judge", "Prosecutor", "Defense attorney", "Probation officer", "Defendant"]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lower, upper = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (k - lower)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        url = sqlite_url(data / "bench.db")
        upgrade(url)
        server = start_server(make_settings(url, data))
        try:
            with server.session() as db:
                setup = capture_setup(db)
            run(server.url, setup)
        finally:
            server.stop()
            server.app.state.engine.dispose()


def run(base_url: str, setup) -> None:  # type: ignore[no-untyped-def]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=base_url, **PHONE)
        page = context.new_page()
        sign_in(page, setup.volunteer.email, DEFAULT_PASSWORD)

        # Cold: nothing in the HTTP cache, no service worker registered yet.
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.clearBrowserCache")
        page_bytes: dict[str, int] = {}
        urls: dict[str, str] = {}
        cdp.on(
            "Network.responseReceived",
            lambda e: urls.__setitem__(e["requestId"], e["response"]["url"]),
        )
        cdp.on(
            "Network.loadingFinished",
            lambda e: page_bytes.__setitem__(e["requestId"], int(e["encodedDataLength"])),
        )
        worker_bytes: dict[str, int] = {}

        def from_worker(request: Request) -> None:
            if request.service_worker is not None:
                sizes = request.sizes()
                worker_bytes[request.url] = sizes["responseBodySize"] + sizes["responseHeadersSize"]

        context.on("requestfinished", from_worker)

        page.goto(f"/capture?assignment={setup.assignment.id}")
        page.wait_for_selector("html[data-capture-ready]")
        page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=20_000)
        page.wait_for_load_state("networkidle")

        page_total = sum(page_bytes.values())
        worker_total = sum(worker_bytes.values())
        print("Cold load of /capture on a 360 px phone (bytes on the wire, gzip):")
        for request_id, size in sorted(page_bytes.items(), key=lambda kv: -kv[1]):
            print(f"  {size:>7,}  {urls.get(request_id, request_id).replace(base_url, '')}")
        print(
            f"  page and everything it loads: {page_total:,} bytes ({page_total / 1024:.1f} KB; "
            "target ≤ 60 KB)"
        )
        print(
            f"  service worker precache on that first visit: {worker_total:,} bytes "
            f"({len(worker_bytes)} files)"
        )
        for worker_url, size in sorted(worker_bytes.items(), key=lambda kv: -kv[1]):
            print(f"    {size:>7,}  {worker_url.replace(base_url, '')}")
        print(
            f"  total with the precache: {(page_total + worker_total) / 1024:.1f} KB (target ≤ 100 KB)"
        )

        # Taps: one hearing, role after role, each a new turn committed to IndexedDB.
        page.get_by_role("button", name="New hearing").click()
        page.wait_for_selector(".pad")
        page.evaluate("() => performance.clearMarks('cw-turn-saved')")
        pad = page.get_by_role("group", name="Who is speaking")
        for i in range(TAPS):
            pad.get_by_role("button", name=ROLES[i % len(ROLES)], exact=True).click()
        page.wait_for_function(
            f"() => performance.getEntriesByName('cw-turn-saved').length >= {TAPS}", timeout=30_000
        )
        durations = page.evaluate(
            "() => performance.getEntriesByName('cw-turn-saved').map(m => m.startTime - m.detail.tapAt)"
        )
        turns = page.evaluate(
            """async () => {
                const store = await import('/static/js/store.js');
                const id = new URLSearchParams(location.search).get('observation');
                const obs = await store.getObservation(id);
                return obs.hearings[0].turns.length;
            }"""
        )
        print(
            f"\nTap on a role button → turn committed in IndexedDB ({len(durations)} taps, {turns} turns stored):"
        )
        print(f"  p50 {statistics.median(durations):.1f} ms")
        print(f"  p95 {percentile(durations, 95):.1f} ms (target ≤ 16 ms, one frame)")
        print(f"  max {max(durations):.1f} ms")
        calendar(page)
        browser.close()


def calendar(page) -> None:  # type: ignore[no-untyped-def]
    """Eight hearings at the pace of a sentencing calendar."""
    page.get_by_role("link", name="‹ Session").click()
    page.wait_for_selector(".cap-actions")
    page.evaluate("() => performance.clearMarks('cw-hearing-ready')")
    pad = page.get_by_role("group", name="Who is speaking")
    next_button = page.locator('.clock-bar [data-action="next-hearing"]')
    extra_taps = 1  # New hearing
    scroll = 0.0
    first = page.locator(".hearing-item").count() + 1  # after the hearing of the taps above
    page.get_by_role("button", name="New hearing").click()
    for n in range(1, 9):
        page.wait_for_function(
            f"() => document.querySelector('h1')?.textContent === 'Hearing {first + n - 1}'"
        )
        for i in range(5):
            pad.get_by_role("button", name=ROLES[(n + i) % len(ROLES)], exact=True).click()
        page.locator('[data-key="continued"] label:has(input[value="no"])').click()
        if n == 8:
            break
        box = next_button.bounding_box()
        viewport = page.viewport_size
        # How far the button is outside the screen as it stands (the bar is sticky).
        scroll += max(0.0, box["y"] + box["height"] - viewport["height"], -box["y"])
        next_button.click()
        extra_taps += 1
        if page.locator(".cap-sheet").is_visible():  # unanswered safety/accountability shown
            next_button.click()
            extra_taps += 1
    page.wait_for_function(
        "() => performance.getEntriesByName('cw-hearing-ready').length >= 8", timeout=15_000
    )
    ready = page.evaluate(
        "() => performance.getEntriesByName('cw-hearing-ready').map(m => m.startTime - m.detail.tapAt)"
    )
    print("\nAn 8-hearing calendar (5 speakers and 1 answer per hearing):")
    print(f"  taps besides speakers and answers: {extra_taps} (New hearing, then Next hearing, ")
    print("    twice where the hearing's safety and accountability questions were left unanswered)")
    print(f"  scrolling needed to reach Next hearing: {scroll:.0f} px (target 0 px)")
    print(
        f"  Next hearing → pad ready: p50 {statistics.median(ready):.1f} ms, "
        f"max {max(ready):.1f} ms over {len(ready)} (target ≤ 100 ms)"
    )


if __name__ == "__main__":
    main()
