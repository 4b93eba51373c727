"""Imports every table so that SQLModel.metadata (and Alembic) sees them all."""

from app.auth.models import LoginAttempt, User
from app.exports.models import ObservationSet
from app.observations.models import (
    Answer,
    Hearing,
    HearingSpeaker,
    Observation,
    ObservationQuestion,
    ObservationRevision,
    ObservationSpeaker,
    ObservationValue,
    Turn,
)
from app.protocols.models import Protocol, ProtocolVersion
from app.sessions.models import Assignment, Court, CourtSession, Judge

__all__ = [
    "Answer",
    "Assignment",
    "Court",
    "CourtSession",
    "Hearing",
    "HearingSpeaker",
    "Judge",
    "LoginAttempt",
    "Observation",
    "ObservationQuestion",
    "ObservationRevision",
    "ObservationSet",
    "ObservationSpeaker",
    "ObservationValue",
    "Protocol",
    "ProtocolVersion",
    "Turn",
    "User",
]
