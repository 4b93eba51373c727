"""Migration 0007 merges duplicate sittings (made by concurrent ad hoc syncs before it) into one,
moves their observations and assignments, works their agreement pairs out again, and adds the
unique index, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.auth.models import Role, User
from app.db import alembic_config, downgrade, make_engine, upgrade
from app.observations import pairs
from app.observations.models import Observation, ObservationPair
from app.sessions.models import Assignment, Court, CourtSession, Judge
from app.sync import service as sync_service
from tests.conftest import BACKENDS, truncate_all
from tests.factories import create_user
from tests.protocols.factories import published_protocol, small_definition
from tests.sync.builders import hearing_body, observation_body

DAY = date(2026, 11, 24)
# The revision before the merge (0007 is kept the last migration, so everything else the
# ingest writes is there).
BEFORE = ScriptDirectory.from_config(alembic_config("sqlite://")).get_revision("0007").down_revision


@pytest.fixture(params=BACKENDS)
def store_at_0004(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store migrated up to the revision before 0007; migrated to head again afterwards."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'merge.db'}"
        upgrade(url, BEFORE)
        yield url
        return
    url = request.getfixturevalue("postgres_url")
    truncate_all(url)
    downgrade(url, BEFORE)
    try:
        yield url
    finally:
        upgrade(url)
        truncate_all(url)


def _sitting(db: Session, court: Court, courtroom: str, **values: object) -> int:
    row = {"court_id": court.id, "courtroom": courtroom, "session_date": DAY,
           "calendar_type": "sentencing", "notes": "", **values}  # fmt: skip
    result = db.execute(sa.insert(CourtSession.__table__).returning(CourtSession.id), [row])  # type: ignore[attr-defined]
    return result.scalar_one()


def _observe(db: Session, user: User, version_id: int, assignment_id: int) -> str:
    body = observation_body(
        version_id,
        assignment_id=assignment_id,
        hearings=[
            hearing_body(0, case_reference="27-CR-26-1", answers={"safety_mentioned": "yes"}),
            hearing_body(1, case_reference="27-CR-26-2", answers={"safety_mentioned": "no"}),
        ],
    )
    (result,) = sync_service.ingest_batch(session=db, user=user, items=[body])
    assert result.result == "created", result
    db.commit()
    return body["id"]


def _pair_rows(db: Session) -> list[tuple]:
    return sorted(
        (str(p.first_observation_id), str(p.second_observation_id), p.hearings, p.scripts)
        for p in db.exec(select(ObservationPair))
    )


def test_duplicate_sittings_are_merged_with_their_observations_and_pairs(store_at_0004: str):
    url = store_at_0004
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as db:
        ann = create_user(db, role=Role.volunteer)
        bob = create_user(db, role=Role.volunteer)
        cy = create_user(db, role=Role.volunteer)
        version = published_protocol(db, definition=small_definition())
        court = Court(
            name="Hennepin County District Court", name_key="hennepin county district court"
        )
        judge = Judge(name="Maria Alvarez", name_key="maria alvarez")
        db.add_all([court, judge])
        db.flush()
        # Three rows for one sitting (courtroom spelled two ways), as racing syncs left them,
        # and a review calendar the same day, which is another sitting.
        first = _sitting(db, court, "3B")
        second = _sitting(db, court, "3b", judge_id=judge.id, notes="Gallery full")
        third = _sitting(db, court, "3B", notes="Gallery full")
        review = _sitting(db, court, "3B", calendar_type="review")
        assignments = {}
        for user, sitting in ((ann, first), (bob, second), (cy, third), (cy, review)):
            a = Assignment(court_session_id=sitting, volunteer_id=user.id,
                           protocol_version_id=version.id)  # fmt: skip
            db.add(a)
            db.flush()
            assignments[user.id, sitting] = a.id
        db.commit()
        observed = {
            (user.id, sitting): _observe(db, user, version.id, assignments[user.id, sitting])  # type: ignore[arg-type]
            for user, sitting in ((ann, first), (bob, second), (cy, third), (cy, review))
        }
        assert _pair_rows(db) == []  # split across three rows, nobody is compared
    engine.dispose()

    upgrade(url)

    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as db:
        sittings = db.exec(select(CourtSession).order_by(CourtSession.id)).all()
        assert [s.id for s in sittings] == [first, review]
        kept = sittings[0]
        assert (kept.judge_id, kept.notes) == (judge.id, "Gallery full")
        assert {str(o.id): o.court_session_id for o in db.exec(select(Observation))} == {
            oid: (review if key[1] == review else first) for key, oid in observed.items()
        }
        assert sorted(a.court_session_id for a in db.exec(select(Assignment))) == [
            first, first, first, review
        ]  # fmt: skip
        merged_pairs = _pair_rows(db)
        # ann, bob and cy now observed one sitting: three pairs, each on both hearings.
        assert len(merged_pairs) == 3 and {p[2] for p in merged_pairs} == {2}
        # The same pairs as a full rebuild works out.
        with engine.begin() as conn:
            pairs.rebuild_pairs(conn)
        db.expire_all()
        assert _pair_rows(db) == merged_pairs
        # The index now refuses another row for the sitting.
        with pytest.raises(IntegrityError):
            _sitting(db, db.get(Court, kept.court_id), "3b")  # type: ignore[arg-type]
        db.rollback()
        if url.startswith("sqlite"):  # SQLite's inspector cannot reflect expression indexes
            with engine.connect() as conn:
                sql = conn.execute(
                    sa.text("SELECT sql FROM sqlite_master WHERE name = 'uq_court_session_sitting'")
                ).scalar_one()
            assert "UNIQUE" in sql and "lower(courtroom)" in sql
    engine.dispose()
