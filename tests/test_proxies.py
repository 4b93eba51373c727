"""Proxy headers are believed only from FORWARDED_ALLOW_IPS; HSTS only over https."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from app.audit.models import AuditEntry
from app.auth.models import LoginAttempt
from app.main import create_app
from tests.conftest import make_settings, page_csrf_token
from tests.factories import DEFAULT_PASSWORD, create_user

PROXY = ("127.0.0.1", 41000)  # the default trusted proxy
STRANGER = ("203.0.113.7", 41000)


@contextmanager
def client_at(app, address: tuple[str, int], **kwargs) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False, client=address, **kwargs) as c:
        yield c


def failed_login(c: TestClient, email: str, forwarded_for: str | None = None):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for is not None else {}
    token = page_csrf_token(c, "/login")
    return c.post(
        "/login",
        data={"email": email, "password": "wrong guess", "csrf_token": token},
        headers=headers,
    )


def test_an_untrusted_client_cannot_spoof_its_way_past_the_address_throttle(app, db):
    app.state.settings.login_max_failures_per_address = 3
    with client_at(app, STRANGER) as c:
        for i in range(3):
            assert failed_login(c, f"g{i}@example.org", f"198.51.100.{i}").status_code == 401
        assert failed_login(c, "g9@example.org", "198.51.100.99").status_code == 429
    addresses = {a.ip_address for a in db.exec(select(LoginAttempt)).all()}
    assert addresses == {"203.0.113.7"}
    burst = db.exec(select(AuditEntry).where(AuditEntry.action == "auth.sign_in_throttled")).one()
    assert burst.target == "address:203.0.113.7" and burst.ip_address == "203.0.113.7"
    assert burst.detail["throttled"] == "address" and burst.detail["failures"] == 3


def test_a_trusted_proxy_passes_on_the_real_client_address(app, db):
    app.state.settings.login_max_failures_per_address = 3
    create_user(db, email="real@example.org")
    with client_at(app, PROXY) as c:
        for i in range(3):
            # An address the client claims is ignored: the proxy appends the real one last.
            assert (
                failed_login(c, f"g{i}@example.org", f"10.9.9.9, 198.51.100.{i}").status_code == 401
            )
        assert failed_login(c, "g9@example.org", "198.51.100.77").status_code == 401
        for i in range(3):
            assert failed_login(c, f"h{i}@example.org", "198.51.100.5").status_code == 401
        assert failed_login(c, "h9@example.org", "198.51.100.5").status_code == 429
        # Another client behind the same proxy is not affected.
        token = page_csrf_token(c, "/login")
        ok = c.post(
            "/login",
            data={"email": "real@example.org", "password": DEFAULT_PASSWORD, "csrf_token": token},
            headers={"X-Forwarded-For": "198.51.100.200"},
        )
        assert ok.status_code == 303
    addresses = [a.ip_address for a in db.exec(select(LoginAttempt).order_by(LoginAttempt.id))]
    assert addresses[:4] == ["198.51.100.0", "198.51.100.1", "198.51.100.2", "198.51.100.77"]


@pytest.mark.parametrize("forwarded", ["x" * 500, "2001:db8::1" + ":ffff" * 80, "1.2.3.4" * 40])
def test_a_forwarded_for_longer_than_its_column_never_gives_a_500(app, db, forwarded):
    create_user(db, email="long@example.org")
    with client_at(app, PROXY) as c:
        assert failed_login(c, "long@example.org", forwarded).status_code == 401
        token = page_csrf_token(c, "/login")
        ok = c.post(
            "/login",
            data={"email": "long@example.org", "password": DEFAULT_PASSWORD, "csrf_token": token},
            headers={"X-Forwarded-For": forwarded},
        )
        assert ok.status_code == 303
        assert c.get("/").status_code == 200
    stored = db.exec(select(LoginAttempt.ip_address)).all()
    assert stored and all(len(a) <= 64 for a in stored)


def test_forwarded_proto_https_from_the_proxy_makes_secure_cookies_and_hsts(app, db):
    with client_at(app, PROXY) as c:
        response = c.get("/login", headers={"X-Forwarded-Proto": "https"})
        assert response.headers["strict-transport-security"] == "max-age=31536000"
        assert "secure" in response.headers["set-cookie"].lower()
    with client_at(app, STRANGER) as c:
        response = c.get("/login", headers={"X-Forwarded-Proto": "https"})
        assert "strict-transport-security" not in response.headers
        assert "secure" not in response.headers["set-cookie"].lower()


def test_hsts_is_sent_on_https_only_and_can_be_turned_off(app, settings, tmp_path):
    with TestClient(app, base_url="https://testserver") as c:
        assert c.get("/login").headers["strict-transport-security"] == "max-age=31536000"
        assert c.get("/healthz").headers["strict-transport-security"] == "max-age=31536000"
    with TestClient(app) as c:
        assert "strict-transport-security" not in c.get("/login").headers
    off = create_app(make_settings(settings.database_url, tmp_path, hsts_max_age_seconds=0))
    try:
        with TestClient(off, base_url="https://testserver") as c:
            assert "strict-transport-security" not in c.get("/login").headers
    finally:
        off.state.engine.dispose()


def test_a_configured_proxy_network_is_trusted(settings, tmp_path, db):
    trusted = create_app(
        make_settings(settings.database_url, tmp_path, forwarded_allow_ips="10.0.0.0/8, ::1")
    )
    try:
        with client_at(trusted, ("10.1.2.3", 5000)) as c:
            failed_login(c, "n@example.org", "192.0.2.44")
        with client_at(trusted, ("127.0.0.1", 5000)) as c:  # not in the list any more
            failed_login(c, "n@example.org", "192.0.2.45")
    finally:
        trusted.state.engine.dispose()
    db.expire_all()
    addresses = db.exec(select(LoginAttempt.ip_address).order_by(col(LoginAttempt.id))).all()
    assert addresses == ["192.0.2.44", "127.0.0.1"]
