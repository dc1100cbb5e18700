"""Campaigns at the command line: picked by id or key, unknown ones refused with the list of
known ones; a recurring campaign names each occurrence for itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from docx import Document
from typer.testing import CliRunner

from bot.cli import app

runner = CliRunner()

YEARLY = """\
id: xhht-hang-nam
title:
  vi: "Báo cáo phong trào xây dựng xã hội học tập năm {year}"
  en: "Learning society report {year}"
recurrence: {every: year, count: 4}
forms:
  - form: tuan-le-htsd
    kinds: [commune]
periods:
  - key: "2025"
    label: {vi: "Năm 2025", en: "Year 2025"}
    start: 2025-01-01
    end: 2025-12-31
    due_before: 2025-11-15
"""

LITERAL = YEARLY.replace("id: xhht-hang-nam", "id: xhht-chu").replace(
    "năm {year}", "năm 2025").replace("report {year}", "report 2025")


@pytest.fixture
def env(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("BAOCAO_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    from conversations.forms import FORMS_DIR

    (tmp_path / "units.csv").write_text("code,name,kind,parent_code\nHP,Hải Phòng,province,\n"
                                        "X1,Xã Một,commune,HP\n", encoding="utf-8")
    assert baocao("units", "import", "units.csv").exit_code == 0
    assert baocao("forms", "load", str(FORMS_DIR / "tuan-le-htsd.yaml")).exit_code == 0
    (tmp_path / "yearly.yaml").write_text(YEARLY, encoding="utf-8")
    (tmp_path / "literal.yaml").write_text(LITERAL, encoding="utf-8")
    assert baocao("campaigns", "load", "yearly.yaml").exit_code == 0
    assert baocao("campaigns", "load", "literal.yaml").exit_code == 0
    return tmp_path


def baocao(*args: str):  # noqa: ANN201
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_each_occurrence_has_its_own_label_and_title(env: Path):
    listing = baocao("campaigns", "list").output
    assert "Năm 2027" in listing and "(2027)" not in listing
    for key in ("xhht-hang-nam", "xhht-chu"):
        printed = baocao("summary", "--campaign", key, "--period", "2027").output
        assert "Năm 2027" in printed and "Năm 2025" not in printed, printed
        assert "năm 2027" in printed and "năm 2025" not in printed, printed
    result = baocao("export", "--campaign", "xhht-hang-nam", "--period", "2026", "--format",
                    "docx", "--out", "bao-cao.docx")
    assert result.exit_code == 0, result.output
    text = "\n".join(p.text for p in Document("bao-cao.docx").paragraphs)
    assert "Năm 2026" in text and "Năm 2025" not in text and "(2026)" not in text
    assert "NĂM 2026" in text.upper() and "NĂM 2025" not in text.upper()


def _id_of(key: str) -> str:
    for line in baocao("campaigns", "list").output.splitlines():
        cells = line.split()
        if key in cells:
            return cells[0]
    raise AssertionError(f"{key} not listed")


def test_every_campaign_option_takes_the_id_or_the_key(env: Path):
    ident = _id_of("xhht-hang-nam")
    assert ident.isdigit()
    by_id = baocao("summary", "--campaign", ident, "--period", "2026")
    by_key = baocao("summary", "--campaign", "xhht-hang-nam", "--period", "2026")
    assert by_id.exit_code == 0 and by_id.output == by_key.output
    assert baocao("remind", "preview", "--campaign", ident, "--at",
                  "2026-11-14 08:00").exit_code == 0
    assert baocao("export", "--campaign", ident, "--period", "2026", "--format", "csv",
                  "--out", "x.csv").exit_code == 0


@pytest.mark.parametrize("command", [
    ("summary",), ("remind", "preview"), ("remind", "now"),
    ("export", "--format", "csv", "--out", "x.csv"),
])
def test_an_unknown_campaign_is_an_error_that_lists_the_known_ones(env: Path, command):
    for wrong in ("nope", "999"):
        result = baocao(*command, "--campaign", wrong)
        assert result.exit_code == 1, result.output
        assert f"no campaign {wrong}" in result.output.lower()
        assert "xhht-hang-nam" in result.output and "xhht-chu" in result.output


def test_load_and_extend_at_the_command_line_go_through_the_office_functions_and_history(
        env: Path, db_url: str):
    """`campaigns load` and `campaigns extend` are the console's functions: each change is in
    the history (who: CLI), an earlier deadline is refused, a wrong date is named."""
    import asyncio

    from sqlalchemy import select

    from bot.storage.database import create_engine
    from bot.storage.models import ChangeRecord, Period

    bad = baocao("campaigns", "extend", "--campaign", "xhht-chu", "--due-before", "31/02/2025")
    assert bad.exit_code == 1 and "DD/MM/YYYY" in bad.output
    earlier = baocao("campaigns", "extend", "--campaign", "xhht-chu", "--period", "2025",
                     "--due-before", "01/11/2025")
    assert earlier.exit_code == 1 and "later than the current one" in earlier.output
    done = baocao("campaigns", "extend", "--campaign", "xhht-chu", "--period", "2025",
                  "--due-before", "30/11/2025")
    assert done.exit_code == 0, done.output
    assert "0 reporter(s)" in done.output  # nobody has signed in in this test

    async def rows() -> tuple[list[tuple[str, str, str]], Period | None]:
        from sqlalchemy.ext.asyncio import async_sessionmaker

        engine = create_engine(db_url)
        try:
            async with async_sessionmaker(engine)() as session:
                changes = [(r.actor, r.action, r.subject) for r in (await session.scalars(
                    select(ChangeRecord).order_by(ChangeRecord.id))).all()]
                period = await session.scalar(select(Period).where(Period.key == "2025")
                                              .order_by(Period.id.desc()))
                return changes, period
        finally:
            await engine.dispose()

    changes, period = asyncio.run(rows())
    assert ("CLI", "campaign.publish", "xhht-hang-nam") in changes
    assert ("CLI", "campaign.publish", "xhht-chu") in changes
    assert changes[-1] == ("CLI", "campaign.extend", "xhht-chu 2025")
    assert period is not None and period.deadline.isoformat().startswith("2025-11-29T17:00")
