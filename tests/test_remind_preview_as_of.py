"""Issue 24, 10: `baocao remind preview --at T` shows what would have gone out at T, from the
data as of T: a report submitted after T is not counted (its unit is reminded and listed as
not submitted), and lateness is judged at T. The output says so."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.app import build_app
from bot.cli import app as cli
from bot.settings import Settings

from .conftest import VN, Clock, seed_reference_data
from .filing import COMMUNE, file_report, sign_in

pytestmark = pytest.mark.slow


def test_preview_at_a_time_uses_the_reports_as_they_were_then(
        db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    clock = Clock(datetime(2023, 10, 5, 9, 0, tzinfo=VN))

    async def history() -> None:
        bot = await build_app(Settings(database_url=db_url, files_dir=str(tmp_path / "f")),
                              clock=clock)
        try:
            await seed_reference_data(bot, tmp_path)
            await sign_in(bot, "HP", role="coordinator")
            await file_report(bot, "X-ANLAO", COMMUNE)  # 05/10: on time
            clock.set("2023-10-14 09:00")  # after "before 13/10/2023": late
            await file_report(bot, "X-ANTHANG", COMMUNE)
        finally:
            await bot.close()

    asyncio.run(history())
    monkeypatch.setenv("BAOCAO_DATABASE_URL", db_url)
    printed = CliRunner().invoke(cli, ["remind", "preview", "--campaign", "tuan-le-htsd-2023",
                                       "--at", "2023-10-12 08:00"],
                                 catch_exceptions=False).output
    assert "08:00 12/10/2023" in printed.splitlines()[0], printed  # the output says as of when
    digest = printed[printed.index("── digest"):]
    assert "đúng hạn 1, muộn 0" in digest, digest  # X-ANTHANG had not submitted at T
    assert "Xã An Thắng (" in digest  # listed among those that have not submitted
    assert "── before → reporter-X-ANTHANG" in printed  # and its reporter reminded
    assert "── before → reporter-X-ANLAO" not in printed

    later = CliRunner().invoke(cli, ["remind", "preview", "--campaign", "tuan-le-htsd-2023",
                                     "--at", "2023-10-14 12:00"],
                               catch_exceptions=False).output
    assert "reporter-X-ANTHANG" not in later  # submitted by then
