"""One fixture set: settings, an isolated database per test (SQLite always, PostgreSQL too
when TEST_DATABASE_URL is set), the app, clients signed in as each role, factories."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, SQLModel

import app.models
from app.auth.models import Role, User
from app.config import Settings
from app.db import upgrade
from app.main import create_app
from tests.factories import DEFAULT_PASSWORD, create_user

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
BACKENDS = ["sqlite", *(["postgresql"] if TEST_DATABASE_URL else [])]
SECRET = "test-secret-" + "x" * 40


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(sqlite_url(path))
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of our own on the PostgreSQL server, migrated once, dropped at the end."""
    if not TEST_DATABASE_URL:
        pytest.skip("TEST_DATABASE_URL is not set")
    name = f"cw_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        sa.create_engine(url).dispose()
        with admin.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def truncate_all(url: str) -> None:
    engine = sa.create_engine(url)
    # figures_version keeps counting, as it does in a deployment: the comparison cache (in
    # this process, keyed by database and count) must not meet the same count twice.
    tables = ", ".join(
        f'"{t.name}"' for t in SQLModel.metadata.sorted_tables if t.name != "figures_version"
    )
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "courtwatch.db"
        shutil.copy(sqlite_template, path)
        return sqlite_url(path)
    url = request.getfixturevalue("postgres_url")
    truncate_all(url)
    return url


def make_settings(database_url: str, data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": "test",
        "database_url": database_url,
        "data_dir": data_dir,
        "secret_key": SECRET,
        "password_hash_cost": "fast",
        # Tests run export jobs with run_pending_jobs, at the moment they choose; the
        # worker thread is tested on its own (tests/exports/test_jobs.py).
        "export_worker": False,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path)


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def db(app: FastAPI) -> Iterator[Session]:
    """A session on the test's database (the same one the app uses)."""
    with Session(app.state.engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """An anonymous client."""
    with TestClient(app, follow_redirects=False) as c:
        yield c


CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def page_csrf_token(client: TestClient, path: str = "/login") -> str:
    response = client.get(path)
    match = CSRF_META.search(response.text)
    assert match, f"no CSRF token on {path} ({response.status_code})"
    return match.group(1)


def login(client: TestClient, email: str, password: str = DEFAULT_PASSWORD) -> TestClient:
    """Sign in through the real login form; afterwards every request carries the CSRF header."""
    token = page_csrf_token(client, "/login")
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token, "next": "/"}
    )
    assert response.status_code == 303, response.text
    client.headers["X-CSRF-Token"] = page_csrf_token(client, "/")
    return client


@pytest.fixture
def client_for(app: FastAPI, db: Session) -> Iterator[Callable[..., tuple[TestClient, User]]]:
    """client_for(role) -> (a new client signed in as a new user of that role, the user)."""
    opened: list[TestClient] = []

    def make(role: Role | str, **user_fields: object) -> tuple[TestClient, User]:
        user = create_user(db, role=Role(role), **user_fields)  # type: ignore[arg-type]
        c = TestClient(app, follow_redirects=False)
        c.__enter__()
        opened.append(c)
        login(c, user.email)
        return c, user

    yield make
    for c in opened:
        c.__exit__(None, None, None)


@pytest.fixture
def volunteer(client_for: Callable[..., tuple[TestClient, User]]) -> tuple[TestClient, User]:
    return client_for(Role.volunteer)


@pytest.fixture
def trainer(client_for: Callable[..., tuple[TestClient, User]]) -> tuple[TestClient, User]:
    return client_for(Role.trainer)


@pytest.fixture
def organizer(client_for: Callable[..., tuple[TestClient, User]]) -> tuple[TestClient, User]:
    return client_for(Role.organizer)


@pytest.fixture
def admin(client_for: Callable[..., tuple[TestClient, User]]) -> tuple[TestClient, User]:
    return client_for(Role.admin)
