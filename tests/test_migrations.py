"""Alembic migrations go up and down on SQLite and PostgreSQL, and match the models."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import app.models  # noqa: F401
from app.db import alembic_config, downgrade, upgrade
from tests.conftest import TEST_DATABASE_URL, truncate_all  # noqa: F401


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _check_round_trip(url: str) -> None:
    upgrade(url)
    expected = set(SQLModel.metadata.tables)
    assert expected <= _tables(url)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"
    downgrade(url, "base")
    assert _tables(url) & expected == set()
    upgrade(url)
    assert expected <= _tables(url)


def test_migrations_up_down_up_on_sqlite(tmp_path):
    _check_round_trip(f"sqlite:///{tmp_path / 'm.db'}")


def test_migrations_up_down_up_on_postgresql(postgres_url):
    # postgres_url is already migrated: go down to nothing and back.
    downgrade(postgres_url, "base")
    _check_round_trip(postgres_url)


def test_alembic_has_a_single_head():
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, heads
