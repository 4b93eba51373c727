"""Simulated phones syncing one calendar through real app processes, and what the store holds
afterwards. Used by bench/sync_load.py and tests/sync/test_concurrency.py.

Each sitting has a group of phones, each phone a volunteer of its own with one observation:
every tick it sends that whole observation again, one hearing longer (every fourth tick the
same content again, which must come back `unchanged`), to one of the app processes in turn.
Half the sittings are scheduled with assignments for half their phones, the other phones of
the calendar send ad hoc court details in several spellings (court and courtroom case and
spacing, with or without judge and start time); the other sittings exist nowhere until the
phones create them at once, in a court never seen before. Afterwards the store must hold one
sitting per court, courtroom, date and calendar type, every phone's observation once with
the hearings it last sent, and an agreement pair for every two observers of a sitting.
"""

from __future__ import annotations

import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlmodel import Session

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.auth.models import Role  # noqa: E402
from app.auth.schemas import UserCreate  # noqa: E402
from app.auth.service import create_user  # noqa: E402
from app.config import Settings  # noqa: E402
from app.db import make_engine, upgrade  # noqa: E402
from app.protocols import service as protocol_service  # noqa: E402
from app.protocols.definition import parse_definition  # noqa: E402
from app.sessions import service as sessions_service  # noqa: E402
from app.sessions.schemas import AssignIn  # noqa: E402
from bench.synthetic import _answer_value  # noqa: E402

PASSWORD = "ledger-7Qx#vantage-plover-quartz"
SECRET = "phones-" + "s" * 40
BATCH = "/api/v1/observations/batch"
SITTING_DAY = date(2026, 11, 24)
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
# Spellings of one court and courtroom that must meet on one sitting.
COURT_SPELLINGS = ("{court}", "{upper}", "  {court} ")
ROOM_SPELLINGS = ("{room}", "{lower}", " {lower} ")


@dataclass
class Phone:
    """One volunteer's phone: its account, its observation and what the server answered."""

    email: str
    group: int
    court: dict[str, Any] | None  # ad hoc court details, or None with an assignment
    assignment_id: int | None
    observation_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    hearings: list[dict[str, Any]] = field(default_factory=list)
    sent: int = 0
    acknowledged_hearings: int = 0
    stored_revisions: int = 0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    results: Counter[str] = field(default_factory=Counter)


@dataclass
class Calendar:
    """The sittings and phones of one run."""

    version_id: int
    phones: list[Phone]
    sittings: list[tuple[str, str]]  # (court, courtroom) of each group


def _courtroom(group: int) -> str:
    return f"{group + 3}B"


def prepare_store(url: str, *, sittings: int, phones_per_sitting: int) -> Calendar:
    """A migrated store with a trainer, one volunteer per phone, the default protocol
    published, the scheduled sittings (even groups) and their assignments."""
    upgrade(url)
    settings = Settings(
        environment="test", database_url=url, secret_key=SECRET, password_hash_cost="fast"
    )
    engine = make_engine(url)
    phones: list[Phone] = []
    places: list[tuple[str, str]] = []
    run = uuid.uuid4().hex[:6]
    with Session(engine, expire_on_commit=False) as session:
        trainer = create_user(
            session=session,
            settings=settings,
            data=UserCreate(
                email=f"trainer-{run}@phones.example.org",
                display_name="Load trainer",
                role=Role.trainer,
                password=PASSWORD,
            ),
        )
        version = protocol_service.ensure_default_protocol(session=session)
        for group in range(sittings):
            scheduled = group % 2 == 0
            court = "Hennepin County District Court" if scheduled else f"Court {run} {group}"
            room = _courtroom(group)
            places.append((court, room))
            volunteers = [
                create_user(
                    session=session,
                    settings=settings,
                    data=UserCreate(
                        email=f"phone-{run}-{group}-{n}@phones.example.org",
                        display_name=f"Phone {group}.{n}",
                        role=Role.volunteer,
                        password=PASSWORD,
                    ),
                )
                for n in range(phones_per_sitting)
            ]
            assigned: dict[int, int] = {}
            if scheduled:
                sitting = sessions_service.find_or_create_court_session(
                    session=session, court=court, courtroom=room, session_date=SITTING_DAY,
                    start_time=None, judge=None, calendar_type="sentencing",
                    created_by_id=trainer.id,
                )  # fmt: skip
                session.commit()
                made = sessions_service.assign(
                    session=session,
                    court_session_id=sitting.id,  # type: ignore[arg-type]
                    data=AssignIn(
                        volunteer_ids=[v.id for v in volunteers[::2]],  # type: ignore[misc]
                        protocol_version_id=version.id,  # type: ignore[arg-type]
                    ),
                    assigned_by_id=trainer.id,
                )
                assigned = {a.volunteer_id: a.id for a in made}  # type: ignore[misc]
            for n, volunteer in enumerate(volunteers):
                assignment_id = assigned.get(volunteer.id)  # type: ignore[arg-type]
                phones.append(
                    Phone(
                        email=volunteer.email,
                        group=group,
                        assignment_id=assignment_id,
                        court=None if assignment_id else _court_details(court, room, n),
                    )
                )
        version_id = version.id
    engine.dispose()
    return Calendar(version_id=version_id, phones=phones, sittings=places)  # type: ignore[arg-type]


def _court_details(court: str, room: str, n: int) -> dict[str, Any]:
    return {
        "court": COURT_SPELLINGS[n % 3].format(court=court, upper=court.upper()),
        "courtroom": ROOM_SPELLINGS[n % 3].format(room=room, lower=room.lower()),
        "session_date": SITTING_DAY.isoformat(),
        "start_time": "09:00" if n % 2 else None,
        "judge": "Maria Alvarez" if n % 4 == 1 else None,
        "calendar_type": "sentencing",
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app process at {url} exited with {process.returncode}")
        try:
            if httpx.get(url + "/healthz", timeout=2.0).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"the app process at {url} did not start")


@contextmanager
def app_processes(url: str, count: int, workdir: Path) -> Iterator[list[str]]:
    """`count` uvicorn processes of the real app on one store, on loopback ports (their output
    in workdir/app-N.log)."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET,
        "ENVIRONMENT": "production",
        "DATA_DIR": str(workdir),
        "PASSWORD_HASH_COST": "fast",
    }
    processes: list[subprocess.Popen[bytes]] = []
    bases: list[str] = []
    logs = []
    try:
        for n in range(count):
            logs.append((workdir / f"app-{n}.log").open("wb"))
            port = free_port()
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "uvicorn",
                        "app.asgi:app",
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(port),
                        "--log-level",
                        "warning",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=logs[-1],
                    stderr=subprocess.STDOUT,
                )
            )  # fmt: skip
            bases.append(f"http://127.0.0.1:{port}")
        for base, process in zip(bases, processes, strict=True):
            _wait_for(base, process)
        yield bases
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in logs:
            log.close()


def sign_in(client: httpx.Client, email: str) -> str:
    """Through the real login form; the CSRF token of the offline pack."""
    page = client.get("/login").text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    response = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token, "next": "/"}
    )
    if response.status_code != 303:
        raise RuntimeError(f"sign-in of {email} answered {response.status_code}")
    return client.get("/api/v1/offline-pack").json()["csrf_token"]


class _Content:
    """Hearings as a phone records them: a few turns, answers to some hearing questions."""

    def __init__(self, definition: dict[str, Any]) -> None:
        parsed = parse_definition(definition)
        self.roles = [r.key for r in parsed.timeline_roles()]
        self.questions = [
            q for q in parsed.questions("hearing") if q.type in ("yes_no", "single_choice")
        ][:8]

    def hearing(self, rng: random.Random, position: int) -> dict[str, Any]:
        t, turns = 0, []
        for _ in range(rng.randint(3, 8)):
            length = rng.randint(2_000, 30_000)
            turns.append({"role": rng.choice(self.roles), "start_ms": t, "end_ms": t + length})
            t += length + rng.randint(0, 1_000)
        answers = {q.key: _answer_value(q, rng, position % 5) for q in self.questions}
        return {
            "id": str(uuid.uuid4()),
            "position": position,
            "case_reference": f"27-CR-26-{position:06d}",
            "answers": {k: v for k, v in answers.items() if v is not None},
            "turns": turns,
        }


def _body(calendar: Calendar, phone: Phone) -> dict[str, Any]:
    observation: dict[str, Any] = {
        "id": phone.observation_id,
        "protocol_version_id": calendar.version_id,
        "assignment_id": phone.assignment_id,
        "status": "draft",
        "session_answers": {},
        "notes": "",
        "hearings": phone.hearings,
        # Edited when a hearing was added: the same content again is the same payload.
        "client_edited_at": (T0 + timedelta(seconds=len(phone.hearings))).isoformat(),
    }
    if phone.court is not None:
        observation["court"] = phone.court
    return {"observations": [observation]}


def run_phones(
    calendar: Calendar,
    bases: list[str],
    *,
    ticks: int,
    interval: float,
    together: bool,
    seed: int = 5,
) -> float:
    """Every phone signs in, then sends a batch every `interval` seconds, `ticks` times, in
    threads; `together` starts every phone's ticks at the same instant (the worst case),
    otherwise each phone keeps its own phase. The seconds it took."""
    definition = _default_definition()
    content = _Content(definition)
    start_barrier = threading.Barrier(len(calendar.phones))
    started = time.perf_counter()

    def drive(index: int, phone: Phone) -> None:
        rng = random.Random(seed * 1000 + index)
        clients = [httpx.Client(base_url=base, timeout=60.0) for base in bases]
        try:
            home = clients[index % len(clients)]
            token = sign_in(home, phone.email)
            for other in clients:  # one signed session, any process serves it
                other.cookies = home.cookies
            start_barrier.wait()
            begin = time.perf_counter() + (0 if together else rng.uniform(0, interval))
            for tick in range(ticks):
                delay = begin + tick * interval - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                if tick % 4 != 3:
                    phone.hearings.append(content.hearing(rng, len(phone.hearings)))
                body = json.dumps(_body(calendar, phone))
                client = clients[(index + tick) % len(clients)]
                t = time.perf_counter()
                try:
                    response = client.post(
                        BATCH,
                        content=body,
                        headers={"Content-Type": "application/json", "X-CSRF-Token": token},
                    )
                except httpx.HTTPError as exc:
                    phone.statuses[type(exc).__name__] += 1
                    continue
                finally:
                    phone.latencies.append(time.perf_counter() - t)
                    phone.sent += 1
                phone.statuses[str(response.status_code)] += 1
                if response.status_code != 200:
                    continue
                (result,) = response.json()["results"]
                phone.results[result["result"]] += 1
                if result["result"] in ("created", "updated"):
                    phone.acknowledged_hearings = len(phone.hearings)
                    phone.stored_revisions += 1
        finally:
            for client in clients:
                client.close()

    threads = [
        threading.Thread(target=drive, args=(i, phone), daemon=True)
        for i, phone in enumerate(calendar.phones)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def _default_definition() -> dict[str, Any]:
    from app.protocols.definition import load_default_protocol

    return load_default_protocol()  # type: ignore[no-any-return]


@dataclass
class StoreCheck:
    """What the store holds after a run, against what the phones were told."""

    sittings_per_place: dict[tuple[str, str], int]
    observations_missing: int
    observations_extra: int
    hearings_lost: int
    hearings_doubled: int
    revisions_wrong: int
    pairs_expected: int
    pairs_found: int
    pairs_wrong: int

    @property
    def holds(self) -> bool:
        return (
            all(n == 1 for n in self.sittings_per_place.values())
            and not self.observations_missing
            and not self.observations_extra
            and not self.hearings_lost
            and not self.hearings_doubled
            and not self.revisions_wrong
            and self.pairs_found == self.pairs_expected
            and not self.pairs_wrong
        )


def check_store(url: str, calendar: Calendar) -> StoreCheck:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return _check(conn, calendar)
    finally:
        engine.dispose()


def _check(conn: sa.Connection, calendar: Calendar) -> StoreCheck:
    from app.sessions.courts import name_key

    per_place = {}
    for court, room in calendar.sittings:
        per_place[court, room] = conn.execute(
            sa.text(
                "SELECT COUNT(*) FROM court_session s JOIN court c ON c.id = s.court_id "
                "WHERE c.name_key = :key AND lower(s.courtroom) = lower(:room) "
                "AND s.session_date = :day AND s.calendar_type = 'sentencing'"
            ),
            {"key": name_key(court), "room": room, "day": SITTING_DAY},
        ).scalar_one()
    stored = {
        str(uuid.UUID(str(oid))): (sitting, revisions)
        for oid, sitting, revisions in conn.execute(
            sa.text("SELECT id, court_session_id, revision_count FROM observation")
        )
    }
    hearings = dict(
        (str(uuid.UUID(str(oid))), n)
        for oid, n in conn.execute(
            sa.text("SELECT observation_id, COUNT(*) FROM hearing GROUP BY observation_id")
        )
    )
    sent = {p.observation_id: p for p in calendar.phones if p.stored_revisions}
    lost = doubled = wrong_revisions = 0
    for oid, phone in sent.items():
        n = hearings.get(oid, 0)
        lost += max(0, phone.acknowledged_hearings - n)
        doubled += max(0, n - phone.acknowledged_hearings)
        if oid in stored and stored[oid][1] != phone.stored_revisions:
            wrong_revisions += 1
    # Pairs: every two observers of one sitting with hearings, matched on min(hearings).
    by_sitting: dict[int, list[str]] = {}
    for oid, (sitting, _) in stored.items():
        by_sitting.setdefault(sitting, []).append(oid)
    expected = sum(len(oids) * (len(oids) - 1) // 2 for oids in by_sitting.values())
    pairs = list(
        conn.execute(
            sa.text(
                "SELECT first_observation_id, second_observation_id, hearings FROM observation_pair"
            )
        )
    )
    wrong_pairs = 0
    for first, second, matched in pairs:
        a, b = str(uuid.UUID(str(first))), str(uuid.UUID(str(second)))
        if (
            a not in stored
            or b not in stored
            or stored[a][0] != stored[b][0]
            or matched != min(hearings.get(a, 0), hearings.get(b, 0))
        ):
            wrong_pairs += 1
    return StoreCheck(
        sittings_per_place=per_place,
        observations_missing=len(sent.keys() - stored.keys()),
        observations_extra=len(stored.keys() - {p.observation_id for p in calendar.phones}),
        hearings_lost=lost,
        hearings_doubled=doubled,
        revisions_wrong=wrong_revisions,
        pairs_expected=expected,
        pairs_found=len(pairs),
        pairs_wrong=wrong_pairs,
    )


def latency_summary(calendar: Calendar) -> tuple[int, Counter[str], float, float]:
    """(batches, statuses, p50 ms, p99 ms)."""
    latencies = sorted(t for p in calendar.phones for t in p.latencies)
    statuses: Counter[str] = Counter()
    for p in calendar.phones:
        statuses.update(p.statuses)
    if not latencies:
        return 0, statuses, 0.0, 0.0
    p99 = latencies[min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))]
    return len(latencies), statuses, statistics.median(latencies) * 1000, p99 * 1000
