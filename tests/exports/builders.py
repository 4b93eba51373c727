"""A small world for the browse and export tests: a protocol in two versions and a few
observations sent through the real sync API."""

from __future__ import annotations

import copy
import io
import zipfile
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.protocols import service as protocol_service
from app.protocols.models import ProtocolVersion
from tests.analysis.builders import comparison_definition, hearing, send_observation

PROTOCOL_NAME = "Export test protocol"
COURT = {
    "court": "District Court",
    "courtroom": "3B",
    "session_date": "2026-03-02",
    "judge": "Judge Ada Alvarez",
    "calendar_type": "sentencing",
}
OTHER_COURT = {
    **COURT,
    "courtroom": "5C",
    "session_date": "2026-03-09",
    "judge": "Judge Ben Brooks",
}


def definition_v1() -> dict[str, Any]:
    d = comparison_definition()
    d["title"] = PROTOCOL_NAME
    d["sections"][0]["questions"].append(
        {
            "key": "debrief_notes",
            "type": "long_text",
            "label": "What repeated from hearing to hearing?",
        }
    )
    d["sections"][1]["questions"].append(
        {"key": "remarks", "type": "short_text", "label": "Anything else?"}
    )
    return d


def definition_v2() -> dict[str, Any]:
    """v1 plus a choice (community service) and a question (review hearing set)."""
    d = copy.deepcopy(definition_v1())
    hearing_questions = d["sections"][1]["questions"]
    components = next(q for q in hearing_questions if q["key"] == "components")
    components["choices"].append({"value": "community_service", "label": "Community service"})
    hearing_questions.append(
        {
            "key": "review_set",
            "type": "yes_no",
            "label": "Review hearing set?",
            "tags": ["accountability"],
        }
    )
    return d


def publish_v1(db: Session) -> ProtocolVersion:
    version = protocol_service.create_protocol(
        session=db, name=PROTOCOL_NAME, definition=definition_v1(), created_by_id=None
    )
    return protocol_service.publish(session=db, version=version)


def publish_v2(db: Session, v1: ProtocolVersion) -> ProtocolVersion:
    draft = protocol_service.new_draft(session=db, version=v1, created_by_id=None)
    draft = protocol_service.replace_definition(
        session=db, version=draft, definition=definition_v2()
    )
    return protocol_service.publish(session=db, version=draft)


@dataclass
class World:
    v1: ProtocolVersion
    v2: ProtocolVersion | None
    observation_ids: list[str]


def seed(db: Session, volunteer: TestClient, *, two_versions: bool = False) -> World:
    """Two observations on v1 (three hearings); with two_versions, one more on v2."""
    v1 = publish_v1(db)
    ids = [
        send_observation(
            volunteer,
            protocol_version_id=v1.id,  # type: ignore[arg-type]
            court=COURT,
            session_answers={"influence": "judge", "debrief_notes": "The judge set the pace."},
            hearings=[
                hearing(
                    [("judge", 0, 5000), ("prosecutor", 5000, 9000), ("defense", 9000, 12000)],
                    {
                        "safety_mentioned": "yes",
                        "components": ["jail", "fine"],
                        "remarks": "Quick plea; sentence as agreed.",
                        "nco": "ordered",
                    },
                    case_reference="27-CR-26-0001",
                ),
                hearing([("judge", 0, 3000), ("defense", 3000, 4000)], {"safety_mentioned": "no"}),
            ],
        ),
        send_observation(
            volunteer,
            protocol_version_id=v1.id,  # type: ignore[arg-type]
            court=OTHER_COURT,
            hearings=[hearing([("prosecutor", 0, 2000)], {"components": []})],
        ),
    ]
    v2 = None
    if two_versions:
        v2 = publish_v2(db, v1)
        ids.append(
            send_observation(
                volunteer,
                protocol_version_id=v2.id,  # type: ignore[arg-type]
                court=COURT,
                hearings=[
                    hearing(
                        [("judge", 0, 1000)],
                        {"components": ["community_service"], "review_set": "yes"},
                    )
                ],
            )
        )
    return World(v1=v1, v2=v2, observation_ids=ids)


def make_set(client: TestClient, name: str = "Everything", **filters: str) -> int:
    """An observation set through the real form; returns its id."""
    response = client.post("/sets", data={"name": name, **filters})
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rstrip("/").split("/")[-1])


def read_zip(content: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        return {name: zf.read(name).decode("utf-8") for name in zf.namelist()}
