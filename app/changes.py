"""A number that moves whenever data the figures read has changed: the comparison cache's key.

Every committed transaction that wrote to a table other than those in UNTRACKED (sign-ins,
the audit trail, export jobs: nothing a figure reads) adds one to figures_version.n, in the
same transaction, just before it commits. The engine's events see every statement, ORM and
Core alike, so no write path can forget it; the update is the transaction's last statement, so
it never holds the row while waiting for another lock (no new deadlock between syncing
phones). A reader that sees a number sees exactly the writes committed with it.

Writes made outside the app's engines (psql, a restore into a running deployment) are not
counted: restart the app processes after them (their caches live in memory).
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel

# Tables whose writes change no figure (and are written often: at every sign-in or request).
UNTRACKED = frozenset(
    {"sign_in_session", "login_attempt", "audit_entry", "export_job", "figures_version"}
)
# Statements that cannot write. Anything else counts as a change unless it names an
# UNTRACKED table as its target (a WITH … INSERT counts: better an extra count than a stale
# figure).
_READS = re.compile(
    r"\s*(SELECT|PRAGMA|SAVEPOINT|RELEASE|BEGIN|COMMIT|ROLLBACK|SET|SHOW|EXPLAIN|ANALYZE)\b",
    re.IGNORECASE,
)
_TARGET = re.compile(
    r'\s*(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO)\s+"?(\w+)',
    re.IGNORECASE,
)
_CHANGED = "figures_changed"
_COUNT = "UPDATE figures_version SET n = n + 1 WHERE id = 1"
_COUNT_IF_THERE = (
    "DO $$ BEGIN IF to_regclass('figures_version') IS NOT NULL THEN " + _COUNT + "; END IF; END $$"
)


class FiguresVersion(SQLModel, table=True):
    __tablename__ = "figures_version"

    id: int = Field(default=1, primary_key=True)
    n: int = Field(default=0, sa_type=sa.BigInteger)


def _is_change(statement: str) -> bool:
    if _READS.match(statement):
        return False
    target = _TARGET.match(statement)
    return not (target and target.group(1).lower() in UNTRACKED)


def track_changes(engine: Engine) -> None:
    """Count the engine's committed writes in figures_version (see the module's docstring)."""

    @sa.event.listens_for(engine, "after_cursor_execute")
    def _note(
        conn: sa.Connection, _cursor: Any, statement: str, *_args: Any, **_kwargs: Any
    ) -> None:
        if not conn.info.get(_CHANGED) and _is_change(statement):
            conn.info[_CHANGED] = True

    postgres = engine.dialect.name == "postgresql"

    @sa.event.listens_for(engine, "commit")
    def _count(conn: sa.Connection) -> None:
        if not conn.info.pop(_CHANGED, False):
            return
        # On the DB-API connection, inside the transaction being committed. A database not
        # yet migrated this far has no counter (nor a cache to keep right): skip it, without
        # an error that would undo the transaction.
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            if postgres:
                cursor.execute(_COUNT_IF_THERE)
            else:
                try:
                    cursor.execute(_COUNT)
                except sqlite3.OperationalError as exc:
                    if "no such table" not in str(exc):
                        raise
        finally:
            cursor.close()

    @sa.event.listens_for(engine, "rollback")
    def _forget(conn: sa.Connection) -> None:
        conn.info.pop(_CHANGED, None)


def figures_version(session: Session) -> int | None:
    """The number of committed changes so far (as this session's transaction sees them);
    None if the counter's row is missing (nothing can then be cached)."""
    n = session.execute(sa.text("SELECT n FROM figures_version WHERE id = 1")).scalar()
    return None if n is None else int(n)
