from __future__ import annotations

import pytest

from app.config import Settings, SettingsError


def test_production_without_secret_is_a_clear_startup_error(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(SettingsError, match="SECRET_KEY is not set"):
        Settings(environment="production", data_dir=tmp_path, secret_key="")


def test_production_rejects_a_short_secret(tmp_path):
    with pytest.raises(SettingsError, match="at least 32 characters"):
        Settings(environment="production", data_dir=tmp_path, secret_key="short")


def test_development_secret_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = Settings(environment="development", data_dir=tmp_path)
    second = Settings(environment="development", data_dir=tmp_path)
    assert len(first.secret_key) >= 32
    assert first.secret_key == second.secret_key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_settings_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "sqlite:///elsewhere.db")
    monkeypatch.setenv("SECRET_KEY", "y" * 40)
    s = Settings(data_dir=tmp_path)
    assert s.database_url == "sqlite:///elsewhere.db"
    assert s.secret_key == "y" * 40
    monkeypatch.delenv("DATABASE_URL")
    assert Settings(data_dir=tmp_path).database_url == f"sqlite:///{tmp_path / 'courtwatch.db'}"
