"""Benchmark: server time of the comparison page on 100,000 synthetic hearings (SQLite).

    .venv/bin/python bench/compare.py [--hearings 100000] [--repeat 3] [--db FILE [--reseed]]
    .venv/bin/python bench/compare.py --postgres [URL] [--hearings 1000000] [--reseed]

Prints the time of GET /compare for the whole set and for one judge, of the report's HTML
(/compare/report) and PDF (/compare/report.pdf), and of /api/v1/compare, measured through the
real app (in process, with the ASGI stack and template rendering), after one warm-up request:
"computed" is a first view after the data changed (the figures' cache emptied), "repeat view"
the same request again with nothing changed (figures from app.analysis.service's cache).
Targets: the page about 1 s, the report's HTML within 3 s, its PDF within 15 s.

The default data (bench/synthetic.py) is a hard case: 30 random turns per hearing, so nearly
every script is distinct (100,000 edit distances), and one sitting in seven has a second
observer (~14,000 matched hearings for the agreement figures). --typical draws scripts from 300
recurring turn sequences and gives one sitting in twenty a second observer. A --db file is
reused as it is (with any newer migrations applied); --reseed builds it again.

--postgres runs the same measurement on PostgreSQL (default URL
postgresql+psycopg://postgres@127.0.0.1:5432/courtwatch_bench, made if missing; 1,000,000
hearings unless --hearings says otherwise): the rows are made in a SQLite file (--db, kept for
the next run) and loaded with COPY (bench/postgres_copy.py). A seeded database is reused unless
--reseed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.analysis.service import clear_cache
from app.auth.models import Role, User
from app.config import Settings
from app.db import make_engine, upgrade
from app.main import create_app
from app.observations.store import rebuild_summaries
from app.sessions.models import Judge
from bench.synthetic import generate
from tests.conftest import login
from tests.factories import create_user


def seed_sqlite(args: argparse.Namespace, database: Path) -> None:
    started = time.perf_counter()
    shape = {"script_templates": 300, "second_observer_every": 20} if args.typical else {}
    counts = generate(database, hearings=args.hearings, **shape)
    print(
        f"seeded {counts['hearings']:,} hearings, {counts['turns']:,} turns in {time.perf_counter() - started:.1f} s"
    )


def prepare_postgres(args: argparse.Namespace, database: Path) -> str:
    """The PostgreSQL database to measure, seeded unless it already holds the hearings."""
    import sqlalchemy as sa

    from bench.postgres_copy import copy_sqlite_to_postgres

    url: str = args.postgres
    base, _, name = url.rpartition("/")
    admin = sa.create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.exec_driver_sql(
            "SELECT 1 FROM pg_database WHERE datname = %(name)s", {"name": name}
        ).first()
        if not exists:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        seeded = connection.exec_driver_sql("SELECT to_regclass('hearing')").scalar_one() and (
            connection.exec_driver_sql("SELECT EXISTS (SELECT 1 FROM hearing)").scalar_one()
        )
    engine.dispose()
    if seeded and not args.reseed:
        upgrade(url)
        print(f"reusing {url} (pass --reseed to build it again)")
        return url
    if not (args.db and args.db.exists() and not args.reseed):
        seed_sqlite(args, database)
    started = time.perf_counter()
    print(f"copying {database} into {url}")
    copy_sqlite_to_postgres(database, url)
    print(f"loaded into PostgreSQL in {time.perf_counter() - started:.1f} s")
    return url


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hearings", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", type=Path, default=None, help="reuse/create this SQLite file")
    parser.add_argument("--reseed", action="store_true", help="rebuild the --db file")
    parser.add_argument(
        "--typical",
        action="store_true",
        help="scripts from 300 recurring turn sequences, a second observer in 1 sitting in 20 "
        "(default: random scripts, 1 sitting in 7: the hard case)",
    )
    parser.add_argument(
        "--postgres",
        nargs="?",
        const="postgresql+psycopg://postgres@127.0.0.1:5432/courtwatch_bench",
        default=None,
        metavar="URL",
        help="measure on PostgreSQL (seeded by COPY from the SQLite rows)",
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="cw-compare-"))
    if args.postgres and "--hearings" not in sys.argv:
        args.hearings = 1_000_000
    database = args.db or workdir / "compare.db"
    if args.postgres:
        database_url = prepare_postgres(args, database)
    elif args.db and args.db.exists() and not args.reseed:
        upgrade(f"sqlite:///{database}")  # a file seeded before a later migration
        engine = make_engine(f"sqlite:///{database}")
        with engine.begin() as connection:
            unpaired = connection.exec_driver_sql(
                "SELECT count(*) FROM observation_summary WHERE NOT paired"
            ).scalar_one()
            if unpaired:  # seeded before the pairs existed: as `courtwatch db rebuild-summaries`
                rebuild_summaries(connection)
        engine.dispose()
        print(f"reusing {database} (pass --reseed to build it again)")
    else:
        seed_sqlite(args, database)

    if not args.postgres:
        database_url = f"sqlite:///{database}"
    settings = Settings(
        environment="test",
        database_url=database_url,
        data_dir=workdir,
        secret_key="bench-" + "x" * 40,
        password_hash_cost="fast",
    )
    app = create_app(settings)
    with Session(app.state.engine) as session:
        organizer = session.exec(
            select(User).where(User.email == "bench-organizer@example.org")
        ).first() or create_user(session, role=Role.organizer, email="bench-organizer@example.org")
        judge_id = session.exec(select(Judge.id).order_by(Judge.id)).first()
    with TestClient(app, follow_redirects=False) as client:
        login(client, organizer.email)
        for label, url in [
            ("whole set", "/compare"),
            ("one judge", f"/compare?judge_id={judge_id}"),
            ("report", "/compare/report"),
            ("report PDF", "/compare/report.pdf"),
            ("JSON", "/api/v1/compare"),
        ]:
            assert client.get(url).status_code == 200  # warm-up (page cache, statistics)
            computed, kept = [], []
            for _ in range(args.repeat):
                # First view after a change: the figures are read and computed.
                clear_cache()
                t0 = time.perf_counter()
                response = client.get(url)
                computed.append(time.perf_counter() - t0)
                assert response.status_code == 200, response.status_code
                # The same view again, nothing changed: the figures come from memory.
                t0 = time.perf_counter()
                assert client.get(url).status_code == 200
                kept.append(time.perf_counter() - t0)
            print(
                f"GET {url.split('?')[0]:<20} {label:<10} computed: median {statistics.median(computed):.3f} s (min {min(computed):.3f}, max {max(computed):.3f}); "
                f"repeat view: median {statistics.median(kept):.3f} s; {len(response.content) // 1024} KB"
            )


if __name__ == "__main__":
    main()
