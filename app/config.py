"""Settings: the only reader of the environment."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(RuntimeError):
    """The deployment is configured in a way the app cannot start with."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "production", "test"] = "development"
    data_dir: Path = REPO_ROOT / "data"
    database_url: str = ""
    secret_key: str = Field(default="", repr=False)
    # Cookies carry Secure when the request came over https; force it on with this.
    session_cookie_secure: bool = False
    session_max_age_seconds: int = 14 * 24 * 3600

    login_max_failures_per_account: int = 5
    login_max_failures_per_address: int = 20
    login_window_seconds: int = 15 * 60

    sync_max_body_bytes: int = 5_000_000
    sync_max_items: int = 200

    password_hash_cost: Literal["default", "fast"] = "default"

    # Comparison: a group with fewer hearings is "too few hearings to compare" (greyed).
    compare_min_n: int = Field(default=10, ge=1)

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'courtwatch.db'}"
        if not self.secret_key:
            if self.environment == "production":
                raise SettingsError(
                    "SECRET_KEY is not set. In production set SECRET_KEY to a long random "
                    "value (for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')."
                )
            self.secret_key = _development_secret(self.data_dir)
        elif self.environment == "production" and len(self.secret_key) < 32:
            raise SettingsError("SECRET_KEY must be at least 32 characters in production.")
        return self


def _development_secret(data_dir: Path) -> str:
    """Generate a secret once and keep it in the data folder, so sessions survive restarts."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    path.write_text(secret)
    path.chmod(0o600)
    return secret


@lru_cache
def get_settings() -> Settings:
    return Settings()
