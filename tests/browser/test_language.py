"""The interface speaks the browser's language, and the menu at the foot of a page changes it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from app.auth.models import Role
from tests.browser.conftest import LAPTOP, PHONE
from tests.factories import DEFAULT_PASSWORD, create_user

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("device", ["phone", "laptop"])
def test_a_spanish_browser_gets_spanish_and_can_choose_english(
    browser: Browser, live_server, artifacts, device
):
    with live_server.session() as db:
        user = create_user(db, role=Role.volunteer, email=f"es-{device}@example.org")
    options = PHONE if device == "phone" else LAPTOP
    context = browser.new_context(base_url=live_server.url, locale="es-MX", **options)
    page = context.new_page()
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text("Iniciar sesión")
    page.screenshot(path=str(artifacts / f"login-es-{device}.png"), full_page=True)

    page.get_by_label("Correo electrónico").fill(user.email)
    page.get_by_label("Contraseña").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Iniciar sesión").click()
    page.wait_for_url(lambda url: "/login" not in url)
    expect(page.get_by_role("button", name="Cerrar sesión")).to_be_visible()
    expect(
        page.get_by_role("navigation").get_by_role("link", name="Mis asignaciones")
    ).to_be_visible()
    page.screenshot(path=str(artifacts / f"home-es-{device}.png"), full_page=True)
    if device == "phone":
        assert page.evaluate("document.documentElement.scrollWidth") <= 360

    page.get_by_label("Idioma").select_option("en")
    page.get_by_role("button", name="Cambiar").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    context.close()


def test_capture_speaks_the_volunteers_language_offline(phone, live_server, artifacts):
    """A volunteer who chose Spanish gets the capture in Spanish with no connection: the
    language travels in the offline pack, the words in the precached scripts."""
    from sqlmodel import select

    from app.auth.models import User
    from tests.browser.capture_helpers import expect_status, go_offline, wait_ready
    from tests.browser.conftest import sign_in
    from tests.capture.factories import capture_setup

    with live_server.session() as db:
        setup = capture_setup(db)
        user = db.exec(select(User).where(User.id == setup.volunteer.id)).one()
        user.language = "es"
        db.add(user)
        db.commit()
    page = phone.new_page()
    sign_in(page, setup.volunteer.email, DEFAULT_PASSWORD)
    page.goto("/my/assignments")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15_000)
    expect(page.locator("[data-unsynced-count]")).to_have_text("Todo sincronizado", timeout=15_000)
    go_offline(phone, page)
    page.locator(f'a[data-assignment="{setup.assignment.id}"]').click()
    wait_ready(page)
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("link", name="‹ Mis asignaciones")).to_be_visible()
    page.get_by_role("button", name="Nueva audiencia").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audiencia 1")
    expect(page.locator('.clock-bar [data-action="next-hearing"]')).to_have_text(
        "Siguiente audiencia"
    )
    expect(page.locator(".clock-speaker")).to_have_text("Nadie ha hablado todavía")
    pad = page.get_by_role("group", name="Quién habla")
    # The protocol's own words come from its Spanish translations, not the English base.
    pad.get_by_role("button", name="Juez/a", exact=True).click()
    expect(pad.get_by_role("button", name="Judge", exact=True)).to_have_count(0)
    expect(page.locator('[data-action="pause"]')).to_have_text("Pausa")
    continued = page.locator('[data-key="continued"]')
    expect(continued).to_contain_text("¿Se aplazó la audiencia (a otro día)?")
    expect(continued).to_contain_text("No observado")
    expect(page.get_by_text("Was the hearing continued", exact=False)).to_have_count(0)
    expect_status(page, "Sin conexión — guardado aquí")
    expect(page.get_by_role("button", name="Sincronizar")).to_be_visible()
    expect(page.locator("#sync-status")).to_contain_text("1 audiencia pendiente")
    page.screenshot(path=str(artifacts / "capture-es-offline-phone.png"))
    page.reload()  # offline: the precached shell, still in Spanish
    wait_ready(page)
    expect(page.locator('.clock-bar [data-action="next-hearing"]')).to_have_text(
        "Siguiente audiencia"
    )


@pytest.mark.parametrize("device", ["phone", "laptop"])
def test_staff_read_a_spanish_protocols_hearings_and_comparison_in_spanish(
    browser: Browser, live_server, artifacts, device
):
    """A Spanish-speaking organizer reads the protocol's own words in Spanish on the hearing
    page and the comparison (the default protocol ships with Spanish), pages that pass axe."""
    import httpx

    from app.observations.models import Hearing
    from tests.analysis.builders import hearing, send_observation
    from tests.browser.capture_helpers import axe_violations
    from tests.capture.factories import published_default_protocol
    from tests.conftest import login
    from tests.exports.builders import COURT

    with live_server.session() as db:
        version = published_default_protocol(db)
        volunteer = create_user(db, role=Role.volunteer, email=f"vol-{device}@example.org")
        organizer = create_user(db, role=Role.organizer, email=f"org-{device}@example.org")
        organizer.language = "es"
        db.add(organizer)
        db.commit()
        version_id, organizer_email, volunteer_email = version.id, organizer.email, volunteer.email
    with httpx.Client(base_url=live_server.url, follow_redirects=False) as api:
        login(api, volunteer_email)
        send_observation(
            api,
            protocol_version_id=version_id,
            court=COURT,
            hearings=[
                hearing(
                    [("judge", 0, 4000), ("prosecutor", 4000, 9000), ("defense", 9000, 12000)],
                    {"continued": "no"},
                )
            ],
            status="draft",
        )
    with live_server.session() as db:
        from sqlmodel import select

        hearing_id = db.exec(select(Hearing.id)).first()
    options = PHONE if device == "phone" else LAPTOP
    context = browser.new_context(base_url=live_server.url, **options)
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("Email").fill(organizer_email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)
    page.goto(f"/hearings/{hearing_id}")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_text("¿Se aplazó la audiencia (a otro día)?")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Fiscal")
    expect(page.locator("main .badge").first).to_have_text("borrador")
    assert axe_violations(page) == []
    page.screenshot(path=str(artifacts / f"hearing-es-{device}.png"), full_page=True)
    page.goto("/compare?status=draft")
    expect(page.locator("main")).to_contain_text("Juez/a")
    assert axe_violations(page) == []
    page.screenshot(path=str(artifacts / f"compare-es-{device}.png"), full_page=True)
    if device == "phone":
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
    context.close()
