"""Random sends, resends, edits, submits and lost answers from several simulated phones, played
against the real app: the store must equal a simple model — nothing lost, nothing doubled."""

from __future__ import annotations

import copy
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, col, select

from app.auth.models import Role
from app.observations.models import Hearing, Observation, ObservationRevision, Turn
from tests.protocols.factories import published_protocol, small_definition
from tests.sync.builders import AD_HOC_COURT, BATCH, T0

PHONES = 2
OBSERVATIONS = 2

operation = st.tuples(
    st.sampled_from(
        ["add_hearing", "answer", "turn", "send", "send", "send_lost", "drop", "submit"]
    ),
    st.integers(0, PHONES - 1),
    st.integers(0, OBSERVATIONS - 1),
    st.sampled_from(["yes", "no", "not_observed"]),
)


@dataclass
class Accepted:
    digest: str
    edited: str
    status: str
    body: dict[str, Any]


@dataclass
class ServerModel:
    accepted: dict[str, list[Accepted]] = field(default_factory=dict)

    def receive(self, body: dict[str, Any]) -> str:
        content = {k: v for k, v in body.items() if k not in ("device_id", "based_on_revision")}
        digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
        history = self.accepted.setdefault(body["id"], [])
        if any(a.digest == digest for a in history):
            return "unchanged"
        if any(a.status == "submitted" for a in history):
            return "invalid"
        history.append(Accepted(digest, body["client_edited_at"], body["status"], body))
        return "created" if len(history) == 1 else "updated-or-kept"

    def winner(self, observation_id: str) -> tuple[int, Accepted]:
        history = self.accepted[observation_id]
        for number, a in enumerate(history, start=1):
            if a.status == "submitted":
                return number, a
        return max(enumerate(history, start=1), key=lambda p: (p[1].edited, p[0]))


def fresh_observation(version_id: int) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "protocol_version_id": version_id,
        "assignment_id": None,
        "court": dict(AD_HOC_COURT),
        "status": "draft",
        "session_answers": {"could_hear": "yes"},
        "notes": "",
        "hearings": [],
        "client_edited_at": T0.isoformat(),
    }


def new_hearing(position: int) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "position": position,
        "case_reference": None,
        "answers": {},
        "turns": [],
    }


def check_store(db: Session, model: ServerModel, observation_ids: list[str]) -> None:
    db.expire_all()
    for oid in observation_ids:
        obs = db.get(Observation, uuid.UUID(oid))
        if oid not in model.accepted or not model.accepted[oid]:
            assert obs is None
            continue
        history = model.accepted[oid]
        number, winner = model.winner(oid)
        assert obs is not None
        assert obs.revision_count == len(history)
        assert obs.current_revision == number
        assert obs.status == winner.status
        revisions = db.exec(
            select(ObservationRevision.revision, ObservationRevision.payload)
            .where(ObservationRevision.observation_id == obs.id)
            .order_by(ObservationRevision.revision)
        ).all()
        assert [r for r, _ in revisions] == list(range(1, len(history) + 1))
        assert [p for _, p in revisions] == [a.body for a in history]
        hearings = db.exec(
            select(Hearing).where(Hearing.observation_id == obs.id).order_by(Hearing.position)
        ).all()
        expected = winner.body["hearings"]
        assert [str(h.id) for h in hearings] == [h["id"] for h in expected]
        assert [h.answers for h in hearings] == [h["answers"] for h in expected]
        for stored_hearing, sent in zip(hearings, expected, strict=True):
            turns = db.exec(
                select(Turn.role, Turn.start_ms, Turn.end_ms)
                .where(Turn.hearing_id == stored_hearing.id)
                .order_by(Turn.seq)
            ).all()
            assert [tuple(t) for t in turns] == [
                (t["role"], t["start_ms"], t["end_ms"]) for t in sent["turns"]
            ]
    # Nothing doubled: no hearing of these observations is stored twice or elsewhere.
    ids = [uuid.UUID(o) for o in observation_ids]
    all_hearings = db.exec(select(Hearing.id).where(col(Hearing.observation_id).in_(ids))).all()
    assert len(all_hearings) == len(set(all_hearings))


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=st.lists(operation, min_size=1, max_size=40))
def test_the_store_equals_the_model(db, client_for, operations):
    client, version_id = _setup(db, client_for)
    base = [fresh_observation(version_id) for _ in range(OBSERVATIONS)]
    phones = [[copy.deepcopy(o) for o in base] for _ in range(PHONES)]
    model = ServerModel()
    clock = [0]

    def touch(obs: dict[str, Any]) -> None:
        clock[0] += 1
        obs["client_edited_at"] = (T0 + timedelta(seconds=clock[0])).isoformat()

    for kind, phone, index, value in operations:
        obs = phones[phone][index]
        if kind == "add_hearing":
            obs["hearings"].append(new_hearing(len(obs["hearings"])))
            touch(obs)
        elif kind == "answer":
            if not obs["hearings"]:
                obs["hearings"].append(new_hearing(0))
            obs["hearings"][-1]["answers"]["safety_mentioned"] = value
            touch(obs)
        elif kind == "turn":
            if not obs["hearings"]:
                obs["hearings"].append(new_hearing(0))
            turns = obs["hearings"][-1]["turns"]
            start = turns[-1]["end_ms"] if turns else 0
            role = "judge" if value == "yes" else "prosecutor"
            turns.append({"role": role, "start_ms": start, "end_ms": start + 1000})
            touch(obs)
        elif kind == "submit":
            obs["status"] = "submitted"
            touch(obs)
        elif kind in ("send", "send_lost"):
            body = copy.deepcopy(obs)
            body["device_id"] = f"phone-{phone}"
            response = client.post(BATCH, json={"observations": [body]})
            assert response.status_code == 200, response.text
            expected = model.receive(body)
            got = response.json()["results"][0]["result"]
            if kind == "send":  # a lost answer is simply never read by the phone
                if expected == "updated-or-kept":
                    assert got in ("updated", "unchanged")
                else:
                    assert got == expected, (got, expected)
        # "drop": the request never reached the server.
    check_store(db, model, [o["id"] for o in base])


_cache: dict[str, tuple[Any, int]] = {}


def _setup(db: Session, client_for: Any) -> tuple[Any, int]:
    """One signed-in phone owner and one protocol per test database (reused across examples)."""
    key = f"{db.get_bind().url}#{id(db)}"
    if key not in _cache:
        client, _ = client_for(Role.volunteer)
        version = published_protocol(db, definition=small_definition())
        _cache.clear()
        _cache[key] = (client, version.id)  # type: ignore[assignment]
    return _cache[key]
