"""Transactions that may meet other writers: upserts that converge, and a bounded replay.

Several app processes share one PostgreSQL store, and one SQLite file is shared by a process's
threads. Writers take their locks in one order (sittings first, in id order: see
app.sessions.service.lock_court_sessions), so a deadlock should not happen; when the database
still aborts a transaction for a deadlock or a serialization failure, or a racing writer took a
unique key first, the whole unit of work is simply played again: every step of it is idempotent.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as postgresql_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from app.errors import DomainError

log = logging.getLogger(__name__)

T = TypeVar("T")

# PostgreSQL SQLSTATEs: serialization_failure, deadlock_detected, lock_not_available.
CONTENTION_SQLSTATES = {"40001", "40P01", "55P03"}
UNIQUE_VIOLATION = "23505"
REPLAYS = 6


class StoreBusy(DomainError):
    """The store stayed too busy for this request after every replay: send it again."""

    status_code = 503


def insert_ignoring_conflicts(bind: sa.Connection | Session, table: sa.Table) -> Any:
    """INSERT … ON CONFLICT DO NOTHING on PostgreSQL and SQLite: a row another writer made
    first is left as it is (select it afterwards)."""
    dialect = bind.get_bind().dialect.name if isinstance(bind, Session) else bind.dialect.name
    if dialect == "postgresql":
        return postgresql_dialect.insert(table).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite_dialect.insert(table).on_conflict_do_nothing()
    return sa.insert(table)


def _sqlstate(exc: DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)


def contention(exc: DBAPIError) -> str | None:
    """Why the database refused this transaction, when playing it again can succeed:
    "contention" (deadlock, serialization failure, a SQLite file still locked), "race" (a
    unique key another writer took first), or None (anything else: a real error)."""
    state = _sqlstate(exc)
    if state in CONTENTION_SQLSTATES:
        return "contention"
    if state == UNIQUE_VIOLATION:
        return "race"
    message = str(exc.orig).lower()
    if "database is locked" in message or "database table is locked" in message:
        return "contention"
    if state is None and "unique constraint failed" in message:
        return "race"
    return None


def commit_with_replay(session: Session, work: Callable[[], T], *, replays: int = REPLAYS) -> T:
    """Run `work` and commit; on contention roll back and run it again, a bounded number of
    times with a growing, jittered pause. StoreBusy (503) when contention outlasts every
    replay; any other database error is raised as it is."""
    for attempt in range(1, replays + 1):
        try:
            result = work()
            session.commit()
            return result
        except DBAPIError as exc:
            session.rollback()
            why = contention(exc)
            if why is None:
                raise
            log.warning("transaction replayed after %s (attempt %d): %s", why, attempt, exc.orig)
            if attempt == replays:
                if why == "race":
                    raise
                raise StoreBusy(
                    "The server is busy with other phones' observations; nothing was stored. "
                    "Send again in a moment."
                ) from exc
            time.sleep(random.uniform(0.01, 0.05) * attempt)
    raise AssertionError("unreachable")
