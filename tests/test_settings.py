"""Settings are checked at start: a bad value is one line naming the variable, the value and
the form expected, exit code 2, and no traceback; `--version` and `status` say what runs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app

from .test_run_command import baocao_command, clean_env

runner = CliRunner()


@pytest.fixture
def env(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in ("TELEGRAM_BOT_TOKEN", "ZALO_BOT_TOKEN", "TELEGRAM_API_BASE", "ZALO_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BAOCAO_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def refused(*args: str) -> list[str]:
    """Run a command that must be refused for its settings; its error lines."""
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return [line for line in result.stderr.splitlines() if line.strip()]


BAD = [
    ("BAOCAO_WEBHOOK_PORT", "abc", "BAOCAO_WEBHOOK_PORT=abc: expected a port number from 1 "
                                   "to 65535"),
    ("BAOCAO_WEBHOOK_PORT", "70000", "BAOCAO_WEBHOOK_PORT=70000: expected a port number"),
    ("BAOCAO_DATABASE_URL", "garbage", "BAOCAO_DATABASE_URL=garbage: expected a database URL "
                                       "such as sqlite+aiosqlite:///baocao.db"),
    ("BAOCAO_DATABASE_URL", "sqlite:///x.db", "BAOCAO_DATABASE_URL=sqlite:///x.db: the bot "
                                              "needs an async driver: write "
                                              "sqlite+aiosqlite:///x.db"),
    ("BAOCAO_DATABASE_URL", "postgresql://u:pw@db.local/baocao",
     "BAOCAO_DATABASE_URL=postgresql://u:***@db.local/baocao: the bot needs an async driver: "
     "write postgresql+asyncpg://u:***@db.local/baocao"),
    ("BAOCAO_DATABASE_URL", "mysql+aiomysql://u@h/db", "expected SQLite (sqlite+aiosqlite://) "
                                                       "or PostgreSQL (postgresql+asyncpg://)"),
    ("BAOCAO_TIMEZONE", "Mars/Base", "BAOCAO_TIMEZONE=Mars/Base: expected a time zone of the "
                                     "tz database, such as Asia/Ho_Chi_Minh"),
    ("BAOCAO_DEFAULT_LANGUAGE", "fr", "BAOCAO_DEFAULT_LANGUAGE=fr: expected vi or en"),
    ("BAOCAO_TELEGRAM_RATE_PER_SECOND", "-5", "BAOCAO_TELEGRAM_RATE_PER_SECOND=-5: expected "
                                              "a number greater than 0"),
    ("BAOCAO_ZALO_RATE_PER_CHAT", "0", "BAOCAO_ZALO_RATE_PER_CHAT=0: expected a number "
                                       "greater than 0"),
    ("BAOCAO_FILE_LINK_HOURS", "soon", "BAOCAO_FILE_LINK_HOURS=soon: expected a number "
                                       "greater than 0"),
    ("BAOCAO_REMINDER_TICK_SECONDS", "-1", "BAOCAO_REMINDER_TICK_SECONDS=-1: expected a "
                                           "number of seconds, 0 or more"),
    ("BAOCAO_PUBLIC_URL", "bot.example.org", "BAOCAO_PUBLIC_URL=bot.example.org: expected an "
                                             "http:// or https:// URL"),
    ("BAOCAO_DEDUPE_RETENTION_DAYS", "0.5", "BAOCAO_DEDUPE_RETENTION_DAYS=0.5: expected a "
                                            "number of days, 2 or more"),
]


@pytest.mark.parametrize(("name", "value", "line"), BAD, ids=[f"{n}={v}" for n, v, _ in BAD])
def test_a_bad_setting_is_one_clear_line_and_exit_code_2(env: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         name: str, value: str, line: str):
    monkeypatch.setenv(name, value)
    for command in (["run"], ["units", "list"], ["status"]):
        lines = refused(*command)
        assert len(lines) == 1, lines
        assert line in lines[0]


def test_every_bad_setting_is_listed_and_secrets_are_not_shown(env: Path,
                                                               monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("BAOCAO_TIMEZONE", "Mars/Base")
    monkeypatch.setenv("BAOCAO_DEFAULT_LANGUAGE", "fr")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "not-a-token-but-secret")
    monkeypatch.setenv("ZALO_BOT_TOKEN", "also secret")
    lines = refused("run")
    assert len(lines) == 4, lines
    assert any(line.startswith("BAOCAO_TIMEZONE=Mars/Base") for line in lines)
    assert any(line.startswith("BAOCAO_DEFAULT_LANGUAGE=fr") for line in lines)
    telegram = next(line for line in lines if line.startswith("TELEGRAM_BOT_TOKEN"))
    assert "123456789:" in telegram and "@BotFather" in telegram
    zalo = next(line for line in lines if line.startswith("ZALO_BOT_TOKEN"))
    assert "<bot id>:<secret>" in zalo
    assert not any("secret" in line.split(":")[0] for line in lines)
    assert "not-a-token-but-secret" not in "\n".join(lines)
    assert "also secret" not in "\n".join(lines)


def test_a_bad_value_in_the_env_file_is_named_the_same_way(env: Path):
    (env / ".env").write_text("BAOCAO_WEBHOOK_PORT=eighty\n", encoding="utf-8")
    lines = refused("status")
    assert lines == ["BAOCAO_WEBHOOK_PORT=eighty: expected a port number from 1 to 65535"]


def test_the_real_process_prints_one_line_and_no_traceback(db_url: str, tmp_path: Path):
    """Defect 2: `BAOCAO_WEBHOOK_PORT=abc baocao run` printed a traceback of 100-150 lines."""
    env = clean_env(tmp_path, BAOCAO_DATABASE_URL=db_url, BAOCAO_WEBHOOK_PORT="abc")
    done = subprocess.run([*baocao_command(), "run"], env=env, cwd=tmp_path,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "BAOCAO_WEBHOOK_PORT=abc: expected a port number from 1 to 65535"]


def test_version(env: Path):
    from bot import __version__

    result = runner.invoke(app, ["--version"], catch_exceptions=False)
    assert result.exit_code == 0
    assert result.output.strip() == f"baocao {__version__}"


def test_status_says_what_is_configured_and_counts_what_is_there(
        env: Path, monkeypatch: pytest.MonkeyPatch, db_url: str):
    result = runner.invoke(app, ["status"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Telegram: not configured" in result.output
    assert "Zalo: not configured" in result.output
    assert "Units: 0" in result.output
    assert runner.invoke(app, ["demo", "seed"], catch_exceptions=False).exit_code == 0
    monkeypatch.setenv("ZALO_BOT_TOKEN", "1234567890:zalo-secret-value")
    monkeypatch.setenv("BAOCAO_ZALO_WEBHOOK_URL", "https://bot.example.org/zalo")
    result = runner.invoke(app, ["status"], catch_exceptions=False)
    out = result.output
    assert result.exit_code == 0, out
    assert "Zalo: webhook https://bot.example.org/zalo" in out
    assert "zalo-secret-value" not in out
    assert "Telegram: not configured" in out
    assert "Units: 11" in out and "Contacts: 0" in out
    assert "Open periods: 1" in out  # the demo Week, open today
    assert "Undelivered messages: 0" in out
    assert "Database: " in out and "Time zone: Asia/Ho_Chi_Minh" in out
