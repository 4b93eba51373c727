"""Benchmark: server time of the comparison page on 100,000 synthetic hearings (SQLite).

    .venv/bin/python bench/compare.py [--hearings 100000] [--repeat 3] [--db FILE [--reseed]]

Prints the time of GET /compare for the whole set and for one judge, of the report's HTML
(/compare/report) and PDF (/compare/report.pdf), and of /api/v1/compare, measured through the
real app (in process, with the ASGI stack and template rendering), after one warm-up request.
Targets: the page about 1 s, the report's HTML within 3 s, its PDF within 15 s.

The default data (bench/synthetic.py) is a hard case: 30 random turns per hearing, so nearly
every script is distinct (100,000 edit distances), and one sitting in seven has a second
observer (~14,000 matched hearings for the agreement figures). --typical draws scripts from 300
recurring turn sequences and gives one sitting in twenty a second observer. A --db file is
reused as it is (with any newer migrations applied); --reseed builds it again.
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

from app.auth.models import Role, User
from app.config import Settings
from app.db import make_engine, upgrade
from app.main import create_app
from app.observations.store import rebuild_summaries
from app.sessions.models import Judge
from bench.synthetic import generate
from tests.conftest import login
from tests.factories import create_user


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
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="cw-compare-"))
    database = args.db or workdir / "compare.db"
    if args.db and args.db.exists() and not args.reseed:
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
        started = time.perf_counter()
        shape = {"script_templates": 300, "second_observer_every": 20} if args.typical else {}
        counts = generate(database, hearings=args.hearings, **shape)
        print(
            f"seeded {counts['hearings']:,} hearings, {counts['turns']:,} turns in {time.perf_counter() - started:.1f} s"
        )

    settings = Settings(
        environment="test",
        database_url=f"sqlite:///{database}",
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
            times = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                response = client.get(url)
                times.append(time.perf_counter() - t0)
                assert response.status_code == 200, response.status_code
            print(
                f"GET {url.split('?')[0]:<20} {label:<10} median {statistics.median(times):.3f} s  (min {min(times):.3f}, max {max(times):.3f}; {len(response.content) // 1024} KB)"
            )


if __name__ == "__main__":
    main()
