"""Benchmark: many phones syncing one calendar at once through several app processes.

    .venv/bin/python bench/sync_load.py [--phones 50] [--per-sitting 10] [--interval 2]
        [--duration 60] [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
        [--skip-sqlite] [--skip-postgres]

50 simulated phones on loopback (threads with httpx), 10 per sitting, each sending its whole
observation (one hearing longer each time) every 2 s for 60 s, with its own phase, against two
uvicorn processes of the real app on a fresh PostgreSQL database, then one process on a fresh
SQLite file (bench/phones.py says what the phones do). Prints batches, errors by status, p50
and p99 batch latency, sittings per courtroom, and observations or hearings lost or doubled.
Target: 0 errors, p99 under 500 ms, one sitting per courtroom, nothing lost or doubled.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench.phones import (  # noqa: E402
    app_processes,
    check_store,
    latency_summary,
    prepare_store,
    run_phones,
)


def run(label: str, url: str, processes: int, args: argparse.Namespace, workdir: Path) -> bool:
    sittings = max(1, args.phones // args.per_sitting)
    calendar = prepare_store(url, sittings=sittings, phones_per_sitting=args.per_sitting)
    ticks = max(1, round(args.duration / args.interval))
    with app_processes(url, processes, workdir) as bases:
        elapsed = run_phones(calendar, bases, ticks=ticks, interval=args.interval, together=False)
    batches, statuses, p50, p99 = latency_summary(calendar)
    errors = {status: n for status, n in statuses.items() if status != "200"}
    invalid = sum(p.results["invalid"] for p in calendar.phones)
    held = check_store(url, calendar)
    rooms = ", ".join(f"{room}: {n}" for (_, room), n in held.sittings_per_place.items())
    print(f"\n{label}: {processes} app process(es), {len(calendar.phones)} phones, "
          f"{args.per_sitting} per sitting, a batch every {args.interval:g} s for {elapsed:.0f} s")  # fmt: skip
    print(f"  batches: {batches} ({batches / elapsed:.1f}/s)")
    print(f"  errors by status: {errors or 'none'}; invalid results: {invalid}")
    print(f"  batch latency: p50 {p50:.0f} ms, p99 {p99:.0f} ms (target p99 < 500 ms)")
    print(f"  sittings per courtroom: {rooms}")
    print(f"  observations missing {held.observations_missing}, extra {held.observations_extra}; "
          f"hearings lost {held.hearings_lost}, doubled {held.hearings_doubled}; "
          f"revision counts wrong {held.revisions_wrong}")  # fmt: skip
    print(f"  agreement pairs: {held.pairs_found} of {held.pairs_expected} expected, "
          f"{held.pairs_wrong} wrong")  # fmt: skip
    ok = held.holds and not errors and not invalid and p99 < 500
    print(f"  target met: {'yes' if ok else 'NO'}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phones", type=int, default=50)
    parser.add_argument("--per-sitting", type=int, default=10)
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between batches")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of sending")
    parser.add_argument(
        "--postgres",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        help="a server URL; the benchmark makes and drops a database of its own there",
    )
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="cw-load-"))
    results = []
    if not args.skip_postgres:
        name = f"cw_load_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = sa.make_url(args.postgres).set(database=name).render_as_string(hide_password=False)
        try:
            results.append(run("PostgreSQL", url, 2, args, workdir))
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    if not args.skip_sqlite:
        results.append(run("SQLite", f"sqlite:///{workdir / 'load.db'}", 1, args, workdir))
    print(f"\napp logs in {workdir}")
    raise SystemExit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
