"""Accounts, roles and sign-in attempts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow
from app.i18n import N_


class Role(StrEnum):
    volunteer = "volunteer"
    trainer = "trainer"
    organizer = "organizer"
    admin = "admin"


ROLE_LABELS = {
    Role.volunteer: N_("Volunteer observer"),
    Role.trainer: N_("Trainer"),
    Role.organizer: N_("Organizer"),
    Role.admin: N_("Administrator"),
}


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    display_name: str = Field(max_length=120)
    role: str = Field(max_length=20, index=True)
    password_hash: str = Field(max_length=255)
    is_active: bool = True
    # The interface language the user chose ("en", "es"); None follows the browser.
    language: str | None = Field(default=None, max_length=8)
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


class SignInSession(SQLModel, table=True):
    """One browser's session, kept on the server: the cookie holds only a random token whose
    SHA-256 is stored here, so ending the row ends every copy of the cookie.

    Rows without a user keep a signed-out visitor's flash messages; they go once read.
    """

    __tablename__ = "sign_in_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True, ondelete="CASCADE")
    # Flash messages and the like; never a password or observation content.
    data: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Why it ended: "logout", "signed_in_again", "password_changed", "role_changed", …
    end_reason: str | None = Field(default=None, max_length=40)
    ip_address: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=255)
