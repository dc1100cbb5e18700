"""`baocao run` as an office deploys it: a real process, its environment, its exit code.

The bot runs in a subprocess started exactly as a user (or systemd) would, with no terminal;
the fake Zalo server runs in the test's event loop."""

from __future__ import annotations

import asyncio
import os
import pty
import select
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import build_app
from bot.settings import Settings

from .fake_zalo import FakeZalo
from .test_report_conversation import COMMUNE_FORM, stored_report, typed_answer

pytestmark = pytest.mark.slow


def baocao_command() -> list[str]:
    """The installed console script, as a user runs it."""
    script = Path(sys.executable).with_name("baocao")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


def clean_env(workdir: Path, **values: str) -> dict[str, str]:
    """The machine's environment without any messenger token or baocao setting, plus values."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("BAOCAO_", "TELEGRAM_", "ZALO_"))}
    env.update(values)
    env["HOME"] = str(workdir)
    return env


async def run_baocao(args: list[str], env: dict[str, str], cwd: Path,
                     timeout: float = 60) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *baocao_command(), *args, env=env, cwd=cwd, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    return process.returncode or 0, out.decode(), err.decode()


@pytest.fixture
async def zl() -> AsyncIterator[FakeZalo]:
    async with FakeZalo() as fake:
        yield fake
        assert fake.spec_errors == [], "the bot sent requests the Zalo Bot API refuses"


def invite_of(seed_output: str, unit: str, role: str = "reporter") -> str:
    for line in seed_output.splitlines():
        words = line.split()
        if len(words) > 2 and words[1] == unit and role in words:
            return words[0]
    raise AssertionError(f"no {role} invite for {unit} in:\n{seed_output}")


async def test_a_zalo_only_bot_runs_from_the_command_line_and_takes_a_report(
        zl: FakeZalo, db_url: str, tmp_path: Path):
    """Defect 1: with only ZALO_BOT_TOKEN set and no terminal, `baocao run` served the local
    chat (and, its input closed, exited 0 at once) instead of Zalo."""
    env = clean_env(tmp_path, BAOCAO_DATABASE_URL=db_url, ZALO_BOT_TOKEN=zl.token,
                    ZALO_API_BASE=zl.base_url)
    code, seeded, err = await run_baocao(["demo", "seed"], env, tmp_path)
    assert code == 0, err
    invite_code = invite_of(seeded, "X-ANLAO")

    process = await asyncio.create_subprocess_exec(
        *baocao_command(), "run", env=env, cwd=tmp_path, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        thu = zl.user("5a5a5a5a5a5a5a5a5a5a", "Nguyễn Thị Thu")
        await thu.send("xin chào")
        await thu.wait_for("mã mời", timeout=30)
        await thu.send(invite_code)
        await thu.wait_for("Chào mừng anh/chị")
        await thu.send("/baocao")
        await thu.wait_for("Mục 1 · câu 1/40")
        expected = {}
        for n, q in enumerate(COMMUNE_FORM.questions, start=1):
            await thu.wait_for(f"{q.id}. {q.label.vi}", fresh=False)
            typed, expected[q.id] = typed_answer(q, n)
            await thu.send("1" if q.type == "yes_no" else typed)
        await thu.wait_for("Xem lại báo cáo")
        await thu.send("nộp")
        await thu.wait_for("đúng hạn")
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)  # how systemd and docker stop a service
        out, err = await asyncio.wait_for(process.communicate(), 30)
    log = out.decode() + err.decode()
    assert process.returncode == 0, log
    assert "Traceback" not in log
    assert "local chat" not in log
    assert "starting on Zalo (long polling); database" in log  # and on nothing else
    assert "Ready: running on Zalo (long polling);" in log
    assert "getMe" in {r.method for r in zl.requests}

    app = await build_app(Settings(database_url=db_url), migrate=False)
    try:
        report = await stored_report(app, "X-ANLAO", campaign="tuan-le-htsd-demo")
    finally:
        await app.close()
    assert report is not None and report.status == "submitted" and report.on_time
    assert report.answers == expected


async def test_without_any_channel_and_without_a_terminal_run_says_what_to_set(
        db_url: str, tmp_path: Path):
    code, out, err = await run_baocao(["run"], clean_env(tmp_path, BAOCAO_DATABASE_URL=db_url),
                                      tmp_path)
    assert code == 2
    assert "TELEGRAM_BOT_TOKEN" in err and "ZALO_BOT_TOKEN" in err
    assert "Traceback" not in out + err


async def test_the_startup_log_names_channels_modes_and_the_database_without_its_password(
        zl: FakeZalo, tmp_path: Path):
    url = "postgresql+asyncpg://baocao:s3cr3t-pw@127.0.0.1:1/baocao"
    env = clean_env(tmp_path, BAOCAO_DATABASE_URL=url, ZALO_BOT_TOKEN=zl.token,
                    ZALO_API_BASE=zl.base_url,
                    BAOCAO_ZALO_WEBHOOK_URL="https://bot.example.org/zalo/hook")
    code, out, err = await run_baocao(["run"], env, tmp_path)
    log = out + err
    assert "starting on Zalo (webhook https://bot.example.org/zalo/hook); database" in log
    assert "Ready" not in log
    assert "postgresql+asyncpg://baocao:***@127.0.0.1:1/baocao" in log
    assert "s3cr3t-pw" not in log and zl.token not in log
    # Nothing listens on port 1: one clear line and a non-zero exit, no traceback.
    assert code == 1 and "Traceback" not in log
    assert "Cannot open the database" in err


async def test_postgresql_without_its_driver_is_one_line(tmp_path: Path):
    """The README's install has no asyncpg (it is the `[postgres]` extra): a PostgreSQL URL
    then gets one line naming the driver and the extra, no traceback. The driver is hidden
    from the child by a stand-in package that fails to import as a missing one does."""
    stand_in = tmp_path / "no-driver" / "asyncpg"
    stand_in.mkdir(parents=True)
    (stand_in / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'asyncpg'\", name='asyncpg')\n")
    url = "postgresql+asyncpg://baocao:s3cr3t-pw@127.0.0.1:1/baocao"
    env = clean_env(tmp_path, BAOCAO_DATABASE_URL=url, PYTHONPATH=str(stand_in.parent))
    code, out, err = await run_baocao(["status"], env, tmp_path)
    assert code == 1, out + err
    assert "Traceback" not in out + err and "s3cr3t-pw" not in out + err
    assert err.strip().splitlines()[-1] == (
        "Cannot open the database postgresql+asyncpg://baocao:***@127.0.0.1:1/baocao: "
        "its driver asyncpg is not installed (pip install -e '.[postgres]')")


async def test_a_refused_token_stops_the_start_with_one_line(zl: FakeZalo, db_url: str,
                                                             tmp_path: Path):
    env = clean_env(tmp_path, BAOCAO_DATABASE_URL=db_url, ZALO_BOT_TOKEN="999:not-this-bot",
                    ZALO_API_BASE=zl.base_url)
    code, out, err = await run_baocao(["run"], env, tmp_path)
    assert code == 1, out + err
    assert "Traceback" not in out + err
    assert err.strip().splitlines()[-1] == "Zalo refused ZALO_BOT_TOKEN (401: Unauthorized)"
    assert "not-this-bot" not in out + err


def test_without_any_channel_on_a_terminal_run_is_the_local_chat(db_url: str, tmp_path: Path):
    """On a terminal (an admin trying the bot), no token means the local chat."""
    primary, secondary = pty.openpty()
    process = subprocess.Popen([*baocao_command(), "run"], stdin=secondary, stdout=secondary,
                               stderr=secondary, cwd=tmp_path,
                               env=clean_env(tmp_path, BAOCAO_DATABASE_URL=db_url))
    os.close(secondary)
    seen = b""
    deadline = time.monotonic() + 60
    sent = False
    try:
        while time.monotonic() < deadline and process.poll() is None:
            ready, _, _ = select.select([primary], [], [], 0.5)
            if ready:
                try:
                    seen += os.read(primary, 4096)
                except OSError:
                    break
            if not sent and b"> " in seen:
                os.write(primary, b"/trogiup\n")
                sent = True
            if sent and "mã mời".encode() in seen:
                os.write(primary, b"\x04")  # Ctrl-D ends the chat
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(primary)
    text = seen.decode(errors="replace")
    assert "local chat" in text and "mã mời" in text, text
    assert process.returncode == 0
