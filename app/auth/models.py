"""Accounts, roles and sign-in attempts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow


class Role(StrEnum):
    volunteer = "volunteer"
    trainer = "trainer"
    organizer = "organizer"
    admin = "admin"


ROLE_LABELS = {
    Role.volunteer: "Volunteer observer",
    Role.trainer: "Trainer",
    Role.organizer: "Organizer",
    Role.admin: "Administrator",
}


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    display_name: str = Field(max_length=120)
    role: str = Field(max_length=20, index=True)
    password_hash: str = Field(max_length=255)
    is_active: bool = True
    # An observer named in an imported file, standing in for them: never signs in (no usable
    # password, inactive) and is never offered for assignments.
    is_placeholder: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LoginAttempt(SQLModel, table=True):
    """One sign-in attempt; recent failures per account and per address drive throttling."""

    __tablename__ = "login_attempt"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, index=True)
    ip_address: str = Field(max_length=64, index=True)
    succeeded: bool
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
