"""Sign-in, sign-out, throttling, CSRF and account management through the real app."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.auth.models import LoginAttempt, Role, User
from app.auth.security import verify_password
from tests.conftest import login, page_csrf_token
from tests.factories import DEFAULT_PASSWORD, create_user


def post_login(client: TestClient, email: str, password: str, **extra: str):
    token = page_csrf_token(client, "/login")
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token, **extra}
    )


def test_login_success_sets_a_hardened_session_cookie_and_redirects(client, db):
    user = create_user(db, role=Role.trainer, email="t@example.org")
    response = post_login(client, "T@Example.org ", DEFAULT_PASSWORD, next="/admin/users")
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/users"
    cookie = response.headers["set-cookie"].lower()
    assert "courtwatch_session=" in cookie
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie  # plain http in tests
    home = client.get("/")
    assert home.status_code == 200
    assert user.display_name in home.text
    attempts = db.exec(select(LoginAttempt)).all()
    assert [a.succeeded for a in attempts] == [True]


def test_session_cookie_is_secure_over_https(app, db):
    create_user(db, email="s@example.org")
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as c:
        response = post_login(c, "s@example.org", DEFAULT_PASSWORD)
        assert response.status_code == 303
        assert "secure" in response.headers["set-cookie"].lower()


def test_login_rejects_an_open_redirect(client, db):
    create_user(db, email="r@example.org")
    response = post_login(client, "r@example.org", DEFAULT_PASSWORD, next="https://evil.example/")
    assert response.headers["location"] == "/"


@pytest.mark.parametrize(
    ("email", "password", "status", "message"),
    [
        ("v@example.org", "wrong password", 401, "do not match an active account"),
        ("nobody@example.org", DEFAULT_PASSWORD, 401, "do not match an active account"),
        ("", "x", 422, "This field is required."),
        ("v@example.org", "", 422, "This field is required."),
        ("not-an-email", "x", 422, "Enter a valid email address"),
    ],
)
def test_login_failures_show_a_clear_message(client, db, email, password, status, message):
    create_user(db, email="v@example.org")
    response = post_login(client, email, password)
    assert response.status_code == status
    assert message in response.text
    assert client.get("/").status_code == 303  # still signed out


def test_deactivated_account_cannot_sign_in(client, db):
    create_user(db, email="gone@example.org", is_active=False)
    response = post_login(client, "gone@example.org", DEFAULT_PASSWORD)
    assert response.status_code == 401


def test_repeated_failures_for_one_account_are_throttled_and_logged(client, db, caplog):
    create_user(db, email="victim-of-guessing@example.org")
    for _ in range(5):
        assert post_login(client, "victim-of-guessing@example.org", "guess").status_code == 401
    with caplog.at_level(logging.WARNING, logger="courtwatch.auth"):
        response = post_login(client, "victim-of-guessing@example.org", DEFAULT_PASSWORD)
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.text
    assert int(response.headers["retry-after"]) > 0
    assert any("throttled" in r.getMessage() for r in caplog.records)
    # Another account from another address is unaffected.
    create_user(db, email="other@example.org")
    assert post_login(client, "other@example.org", DEFAULT_PASSWORD).status_code == 303


def test_repeated_failures_from_one_address_are_throttled(app, db):
    app.state.settings.login_max_failures_per_address = 3
    with TestClient(app, follow_redirects=False) as c:
        for i in range(3):
            assert post_login(c, f"guess{i}@example.org", "x").status_code == 401
        create_user(db, email="real@example.org")
        assert post_login(c, "real@example.org", DEFAULT_PASSWORD).status_code == 429


def test_logout_ends_the_session(volunteer):
    client, _ = volunteer
    assert client.get("/").status_code == 200
    response = client.post("/logout")
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert client.get("/").status_code == 303


def test_logout_without_csrf_token_is_refused(volunteer):
    client, _ = volunteer
    del client.headers["X-CSRF-Token"]
    response = client.post("/logout")
    assert response.status_code == 403
    assert "expired" in response.text
    assert client.get("/").status_code == 200  # still signed in


def test_login_without_or_with_a_wrong_csrf_token_is_refused(client, db):
    create_user(db, email="c@example.org")
    client.get("/login")
    assert (
        client.post(
            "/login", data={"email": "c@example.org", "password": DEFAULT_PASSWORD}
        ).status_code
        == 403
    )
    response = client.post(
        "/login",
        data={"email": "c@example.org", "password": DEFAULT_PASSWORD, "csrf_token": "forged" * 8},
    )
    assert response.status_code == 403
    assert db.exec(select(LoginAttempt)).all() == []


def test_csrf_token_from_another_session_is_refused(app, db):
    create_user(db, email="x@example.org")
    with TestClient(app, follow_redirects=False) as a, TestClient(app, follow_redirects=False) as b:
        token_of_a = page_csrf_token(a)
        b.get("/login")
        response = b.post(
            "/login",
            data={"email": "x@example.org", "password": DEFAULT_PASSWORD, "csrf_token": token_of_a},
        )
        assert response.status_code == 403


def test_csrf_header_is_accepted_for_htmx_and_fetch(client, db):
    create_user(db, email="h@example.org")
    token = page_csrf_token(client)
    response = client.post(
        "/login",
        data={"email": "h@example.org", "password": DEFAULT_PASSWORD},
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 303


def test_anonymous_api_request_gets_401_json(client):
    response = client.get("/openapi.json")
    assert response.status_code == 401
    assert response.json() == {"detail": "Sign in first."}


def test_anonymous_page_redirects_to_login_with_next(client):
    response = client.get("/admin/users?x=1")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fadmin%2Fusers%3Fx%3D1"


# --- account management -------------------------------------------------------------------


def test_admin_creates_an_account_that_can_sign_in(admin, app, db):
    client, _ = admin
    response = client.post(
        "/admin/users/new",
        data={
            "email": "New.Person@Example.org",
            "display_name": "New Person",
            "role": "organizer",
            "password": "long enough pw",
        },
    )
    assert response.status_code == 303
    created = db.exec(select(User).where(User.email == "new.person@example.org")).one()
    assert created.role == "organizer" and created.is_active
    assert "New Person" in client.get("/admin/users").text
    with TestClient(app, follow_redirects=False) as other:
        login(other, "new.person@example.org", "long enough pw")


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"email": "bad"}, "email", "Enter a valid email address"),
        ({"display_name": "   "}, "display_name", "Enter a name"),
        ({"role": "judge"}, "role", "Role: expected one of"),
        ({"password": "short"}, "password", "at least 10 characters"),
    ],
)
def test_admin_create_with_bad_input_shows_field_errors_and_stores_nothing(
    admin, db, fields, field, message
):
    client, _ = admin
    before = len(db.exec(select(User)).all())
    data = {
        "email": "ok@example.org",
        "display_name": "Ok",
        "role": "volunteer",
        "password": "long enough pw",
        **fields,
    }
    response = client.post("/admin/users/new", data=data)
    assert response.status_code == 422
    assert f'id="e-{field}"' in response.text
    assert message in response.text
    assert len(db.exec(select(User)).all()) == before


def test_admin_create_with_a_taken_email_is_a_conflict(admin, db):
    client, _ = admin
    create_user(db, email="taken@example.org")
    response = client.post(
        "/admin/users/new",
        data={
            "email": "TAKEN@example.org",
            "display_name": "X",
            "role": "volunteer",
            "password": "long enough pw",
        },
    )
    assert response.status_code == 409
    assert "already exists" in response.text


def test_admin_edits_role_deactivates_and_resets_password(admin, app, db):
    client, _ = admin
    user = create_user(db, email="edit-me@example.org", role=Role.volunteer)
    response = client.post(
        f"/admin/users/{user.id}",
        data={
            "email": "edit-me@example.org",
            "display_name": "Edited",
            "role": "trainer",
            "is_active": "on",
            "password": "a brand new pw",
        },
    )
    assert response.status_code == 303
    db.refresh(user)
    assert (user.display_name, user.role, user.is_active) == ("Edited", "trainer", True)
    assert verify_password("a brand new pw", user.password_hash, cost="fast")

    with TestClient(app, follow_redirects=False) as theirs:
        login(theirs, "edit-me@example.org", "a brand new pw")
        # Deactivating ends their access on the next request.
        client.post(
            f"/admin/users/{user.id}",
            data={"email": "edit-me@example.org", "display_name": "Edited", "role": "trainer"},
        )
        db.refresh(user)
        assert user.is_active is False
        assert theirs.get("/").status_code == 303


def test_admin_cannot_lock_themselves_out(admin, db):
    client, me = admin
    response = client.post(
        f"/admin/users/{me.id}",
        data={
            "email": me.email,
            "display_name": me.display_name,
            "role": "volunteer",
            "is_active": "on",
        },
    )
    assert response.status_code == 409
    db.refresh(me)
    assert me.role == "admin"


def test_editing_a_missing_account_is_404(admin):
    client, _ = admin
    assert client.get("/admin/users/999999").status_code == 404
    assert client.get("/admin/users/not-a-number").status_code == 422


def test_non_admins_cannot_manage_accounts(trainer, db):
    client, _ = trainer
    assert client.get("/admin/users").status_code == 403
    response = client.post(
        "/admin/users/new",
        data={
            "email": "x@example.org",
            "display_name": "X",
            "role": "admin",
            "password": "long enough pw",
        },
    )
    assert response.status_code == 403
    assert db.exec(select(User).where(User.email == "x@example.org")).first() is None


def test_session_survives_in_a_second_app_process(app, settings, db):
    """No state in process memory: a second app with the same secret and database knows the user."""
    from app.main import create_app

    create_user(db, email="two@example.org")
    with TestClient(app, follow_redirects=False) as first:
        login(first, "two@example.org")
        second_app = create_app(settings)
        with TestClient(second_app, follow_redirects=False, cookies=dict(first.cookies)) as second:
            assert second.get("/").status_code == 200
        second_app.state.engine.dispose()


def test_navigation_follows_the_role(client_for):
    admin_client, _ = client_for(Role.admin)
    assert "/admin/users" in admin_client.get("/").text
    volunteer_client, _ = client_for(Role.volunteer)
    page = volunteer_client.get("/").text
    assert "/admin/users" not in page
    assert "Sign out" in page


def test_session_type_is_reported_unused(db: Session) -> None:
    assert db.exec(select(User)).all() == []
