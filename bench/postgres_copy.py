"""Copy a benchmark SQLite database (bench/synthetic.py) into PostgreSQL with COPY.

Seeding 1,000,000 hearings (30 million turns) row by row through SQL would take hours; the
synthetic rows are made once in SQLite (fast, in process) and streamed table by table into a
migrated PostgreSQL database with COPY, the secondary indexes dropped during the load and
built again after it, then the sequences moved past the copied ids and ANALYZE run.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import psycopg
import sqlalchemy as sa

from app.db import upgrade

BATCH = 50_000


def _plain_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def copy_sqlite_to_postgres(source: Path, url: str, *, log=print) -> None:  # type: ignore[no-untyped-def]
    """Replace every table of the PostgreSQL database at `url` by the rows of `source`."""
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA public CASCADE")
        connection.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()
    upgrade(url)
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    metadata.reflect(engine)
    engine.dispose()
    tables = [t for t in metadata.sorted_tables if t.name != "alembic_version"]
    lite = sqlite3.connect(source)
    upgrade(f"sqlite:///{source}")  # a file seeded before a later migration
    present = {
        name for (name,) in lite.execute("SELECT name FROM sqlite_master WHERE type='table'")
    }
    tables = [t for t in tables if t.name in present]
    with psycopg.connect(_plain_url(url)) as pg:
        indexes = pg.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)"
        ).fetchall()
        for name, _ in indexes:
            pg.execute(f'DROP INDEX "{name}"')
        pg.execute("SET session_replication_role = replica")  # no FK checks during the load
        for table in tables:
            started = time.perf_counter()
            names = [c.name for c in table.columns]
            quoted = ", ".join(f'"{n}"' for n in names)
            rows = lite.execute(f'SELECT {quoted} FROM "{table.name}"')
            copied = 0
            pg.execute(f'DELETE FROM "{table.name}"')  # rows the migrations wrote
            with pg.cursor().copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
                while batch := rows.fetchmany(BATCH):
                    for row in batch:
                        copy.write_row(row)
                    copied += len(batch)
            pg.commit()
            log(f"  {table.name}: {copied:,} rows in {time.perf_counter() - started:.1f} s")
        pg.execute("SET session_replication_role = DEFAULT")
        started = time.perf_counter()
        for _, definition in indexes:
            pg.execute(definition)
        pg.commit()
        log(f"  {len(indexes)} indexes built again in {time.perf_counter() - started:.1f} s")
        for table in tables:
            for column in table.columns:
                sequence = pg.execute(
                    "SELECT pg_get_serial_sequence(%s, %s)", (table.name, column.name)
                ).fetchone()
                if sequence and sequence[0]:
                    pg.execute(
                        f'SELECT setval(%s, COALESCE((SELECT MAX("{column.name}") FROM '
                        f'"{table.name}"), 0) + 1, false)',
                        (sequence[0],),
                    )
        pg.commit()
        pg.autocommit = True
        pg.execute("VACUUM ANALYZE")
    lite.close()
