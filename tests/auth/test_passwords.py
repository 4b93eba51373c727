"""Guessable passwords are refused wherever a password is set, with a message that says why."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from app.auth.models import User
from app.auth.security import verify_password
from tests.conftest import login
from tests.factories import DEFAULT_PASSWORD, STRONG_PASSWORD, create_user, new_account_form
from tests.test_cli import run_cli

COMMON = ("password123", "This is a very common password.")
NAMED = ("rosa-martinez-2024", "contains your name")
EMAILED = ("rmartinez!Court#9", "contains your name")


@pytest.mark.parametrize(("password", "why"), [COMMON, NAMED, EMAILED])
def test_admin_create_refuses_a_guessable_password(admin, db, password, why):
    client, _ = admin
    response = client.post("/admin/users/new", data=new_account_form(password=password))
    assert response.status_code == 422
    assert 'id="e-password"' in response.text and why in response.text
    assert "four or more unrelated words" in response.text  # what would be better
    assert db.exec(select(User).where(User.email == "rmartinez@example.org")).first() is None


def test_admin_create_accepts_a_strong_password(admin, db):
    client, _ = admin
    assert client.post("/admin/users/new", data=new_account_form()).status_code == 303


@pytest.mark.parametrize(("password", "why"), [COMMON, NAMED])
def test_admin_reset_refuses_a_guessable_password_and_keeps_the_old_one(admin, db, password, why):
    client, _ = admin
    user = create_user(db, email="rmartinez@example.org", display_name="Rosa Martinez")
    form = {**new_account_form(password=password), "is_active": "on"}
    response = client.post(f"/admin/users/{user.id}", data=form)
    assert response.status_code == 422 and why in response.text
    db.expire_all()
    stored = db.get(User, user.id)
    assert verify_password(DEFAULT_PASSWORD, stored.password_hash, cost="fast")


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"new_password": COMMON[0], "new_password_again": COMMON[0]}, "new_password", COMMON[1]),
        ({"new_password": NAMED[0], "new_password_again": NAMED[0]}, "new_password", NAMED[1]),
        ({"new_password_again": "something else"}, "new_password_again", "not the same"),
        ({"current_password": "wrong"}, "current_password", "not your current password"),
        ({"current_password": ""}, "current_password", "This field is required."),
        ({"new_password": "short", "new_password_again": "short"}, "new_password", "at least 10"),
    ],
)
def test_self_service_change_shows_field_errors_and_changes_nothing(
    app, db, client_for, fields, field, message
):
    client, user = client_for("organizer", email="rmartinez@example.org", display_name="Rosa M")
    data = {
        "current_password": DEFAULT_PASSWORD,
        "new_password": STRONG_PASSWORD,
        "new_password_again": STRONG_PASSWORD,
        **fields,
    }
    response = client.post("/account/password", data=data)
    assert response.status_code == 422
    assert f'id="e-{field}"' in response.text and message in response.text
    db.expire_all()
    assert verify_password(DEFAULT_PASSWORD, db.get(User, user.id).password_hash, cost="fast")
    with TestClient(app, follow_redirects=False) as other:
        login(other, user.email)  # nothing ended


def test_wrong_current_passwords_count_towards_the_throttle(app, client_for):
    app.state.settings.login_max_failures_per_account = 2
    client, _ = client_for("volunteer")
    data = {
        "current_password": "wrong",
        "new_password": STRONG_PASSWORD,
        "new_password_again": STRONG_PASSWORD,
    }
    assert client.post("/account/password", data=data).status_code == 422
    assert client.post("/account/password", data=data).status_code == 422
    response = client.post("/account/password", data={**data, "current_password": DEFAULT_PASSWORD})
    assert response.status_code == 429 and "Too many failed" in response.text


def test_the_password_page_is_for_signed_in_users(client):
    response = client.get("/account/password")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_create_user_cli_refuses_a_guessable_password(tmp_path):
    assert run_cli(tmp_path, "db", "upgrade").returncode == 0
    args = ("create-user", "--email", "rosa@example.org", "--name", "Rosa M", "--role", "trainer")
    weak = run_cli(tmp_path, *args, "--password", "password123")
    assert weak.returncode == 2
    assert "password:" in weak.stderr and "very common password" in weak.stderr
    ok = run_cli(tmp_path, *args, "--password", STRONG_PASSWORD)
    assert ok.returncode == 0, ok.stderr
