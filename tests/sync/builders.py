"""Observation bodies as a phone sends them, for the sync tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

BATCH = "/api/v1/observations/batch"
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

AD_HOC_COURT = {
    "court": "Hennepin County District Court",
    "courtroom": "3B",
    "session_date": "2026-11-24",
    "start_time": "09:00",
    "judge": "Maria Alvarez",
    "calendar_type": "sentencing",
}


def hearing_body(
    position: int,
    *,
    turns: list[tuple[str, int, int | None]] | None = None,
    answers: dict[str, Any] | None = None,
    case_reference: str | None = None,
    hearing_id: str | None = None,
) -> dict[str, Any]:
    return {
        "id": hearing_id or str(uuid.uuid4()),
        "position": position,
        "case_reference": case_reference,
        "answers": answers if answers is not None else {"safety_mentioned": "yes"},
        "turns": [
            {"role": r, "start_ms": s, "end_ms": e}
            for r, s, e in (
                turns if turns is not None else [("judge", 0, 4000), ("prosecutor", 4000, 9000)]
            )
        ],
    }


def observation_body(
    version_id: int,
    *,
    observation_id: str | None = None,
    hearings: list[dict[str, Any]] | None = None,
    status: str = "draft",
    edited: int = 0,
    session_answers: dict[str, Any] | None = None,
    assignment_id: int | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": observation_id or str(uuid.uuid4()),
        "protocol_version_id": version_id,
        "assignment_id": assignment_id,
        "status": status,
        "session_answers": session_answers
        if session_answers is not None
        else {"could_hear": "yes"},
        "hearings": hearings if hearings is not None else [hearing_body(0)],
        "client_edited_at": (T0 + timedelta(seconds=edited)).isoformat(),
    }
    if assignment_id is None:
        body["court"] = dict(AD_HOC_COURT)
    return body


def send(client: TestClient, *observations: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.post(BATCH, json={"observations": list(observations)})
    assert response.status_code == 200, response.text
    return response.json()["results"]
