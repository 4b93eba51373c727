"""Imports every table so that SQLModel.metadata (and Alembic) sees them all."""

from app.audit.models import AuditEntry
from app.auth.models import LoginAttempt, SignInSession, User
from app.calibration.models import CalibrationExercise, ExerciseInvite
from app.changes import FiguresVersion
from app.exports.models import ExportJob, ObservationSet, PendingImport
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
from app.review.models import ObservationReview, ReviewEvent
from app.scheduling.models import CalendarFeed, ConflictOfInterest, SittingSignup
from app.sessions.models import Assignment, Court, CourtSession, Judge

__all__ = [
    "Answer",
    "Assignment",
    "AuditEntry",
    "CalendarFeed",
    "CalibrationExercise",
    "ConflictOfInterest",
    "Court",
    "CourtSession",
    "ExerciseInvite",
    "ExportJob",
    "FiguresVersion",
    "Hearing",
    "HearingSpeaker",
    "Judge",
    "LoginAttempt",
    "Observation",
    "ObservationPair",
    "ObservationReview",
    "ObservationRevision",
    "ObservationSet",
    "ObservationSummary",
    "ObservationValue",
    "PendingImport",
    "Protocol",
    "ProtocolVersion",
    "ReviewEvent",
    "SignInSession",
    "SittingSignup",
    "SpeakerRole",
    "Turn",
    "User",
]
