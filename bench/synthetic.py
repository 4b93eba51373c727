"""Synthetic observation data at scale, for the benchmarks (not for tests or demo).

Writes straight into a migrated database with the DB-API (executemany in one transaction), so
100,000 hearings with ~30 turns and ~25 answers each take seconds, not minutes. The rows look like
what the sync API writes: hearings with their turn summaries, hearing_speaker rows, answer rows
(one per list item; numbers in value_number only), turn rows, observations and court sessions
with judges and courtrooms. One sitting in seven has a second observer (same court session and
case numbers, answers and turns drawn independently), for the agreement figures.
"""

from __future__ import annotations

import json
import random
import sqlite3
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from app.db import upgrade
from app.observations.store import rebuild_summaries
from app.protocols.definition import load_default_protocol, parse_definition

JUDGES = [
    "Judge Ada Alvarez",
    "Judge Ben Brooks",
    "Judge Cora Chen",
    "Judge Dev Dutta",
    "Judge Eli Evans",
]
COURTROOMS = ["3B", "4A", "5C", "6D"]
ROLE_WEIGHTS = {
    "judge": 30,
    "prosecutor": 22,
    "defense": 20,
    "probation": 8,
    "defendant": 8,
    "victim": 2,
    "advocate": 3,
    "interpreter": 3,
    "clerk": 3,
    "other": 1,
}


CACHE_KB = 6 * 1024 * 1024  # 6 GB at most (the machine has 24)


def _now() -> str:
    return datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")


def _answer_value(q: Any, rng: random.Random, judge_index: int) -> Any:
    if q.type == "yes_no":
        # Judges differ in how often safety comes up: that is what the gap figures should show.
        p_yes = 0.25 + 0.15 * judge_index if "safety" in q.tags else 0.6
        r = rng.random()
        return "yes" if r < p_yes else ("no" if r < 0.93 else "not_observed")
    if q.type == "single_choice":
        return rng.choice(q.choices).value
    if q.type == "multi_choice":
        return sorted(
            {c.value for c in rng.sample(q.choices, k=min(len(q.choices), rng.randint(1, 3)))}
        )
    if q.type == "count":
        return rng.randint(0, 90)
    if q.type == "number":
        return round(rng.uniform(0, 100), 1)
    if q.type == "time":
        return f"{rng.randint(8, 16):02d}:{rng.choice([0, 15, 30, 45]):02d}"
    if q.type == "short_text":
        return "synthetic note"
    if q.type == "long_text":
        return "Synthetic observation text for the benchmark."
    return None


def generate(
    database: Path,
    *,
    hearings: int,
    turns_per_hearing: int = 30,
    seed: int = 7,
    script_templates: int | None = None,
    second_observer_every: int = 7,
) -> dict[str, int]:
    """Create a migrated SQLite database at `database` holding `hearings` synthetic hearings.

    By default every hearing's turns are drawn at random, so nearly every script is distinct
    (the hard case for the patterns). With `script_templates`, hearings follow one of that many
    turn sequences (the common ones far more often) with one turn changed in one hearing in
    ten, as real calendars repeat. Every `second_observer_every`-th sitting has a second
    observer."""
    if database.exists():
        database.unlink()
    upgrade(f"sqlite:///{database}")
    rng = random.Random(seed)
    definition_doc = load_default_protocol()
    definition = parse_definition(definition_doc)
    roles = [r.key for r in definition.timeline_roles()]
    weights = [ROLE_WEIGHTS.get(r, 1) for r in roles]
    hearing_questions = [
        q
        for q in definition.questions("hearing")
        if q.type not in ("speaker_timeline", "roles_present")
    ][:25]
    session_questions = [q for q in definition.questions("session") if q.type != "speaker_timeline"]

    conn = sqlite3.connect(database)
    # A fresh file built in one go (seed again if it fails): no journal, and a page cache
    # large enough for the indexes, whose random (UUID) keys otherwise make each insert a
    # page read once the file outgrows the default 2 MB cache (1,000,000 hearings took over
    # an hour with it).
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute(f"PRAGMA cache_size=-{CACHE_KB}")
    cur = conn.cursor()
    now = _now()
    cur.execute(
        "INSERT INTO user (email, display_name, role, password_hash, is_active, created_at, updated_at) "
        "VALUES ('bench-admin@example.org', 'Bench admin', 'admin', '!', 1, ?, ?)",
        (now, now),
    )
    observers = []
    for i in range(20):
        cur.execute(
            "INSERT INTO user (email, display_name, role, password_hash, is_active, created_at, updated_at) "
            "VALUES (?, ?, 'volunteer', '!', 1, ?, ?)",
            (f"observer{i}@example.org", f"Observer {i}", now, now),
        )
        observers.append(cur.lastrowid)
    cur.execute(
        "INSERT INTO protocol (name, description, created_at) VALUES (?, '', ?)",
        (definition.title, now),
    )
    protocol_id = cur.lastrowid
    cur.execute(
        "INSERT INTO protocol_version (protocol_id, version, status, definition, created_at, updated_at, published_at) "
        "VALUES (?, 1, 'published', ?, ?, ?, ?)",
        (protocol_id, json.dumps(definition_doc), now, now, now),
    )
    version_id = cur.lastrowid
    cur.execute("INSERT INTO court (name, name_key) VALUES ('District Court', 'district court')")
    court_id = cur.lastrowid
    judge_ids = []
    for name in JUDGES:
        cur.execute("INSERT INTO judge (name, name_key) VALUES (?, ?)", (name, name.lower()))
        judge_ids.append(cur.lastrowid)

    per_observation = 15
    templates = [
        ["judge", *rng.choices(roles, weights=weights, k=turns_per_hearing - 1)]
        for _ in range(script_templates or 0)
    ]
    template_weights = [1 / (rank + 1) for rank in range(len(templates))]  # Zipf-like
    n_observations = (hearings + per_observation - 1) // per_observation
    start_day = date(2025, 1, 6)
    hearing_rows: list[tuple[Any, ...]] = []
    speaker_rows: list[tuple[Any, ...]] = []
    answer_rows: list[tuple[Any, ...]] = []
    turn_rows: list[tuple[Any, ...]] = []
    made = 0

    def flush() -> None:
        cur.executemany(
            "INSERT INTO hearing (id, observation_id, position, case_reference, started_at, ended_at, answers, "
            "turn_count, talk_ms, first_role, last_role, script) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            hearing_rows,
        )
        cur.executemany(
            "INSERT INTO hearing_speaker (hearing_id, role, turn_count, talk_ms) VALUES (?,?,?,?)",
            speaker_rows,
        )
        cur.executemany(
            "INSERT INTO answer (observation_id, hearing_id, question_key, value_text, value_number) VALUES (?,?,?,?,?)",
            answer_rows,
        )
        cur.executemany(
            "INSERT INTO turn (hearing_id, seq, role, start_ms, end_ms) VALUES (?,?,?,?,?)",
            turn_rows,
        )
        for rows in (hearing_rows, speaker_rows, answer_rows, turn_rows):
            rows.clear()

    session_id = 0
    for o in range(n_observations):
        # Every seventh sitting has a second observer (same court session, same case numbers),
        # so the agreement figures have matched hearings to work on, as in training weeks.
        second = o % second_observer_every == second_observer_every - 1
        sitting = o - 1 if second else o
        judge_index = sitting % len(JUDGES)
        day = start_day + timedelta(days=7 * (sitting // 8) + (sitting % 5))
        if not second:
            cur.execute(
                "INSERT INTO court_session (court_id, courtroom, session_date, start_time, calendar_type, judge_id, notes, created_at) "
                "VALUES (?, ?, ?, '09:00:00', 'sentencing', ?, '', ?)",
                (
                    court_id,
                    COURTROOMS[sitting % len(COURTROOMS)],
                    day.isoformat(),
                    judge_ids[judge_index],
                    now,
                ),
            )
            session_id = cur.lastrowid
        observation_id = uuid.UUID(int=rng.getrandbits(128)).hex
        session_answers = {q.key: _answer_value(q, rng, judge_index) for q in session_questions}
        cur.execute(
            "INSERT INTO observation (id, observer_id, protocol_version_id, court_session_id, status, session_answers, notes, "
            "current_revision, revision_count, client_edited_at, received_at, submitted_at, is_reference, created_at) "
            "VALUES (?, ?, ?, ?, 'submitted', ?, '', 1, 1, ?, ?, ?, 0, ?)",
            (
                observation_id,
                observers[o % len(observers)],
                version_id,
                session_id,
                json.dumps(session_answers),
                now,
                now,
                now,
                now,
            ),
        )
        for key, value in session_answers.items():
            for item in value if isinstance(value, list) else [value]:
                answer_rows.append((observation_id, None, key, str(item), None))
        for position in range(min(per_observation, hearings - made)):
            hearing_id = uuid.UUID(int=rng.getrandbits(128)).hex
            t = 0
            if templates:
                seq_roles = list(rng.choices(templates, weights=template_weights)[0])
                if rng.random() < 0.1:
                    seq_roles[rng.randrange(len(seq_roles))] = rng.choices(roles, weights)[0]
            else:
                seq_roles = rng.choices(roles, weights=weights, k=turns_per_hearing)
                seq_roles[0] = "judge" if rng.random() < 0.8 else seq_roles[0]
            per_role: dict[str, list[int]] = {}
            for seq, role in enumerate(seq_roles):
                length = rng.randint(2_000, 40_000)
                turn_rows.append((hearing_id, seq, role, t, t + length))
                stat = per_role.setdefault(role, [0, 0])
                stat[0] += 1
                stat[1] += length
                t += length + rng.randint(0, 3_000)
            script: list[str] = []
            for role in seq_roles:
                if not script or script[-1] != role:
                    script.append(role)
            answers = {q.key: _answer_value(q, rng, judge_index) for q in hearing_questions}
            talk = sum(v[1] for v in per_role.values())
            hearing_rows.append(
                (
                    hearing_id,
                    observation_id,
                    position,
                    f"27-CR-{sitting:05d}-{position:02d}",
                    None,
                    None,
                    json.dumps(answers),
                    turns_per_hearing,
                    talk,
                    seq_roles[0],
                    seq_roles[-1],
                    ">".join(script),
                )
            )
            speaker_rows.extend((hearing_id, role, v[0], v[1]) for role, v in per_role.items())
            for key, value in answers.items():
                for item in value if isinstance(value, list) else [value]:
                    # as app.observations.store.answer_rows: numbers go in value_number only
                    if isinstance(item, (int, float)) and not isinstance(item, bool):
                        answer_rows.append((observation_id, hearing_id, key, None, float(item)))
                    else:
                        answer_rows.append((observation_id, hearing_id, key, str(item), None))
            made += 1
        if len(turn_rows) > 200_000:
            flush()
    flush()
    conn.commit()
    conn.close()
    engine = sa.create_engine(f"sqlite:///{database}")
    with engine.begin() as connection:
        rebuild_summaries(connection)
        connection.exec_driver_sql("ANALYZE")
    engine.dispose()
    return {"hearings": made, "observations": n_observations, "turns": made * turns_per_hearing}
