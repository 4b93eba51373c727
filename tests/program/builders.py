"""Shared test data for the program pages (review, cases, scheduling, calibration): the
default sentencing protocol, observations sent through the real sync API."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from fastapi.testclient import TestClient

from tests.sync.builders import AD_HOC_COURT, hearing_body, observation_body, send


def hearing(
    position: int,
    *,
    case: str | None = None,
    flag: bool = False,
    hearing_id: str | None = None,
    **answers: Any,
) -> dict[str, Any]:
    values: dict[str, Any] = {"continued": "no", "safety_mentioned": "yes", **answers}
    if flag:
        values["flag_for_review"] = "yes"
    return hearing_body(position, answers=values, case_reference=case, hearing_id=hearing_id)


def submit(
    client: TestClient,
    version_id: int,
    *,
    hearings: list[dict[str, Any]] | None = None,
    observation_id: str | None = None,
    status: str = "submitted",
    edited: int = 0,
    day: date | None = None,
    courtroom: str = "3B",
    court: str | None = None,
    assignment_id: int | None = None,
    based_on: int | None = None,
) -> tuple[str, dict[str, Any]]:
    """Send one observation of the default protocol; (its id, the result)."""
    body = observation_body(
        version_id,
        observation_id=observation_id or str(uuid.uuid4()),
        hearings=hearings if hearings is not None else [hearing(0)],
        status=status,
        edited=edited,
        session_answers={"could_hear": "mostly"},
        assignment_id=assignment_id,
    )
    if assignment_id is None:
        body["court"] = {
            **AD_HOC_COURT,
            "courtroom": courtroom,
            **({"session_date": day.isoformat()} if day else {}),
            **({"court": court} if court else {}),
        }
    if based_on is not None:
        body["based_on_revision"] = based_on
    (result,) = send(client, body)
    assert result["result"] in ("created", "updated"), result
    return body["id"], body
