"""`courtwatch db backup` / `db restore` on both databases: a backup restored into an empty
database holds every row of every table."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import sqlalchemy as sa
from sqlmodel import SQLModel

from tests.exports.builders import seed


def _cli(url: str, tmp_path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATA_DIR": str(tmp_path), "DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "db", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _everything(url: str) -> dict[str, list[tuple]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                t.name: sorted(
                    (tuple(str(v) for v in row) for row in conn.execute(sa.select(t))),
                )
                for t in SQLModel.metadata.sorted_tables
            } | {
                "alembic_version": list(
                    conn.exec_driver_sql("SELECT version_num FROM alembic_version")
                )
            }
    finally:
        engine.dispose()


def _empty_database(database_url: str, tmp_path) -> tuple[str, object]:
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'restored' / 'restored.db'}", None
    name = f"cw_restore_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    return sa.make_url(database_url).set(database=name).render_as_string(hide_password=False), (
        admin,
        name,
    )


def test_a_backup_restored_into_an_empty_database_holds_everything(
    database_url, db, volunteer, tmp_path
):
    seed(db, volunteer[0], two_versions=True)
    before = _everything(database_url)
    assert before["hearing"] and before["turn"] and before["observation_revision"]
    backup = tmp_path / "courtwatch.backup"
    made = _cli(database_url, tmp_path, "backup", str(backup))
    assert made.returncode == 0, made.stderr
    target, cleanup = _empty_database(database_url, tmp_path)
    try:
        restored = _cli(target, tmp_path, "restore", str(backup))
        assert restored.returncode == 0, restored.stderr
        assert _everything(target) == before
    finally:
        if cleanup:
            admin, name = cleanup  # type: ignore[misc]
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()


def test_restoring_a_file_that_is_not_a_backup_fails_clearly(tmp_path):
    bogus = tmp_path / "bogus.backup"
    bogus.write_text("not a backup")
    url = f"sqlite:///{tmp_path / 'x.db'}"
    result = _cli(url, tmp_path, "restore", str(bogus))
    assert result.returncode == 1
    assert "not a SQLite backup" in result.stderr or "not a sound" in result.stderr
    missing = _cli(url, tmp_path, "restore", str(tmp_path / "missing"))
    assert missing.returncode == 1 and "does not exist" in missing.stderr
