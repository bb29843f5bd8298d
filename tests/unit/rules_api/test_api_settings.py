from __future__ import annotations

from pathlib import Path

import pytest

from rules_api.settings import ApiSettings, SettingsError


def test_tokens_come_from_env_and_file(tmp_path: Path) -> None:
    tokens_file = tmp_path / "tokens"
    tokens_file.write_text("# comment\nb:viewer:" + "1" * 64 + "\n\n", encoding="utf-8")
    settings = ApiSettings.from_env(
        {"LOGFLOW_API_TOKENS": "a:admin:" + "0" * 64, "LOGFLOW_API_TOKENS_FILE": str(tokens_file)}
    )
    assert settings.token_entries == ("a:admin:" + "0" * 64, "b:viewer:" + "1" * 64)


def test_defaults() -> None:
    settings = ApiSettings.from_env({})
    assert settings.token_entries == ()
    assert settings.max_body_bytes == 256 * 1024
    assert settings.topics.rules == "logflow.rules"
    assert settings.redis_prefix == "logflow:api:"


def test_overrides_reach_the_shared_settings() -> None:
    settings = ApiSettings.from_env(
        {"LOGFLOW_RULES_TOPIC": "t", "LOGFLOW_API_REDIS_PREFIX": "p:", "LOGFLOW_API_MAX_RULES": "7"}
    )
    assert (settings.topics.rules, settings.redis_prefix, settings.max_rules) == ("t", "p:", 7)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LOGFLOW_API_TOKENS_FILE": "/nonexistent/tokens"}, "LOGFLOW_API_TOKENS_FILE"),
        ({"LOGFLOW_API_TLS_CERT": "/c.pem"}, "both"),
        ({"LOGFLOW_API_MAX_BODY_BYTES": "lots"}, "integer"),
        ({"LOGFLOW_API_MAX_RULES": "0"}, "at least 1"),
        ({"LOGFLOW_API_PUBLISH_TIMEOUT_S": "-1"}, "positive"),
    ],
)
def test_bad_settings_are_refused(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        ApiSettings.from_env(env)
