"""Configuration from PORTAL_* variables."""

from __future__ import annotations

import pytest

from portal.core.config import ConfigError, load_config


def test_production_refuses_to_start_without_a_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.delenv("PORTAL_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="PORTAL_SECRET_KEY"):
        load_config()
    monkeypatch.setenv("PORTAL_SECRET_KEY", "a-long-random-value")
    assert load_config()["SECRET_KEY"] == "a-long-random-value"


def test_settings_come_from_portal_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_SECRET_KEY", "x")
    monkeypatch.setenv("PORTAL_AUTO_CLOSE_DAYS", "10")
    monkeypatch.setenv("PORTAL_MAX_UPLOAD_MB", "3")
    monkeypatch.setenv("PORTAL_BASE_URL", "https://portal.example.gov.br/")
    config = load_config()
    assert config["AUTO_CLOSE_DAYS"] == 10
    assert config["MAX_UPLOAD_BYTES"] == 3 * 1024 * 1024
    assert config["BASE_URL"] == "https://portal.example.gov.br"
    assert config["SESSION_COOKIE_SECURE"] is True
    monkeypatch.setenv("PORTAL_AUTO_CLOSE_DAYS", "sete")
    with pytest.raises(ConfigError, match="PORTAL_AUTO_CLOSE_DAYS"):
        load_config()
