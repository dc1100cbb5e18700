"""Unit codes are letters, digits, "-" and "." only: a code is part of the materialised tree
path ("/HP/X-ANLAO/"), so a "/" or a LIKE wildcard in it would put the unit inside another
unit's subtree, where that unit's coordinator would see it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot import admin
from bot.app import App
from bot.spreadsheets.tables import TableError
from bot.storage.models import Unit


async def test_codes_that_would_break_the_tree_are_refused_with_their_lines(app: App,
                                                                           tmp_path: Path):
    units = tmp_path / "units.csv"
    units.write_text(
        "code,name,kind,parent_code\n"
        "X-AN,Xã An,commune,HP\n"
        "X-AN/LAO,Xã An Lão mới,commune,HP\n"
        "TH AN,Trường Tiểu học An,school,X-AN\n"
        "MN_%,Trường Mầm non,school,X-AN\n"
        "THCS-ĐỒNG,Trường THCS Đồng,school,X-AN\n"
        "TT.AN-1,Thị trấn An 1,town,HP\n",
        encoding="utf-8")
    with pytest.raises(TableError) as refused:
        async with app.sessions() as session, session.begin():
            await admin.import_units(session, units)
    errors = "\n".join(refused.value.errors)
    for line, code in ((3, "X-AN/LAO"), (4, "TH AN"), (5, "MN_%"), (6, "THCS-ĐỒNG")):
        assert f"line {line}:" in errors and code in errors, errors
    assert "line 2:" not in errors and "line 7:" not in errors  # X-AN and TT.AN-1 are fine
    assert "letters, digits" in errors
    async with app.sessions() as session:
        assert await session.scalar(select(Unit).where(Unit.code == "X-AN")) is None
