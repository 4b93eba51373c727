"""Benchmark: hearings per second through the sync API, against a raw SQLite insert.

    .venv/bin/python bench/sync_ingest.py [--hearings 10000] [--per-observation 20] [--batch 5]

Starts uvicorn (the real app, one worker) on a fresh SQLite file, signs in as a volunteer and
sends observations of about 30 turns and 25 answers per hearing through
POST /api/v1/observations/batch over HTTP, one batch at a time as a phone does. Prints hearings
per second and p50/p99 batch latency; then, in the same run, the time for raw sqlite3 to insert
the same rows (observations, revisions, hearings, answers, turns, per-role summaries) into a
fresh migrated database in one transaction, and the ratio between the two.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlmodel import Session  # noqa: E402

from app.auth.models import Role  # noqa: E402
from app.db import make_engine, upgrade  # noqa: E402
from app.observations.store import answer_rows, summarise_turns  # noqa: E402
from app.protocols import service as protocol_service  # noqa: E402
from app.protocols.definition import load_default_protocol, parse_definition  # noqa: E402
from app.sync.schemas import TurnIn  # noqa: E402
from bench.synthetic import ROLE_WEIGHTS, _answer_value  # noqa: E402

PASSWORD = "bench-volunteer-pass"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare_database(path: Path) -> tuple[int, str]:
    """A migrated database with one volunteer and the default protocol published."""
    url = f"sqlite:///{path}"
    upgrade(url)
    from app.auth.schemas import UserCreate
    from app.auth.service import create_user
    from app.config import Settings

    engine = make_engine(url)
    settings = Settings(environment="test", database_url=url, secret_key="b" * 40)
    with Session(engine) as session:
        user = create_user(
            session=session,
            settings=settings,
            data=UserCreate(
                email="bench-volunteer@example.org",
                display_name="Bench volunteer",
                role=Role.volunteer,
                password=PASSWORD,
            ),
        )
        version = protocol_service.ensure_default_protocol(session=session)
        version_id = version.id
        email = user.email
    engine.dispose()
    return version_id, email  # type: ignore[return-value]


def make_observations(version_id: int, hearings: int, per_observation: int) -> list[dict[str, Any]]:
    rng = random.Random(11)
    definition = parse_definition(load_default_protocol())
    roles = [r.key for r in definition.timeline_roles()]
    weights = [ROLE_WEIGHTS.get(r, 1) for r in roles]
    questions = [
        q
        for q in definition.questions("hearing")
        if q.type not in ("speaker_timeline", "roles_present")
    ][:25]
    base = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    observations = []
    made = 0
    while made < hearings:
        count = min(per_observation, hearings - made)
        hearing_list = []
        for position in range(count):
            t = 0
            turns = []
            for _ in range(30):
                length = rng.randint(2_000, 40_000)
                turns.append(
                    {"role": rng.choices(roles, weights)[0], "start_ms": t, "end_ms": t + length}
                )
                t += length + rng.randint(0, 1_500)
            answers = {q.key: _answer_value(q, rng, position % 5) for q in questions}
            hearing_list.append(
                {
                    "id": str(uuid.uuid4()),
                    "position": position,
                    "case_reference": f"27-CR-26-{made + position:06d}",
                    "started_at": (base + timedelta(minutes=6 * position)).isoformat(),
                    "ended_at": (base + timedelta(minutes=6 * position + 5)).isoformat(),
                    "answers": {k: v for k, v in answers.items() if v is not None},
                    "turns": turns,
                }
            )
        observations.append(
            {
                "id": str(uuid.uuid4()),
                "protocol_version_id": version_id,
                "court": {
                    "court": "District Court",
                    "courtroom": rng.choice(["3B", "4A", "5C"]),
                    "session_date": (base.date() - timedelta(days=rng.randint(0, 60))).isoformat(),
                    "start_time": "09:00",
                    "judge": rng.choice(["Ada Alvarez", "Ben Brooks", "Cora Chen"]),
                    "calendar_type": "sentencing",
                },
                "status": "draft",
                "session_answers": {},
                "hearings": hearing_list,
                "client_edited_at": base.isoformat(),
            }
        )
        made += count
    return observations


def wait_for(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"server did not start at {url}")


def sign_in(client: httpx.Client, email: str) -> str:
    page = client.get("/login").text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    response = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token, "next": "/"}
    )
    assert response.status_code == 303, response.text
    return client.get("/api/v1/offline-pack").json()["csrf_token"]


def send_over_http(
    database: Path, email: str, observations: list[dict[str, Any]], batch: int, workdir: Path
) -> tuple[float, list[float]]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "SECRET_KEY": "bench-" + "x" * 40,
        "ENVIRONMENT": "production",
        "DATA_DIR": str(workdir),
        "SYNC_MAX_BODY_BYTES": str(50_000_000),
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.asgi:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        base_url = f"http://127.0.0.1:{port}"
        wait_for(base_url + "/healthz")
        with httpx.Client(base_url=base_url, timeout=120) as client:
            token = sign_in(client, email)
            bodies = [
                json.dumps({"observations": observations[i : i + batch]}).encode()
                for i in range(0, len(observations), batch)
            ]
            latencies = []
            started = time.perf_counter()
            for body in bodies:
                t = time.perf_counter()
                response = client.post(
                    "/api/v1/observations/batch",
                    content=body,
                    headers={"Content-Type": "application/json", "X-CSRF-Token": token},
                )
                latencies.append(time.perf_counter() - t)
                assert response.status_code == 200, response.text[:500]
                kinds = {r["result"] for r in response.json()["results"]}
                assert kinds == {"created"}, response.text[:500]
            elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=10)
    return elapsed, latencies


def raw_insert(database: Path, observations: list[dict[str, Any]], version_id: int) -> float:
    """The same rows, inserted with sqlite3 executemany in one transaction (the floor)."""
    conn = sqlite3.connect(database)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    started = time.perf_counter()
    cur = conn.cursor()
    cur.execute("INSERT INTO court (name, name_key) VALUES ('District Court', 'district court')")
    court_id = cur.lastrowid
    cur.execute(
        "INSERT INTO court_session (court_id, courtroom, session_date, calendar_type, notes, created_at) "
        "VALUES (?, '3B', '2026-11-24', 'sentencing', '', ?)",
        (court_id, now),
    )
    sitting = cur.lastrowid
    obs_rows, rev_rows, hearing_rows, answers, turns, speakers = [], [], [], [], [], []
    for o in observations:
        oid = uuid.UUID(o["id"])
        obs_rows.append(
            (oid.hex, 1, version_id, sitting, "draft", "{}", "", 1, 1, now, now, 0, now)
        )
        rev_rows.append((oid.hex, 1, 1, "draft", now, now, "0" * 64, json.dumps(o)))
        for h in o["hearings"]:
            hid = uuid.UUID(h["id"])
            summary = summarise_turns([TurnIn(**t) for t in h["turns"]])
            hearing_rows.append(
                (hid.hex, oid.hex, h["position"], h["case_reference"], now, now,
                 json.dumps(h["answers"]), summary.turn_count, summary.talk_ms,
                 summary.first_role, summary.last_role, summary.script)
            )  # fmt: skip
            answers.extend(
                (oid.hex, hid.hex, r["question_key"], r["value_text"], r["value_number"])
                for r in answer_rows(h["answers"], observation_id=oid, hearing_id=hid)
            )
            turns.extend(
                (hid.hex, seq, t["role"], t["start_ms"], t["end_ms"])
                for seq, t in enumerate(h["turns"])
            )
            speakers.extend((hid.hex, role, n, ms) for role, (n, ms) in summary.by_role.items())
    cur.executemany(
        "INSERT INTO observation (id, observer_id, protocol_version_id, court_session_id, status, "
        "session_answers, notes, current_revision, revision_count, client_edited_at, received_at, "
        "is_reference, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        obs_rows,
    )
    cur.executemany(
        "INSERT INTO observation_revision (observation_id, revision, user_id, status, client_edited_at, "
        "received_at, payload_hash, payload) VALUES (?,?,?,?,?,?,?,?)",
        rev_rows,
    )
    cur.executemany(
        "INSERT INTO hearing (id, observation_id, position, case_reference, started_at, ended_at, "
        "answers, turn_count, talk_ms, first_role, last_role, script) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        hearing_rows,
    )
    cur.executemany(
        "INSERT INTO answer (observation_id, hearing_id, question_key, value_text, value_number) "
        "VALUES (?,?,?,?,?)",
        answers,
    )
    cur.executemany(
        "INSERT INTO turn (hearing_id, seq, role, start_ms, end_ms) VALUES (?,?,?,?,?)", turns
    )
    cur.executemany(
        "INSERT INTO hearing_speaker (hearing_id, role, turn_count, talk_ms) VALUES (?,?,?,?)",
        speakers,
    )
    conn.commit()
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hearings", type=int, default=10_000)
    parser.add_argument("--per-observation", type=int, default=20)
    parser.add_argument("--batch", type=int, default=5, help="observations per request")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="cw-ingest-"))

    served = workdir / "served.db"
    version_id, email = prepare_database(served)
    observations = make_observations(version_id, args.hearings, args.per_observation)
    n_turns = sum(len(h["turns"]) for o in observations for h in o["hearings"])
    n_answers = sum(len(h["answers"]) for o in observations for h in o["hearings"])
    print(
        f"{args.hearings:,} hearings in {len(observations):,} observations "
        f"({n_turns / args.hearings:.0f} turns, {n_answers / args.hearings:.0f} answers per hearing), "
        f"{args.batch} observations ({args.batch * args.per_observation} hearings) per batch"
    )
    elapsed, latencies = send_over_http(served, email, observations, args.batch, workdir)
    rate = args.hearings / elapsed
    lat = sorted(latencies)
    p50 = statistics.median(lat)
    p99 = lat[min(len(lat) - 1, round(0.99 * (len(lat) - 1)))]
    print(f"sync API over HTTP: {elapsed:.2f} s, {rate:,.0f} hearings/s")
    print(f"batch latency: p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms ({len(lat)} batches)")

    raw = workdir / "raw.db"
    prepare_database(raw)
    raw_seconds = raw_insert(raw, observations, version_id)
    print(f"raw sqlite3 insert of the same rows, one transaction: {raw_seconds:.2f} s")
    print(
        f"ratio sync API / raw insert: {elapsed / raw_seconds:.1f}x (target <= 4x; >= 1,000 hearings/s)"
    )


if __name__ == "__main__":
    main()
