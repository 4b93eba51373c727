"""The courtwatch command line against a real SQLite file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import sqlalchemy as sa


def run_cli(tmp_path, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
    }
    env.pop("SECRET_KEY", None)
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        input=input,
        timeout=120,
    )


def test_upgrade_seed_and_create_user(tmp_path):
    assert run_cli(tmp_path, "db", "upgrade").returncode == 0
    first = run_cli(tmp_path, "seed-demo")
    assert first.returncode == 0, first.stderr
    assert "volunteer@demo.example.org" in first.stdout and "password:" in first.stdout
    again = run_cli(tmp_path, "seed-demo")
    assert again.returncode == 0, again.stderr
    assert "exists" in again.stdout
    # Demo observations of the past sittings: made once, unchanged the second time.
    assert "observations of" in first.stdout and "(created " in first.stdout
    assert "(unchanged " in again.stdout and "created" not in again.stdout.split("observations")[-1]
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    with engine.connect() as conn:
        observations = conn.execute(sa.text("SELECT count(*) FROM observation")).scalar_one()
        revisions = conn.execute(sa.text("SELECT count(*) FROM observation_revision")).scalar_one()
        hearings = conn.execute(sa.text("SELECT count(*) FROM hearing")).scalar_one()
        submitted = conn.execute(
            sa.text("SELECT count(*) FROM observation WHERE status = 'submitted'")
        ).scalar_one()
    engine.dispose()
    assert observations > 0 and revisions == observations == submitted
    assert hearings >= 5 * observations

    # The comparison summaries worked out again from the rows are the ones written.
    def plain(row: Any) -> tuple[Any, ...]:  # JSON compared as what it holds
        return tuple(json.loads(v) if isinstance(v, str) and v[:1] in "{[" else v for v in row)

    def summaries() -> list[Any]:
        with engine.connect() as conn:
            return [
                sorted(map(plain, conn.execute(sa.text(f"SELECT * FROM {table}")).all()), key=repr)
                for table in ("observation_summary", "observation_pair")
            ] + [
                sorted(
                    map(
                        tuple,
                        conn.execute(
                            sa.text(
                                "SELECT observation_id, question_key, value_text, answers "
                                "FROM observation_value"
                            )
                        ).all(),
                    ),
                    key=repr,
                )
            ]

    written = summaries()
    rebuilt = run_cli(tmp_path, "db", "rebuild-summaries")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert summaries() == written and written[0]
    engine.dispose()

    made = run_cli(
        tmp_path,
        "create-user",
        "--email",
        "Trainer@Example.org",
        "--name",
        "T",
        "--role",
        "trainer",
        "--password",
        "long enough pw",
    )
    assert made.returncode == 0, made.stderr
    dup = run_cli(
        tmp_path,
        "create-user",
        "--email",
        "trainer@example.org",
        "--name",
        "T",
        "--role",
        "trainer",
        "--password",
        "long enough pw",
    )
    assert dup.returncode == 1 and "already exists" in dup.stderr
    bad = run_cli(
        tmp_path,
        "create-user",
        "--email",
        "x",
        "--name",
        "T",
        "--role",
        "trainer",
        "--password",
        "p",
    )
    assert bad.returncode == 2 and "email" in bad.stderr

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    with engine.connect() as conn:
        roles = dict(conn.execute(sa.text("SELECT email, role FROM user")).all())
    engine.dispose()
    assert roles["trainer@example.org"] == "trainer"
    assert {r for r in roles.values()} == {"volunteer", "trainer", "organizer", "admin"}


def test_production_without_secret_refuses_to_start(tmp_path):
    env = {**os.environ, "ENVIRONMENT": "production", "DATA_DIR": str(tmp_path)}
    env.pop("SECRET_KEY", None)
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "SECRET_KEY is not set" in result.stderr
