"""Per-observation summaries (observation_speaker, observation_question, observation_value):
written with the hearing rows on every sync, replaced on an edit, and the same as what the
rebuild statements and migration 0003 compute from the rows themselves."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from app.db import downgrade, upgrade
from app.observations.models import role_code
from app.observations.store import rebuild_summaries
from tests.analysis.builders import comparison_definition, hearing, send_observation
from tests.analysis.conftest import COURT_A, COURT_B
from tests.protocols.factories import published_protocol


def _summaries(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every summary row, as plain sorted tuples (observation ids as text, JSON parsed)."""
    connection = session.connection()

    def plain(value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) and value[:1] == "{" else value

    queries = {
        "summary": "SELECT observation_id, hearings, talk_ms, speakers, questions "
        "FROM observation_summary",
        "value": "SELECT observation_id, question_key, value_text, answers FROM observation_value",
    }
    return {
        name: sorted(
            (
                tuple(str(v) if i == 0 else plain(v) for i, v in enumerate(row))
                for row in connection.exec_driver_sql(sql).all()
            ),
            key=repr,
        )
        for name, sql in queries.items()
    }


def _of(rows: list[tuple[Any, ...]], observation_id: str) -> list[tuple[Any, ...]]:
    want = uuid.UUID(observation_id)
    return sorted((row[1:] for row in rows if uuid.UUID(row[0]) == want), key=repr)


def _two_hearings() -> list[dict[str, Any]]:
    return [
        # judge 10 s, prosecutor 20 s, judge 5 s: opened and closed by the judge
        hearing(
            [("judge", 0, 10_000), ("prosecutor", 10_000, 30_000), ("judge", 30_000, 35_000)],
            {
                "safety_mentioned": "not_observed",
                "nco": "not_mentioned",
                "components": ["jail", "probation"],
            },
        ),
        # prosecutor 5 s, defense 3 s: "none of these" components, nco not asked
        hearing(
            [("prosecutor", 0, 5_000), ("defense", 5_000, 8_000)],
            {"safety_mentioned": "no", "components": []},
        ),
    ]


def test_summaries_are_written_with_the_hearings_and_replaced_on_an_edit(db, volunteer):
    client, _ = volunteer
    version = published_protocol(db, name="Summaries", definition=comparison_definition())
    hearings = _two_hearings()
    oid = send_observation(
        client,
        protocol_version_id=version.id,
        court=COURT_A,
        session_answers={"influence": "judge"},
        hearings=hearings,
        status="draft",
    )
    got = _summaries(db)
    assert _of(got["summary"], oid) == [
        (
            2,  # hearings
            43_000,  # talk ms: 35 s + 8 s
            {  # role: turns, talk ms, hearings spoken in, opened, closed
                "judge": [2, 15_000, 1, 1, 1],
                "prosecutor": [2, 25_000, 2, 1, 0],
                "defense": [1, 3_000, 1, 0, 1],
            },
            {  # key: hearings answering, absent ("no", a choice marked absent), "not observed"
                "safety_mentioned": [2, 1, 1],
                "nco": [1, 1, 0],
                "components": [2, 0, 0],
            },
        )
    ]
    # the session-level answer ("influence") is not tallied here
    assert _of(got["value"], oid) == sorted(
        [
            ("components", None, 1),
            ("components", "jail", 1),
            ("components", "probation", 1),
            ("nco", "not_mentioned", 1),
            ("safety_mentioned", "no", 1),
            ("safety_mentioned", "not_observed", 1),
        ],
        key=repr,
    )

    # An edit from the phone (later, second hearing removed, an answer changed) replaces them.
    first = dict(hearings[0], answers={"safety_mentioned": "no", "components": ["fine"]})
    body = {
        "observations": [
            {
                "id": oid,
                "protocol_version_id": version.id,
                "court": COURT_A,
                "status": "submitted",
                "session_answers": {"influence": "judge"},
                "hearings": [first],
                "client_edited_at": (datetime.now(UTC) + timedelta(minutes=5)).isoformat(),
            }
        ]
    }
    response = client.post("/api/v1/observations/batch", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["results"][0]["result"] == "updated"
    db.expire_all()
    got = _summaries(db)
    assert _of(got["summary"], oid) == [
        (
            1,
            35_000,
            {"judge": [2, 15_000, 1, 1, 1], "prosecutor": [1, 20_000, 1, 0, 0]},
            {"safety_mentioned": [1, 1, 0], "components": [1, 0, 0]},
        )
    ]
    assert _of(got["value"], oid) == [("components", "fine", 1), ("safety_mentioned", "no", 1)]


def test_rebuilding_from_the_rows_gives_what_sync_wrote(db, volunteer):
    client, _ = volunteer
    version = published_protocol(db, name="Summaries", definition=comparison_definition())
    for court in (COURT_A, COURT_B):
        send_observation(
            client, protocol_version_id=version.id, court=court, hearings=_two_hearings()
        )
    written = _summaries(db)
    assert all(written.values())
    rebuild_summaries(db.connection())
    assert _summaries(db) == written
    db.rollback()


def test_migration_0003_fills_the_summaries_from_stored_rows(app, db, volunteer, database_url):
    client, _ = volunteer
    version = published_protocol(db, name="Summaries", definition=comparison_definition())
    for court in (COURT_A, COURT_B):
        send_observation(
            client, protocol_version_id=version.id, court=court, hearings=_two_hearings()
        )
    written = _summaries(db)
    db.close()
    app.state.engine.dispose()
    downgrade(database_url, "0002")  # the summary tables are dropped with their rows
    engine = sa.create_engine(database_url)
    assert "observation_value" not in sa.inspect(engine).get_table_names()
    engine.dispose()
    upgrade(database_url)
    engine = sa.create_engine(database_url)
    with Session(engine) as session:
        assert _summaries(session) == written
        # every script coded again, one character per role
        roles = dict(
            (role_code(i), role)
            for i, role in session.connection().exec_driver_sql("SELECT id, role FROM speaker_role")
        )
        scripts = (
            session.connection().exec_driver_sql("SELECT script, script_code FROM hearing").all()
        )
        assert len(scripts) == 4
        assert all(">".join(roles[c] for c in code) == script for script, code in scripts)
    engine.dispose()
