"""The files as a coordinator gets them from the bot: the heading of their own unit, the units
not submitted with their reporters (from the database, in one query), one commune's chart on
request and never another unit's, the CSV for Excel with Vietnamese settings."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import pytest
from docx import Document
from typer.testing import CliRunner

from bot import admin
from bot.app import App
from bot.coordinators import reporting
from bot.exports.letterhead import ReportSettings

from .filing import COMMUNE, document_path, file_report, sign_in

pytestmark = pytest.mark.slow


async def _reporters(app: App, tmp_path: Path) -> None:
    path = tmp_path / "nguoi-dung.csv"
    path.write_text("name,phone,unit_code,role\n"
                    "Lê Thị Thu,0912000111,X-ANTHANG,reporter\n"
                    "Phạm Văn Đông,0912000222,X-ANTHANG,reporter\n"
                    "Vũ Minh Hà,0912000333,X-ANLAO,reporter\n", encoding="utf-8")
    async with app.sessions() as session, session.begin():
        await admin.import_contacts(session, path, app.clock())


async def test_export_data_carries_reporters_of_units_not_submitted_and_the_letterhead(
        app: App, tmp_path: Path) -> None:
    await _reporters(app, tmp_path)
    await file_report(app, "X-ANLAO", COMMUNE, {"8.3": 2_000_000})
    async with app.sessions() as session:
        period, campaign = await reporting.find_period(session, "tuan-le-htsd-2023", None,
                                                       app.clock())
        scope = await reporting.scope_for_code(session, "HP")
        data = await reporting.export_data(
            session, period, campaign, scope, app.dispatcher.forms, app.clock(),
            ReportSettings(signer_name="Nguyễn Mạnh Thắng"))
    units = {u.code: u for u in data.units}
    assert units["X-ANTHANG"].reporters == (("Lê Thị Thu", "+84912000111"),
                                            ("Phạm Văn Đông", "+84912000222"))
    assert units["X-ANLAO"].reporters == ()  # submitted: nobody to call
    assert (data.letterhead.issuer_above, data.letterhead.issuer) == (
        "ỦY BAN NHÂN DÂN", "THÀNH PHỐ HẢI PHÒNG")
    assert data.letterhead.signer_name == "Nguyễn Mạnh Thắng"
    assert data.report_template.endswith("tuan-le-htsd.docx")
    assert data.source_document == ("Kế hoạch tổ chức Tuần lễ hưởng ứng học tập suốt đời năm "
                                    "2023 của UBND huyện An Lão")


async def test_the_coordinator_s_docx_has_their_heading_and_whom_to_call(
        app: App, tmp_path: Path) -> None:
    await _reporters(app, tmp_path)
    await file_report(app, "X-ANLAO", COMMUNE, {"8.3": 2_000_000})
    boss = await sign_in(app, "HP", role="coordinator")
    document = Document(str(document_path(await boss.say("/xuat docx"))))
    heading = [p.text for p in document.tables[0].rows[0].cells[0].paragraphs if p.text]
    assert heading == ["ỦY BAN NHÂN DÂN", "THÀNH PHỐ HẢI PHÒNG"]
    assert document.tables[0].rows[1].cells[1].text.startswith("Hải Phòng, ngày 05 tháng 10")
    texts = [p.text for p in document.paragraphs]
    assert ("(Thực hiện Kế hoạch tổ chức Tuần lễ hưởng ứng học tập suốt đời năm 2023 của UBND "
            "huyện An Lão)") in texts
    missing = [[c.text for c in r.cells] for t in document.tables for r in t.rows
               if r.cells[0].text.isdigit()]
    anthang = next(r for r in missing if r[1] == "Xã An Thắng")
    assert anthang[3] == "Lê Thị Thu\nPhạm Văn Đông"
    # written as offices write them, each kept on one line
    assert anthang[4] == "0912\u00a0000\u00a0111\n0912\u00a0000\u00a0222"
    assert not any(r[1] == "Xã An Lão" for r in missing)


async def test_chart_of_one_commune_on_request_and_never_outside_the_scope(
        app: App) -> None:
    await file_report(app, "X-ANLAO", COMMUNE)
    boss = await sign_in(app, "HP", role="coordinator")
    reply = await boss.say("/bieudo X-ANLAO")
    assert document_path(reply).suffix == ".png"
    assert "xa-an-lao-tien-do.png" in reply  # the commune's own chart
    assert "không thuộc" in (await boss.say("/bieudo KHONG-CO")).lower() or \
        "không nằm" in (await boss.say("/bieudo KHONG-CO")).lower()
    commune = await sign_in(app, "X-ANLAO", role="coordinator", user="commune-boss")
    refused = await commune.say("/bieudo HP")
    assert ".png" not in refused and "HP" in refused


def test_cli_csv_for_excel_with_vietnamese_settings(db_url: str, tmp_path: Path,
                                                    app: App) -> None:
    from bot.cli import app as cli_app

    asyncio.get_event_loop_policy()  # the app fixture has seeded the database
    out = tmp_path / "bao-cao.csv"
    result = CliRunner().invoke(cli_app, ["export", "--campaign", "tuan-le-htsd-2023",
                                          "--format", "csv", "--dialect", "excel-vi",
                                          "--out", str(out)],
                                env={"BAOCAO_DATABASE_URL": db_url}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig")), delimiter=";"))
    assert rows[0][:2] == ["Tuyến báo cáo", "Mã đơn vị"] and len(rows) > 1
    bad = CliRunner().invoke(cli_app, ["export", "--campaign", "tuan-le-htsd-2023", "--format",
                                       "csv", "--dialect", "chấm phẩy", "--out", str(out)],
                             env={"BAOCAO_DATABASE_URL": db_url})
    assert bad.exit_code == 1 and "comma, excel-vi" in bad.output
