"""`courtwatch db backup FILE` / `courtwatch db restore FILE` on either database.

SQLite: the online backup API (a consistent copy while the app keeps running). PostgreSQL:
pg_dump's custom format, restored with pg_restore (--clean --if-exists, one transaction), so a
restore into an empty or an existing database ends with exactly the backup's rows.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import sqlalchemy as sa


class BackupError(RuntimeError):
    """The backup or restore could not be made; the message says why."""


def _sqlite_path(url: str) -> Path:
    return Path(sa.make_url(url).database or "")


def _libpq_url(url: str) -> str:
    return sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (apt-get install postgresql-client).")
    return found


def backup_database(*, url: str, target: Path) -> None:
    if url.startswith("sqlite"):
        source = sqlite3.connect(_sqlite_path(url))
        try:
            dest = sqlite3.connect(target)
            with dest:
                source.backup(dest)
            dest.close()
        finally:
            source.close()
        return
    result = subprocess.run(
        [_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={target}", _libpq_url(url)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise BackupError(result.stderr.strip() or "pg_dump failed")


def restore_database(*, url: str, source: Path) -> None:
    if not source.is_file():
        raise BackupError(f"{source} does not exist.")
    if url.startswith("sqlite"):
        backup = sqlite3.connect(source)
        try:
            if backup.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BackupError(f"{source} is not a sound SQLite backup.")
            path = _sqlite_path(url)
            path.parent.mkdir(parents=True, exist_ok=True)
            dest = sqlite3.connect(path)
            with dest:
                backup.backup(dest)
            dest.close()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{source} is not a SQLite backup: {exc}") from exc
        finally:
            backup.close()
        return
    result = subprocess.run(
        [
            _tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            f"--dbname={_libpq_url(url)}",
            str(source),
        ],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise BackupError(result.stderr.strip() or "pg_restore failed")
