"""Settings from the environment (and an optional .env file); secrets never come from files in
the repository and are never logged.

Every value is checked when the settings are read, so a bad one stops the bot at start with
one line naming the variable, the value and the form expected (`SettingsError.lines`), instead
of a traceback at start or a failure days later."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

LANGUAGES = ("vi", "en")
SECRETS = frozenset({"telegram_bot_token", "zalo_bot_token", "webhook_secret",
                     "zalo_webhook_secret", "web_secret"})
# Variables that are not BAOCAO_<FIELD>: the names the messengers' own docs use.
ENV_NAMES = {"telegram_bot_token": "TELEGRAM_BOT_TOKEN", "telegram_api_base": "TELEGRAM_API_BASE",
             "zalo_bot_token": "ZALO_BOT_TOKEN", "zalo_api_base": "ZALO_API_BASE"}
DATABASE_EXAMPLES = ("sqlite+aiosqlite:///baocao.db or "
                     "postgresql+asyncpg://user:password@host:5432/baocao")
ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg",
                 "postgres": "postgresql+asyncpg"}
_CREDENTIALS = re.compile(r"(://[^:/@]*:)[^@/]*@")


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


def env_name(field: str) -> str:
    """The environment variable that sets a field."""
    return ENV_NAMES.get(field, f"BAOCAO_{field.upper()}")


def mask_url(url: str) -> str:
    """A URL fit for logs and error lines: its password replaced by ***."""
    return _CREDENTIALS.sub(r"\1***@", url)


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


def _at_least(low: float) -> Callable[[Any], bool]:
    return lambda value: isinstance(value, int | float) and math.isfinite(value) and value >= low


def _url(value: Any) -> bool:
    if not value:
        return True
    parts = urlsplit(str(value))
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _zone(value: Any) -> bool:
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _token(pattern: str) -> Callable[[Any], bool]:
    regex = re.compile(pattern)
    return lambda value: value is None or bool(regex.fullmatch(value.get_secret_value()))


POSITIVE = "expected a number greater than 0"
URL = "expected an http:// or https:// URL, or nothing"
# field: (check of the parsed value, what is expected, as the error line says it)
RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "timezone": (_zone, "expected a time zone of the tz database, such as Asia/Ho_Chi_Minh"),
    "default_language": (lambda v: v in LANGUAGES, "expected vi or en"),
    "late_window_days": (_at_least(0), "expected a number of days, 0 or more"),
    "webhook_port": (lambda v: 1 <= v <= 65535, "expected a port number from 1 to 65535"),
    "telegram_rate_per_second": (_positive, POSITIVE),
    "telegram_rate_per_chat": (_positive, POSITIVE),
    "telegram_group_per_minute": (_positive, POSITIVE),
    "outbox_lease_seconds": (_positive, POSITIVE),
    "reminder_tick_seconds": (_at_least(0), "expected a number of seconds, 0 or more "
                                            "(0 = no reminders)"),
    "file_link_hours": (_positive, POSITIVE),
    "files_keep_days": (_at_least(0), "expected a number of days, 0 or more (0 = keep "
                                      "exports for ever)"),
    "dedupe_retention_days": (_at_least(2), "expected a number of days, 2 or more (longer "
                                            "than Telegram's 24-hour redelivery)"),
    "zalo_rate_per_second": (_positive, POSITIVE),
    "zalo_rate_per_chat": (_positive, POSITIVE),
    "zalo_monthly_budget": (_at_least(0), "expected a whole number of messages, 0 or more "
                                          "(0 = no budget)"),
    "public_url": (_url, URL),
    "webhook_url": (_url, URL),
    "zalo_webhook_url": (_url, URL),
    "telegram_api_base": (_url, URL),
    "zalo_api_base": (_url, URL),
    "telegram_bot_token": (_token(r"\d+:[A-Za-z0-9_-]+"),
                           "expected the form 123456789:AAE…, as @BotFather gives it"),
    "zalo_bot_token": (_token(r"[^\s:]+:\S+"),
                       "expected the form <bot id>:<secret>, as the Zalo Bot Platform gives it"),
    "webhook_secret": (_token(r"[A-Za-z0-9_-]{1,256}"),
                       "expected 1-256 characters among A-Z, a-z, 0-9, _ and -"),
    "zalo_webhook_secret": (_token(r"\S{8,256}"), "expected 8-256 characters, no spaces"),
    "report_template_dir": (lambda v: not v or Path(v).is_dir(),
                            "expected a folder that exists (the office's .docx templates)"),
    "web_secret": (_token(r"\S{32,256}"),
                   "expected 32-256 characters without spaces (a random string, e.g. from "
                   "`openssl rand -hex 32`)"),
}


def database_url_problem(url: str) -> str | None:
    """What is wrong with a database URL, with the fix spelled out; None when it is usable."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return f"expected a database URL such as {DATABASE_EXAMPLES}"
    backend = parsed.get_backend_name()
    wanted = ASYNC_DRIVERS.get(backend)
    if wanted is None:
        return ("expected SQLite (sqlite+aiosqlite://) or PostgreSQL (postgresql+asyncpg://), "
                f"such as {DATABASE_EXAMPLES}")
    if parsed.drivername != wanted:
        fixed = parsed.set(drivername=wanted).render_as_string(hide_password=True)
        return f"the bot needs an async driver: write {fixed}"
    return None


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
    # Telegram's paid broadcast for reminder blasts (bulk messages only): up to 1,000 messages
    # a second, each beyond the free 30 a second costing 0.1 Telegram Star. Off by default.
    telegram_paid_broadcast: bool = False
    outbox_lease_seconds: float = 30.0
    # Outbox claims carry the instance id; kept in a file (beside a SQLite database, else in
    # the working directory) so a restart takes its own claims back at once.
    instance_id: str = ""
    instance_file: str = ""
    reminder_tick_seconds: float = 60.0
    files_dir: str = "files"
    files_keep_days: float = 30.0  # exports older than this are deleted; 0 keeps them
    public_url: str = ""
    file_link_hours: float = 24.0
    # Signs the web console's session cookies; the console runs only with it and public_url.
    web_secret: SecretStr | None = None
    dedupe_retention_days: float = 7.0  # processed message keys are forgotten after this

    zalo_bot_token: SecretStr | None = Field(
        None, validation_alias=_env("ZALO_BOT_TOKEN", "BAOCAO_ZALO_BOT_TOKEN", "zalo_bot_token"))
    zalo_api_base: str = Field(
        "", validation_alias=_env("ZALO_API_BASE", "BAOCAO_ZALO_API_BASE", "zalo_api_base"))
    zalo_webhook_url: str = ""
    zalo_webhook_secret: SecretStr | None = None
    zalo_rate_per_second: float = 10.0
    zalo_rate_per_chat: float = 1.0
    zalo_monthly_budget: int = 0  # messages a month, both directions; 0 = no budget
    # The consolidated report (.docx): the office's templates, heading and signature block.
    report_template_dir: str = ""
    report_issuer: str = ""       # "UBND XÃ AN LÃO|BAN CHỈ ĐẠO XÂY DỰNG XHHT"
    report_place: str = ""        # "An Lão"
    report_signer: str = ""       # "TM. ỦY BAN NHÂN DÂN|KT. CHỦ TỊCH|PHÓ CHỦ TỊCH"
    report_signer_name: str = ""
    report_recipients: str = ""   # "UBND huyện (qua Phòng GD&ĐT)|Lưu: VT."

    @field_validator("telegram_bot_token", "zalo_bot_token", "webhook_secret",
                     "zalo_webhook_secret", "web_secret", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        """`TELEGRAM_BOT_TOKEN=` (empty, as in a .env template) means not configured."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator(*RULES, mode="after")
    @classmethod
    def _check(cls, value: Any, info: ValidationInfo) -> Any:
        check, expected = RULES[info.field_name or ""]
        if not check(value):
            raise ValueError(expected)
        return value

    @field_validator("database_url", mode="after")
    @classmethod
    def _check_database(cls, value: str) -> str:
        problem = database_url_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    def channels(self) -> list[tuple[str, str]]:
        """The messengers configured, each with how it receives updates."""
        found = []
        if self.telegram_bot_token is not None:
            found.append(("Telegram", f"webhook {self.webhook_url}" if self.webhook_url
                          else "long polling"))
        if self.zalo_bot_token is not None:
            found.append(("Zalo", f"webhook {self.zalo_webhook_url}" if self.zalo_webhook_url
                          else "long polling"))
        return found

    def web_console(self) -> bool:
        """The coordinators' web console runs when it has a public address and a secret."""
        return bool(self.public_url) and self.web_secret is not None

    def safe_database_url(self) -> str:
        return mask_url(self.database_url)


class SettingsError(ValueError):
    """Settings that cannot be used; `lines` holds one line per bad variable."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def load_settings(**values: Any) -> Settings:
    """The settings from the environment (and .env), or SettingsError saying what to fix."""
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise SettingsError(describe(exc)) from None


def describe(error: ValidationError) -> list[str]:
    """One line per bad field: VARIABLE=value: what is expected. Secrets are not shown."""
    lines: dict[str, str] = {}
    for item in error.errors():
        field = _field_of(str(item["loc"][0]) if item["loc"] else "")
        if field in lines:
            continue
        if item["type"] == "value_error":
            expected = str(item.get("ctx", {}).get("error", item["msg"]))
        else:  # not even of the right type ("abc" for a port)
            expected = RULES[field][1] if field in RULES else item["msg"]
            if field == "database_url":
                expected = f"expected a database URL such as {DATABASE_EXAMPLES}"
        lines[field] = f"{env_name(field)}={_shown(field, item.get('input'))}: {expected}"
    return list(lines.values())


def _field_of(name: str) -> str:
    """The field an error is about, whichever alias (TELEGRAM_BOT_TOKEN…) was used."""
    for field, info in Settings.model_fields.items():
        alias = info.validation_alias
        names = alias.choices if isinstance(alias, AliasChoices) else [alias]
        if name.lower() in {field, *(str(n).lower() for n in names if n)}:
            return field
    return name


def _shown(field: str, value: Any) -> str:
    if field in SECRETS:
        return "(hidden)"
    if isinstance(value, SecretStr):
        return "(hidden)"
    return mask_url(str(value)) if field == "database_url" else str(value)
