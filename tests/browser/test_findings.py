"""The findings an organizer publishes, in a real browser: the gap matrix (sorted by a tap),
a judge's report card and the report, on a phone, a laptop and A4 paper. Screenshots land in
test-results/screens/."""

from __future__ import annotations

import io
import random

import httpx
import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from app.auth.models import Role
from tests.analysis.builders import comparison_definition, hearing, send_observation
from tests.browser.capture_helpers import axe_violations
from tests.browser.conftest import LAPTOP, PHONE, sign_in
from tests.conftest import login
from tests.factories import DEFAULT_PASSWORD, create_user
from tests.protocols.factories import published_protocol

pytestmark = pytest.mark.browser

# Per judge: how often safety is mentioned, over two sittings of eight hearings each.
JUDGES = {"Judge Ada Alvarez": 0.8, "Judge Ben Brooks": 0.25, "Judge Cy Chen": 0.5}


def _seed(live_server) -> str:
    rng = random.Random(7)
    with live_server.session() as db:
        organizer = create_user(db, role=Role.organizer, email="organizer@example.org")
        volunteer = create_user(db, role=Role.volunteer, email="vol@example.org")
        version_id = published_protocol(db, name="Findings", definition=comparison_definition()).id
    with httpx.Client(base_url=live_server.url, follow_redirects=False) as client:
        login(client, volunteer.email)  # type: ignore[arg-type]
        for j, (judge, p_yes) in enumerate(JUDGES.items()):
            for day in ("2026-09-08", "2026-10-13"):
                send_observation(
                    client,  # type: ignore[arg-type]
                    protocol_version_id=version_id,
                    court={
                        "court": "District Court",
                        "courtroom": ["3B", "4A", "5C"][j],
                        "session_date": day,
                        "judge": judge,
                        "calendar_type": "sentencing",
                    },
                    session_answers={"influence": "prosecutor" if j == 1 else "judge"},
                    hearings=[
                        hearing(
                            [("judge", 0, 20_000), ("prosecutor", 20_000, 50_000)],
                            {
                                "safety_mentioned": "yes" if rng.random() < p_yes else "no",
                                "nco": rng.choice(["ordered", "continued", "not_mentioned"]),
                                "decided_by": "judge",
                            },
                            case_reference=f"27-CR-{j}{day[5:7]}{i}",
                        )
                        for i in range(8)
                    ],
                )
    return organizer.email


def test_matrix_card_and_report_on_a_phone_a_laptop_and_paper(browser, live_server, artifacts):
    email = _seed(live_server)
    screens = artifacts / "screens"
    screens.mkdir(parents=True, exist_ok=True)
    for name, device in (("phone", PHONE), ("laptop", LAPTOP)):
        context = browser.new_context(base_url=live_server.url, **device)
        try:
            page = context.new_page()
            sign_in(page, email, DEFAULT_PASSWORD)
            page.goto("/compare")
            root = page.locator("[data-page=compare]")
            expect(root.locator("#headlines li").first).to_contain_text("95 % interval")
            # The matrix: every judge; a tap on a question sorts by it, worst first.
            matrix = root.get_by_test_id("matrix-judge")
            expect(matrix.locator("tbody tr")).to_have_count(3)
            matrix.get_by_role("link", name="Victim safety mentioned?").click()
            matrix = page.get_by_test_id("matrix-judge")
            expect(matrix.locator("tbody tr").first).to_contain_text("Judge Ben Brooks")
            expect(matrix.locator("th[aria-sort=descending]")).to_have_count(1)
            page.evaluate(
                "document.querySelector('[data-testid=matrix-judge]').closest('.table-wrap')"
                ".previousElementSibling.scrollIntoView({block: 'start'})"
            )
            page.screenshot(path=str(screens / f"matrix-{name}.png"))
            if name == "phone":
                assert page.evaluate("document.documentElement.scrollWidth") <= 360
            assert axe_violations(page) == []
            # The judge's report card, from the matrix's link.
            matrix.get_by_role("link", name="Judge Ben Brooks").click()
            card = page.locator("[data-page=report-card]")
            expect(card.locator("h1")).to_contain_text("Judge Ben Brooks")
            expect(card.get_by_test_id("facts")).to_contain_text("16")
            page.screenshot(path=str(screens / f"card-{name}.png"), full_page=True)
            if name == "phone":
                assert page.evaluate("document.documentElement.scrollWidth") <= 360
            assert axe_violations(page) == []
            # The report.
            page.goto("/compare/report")
            expect(page.locator("[data-page=report] #method")).to_contain_text("Wilson")
            page.screenshot(path=str(screens / f"report-{name}.png"), full_page=True)
            assert axe_violations(page) == []
            if name == "laptop":
                # A4 as the browser prints it (print stylesheet), and the server's PDF.
                page.emulate_media(media="print")
                page.screenshot(path=str(screens / "report-print.png"), full_page=True)
                page.pdf(path=str(screens / "report-browser-a4.pdf"), format="A4")
                response = page.request.get("/compare/report.pdf")
                assert response.ok
                (screens / "report.pdf").write_bytes(response.body())
                reader = PdfReader(io.BytesIO(response.body()))
                text = " ".join(p.extract_text() for p in reader.pages)
                assert "Judge Ben Brooks" in text and "Method" in text
        finally:
            context.close()
