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
