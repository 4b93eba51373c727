"""Hand-made observations for the comparison tests, sent through the real sync API."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

ROLES = [
    {"key": "judge", "label": "Judge", "colour": "#7cc4ff"},
    {"key": "prosecutor", "label": "Prosecutor", "colour": "#ffb86b"},
    {"key": "defense", "label": "Defense attorney", "colour": "#b59cff"},
    {"key": "victim", "label": "Victim", "colour": "#7ee2a8"},
]


def comparison_definition() -> dict[str, Any]:
    return {
        "title": "Comparison test protocol",
        "sections": [
            {
                "key": "debrief",
                "title": "Debrief",
                "level": "session",
                "questions": [
                    {
                        "key": "influence",
                        "type": "single_choice",
                        "label": "Who held the influence?",
                        "tags": ["decision"],
                        "choices": [{"value": r["key"], "label": r["label"]} for r in ROLES],
                    }
                ],
            },
            {
                "key": "hearing",
                "title": "Hearing",
                "level": "hearing",
                "questions": [
                    {
                        "key": "speakers",
                        "type": "speaker_timeline",
                        "label": "Who speaks",
                        "roles": ROLES,
                    },
                    {
                        "key": "safety_mentioned",
                        "type": "yes_no",
                        "label": "Victim safety mentioned?",
                        "tags": ["safety"],
                    },
                    {
                        "key": "nco",
                        "type": "single_choice",
                        "label": "No-contact order",
                        "tags": ["safety"],
                        "choices": [
                            {"value": "ordered", "label": "Ordered"},
                            {"value": "continued", "label": "Continued"},
                            {"value": "not_mentioned", "label": "Not mentioned", "absent": True},
                        ],
                    },
                    {
                        "key": "decided_by",
                        "type": "single_choice",
                        "label": "Who decided the sentence?",
                        "tags": ["decision"],
                        "choices": [{"value": r["key"], "label": r["label"]} for r in ROLES],
                    },
                    {
                        "key": "components",
                        "type": "multi_choice",
                        "label": "Sentence components",
                        "tags": ["outcome"],
                        "choices": [
                            {"value": "jail", "label": "Jail"},
                            {"value": "probation", "label": "Probation"},
                            {"value": "fine", "label": "Fine"},
                        ],
                    },
                ],
            },
        ],
    }


def hearing(
    turns: list[tuple[str, int, int]],
    answers: dict[str, Any] | None = None,
    *,
    case_reference: str | None = None,
) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "position": 0,  # set from the order by send_observation
        "case_reference": case_reference,
        "answers": answers or {},
        "turns": [{"role": r, "start_ms": s, "end_ms": e} for r, s, e in turns],
    }


def send_observation(
    client: TestClient,
    *,
    protocol_version_id: int,
    court: dict[str, Any],
    hearings: list[dict[str, Any]],
    session_answers: dict[str, Any] | None = None,
    status: str = "submitted",
    notes: str = "",
) -> str:
    """One whole observation through POST /api/v1/observations/batch; returns its UUID."""
    for i, h in enumerate(hearings):
        h["position"] = i
    observation_id = str(uuid.uuid4())
    body = {
        "observations": [
            {
                "id": observation_id,
                "protocol_version_id": protocol_version_id,
                "court": court,
                "status": status,
                "session_answers": session_answers or {},
                "notes": notes,
                "hearings": hearings,
                "client_edited_at": datetime.now(UTC).isoformat(),
            }
        ]
    }
    response = client.post("/api/v1/observations/batch", json=body)
    assert response.status_code == 200, response.text
    result = response.json()["results"][0]
    assert result["result"] == "created", result
    return observation_id


def scope_of(db: Any, f: Any = None, *, min_n: int = 10) -> tuple[Any, Any]:
    """The comparison's scope and protocols for a filter (everything by default)."""
    from app.analysis.scope import make_scope, set_protocols
    from app.observations.filters import HearingFilter

    db.expire_all()
    scope = make_scope(session=db, f=f or HearingFilter(), min_n=min_n)
    return scope, set_protocols(session=db, scope=scope)
