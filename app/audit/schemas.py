"""The audit page's filter, from query parameters."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel, Field, field_validator, model_validator

from app.forms import parse_leniently
from app.i18n import gettext

MAX_ID = 2_147_483_647


class AuditFilter(BaseModel):
    action: str | None = Field(default=None, max_length=60)
    actor_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    target: str | None = Field(default=None, max_length=120)
    date_from: date | None = None
    date_to: date | None = None
    page: int = Field(default=1, ge=1, le=100_000)

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            return value or None
        return value

    @field_validator("page", mode="before")
    @classmethod
    def _no_page_is_first(cls, value: Any) -> Any:
        return 1 if value is None else value

    @model_validator(mode="after")
    def _dates_in_order(self) -> AuditFilter:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError("date_to: " + gettext("The end date is before the start date."))
        return self

    @classmethod
    def parse(cls, params: Mapping[str, Any]) -> tuple[AuditFilter, dict[str, str]]:
        """(filter, {field: message}): a bad field is reported and left out, the rest apply."""
        return parse_leniently(cls, params, plain=_plain)

    @property
    def since(self) -> datetime | None:
        return datetime.combine(self.date_from, time.min, tzinfo=UTC) if self.date_from else None

    @property
    def until(self) -> datetime | None:
        """The end of date_to (inclusive), as the start of the next day."""
        if not self.date_to:
            return None
        return datetime.combine(self.date_to + timedelta(days=1), time.min, tzinfo=UTC)

    def to_params(self, **overrides: object) -> dict[str, str]:
        values = {**self.model_dump(mode="json"), **overrides}
        return {
            k: str(v) for k, v in values.items() if v not in (None, "") and (k, v) != ("page", 1)
        }


def _plain(field: str, message: str) -> str:
    if field in ("date_from", "date_to") and "date" in message.lower() and "before" not in message:
        return "Enter a date like 2026-12-01."
    if field == "actor_id":
        return "Choose someone from the list."
    if field == "page":
        return "Pages are numbered from 1."
    return message
