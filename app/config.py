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
    # Sessions live on the server (sign_in_session): one ends after this long without a request,
    # and in any case this long after sign-in.
    session_idle_timeout_seconds: int = Field(default=3 * 24 * 3600, ge=1)
    session_max_age_seconds: int = Field(default=14 * 24 * 3600, ge=1)

    # X-Forwarded-For / -Proto are believed only from these proxies (comma-separated addresses
    # or networks, as uvicorn's forwarded_allow_ips; "*" trusts everyone, never do that).
    forwarded_allow_ips: str = "127.0.0.1"
    # Strict-Transport-Security on https responses; 0 sends none.
    hsts_max_age_seconds: int = Field(default=365 * 24 * 3600, ge=0)

    # zxcvbn score (0-4) a new password must reach.
    password_min_score: int = Field(default=3, ge=0, le=4)

    login_max_failures_per_account: int = 5
    login_max_failures_per_address: int = 20
    login_window_seconds: int = 15 * 60

    sync_max_body_bytes: int = 5_000_000
    sync_max_items: int = 200
    # How long an uploaded JSON export waits, previewed, for its confirmation.
    import_preview_ttl_seconds: int = 3600

    # An assignment is due this many hours after its sitting starts (NOLA asks for 48).
    submission_deadline_hours: int = Field(default=48, ge=1, le=24 * 60)

    password_hash_cost: Literal["default", "fast"] = "default"

    # Exports of sets with more hearings than this run as background jobs (smaller ones may
    # also be downloaded straight away, streamed).
    export_stream_max_hearings: int = Field(default=2000, ge=0)
    export_dir: Path | None = None  # default DATA_DIR/exports; shared by every app process
    export_keep_hours: float = Field(default=24, gt=0)
    export_worker: bool = True  # a worker thread in this process runs queued export jobs
    export_worker_poll_seconds: float = Field(default=2.0, gt=0)
    # A running job whose worker has not reported for this long was interrupted (a restart).
    export_job_lease_seconds: float = Field(default=120, gt=0)
    export_job_max_attempts: int = Field(default=2, ge=1)

    log_requests: bool = True  # one structured line per request (logger courtwatch.request)
    # Comparison: a group with fewer hearings is "too few hearings to compare" (greyed).
    compare_min_n: int = Field(default=10, ge=1)

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'courtwatch.db'}"
        if self.export_dir is None:
            self.export_dir = self.data_dir / "exports"
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
