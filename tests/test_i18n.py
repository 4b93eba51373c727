"""The interface in English and Spanish: every message translated, the language chosen per
user or from the browser, English where a translation is missing, numbers and dates in the
language's own way."""

from __future__ import annotations

import re
from datetime import date

from sqlmodel import select

from app import i18n
from app.auth.models import User
from app.i18n.catalogs import extract

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def test_every_message_of_the_interface_is_translated_into_spanish():
    spanish = i18n.catalog("es")
    messages = [m.id for m in extract() if m.id]
    assert len(messages) > 10
    untranslated = [
        (m if isinstance(m, str) else m[0])
        for m in messages
        if (m if isinstance(m, str) else m[0]) not in spanish
    ]
    assert untranslated == [], (
        "run `make messages` and translate these in app/locale/es/LC_MESSAGES/messages.po: "
        + "; ".join(untranslated)
    )


def test_translations_keep_their_placeholders():
    for message, translated in i18n.catalog("es").items():
        forms = translated if isinstance(translated, tuple) else (translated,)
        for form in forms:
            assert set(PLACEHOLDER.findall(form)) <= set(PLACEHOLDER.findall(message)) | {"num"}, (
                message,
                form,
            )


def test_the_browser_language_chooses_spanish(client):
    page = client.get("/login", headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"})
    assert page.status_code == 200
    assert '<html lang="es"' in page.text and "Iniciar sesión" in page.text
    english = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="en"' in english.text and "Sign in" in english.text
    unknown = client.get("/login", headers={"Accept-Language": "de-DE"})
    assert '<html lang="en"' in unknown.text


def test_a_user_choice_overrides_the_browser_and_is_kept_on_the_account(volunteer, client, db):
    phone, user = volunteer
    response = phone.post(
        "/language", data={"language": "es", "next": "/"}, headers={"Accept-Language": "en"}
    )
    assert response.status_code == 303 and response.headers["location"] == "/"
    db.expire_all()
    assert db.exec(select(User).where(User.id == user.id)).one().language == "es"
    # The account, not the cookie, remembers it: another browser signed in as the user.
    from tests.conftest import login

    login(client, user.email)
    home = client.get("/", headers={"Accept-Language": "en"})
    assert "Cerrar sesión" in home.text and "Mis asignaciones" in home.text
    client.post("/language", data={"language": "", "next": "/"})
    db.expire_all()
    assert db.exec(select(User).where(User.id == user.id)).one().language is None
    assert "Sign out" in client.get("/", headers={"Accept-Language": "en"}).text


def test_a_visitor_choice_is_kept_in_a_cookie_and_unsafe_next_is_refused(client):
    from tests.conftest import page_csrf_token

    token = page_csrf_token(client, "/login")
    response = client.post(
        "/language",
        data={"language": "es", "next": "//evil.example/", "csrf_token": token},
    )
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert "Iniciar sesión" in client.get("/login", headers={"Accept-Language": "en"}).text


def test_a_missing_translation_falls_back_to_english_never_blank():
    with i18n.speaking("es"):
        assert i18n.gettext("Sign out") == "Cerrar sesión"
        assert i18n.gettext("A message nobody translated") == "A message nobody translated"
        assert i18n.ngettext("%(num)s gadget", "%(num)s gadgets", 3) == "%(num)s gadgets"
        assert i18n.ngettext("%(num)s hearing", "%(num)s hearings", 3) == "%(num)s audiencias"
    with i18n.speaking("xx"):
        assert i18n.language() == "en"


def test_accept_language_is_negotiated_by_quality():
    assert i18n.negotiate("fr-CA, es;q=0.5, en;q=0.4") == "es"
    assert i18n.negotiate("en;q=0.1, es;q=0.9") == "es"
    assert i18n.negotiate("es;q=0, en") == "en"
    assert i18n.negotiate("*") == "en"
    assert i18n.negotiate(";;;,q=x, es;q=abc") == "en"
    assert i18n.negotiate("x" * 10_000) == "en"
    assert i18n.negotiate("en", chosen="es") == "es"


def test_numbers_and_dates_follow_the_language():
    with i18n.speaking("es"):
        assert i18n.format_number(12345.5, 1) == "12.345,5"
        assert i18n.format_day(date(2026, 12, 2)) == "2 dic 2026"
    with i18n.speaking("en"):
        assert i18n.format_number(12345.5, 1) == "12,345.5"
        assert i18n.format_day(date(2026, 12, 2)) == "Dec 2, 2026"
