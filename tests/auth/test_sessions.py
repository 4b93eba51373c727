"""Sessions that end: server-side rows behind the cookie, through the real app and database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from app.audit.models import AuditEntry
from app.auth.models import Role, SignInSession, User
from app.auth.session_middleware import COOKIE_NAME
from app.auth.sign_in_sessions import hash_token
from app.main import create_app
from tests.conftest import login, page_csrf_token
from tests.factories import DEFAULT_PASSWORD, create_user

STRONG = "marble otter lantern quietly"


@contextmanager
def copy_of(app, client: TestClient) -> Iterator[TestClient]:
    """Another browser holding a copy of `client`'s cookie (what a thief would have)."""
    with TestClient(app, follow_redirects=False, cookies=dict(client.cookies)) as thief:
        yield thief


def signed_in(client: TestClient) -> bool:
    response = client.get("/")
    assert response.status_code in (200, 303), response.status_code
    return response.status_code == 200


def row_of(db, client: TestClient) -> SignInSession | None:
    db.expire_all()
    token = client.cookies.get(COOKIE_NAME)
    return db.exec(
        select(SignInSession).where(SignInSession.token_hash == hash_token(token))
    ).first()


def test_the_cookie_holds_only_a_random_token_whose_hash_is_stored(volunteer, db):
    client, user = volunteer
    token = client.cookies[COOKIE_NAME]
    assert len(token) >= 40 and str(user.id) not in token.split(".")
    row = row_of(db, client)
    assert row is not None and row.user_id == user.id
    assert row.token_hash != token and len(row.token_hash) == 64
    assert row.user_agent and row.ip_address


def test_a_copied_cookie_stops_working_after_logout(app, volunteer):
    client, _ = volunteer
    with copy_of(app, client) as thief:
        assert signed_in(thief)
        assert client.post("/logout").status_code == 303
        assert not signed_in(thief)
        assert thief.get("/api/v1/offline-pack").status_code == 401  # the offline API too
    assert not signed_in(client)


def test_the_session_token_rotates_at_sign_in(app, db):
    create_user(db, email="rotate@example.org")
    with TestClient(app, follow_redirects=False) as client:
        page_csrf_token(client, "/login")
        before = client.cookies[COOKIE_NAME]  # planted before sign-in (session fixation)
        login(client, "rotate@example.org")
        after = client.cookies[COOKIE_NAME]
        assert after != before
        with TestClient(app, follow_redirects=False, cookies={COOKIE_NAME: before}) as planted:
            assert not signed_in(planted)


def test_a_password_change_on_another_client_ends_the_copied_cookie(app, db, client_for):
    phone, user = client_for(Role.volunteer, email="pat@example.org", display_name="Pat Lee")
    with TestClient(app, follow_redirects=False) as laptop:
        login(laptop, "pat@example.org")
        old_cookie = laptop.cookies[COOKIE_NAME]
        response = laptop.post(
            "/account/password",
            data={
                "current_password": DEFAULT_PASSWORD,
                "new_password": STRONG,
                "new_password_again": STRONG,
            },
        )
        assert response.status_code == 303, response.text
        # This browser stays signed in, on a new token; the phone and the old token are out.
        assert laptop.cookies[COOKIE_NAME] != old_cookie
        home = laptop.get("/")
        assert home.status_code == 200 and "Signed out 1 other session" in home.text
        assert not signed_in(phone)
        with TestClient(app, follow_redirects=False, cookies={COOKIE_NAME: old_cookie}) as copy:
            assert not signed_in(copy)
    with TestClient(app, follow_redirects=False) as again:
        login(again, "pat@example.org", STRONG)
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "user.password_change")).one()
    assert entry.actor_id == user.id and entry.detail == {"other_sessions_ended": 1}


@pytest.mark.parametrize(
    ("fields", "action", "detail"),
    [
        ({"password": STRONG}, "user.password_reset", {}),
        ({"role": "trainer"}, "user.role_change", {"from": "volunteer", "to": "trainer"}),
        ({"is_active": ""}, "user.deactivate", {}),
    ],
)
def test_an_admin_reset_role_change_or_deactivation_ends_every_session(
    app, db, admin, client_for, fields, action, detail
):
    admin_client, admin_user = admin
    phone, user = client_for(Role.volunteer)
    with TestClient(app, follow_redirects=False) as laptop, copy_of(app, phone) as thief:
        login(laptop, user.email)
        assert signed_in(thief) and signed_in(laptop)
        form = {
            "email": user.email,
            "display_name": user.display_name,
            "role": "volunteer",
            "is_active": "on",
            "password": "",
            **fields,
        }
        response = admin_client.post(f"/admin/users/{user.id}", data=form)
        assert response.status_code == 303, response.text
        assert not signed_in(phone) and not signed_in(thief) and not signed_in(laptop)
    assert signed_in(admin_client)
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == action)).one()
    assert entry.actor_id == admin_user.id and entry.target == f"user:{user.id}"
    assert entry.detail == {**detail, "sessions_ended": 2}
    assert entry.ip_address


def test_saving_an_account_unchanged_keeps_its_sessions(db, admin, client_for):
    admin_client, _ = admin
    phone, user = client_for(Role.volunteer)
    form = {"email": user.email, "display_name": "New Name", "role": "volunteer", "is_active": "on"}
    assert admin_client.post(f"/admin/users/{user.id}", data=form).status_code == 303
    assert signed_in(phone)
    assert db.exec(select(AuditEntry).where(col(AuditEntry.action).startswith("user."))).all() == []


def test_an_idle_session_expires(volunteer, db, app):
    client, _ = volunteer
    row = row_of(db, client)
    idle = app.state.settings.session_idle_timeout_seconds
    row.last_seen_at -= timedelta(seconds=idle - 30)
    db.add(row)
    db.commit()
    assert signed_in(client)  # still inside the idle lifetime, and seen again now
    row = row_of(db, client)
    row.last_seen_at -= timedelta(seconds=idle + 1)
    db.add(row)
    db.commit()
    assert not signed_in(client)
    assert row_of(db, client) is None or row_of(db, client).ended_at is not None
    db.refresh(row)
    assert row.end_reason == "expired"


def test_an_active_session_still_ends_at_its_absolute_lifetime(volunteer, db, app):
    client, _ = volunteer
    row = row_of(db, client)
    row.created_at -= timedelta(seconds=app.state.settings.session_max_age_seconds + 1)
    db.add(row)
    db.commit()
    assert not signed_in(client)


def test_small_lifetimes_from_the_settings_apply(app, db):
    app.state.settings.session_idle_timeout_seconds = 1
    create_user(db, email="brief@example.org")
    with TestClient(app, follow_redirects=False) as client:
        login(client, "brief@example.org")
        assert signed_in(client)
        row = row_of(db, client)
        row.last_seen_at -= timedelta(seconds=2)
        db.add(row)
        db.commit()
        assert not signed_in(client)


def test_sessions_survive_a_restart_and_end_in_every_process(app, settings, volunteer):
    client, _ = volunteer
    restarted = create_app(settings)
    try:
        with TestClient(restarted, follow_redirects=False, cookies=dict(client.cookies)) as other:
            assert signed_in(other)
            assert client.post("/logout").status_code == 303
            assert not signed_in(other)
    finally:
        restarted.state.engine.dispose()


def test_flash_messages_still_reach_a_signed_out_visitor_and_are_not_kept(client, db, volunteer):
    phone, _ = volunteer
    response = phone.post("/logout")
    assert response.status_code == 303
    page = phone.get("/login")
    assert "You are signed out." in page.text
    assert "You are signed out." not in phone.get("/login").text
    # The visitor's row went with its message; nothing anonymous piles up.
    db.expire_all()
    assert db.exec(select(SignInSession).where(col(SignInSession.user_id).is_(None))).all() == []


def test_the_login_form_needs_no_stored_session(client, db):
    page_csrf_token(client, "/login")
    assert COOKIE_NAME in client.cookies
    assert db.exec(select(SignInSession)).all() == []


# --- an admin sees and ends sessions --------------------------------------------------------


def test_admin_sees_a_users_sessions_and_ends_one_then_all(app, db, admin, client_for):
    admin_client, admin_user = admin
    phone, user = client_for(Role.volunteer)
    with TestClient(app, follow_redirects=False, headers={"User-Agent": "LaptopBrowser/1"}) as lap:
        login(lap, user.email)
        page = admin_client.get(f"/admin/users/{user.id}")
        assert page.status_code == 200
        assert "LaptopBrowser/1" in page.text and "testclient" in page.text.lower()
        laptop_row = row_of(db, lap)
        response = admin_client.post(f"/admin/users/{user.id}/sessions/{laptop_row.id}/end")
        assert response.status_code == 303
        assert not signed_in(lap) and signed_in(phone)
        assert "LaptopBrowser/1" not in admin_client.get(f"/admin/users/{user.id}").text
        # Another user's session id under this user's address ends nothing.
        admin_row = row_of(db, admin_client)
        admin_client.post(f"/admin/users/{user.id}/sessions/{admin_row.id}/end")
        assert signed_in(admin_client)
        assert admin_client.post(f"/admin/users/{user.id}/sessions/end-all").status_code == 303
        assert not signed_in(phone)
        assert "Not signed in anywhere." in admin_client.get(f"/admin/users/{user.id}").text
    entries = db.exec(
        select(AuditEntry).where(AuditEntry.action == "session.end").order_by(AuditEntry.id)
    ).all()
    assert [(e.actor_id, e.target, e.detail) for e in entries] == [
        (admin_user.id, f"user:{user.id}", {"sessions_ended": 1, "session": laptop_row.id}),
        (admin_user.id, f"user:{user.id}", {"sessions_ended": 1}),
    ]


def test_ending_sessions_is_for_admins_only(db, trainer, client_for):
    trainer_client, _ = trainer
    phone, user = client_for(Role.volunteer)
    assert trainer_client.post(f"/admin/users/{user.id}/sessions/end-all").status_code == 403
    assert trainer_client.get(f"/admin/users/{user.id}").status_code == 403
    assert signed_in(phone)


def test_ending_sessions_of_no_such_account_is_404(admin):
    admin_client, _ = admin
    assert admin_client.post("/admin/users/999999/sessions/end-all").status_code == 404


def test_deactivated_user_row_is_never_a_session(db, volunteer):
    client, user = volunteer
    stored = db.get(User, user.id)
    stored.is_active = False  # even without the service ending the rows
    db.add(stored)
    db.commit()
    assert not signed_in(client)
