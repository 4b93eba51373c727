"""Forms and views of accounts."""

from __future__ import annotations

from pydantic import BaseModel, EmailStr, Field, ValidationInfo, field_validator

from app.auth.models import Role
from app.i18n import gettext


class LoginForm(BaseModel):
    email: EmailStr = Field(max_length=254)
    password: str = Field(min_length=1, max_length=1024)


class UserCreate(BaseModel):
    email: EmailStr = Field(max_length=254)
    display_name: str = Field(min_length=1, max_length=120)
    role: Role
    password: str = Field(min_length=10, max_length=1024)

    @field_validator("display_name")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError(gettext("Enter a name"))
        return value


class UserUpdate(BaseModel):
    email: EmailStr = Field(max_length=254)
    display_name: str = Field(min_length=1, max_length=120)
    role: Role
    is_active: bool = False
    # Empty keeps the current password.
    password: str = Field(default="", max_length=1024)

    @field_validator("display_name")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError(gettext("Enter a name"))
        return value

    @field_validator("password")
    @classmethod
    def _password_length(cls, value: str) -> str:
        if value and len(value) < 10:
            raise ValueError(gettext("A new password needs at least 10 characters"))
        return value


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=10, max_length=1024)
    new_password_again: str = Field(max_length=1024)

    @field_validator("new_password_again")
    @classmethod
    def _same_twice(cls, value: str, info: ValidationInfo) -> str:
        first = info.data.get("new_password")
        if first is not None and value != first:
            raise ValueError(
                gettext("The two new passwords are not the same. Type the new one twice.")
            )
        return value
