"""The comparison's figures are kept until the data they are read from changes: a repeat
view is answered from memory, and any committed write (a phone's sync, a staff edit, a bulk
Core write) makes the next view read the set again. Writes that no figure reads (sign-ins)
and writes rolled back do not."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.analysis.service import compare
from app.changes import figures_version
from app.observations.filters import HearingFilter
from app.sessions.models import Judge
from tests.analysis.builders import hearing, send_observation
from tests.analysis.conftest import COURT_A
from tests.conftest import login


def _hearing_count(html: str) -> int:
    match = re.search(r'data-testid="hearing-count"><strong>(\d+)</strong>', html)
    assert match, html[:500]
    return int(match.group(1))


def test_a_repeat_view_is_served_from_memory_until_a_write(db, four_hearings):
    first = compare(session=db, f=HearingFilter())
    assert first.hearings == 4
    again = compare(session=db, f=HearingFilter())
    assert again is first  # not read again: nothing changed
    judge = db.exec(select(Judge).where(Judge.name == "Judge Ada Alvarez")).one()
    one_judge = compare(session=db, f=HearingFilter(judge_id=judge.id))
    assert one_judge is not first and one_judge.hearings == 2  # another filter, its own figures
    judge.name = "Judge Ada Alvarez-Reyes"
    db.add(judge)
    db.commit()
    renamed = compare(session=db, f=HearingFilter())
    assert renamed is not first and renamed.hearings == 4
    assert {row["group"] for row in renamed.matrix_by_judge.rows} == {
        "Judge Ada Alvarez-Reyes",
        "Judge Ben Brooks",
    }


def test_a_sync_shows_on_the_next_view_of_the_page(client_for, volunteer, four_hearings):
    organizer, _ = client_for("organizer")
    assert _hearing_count(organizer.get("/compare").text) == 4
    assert _hearing_count(organizer.get("/compare").text) == 4  # from memory
    client, _ = volunteer
    send_observation(
        client,
        protocol_version_id=four_hearings.id,
        court=COURT_A,
        hearings=[hearing([("judge", 0, 1_000)]), hearing([("defense", 0, 2_000)])],
    )
    assert _hearing_count(organizer.get("/compare").text) == 6
    assert organizer.get("/api/v1/compare").json()["hearings"] == 6


def test_what_counts_as_a_change(app, db, client_for):
    engine = app.state.engine
    start = figures_version(db)
    assert start is not None
    # A sign-in writes only sign-in tables: the figures stay.
    _, user = client_for("organizer")  # creating the user is a change
    after_user = _version(engine)
    assert after_user > start
    with TestClient(app, follow_redirects=False) as another:
        login(another, user.email)
        assert another.get("/compare").status_code == 200
    assert _version(engine) == after_user
    # A Core write counts once per transaction, however many rows.
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO judge (name, name_key) VALUES (:n, :k)"),
            [{"n": f"Judge {i}", "k": f"judge {i}"} for i in range(3)],
        )
    assert _version(engine) == after_user + 1
    # Rolled back: not a change.
    with engine.connect() as conn:
        conn.execute(sa.text("UPDATE judge SET name = 'Nobody'"))
        conn.rollback()
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT count(*) FROM judge")).scalar()
        conn.commit()  # a read committed: not a change
    assert _version(engine) == after_user + 1
    with Session(engine) as session:
        assert session.exec(select(Judge).where(Judge.name == "Nobody")).first() is None


def _version(engine: sa.Engine) -> int:
    with Session(engine) as session:
        n = figures_version(session)
    assert n is not None
    return n


@pytest.mark.parametrize("statement", ["SELECT 1", "  pragma foreign_keys", "SAVEPOINT sa_1"])
def test_reads_are_not_changes(statement):
    from app.changes import _is_change

    assert not _is_change(statement)


@pytest.mark.parametrize(
    ("statement", "change"),
    [
        ("INSERT INTO observation (id) VALUES (?)", True),
        ('UPDATE "judge" SET name = ?', True),
        ("DELETE FROM turn WHERE hearing_id = ?", True),
        ("WITH x AS (SELECT 1) INSERT INTO answer SELECT * FROM x", True),
        ("INSERT INTO sign_in_session (id) VALUES (?)", False),
        ("UPDATE login_attempt SET n = 1", False),
        ("INSERT INTO audit_entry (at) VALUES (?)", False),
    ],
)
def test_writes_count_unless_no_figure_reads_their_table(statement, change):
    from app.changes import _is_change

    assert _is_change(statement) is change
