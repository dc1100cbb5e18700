"""Settings from the environment (and an optional .env file); secrets never come from files in
the repository and are never logged."""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BAOCAO_", env_file=".env", extra="ignore",
                                      populate_by_name=True)

    database_url: str = "sqlite+aiosqlite:///baocao.db"
    timezone: str = "Asia/Ho_Chi_Minh"
    default_language: str = "vi"
    late_window_days: int = 90

    telegram_bot_token: SecretStr | None = Field(
        None, validation_alias=_env("TELEGRAM_BOT_TOKEN", "BAOCAO_TELEGRAM_BOT_TOKEN",
                                    "telegram_bot_token"))
    telegram_api_base: str = Field(
        "", validation_alias=_env("TELEGRAM_API_BASE", "BAOCAO_TELEGRAM_API_BASE",
                                  "telegram_api_base"))
    telegram_bot_username: str = ""
    webhook_url: str = ""
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8080
    webhook_secret: SecretStr | None = None

    telegram_rate_per_second: float = 30.0
    telegram_rate_per_chat: float = 1.0
    telegram_group_per_minute: float = 20.0
    outbox_lease_seconds: float = 30.0
    # Outbox claims carry the instance id; kept in a file (beside a SQLite database, else in
    # the working directory) so a restart takes its own claims back at once.
    instance_id: str = ""
    instance_file: str = ""
    reminder_tick_seconds: float = 60.0
    files_dir: str = "files"
    public_url: str = ""
    file_link_hours: float = 24.0

    zalo_bot_token: SecretStr | None = Field(
        None, validation_alias=_env("ZALO_BOT_TOKEN", "BAOCAO_ZALO_BOT_TOKEN", "zalo_bot_token"))
    zalo_api_base: str = Field(
        "", validation_alias=_env("ZALO_API_BASE", "BAOCAO_ZALO_API_BASE", "zalo_api_base"))
    zalo_webhook_url: str = ""
    zalo_webhook_secret: SecretStr | None = None
    zalo_rate_per_second: float = 10.0
    zalo_rate_per_chat: float = 1.0
    zalo_monthly_budget: int = 0  # messages a month, both directions; 0 = no budget
