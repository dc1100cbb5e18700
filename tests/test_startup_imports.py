"""Issue 15: a command imports only the libraries it uses.

`baocao --help` paid for SQLAlchemy, Alembic, pydantic and openpyxl (with numpy) before it
printed a line; the list commands paid for openpyxl; a Zalo-only bot must never load aiogram.
Each check runs a fresh interpreter and reads its `sys.modules`: what was imported, not how long
it took (the timings are in bench/startup.py and bench/memory.py)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .fake_telegram import FakeTelegram
from .fake_zalo import FakeZalo

ROOT = Path(__file__).resolve().parents[1]
# Libraries no list command needs; heavy to import (bench/README.md, Start-up). Alembic only
# when the database is behind the newest migration (here it is at the head after `demo seed`).
NOT_FOR_LISTS = ("aiogram", "openpyxl", "numpy", "matplotlib", "docx", "docxtpl", "jinja2",
                 "segno", "apscheduler", "aiohttp", "alembic")
# Nor does --help need the database or the settings.
NOT_FOR_HELP = (*NOT_FOR_LISTS, "sqlalchemy", "alembic", "pydantic", "pydantic_settings",
                "babel", "yaml")

CLI = """
import json, sys
sys.argv = ["baocao", *sys.argv[1:]]
from bot.cli import main
try:
    main()
except SystemExit as exc:
    code = exc.code or 0
else:
    code = 0
print(json.dumps({"code": code, "modules": sorted(m for m in sys.modules if "." not in m)}),
      file=sys.stderr)
"""


def clean_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("BAOCAO_", "TELEGRAM_", "ZALO_"))}
    env.update(values)
    return env


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> tuple[str, set[str]]:
    """The command's output and the top-level modules its process had imported at exit."""
    done = subprocess.run([sys.executable, "-c", CLI, *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120, check=False)
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["code"] == 0, done.stderr
    return done.stdout, set(report["modules"])


def test_help_and_version_import_no_database_settings_or_messenger_library(tmp_path: Path):
    env = clean_env(PYTHONPATH=str(ROOT), COLUMNS="100")
    out, modules = run_cli(["--help"], env, tmp_path)
    assert "units" in out and "contacts" in out and "run" in out
    assert sorted(modules & set(NOT_FOR_HELP)) == []
    out, modules = run_cli(["--version"], env, tmp_path)
    assert out.startswith("baocao ")
    assert sorted(modules & set(NOT_FOR_HELP)) == []


@pytest.mark.slow
def test_the_list_commands_list_without_excel_charts_or_messenger_libraries(tmp_path: Path):
    env = clean_env(PYTHONPATH=str(ROOT), COLUMNS="200",
                    BAOCAO_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'baocao.db'}")
    seeded, _ = run_cli(["demo", "seed"], env, tmp_path)
    assert "X-ANLAO" in seeded
    # The demo has no contacts: their list shows its header.
    expected = {("units", "list"): "Xã An Lão", ("contacts", "list"): "phone",
                ("campaigns", "list"): "tuan-le-htsd-demo", ("invite", "list"): "X-ANLAO"}
    for command, shown in expected.items():
        out, modules = run_cli(list(command), env, tmp_path)
        assert shown in out, (command, out)
        assert sorted(modules & set(NOT_FOR_LISTS)) == [], command


SERVE = """
import asyncio, json, sys
from bot.runtime import start
from bot.settings import Settings

async def main():
    running = await start(Settings())
    print("READY", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    print(json.dumps(sorted(sys.modules)), flush=True)
    await running.stop()

asyncio.run(main())
"""


async def serve_and_list_modules(env: dict[str, str], cwd: Path, converse) -> set[str]:
    """Starts the bot, lets `converse` talk to it, then reads the modules it has imported
    (submodules too)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SERVE, env=env, cwd=cwd, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert process.stdin is not None and process.stdout is not None
    try:
        line = await asyncio.wait_for(process.stdout.readline(), 60)
        assert line.strip() == b"READY", line
        await converse()
        process.stdin.write(b"report\n")
        await process.stdin.drain()
        modules = json.loads(await asyncio.wait_for(process.stdout.readline(), 30))
        process.stdin.close()
        await asyncio.wait_for(process.wait(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0
    return set(modules)


@pytest.mark.slow
async def test_a_zalo_only_bot_answers_without_ever_importing_aiogram(tmp_path: Path):
    async with FakeZalo() as zl:
        env = clean_env(PYTHONPATH=str(ROOT), ZALO_BOT_TOKEN=zl.token, ZALO_API_BASE=zl.base_url,
                        BAOCAO_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'baocao.db'}")

        async def converse() -> None:
            thu = zl.user("5a5a5a5a5a5a5a5a5a5a", "Nguyễn Thị Thu")
            await thu.send("xin chào")
            await thu.wait_for("mã mời", timeout=30)

        modules = await serve_and_list_modules(env, tmp_path, converse)
    assert "aiohttp" in modules  # the Zalo channel's HTTP client
    assert "aiogram" not in modules


@pytest.mark.slow
async def test_with_a_telegram_token_the_bot_loads_aiogram_and_answers(tmp_path: Path):
    """The other side of the check above: the Telegram channel does import aiogram."""
    async with FakeTelegram() as tg:
        env = clean_env(PYTHONPATH=str(ROOT), TELEGRAM_BOT_TOKEN=tg.token,
                        TELEGRAM_API_BASE=tg.base_url,
                        BAOCAO_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'baocao.db'}")

        async def converse() -> None:
            user = tg.user(4242, "Thu")
            await user.send("xin chào")
            await user.wait_for("mã mời", timeout=30)

        modules = await serve_and_list_modules(env, tmp_path, converse)
    assert "aiogram" in modules
    # Issue 23 (6): nothing of Zalo's is loaded before a Telegram-only bot's first reply.
    assert sorted(m for m in modules if m.startswith("bot.channels.zalo")) == []
