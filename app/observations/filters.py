"""The filter shared by browsing, observation sets, exports and comparison.

Every consumer starts from `hearing_ids(filter)` / `observation_ids(filter)` (subqueries) so the
same filter selects the same hearings everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ValidationError, field_validator, model_validator
from sqlmodel import select

from app.bounds import RowId
from app.calibration.models import CalibrationExercise, ExerciseInvite
from app.i18n import gettext
from app.messages import labelled_message
from app.observations.models import Hearing, Observation
from app.protocols.models import ProtocolVersion
from app.review.models import ObservationReview, ReviewState
from app.sessions.models import CourtSession


class HearingFilter(BaseModel):
    date_from: date | None = None
    date_to: date | None = None
    court_id: RowId | None = None
    courtroom: str | None = None
    judge_id: RowId | None = None
    calendar_type: str | None = None
    protocol_id: RowId | None = None
    protocol_version_id: RowId | None = None
    observer_id: RowId | None = None
    status: Literal["draft", "submitted"] | None = None
    # Only observations staff approved in review.
    approved_only: bool | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            return value or None
        return value

    @model_validator(mode="after")
    def _dates_in_order(self) -> HearingFilter:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError("date_to: " + gettext("The end date is before the start date."))
        return self

    @classmethod
    def parse(cls, params: Mapping[str, Any]) -> tuple[HearingFilter, dict[str, str]]:
        """From query parameters or stored JSON: (filter, {field: message}); bad fields are dropped."""
        values = {k: params.get(k) for k in cls.model_fields if k in params}
        errors: dict[str, str] = {}
        for _ in range(len(cls.model_fields) + 1):
            try:
                return cls.model_validate(values), errors
            except ValidationError as exc:
                for err in exc.errors():
                    field = str(err["loc"][0]) if err["loc"] else ""
                    msg = (
                        err["msg"].removeprefix("Value error, ")
                        if err["type"] == "value_error"
                        else labelled_message(err)
                    )
                    if not field and ":" in msg:
                        field, msg = msg.split(":", 1)
                    field = field or "__all__"
                    errors.setdefault(field, msg.strip())
                    values.pop(field, None)
        return cls(), errors

    def to_params(self) -> dict[str, str]:
        """The non-empty fields as query parameters (for links, saved sets, exports)."""
        return {
            k: str(v)
            for k, v in self.model_dump(mode="json").items()
            if v is not None and v != "" and v is not False
        }

    def is_empty(self) -> bool:
        return not self.to_params()

    def conditions(self) -> list[sa.ColumnElement[bool]]:
        """WHERE conditions over Observation and CourtSession (and ProtocolVersion for protocol_id)."""
        c: list[sa.ColumnElement[bool]] = []
        if self.date_from:
            c.append(CourtSession.session_date >= self.date_from)
        if self.date_to:
            c.append(CourtSession.session_date <= self.date_to)
        if self.court_id is not None:
            c.append(CourtSession.court_id == self.court_id)
        if self.courtroom:
            c.append(sa.func.lower(CourtSession.courtroom) == self.courtroom.lower())
        if self.judge_id is not None:
            c.append(CourtSession.judge_id == self.judge_id)
        if self.calendar_type:
            c.append(CourtSession.calendar_type == self.calendar_type)
        if self.protocol_version_id is not None:
            c.append(Observation.protocol_version_id == self.protocol_version_id)
        if self.protocol_id is not None:
            c.append(
                Observation.protocol_version_id.in_(  # type: ignore[attr-defined]
                    select(ProtocolVersion.id).where(
                        ProtocolVersion.protocol_id == self.protocol_id
                    )
                )
            )
        if self.observer_id is not None:
            c.append(Observation.observer_id == self.observer_id)
        if self.status:
            c.append(Observation.status == self.status)
        if self.approved_only:
            c.append(
                Observation.id.in_(  # type: ignore[attr-defined]
                    select(ObservationReview.observation_id).where(
                        ObservationReview.state == ReviewState.approved
                    )
                )
            )
        # Calibration exercises are training, never findings.
        c.append(Observation.id.not_in(exercise_observation_ids()))  # type: ignore[attr-defined]
        return c


def exercise_observation_ids() -> sa.Select[Any]:
    """SELECT the ids of observations made for calibration exercises: each exercise's
    reference and the trainees' observations for their invitations' assignments."""
    return select(CalibrationExercise.reference_observation_id).union(
        select(Observation.id).where(
            Observation.assignment_id.in_(select(ExerciseInvite.assignment_id))  # type: ignore[union-attr]
        )
    )


def observation_ids(f: HearingFilter) -> sa.Select[Any]:
    """SELECT observation.id of the observations the filter keeps."""
    return (
        select(Observation.id)
        .join(CourtSession, CourtSession.id == Observation.court_session_id)  # type: ignore[arg-type]
        .where(*f.conditions())
    )


def hearing_ids(f: HearingFilter) -> sa.Select[Any]:
    """SELECT hearing.id of the hearings the filter keeps."""
    return (
        select(Hearing.id)
        .join(Observation, Observation.id == Hearing.observation_id)  # type: ignore[arg-type]
        .join(CourtSession, CourtSession.id == Observation.court_session_id)  # type: ignore[arg-type]
        .where(*f.conditions())
    )
