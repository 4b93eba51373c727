"""schemathesis, all checks, against a live uvicorn serving the real app, as each role.

One backend per run (PostgreSQL when TEST_DATABASE_URL is set: it is the stricter one, where
overflows and NUL characters were server errors; SQLite otherwise), bounded by
`--max-examples` and `--max-time` to about two minutes for the four roles. Nothing is skipped:
the API has no logout or destructive operation that would end the signed-in session.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import Session

from app.auth.models import Role
from tests.conftest import SECRET, TEST_DATABASE_URL, truncate_all
from tests.factories import DEFAULT_PASSWORD, create_user
from tests.protocols.factories import published_protocol, small_definition

ST = Path(sys.executable).with_name("st")
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory, request) -> Iterator[dict]:
    data_dir = tmp_path_factory.mktemp("schemathesis")
    if TEST_DATABASE_URL:
        url = request.getfixturevalue("postgres_url")
        truncate_all(url)
    else:
        path = data_dir / "courtwatch.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    engine = sa.create_engine(url)
    with Session(engine, expire_on_commit=False) as db:
        users = {role: create_user(db, role=role) for role in Role}
        published_protocol(db, definition=small_definition())
    engine.dispose()
    port = _free_port()
    env = {
        **os.environ,
        "ENVIRONMENT": "test",
        "DATABASE_URL": url,
        "DATA_DIR": str(data_dir),
        "SECRET_KEY": SECRET,
        "PASSWORD_HASH_COST": "fast",
    }
    log = (data_dir / "server.log").open("wb")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.asgi:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("uvicorn did not start: " + (data_dir / "server.log").read_text())
        yield {"base": base, "users": users, "log": data_dir / "server.log"}
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


# The session cookie and the CSRF header are given as the document's security schemes, so that
# schemathesis can also leave them out or spoil them (and expect a 401/403). A batch over the
# item limit is refused with 413, a rejection like the others.
CONFIG = """
[auth.openapi.sessionCookie]
api_key = "${CW_SESSION}"

[auth.openapi.csrfToken]
api_key = "${CW_CSRF}"

[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422"]

# /compare takes a date range: an end before the start is refused (422, saying so), a rule
# between two parameters that a schema cannot state.
[[operations]]
include-name = "GET /api/v1/compare"
checks.positive_data_acceptance.expected-statuses = ["200", "401", "403", "404", "422"]
"""


def _signed_in(base: str, email: str) -> dict[str, str]:
    with httpx.Client(base_url=base) as c:
        token = CSRF_META.search(c.get("/login").text).group(1)  # type: ignore[union-attr]
        answer = c.post(
            "/login",
            data={"email": email, "password": DEFAULT_PASSWORD, "csrf_token": token, "next": "/"},
        )
        assert answer.status_code == 303, answer.text
        token = CSRF_META.search(c.get("/").text).group(1)  # type: ignore[union-attr]
        return {"CW_SESSION": c.cookies["courtwatch_session"], "CW_CSRF": token}


@pytest.mark.parametrize("role", list(Role))
def test_schemathesis_finds_no_server_error_and_no_contract_failure(live_server, role, tmp_path):
    base = live_server["base"]
    credentials = _signed_in(base, live_server["users"][role].email)
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    # The document itself is only served to a signed-in user.
    document = httpx.get(
        f"{base}/api/v1/openapi.json", cookies={"courtwatch_session": credentials["CW_SESSION"]}
    )
    assert document.status_code == 200
    (tmp_path / "openapi.json").write_text(document.text)
    run = subprocess.run(
        [
            str(ST),
            "--no-color",
            "--config-file",
            str(config),
            "run",
            str(tmp_path / "openapi.json"),
            "--url",
            base,
            "--checks",
            "all",
            "--max-examples",
            "25",
            "--max-time",
            "25",
            "--workers",
            "1",
            "--suppress-health-check",
            "all",
        ],
        env={**os.environ, **credentials},
        capture_output=True,
        text=True,
        timeout=240,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, (
        output[-6000:] + "\n--- server ---\n" + live_server["log"].read_text()[-3000:]
    )
    assert (
        "No issues found" in output or re.search(r"\b0 failures?\b", output) or "passed" in output
    )
