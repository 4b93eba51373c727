"""Builders for protocols in tests, through the real service."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from app.protocols import service as protocol_service
from app.protocols.definition import load_default_protocol
from app.protocols.models import ProtocolVersion


def small_definition(title: str = "Small") -> dict[str, Any]:
    return {
        "title": title,
        "sections": [
            {
                "key": "sitting",
                "title": "Sitting",
                "level": "session",
                "questions": [
                    {
                        "key": "could_hear",
                        "type": "yes_no",
                        "label": "Could you hear?",
                        "required": True,
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
                        "roles": [
                            {"key": "judge", "label": "Judge", "colour": "#7cc4ff"},
                            {"key": "prosecutor", "label": "Prosecutor", "colour": "#ffb86b"},
                        ],
                    },
                    {
                        "key": "safety_mentioned",
                        "type": "yes_no",
                        "label": "Safety mentioned?",
                        "tags": ["safety"],
                    },
                ],
            },
        ],
    }


def published_protocol(
    db: Session, *, name: str = "Small protocol", definition: dict[str, Any] | None = None
) -> ProtocolVersion:
    version = protocol_service.create_protocol(
        session=db, name=name, definition=definition or small_definition(name), created_by_id=None
    )
    return protocol_service.publish(session=db, version=version)


def default_published(db: Session) -> ProtocolVersion:
    return published_protocol(
        db, name="Sentencing calendar — CCR observation", definition=load_default_protocol()
    )
