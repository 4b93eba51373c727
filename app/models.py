"""Imports every table so that SQLModel.metadata (and Alembic) sees them all."""

from app.audit.models import AuditEntry
from app.auth.models import LoginAttempt, User
from app.exports.models import ExportJob, ObservationSet
from app.observations.models import (
    Answer,
    Hearing,
    HearingSpeaker,
    Observation,
    ObservationPair,
    ObservationRevision,
    ObservationSummary,
    ObservationValue,
    SpeakerRole,
    Turn,
)
from app.protocols.models import Protocol, ProtocolVersion
from app.sessions.models import Assignment, Court, CourtSession, Judge

__all__ = [
    "Answer",
    "Assignment",
    "AuditEntry",
    "Court",
    "CourtSession",
    "ExportJob",
    "Hearing",
    "HearingSpeaker",
    "Judge",
    "LoginAttempt",
    "Observation",
    "ObservationPair",
    "ObservationRevision",
    "ObservationSet",
    "ObservationSummary",
    "ObservationValue",
    "Protocol",
    "ProtocolVersion",
    "SpeakerRole",
    "Turn",
    "User",
]
