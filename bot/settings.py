"""Settings from the environment (and an optional .env file); secrets never come from files in
the repository."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BAOCAO_", env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///baocao.db"
    timezone: str = "Asia/Ho_Chi_Minh"
    default_language: str = "vi"
    telegram_bot_username: str = ""
    late_window_days: int = 90
