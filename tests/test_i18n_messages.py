"""What Python code says, in the reader's language: flash messages after an action, field errors
of a form posted with bad input, dates on a page. A Spanish reader (by their account's choice or
the browser's Accept-Language) reads Spanish; an English one still reads English."""

from __future__ import annotations

import html
import re

from sqlmodel import select

from app.auth.models import Role, User
from app.sessions.models import CourtSession
from tests.factories import new_account_form
from tests.sessions import factories as f


def _signed_in(client_for, db, role: Role, language: str | None = None):
    """A client signed in as a new user of `role` who chose `language` on their account."""
    client, user = client_for(role)
    if language:
        user.language = language
        db.add(user)
        db.commit()
    return client


def _field_error(page: str, field: str) -> str:
    match = re.search(rf'<p class="error" id="e-{field}">([^<]*)</p>', page)
    assert match, f"no error shown for {field}"
    return html.unescape(match.group(1))


def _flashes(page: str) -> str:
    return html.unescape(page)


# --- flash messages ----------------------------------------------------------------------------


def test_a_spanish_admin_reads_the_flash_of_a_new_account_in_spanish(client_for, db):
    client = _signed_in(client_for, db, Role.admin, "es")
    created = client.post("/admin/users/new", data=new_account_form())
    assert created.status_code == 303
    page = _flashes(client.get(created.headers["location"]).text)
    assert "Se creó la cuenta de Rosa Martinez." in page
    assert "Account created" not in page
    assert db.exec(select(User).where(User.email == "rmartinez@example.org")).one()


def test_an_english_admin_still_reads_it_in_english(client_for, db):
    client = _signed_in(client_for, db, Role.admin)
    created = client.post("/admin/users/new", data=new_account_form())
    assert created.status_code == 303
    page = _flashes(client.get(created.headers["location"]).text)
    assert "Account created for Rosa Martinez." in page


def test_the_browser_language_is_enough_for_a_spanish_flash(client_for, db):
    client = _signed_in(client_for, db, Role.admin)
    spanish = {"Accept-Language": "es-MX,es;q=0.9"}
    created = client.post("/admin/users/new", data=new_account_form(), headers=spanish)
    page = _flashes(client.get(created.headers["location"], headers=spanish).text)
    assert "Se creó la cuenta de Rosa Martinez." in page


def test_a_plural_flash_takes_the_spanish_plural(client_for, db):
    client = _signed_in(client_for, db, Role.trainer, "es")
    form = {**f.form(), "weekday": "1", "start_date": "2026-12-01", "weeks": "3", "end_date": ""}
    del form["session_date"]
    created = client.post("/sessions/recurring", data={**form, "action": "create"})
    assert created.status_code == 303
    assert len(db.exec(select(CourtSession)).all()) == 3
    page = _flashes(client.get(created.headers["location"]).text)
    assert "Se crearon 3 sesiones del tribunal." in page
    assert "Created 3" not in page


# --- field errors ------------------------------------------------------------------------------


def test_a_spanish_admin_reads_field_errors_in_spanish(client_for, db):
    client = _signed_in(client_for, db, Role.admin, "es")
    response = client.post(
        "/admin/users/new", data=new_account_form(display_name="", password="password123")
    )
    assert response.status_code == 422
    assert _field_error(response.text, "display_name") == "Este campo es obligatorio."
    assert "This field is required." not in response.text
    assert db.exec(select(User).where(User.email == "rmartinez@example.org")).first() is None


def test_a_password_refused_as_guessable_says_why_in_spanish(client_for, db):
    client = _signed_in(client_for, db, Role.admin, "es")
    response = client.post("/admin/users/new", data=new_account_form(password="rosa-martinez-2024"))
    assert response.status_code == 422
    why = _field_error(response.text, "password")
    assert why.startswith("Esta contraseña contiene su nombre")
    assert "cuatro o más palabras" in why


def test_a_session_form_error_is_in_spanish_and_in_english(client_for, db):
    spanish = _signed_in(client_for, db, Role.trainer, "es")
    bad = f.form(session_date="2026-12-01", start_time="")
    bad["session_date"] = "1999-01-04"
    response = spanish.post("/sessions", data=bad)
    assert response.status_code == 422
    assert _field_error(response.text, "session_date") == "Ingrese una fecha entre 2000 y 2100."
    english = _signed_in(client_for, db, Role.trainer)
    response = english.post("/sessions", data=bad)
    assert response.status_code == 422
    assert _field_error(response.text, "session_date") == "Enter a date between 2000 and 2100."
    assert db.exec(select(CourtSession)).first() is None


def test_a_validation_phrase_from_pydantic_is_in_spanish(client_for, db):
    client = _signed_in(client_for, db, Role.admin, "es")
    response = client.post("/admin/users/new", data=new_account_form(display_name="x" * 500))
    assert response.status_code == 422
    message = _field_error(response.text, "display_name")
    assert "como máximo" in message and "caracteres" in message, message


def test_a_page_that_is_not_there_says_so_in_spanish(client_for, db):
    client = _signed_in(client_for, db, Role.admin, "es")
    response = client.get("/admin/users/999999")
    assert response.status_code == 404
    assert "Esa cuenta no existe." in html.unescape(response.text)


# --- dates -------------------------------------------------------------------------------------


def test_dates_on_a_page_have_spanish_month_and_day_names(client_for, db):
    form = {**f.form(), "weekday": "1", "start_date": "2026-12-01", "weeks": "6", "end_date": ""}
    del form["session_date"]
    spanish = _signed_in(client_for, db, Role.trainer, "es")
    preview = spanish.post("/sessions/recurring", data={**form, "action": "preview"})
    assert preview.status_code == 200
    assert "mar 01 dic 2026" in preview.text and "mar 05 ene 2027" in preview.text
    assert "Dec" not in preview.text
    english = _signed_in(client_for, db, Role.trainer)
    preview = english.post("/sessions/recurring", data={**form, "action": "preview"})
    assert "Tue 01 Dec 2026" in preview.text and "Tue 05 Jan 2027" in preview.text


def test_a_spanish_organizer_reads_the_flashes_and_errors_of_sets_and_imports_in_spanish(
    client_for, db
):
    client = _signed_in(client_for, db, Role.organizer, "es")
    created = client.post("/sets", data={"name": "Sentencias"})
    assert created.status_code == 303
    page = _flashes(client.get(created.headers["location"]).text)
    assert "Se guardó el conjunto “Sentencias”." in page and "saved" not in page
    set_id = created.headers["location"].rstrip("/").split("/")[-1]
    deleted = client.post(f"/sets/{set_id}/delete")
    page = _flashes(client.get(deleted.headers["location"]).text)
    assert "Se eliminó el conjunto “Sentencias”. Sus observaciones no se modificaron." in page
    empty = client.post("/import", files={"file": ("empty.json", b"  ", "application/json")})
    assert empty.status_code == 422
    page = html.unescape(empty.text)
    assert "El archivo está vacío." in page
    assert "El archivo tiene 1 problema; no se importó nada." in page
    missing = client.get("/sets/999999")
    assert missing.status_code == 404
    assert "No hay ningún conjunto de observaciones con este id." in html.unescape(missing.text)


def test_a_failed_export_kept_in_english_is_shown_in_the_readers_language():
    from app.exports import jobs
    from app.i18n import speaking

    stored = jobs.INTERRUPTED % {"count": 3}
    assert jobs.shown_error(stored) == stored
    with speaking("es"):
        assert jobs.shown_error(stored).startswith("La exportación se interrumpió 3 veces")
        assert "(KeyError)" in jobs.shown_error(jobs.NOT_MADE % {"error": "KeyError"})
        assert jobs.shown_error("Something else.") == "Something else."


def test_a_sets_filter_is_summarised_in_the_readers_language(client_for, db):
    client = _signed_in(client_for, db, Role.organizer, "es")
    created = client.post(
        "/sets", data={"name": "Filtrado", "calendar_type": "sentencing", "status": "submitted"}
    )
    assert created.status_code == 303
    page = html.unescape(client.get(created.headers["location"]).text)
    summary = page[page.index('<ul class="filter-summary">') :].split("</ul>")[0]
    assert "<li>Calendario: Sentencias</li>" in summary
    assert "<li>Estado: Enviadas</li>" in summary
