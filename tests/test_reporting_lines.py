"""Reporting lines: a commune's report covers its whole area, schools included, so a
coordinator's totals add up the reports that come to their level, each unit once, and show the
reports from further down as their own block, never added in. Counts add up to the total."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook
from typer.testing import CliRunner

from bot import admin
from bot.app import App
from bot.coordinators import reporting

from .conftest import Person
from .filing import COMMUNE, SCHOOL, document_path, file_report, sign_in, typed_values

pytestmark = pytest.mark.slow


def block(text: str, title: str) -> str:
    """The part of a summary from a block's title to the next blank line."""
    start = text.index(title)
    end = text.find("\n\n", start)
    return text[start:] if end < 0 else text[start:end]


def cli(db_url: str, *args: str) -> str:
    from bot.cli import app as cli_app

    result = CliRunner().invoke(cli_app, list(args), env={"BAOCAO_DATABASE_URL": db_url},
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


async def test_a_commune_and_its_own_school_are_never_added_together(app: App, db_url: str):
    await file_report(app, "X-ANLAO", COMMUNE, {"4.2": 250})
    await file_report(app, "TH-ANLAO", SCHOOL, {"4.2": 37})
    boss = await sign_in(app, "HP", role="coordinator")

    summary = await boss.say("/tonghop")
    assert "287" not in summary
    communes = block(summary, "Các xã, phường")
    schools = block(summary, "Các trường")
    assert "4.2 Số người tham gia hội thảo, tọa đàm: 250 người" in communes
    assert "4.2 Số người tham gia hội thảo, tọa đàm: 37 người" in schools
    assert "không cộng" in schools  # said plainly: the schools' block is not added in

    printed = await asyncio.to_thread(cli, db_url, "summary", "--campaign", "tuan-le-htsd-2023")
    assert "287" not in printed
    assert re.search(r"4\.2 .*│ 250 ", printed) or re.search(r"4\.2\s.*\s250\s", printed)
    assert "Các trường" in printed and re.search(r"4\.2\s.*\s37\s", printed)

    # the values stored beside the totals' SUBTOTAL formulas, as a program reads them
    book = load_workbook(document_path(await boss.say("/xuat")), data_only=True)
    values = [c.value for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    assert 287 not in values and "287" not in values
    main = book["Báo cáo"]
    header = [c.value for c in next(main.iter_rows(min_row=1, max_row=10))
              if c.value is not None]
    assert header  # the table is there
    assert _totals(main)[_column(main, "4.2")].value == 250
    schools_sheet = [s for s in book.worksheets if s.title.startswith("Trường")][0]
    assert _totals(schools_sheet)[_column(schools_sheet, "4.2")].value == 37

    rows = list(csv.DictReader(io.StringIO(
        document_path(await boss.say("/xuat csv")).read_text(encoding="utf-8-sig"))))
    line = [h for h in rows[0] if h.startswith("Tuyến báo cáo")][0]
    header_42 = [h for h in rows[0] if h.startswith("4.2.")][0]
    by_line: dict[str, int] = {}
    for row in rows:
        if row[header_42]:
            by_line[row[line]] = by_line.get(row[line], 0) + int(row[header_42])
    assert sorted(by_line.values()) == [37, 250]

    document = Document(str(document_path(await boss.say("/xuat docx"))))
    cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
    assert not any("287" in c for c in cells)
    assert any(c.strip() in ("250 người", "250") for c in cells)
    text = "\n".join(p.text for p in document.paragraphs)
    assert "số liệu của các trường" in text.lower()  # their own annex


def _totals(sheet):  # noqa: ANN001, ANN202
    rows = [row for row in sheet.iter_rows()
            if any(isinstance(c.value, str) and c.value.startswith("Tổng cộng") for c in row)]
    assert len(rows) == 1, sheet.title
    return rows[0]


def _column(sheet, qid: str) -> int:  # noqa: ANN001
    for row in sheet.iter_rows(max_row=12):
        for i, cell in enumerate(row):
            if isinstance(cell.value, str) and cell.value.split(" ")[0].rstrip(".") == qid:
                return i
    raise AssertionError(f"no column {qid} in {sheet.title}")


async def _province_tree(app: App, tmp_path: Path) -> None:
    lines = ["code,name,kind,parent_code", "QN,Tỉnh Quảng Ninh,province,"]
    for c in (1, 2, 3):
        lines.append(f"QN-X{c},Xã Số {c},commune,QN")
        for s in (1, 2, 3):
            lines.append(f"QN-X{c}-T{s},Trường Tiểu học số {s} xã {c},school,QN-X{c}")
    path = tmp_path / "qn.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    async with app.sessions() as session, session.begin():
        await admin.import_units(session, path)


async def test_a_province_totals_its_communes_and_shows_the_schools_apart(
        app: App, tmp_path: Path):
    await _province_tree(app, tmp_path)
    commune_42 = {1: 300, 2: 410, 3: 125}
    school_42 = {}
    for c in (1, 2, 3):
        await file_report(app, f"QN-X{c}", COMMUNE, {"4.2": commune_42[c], "8.3": c * 1_000_000})
        for s in (1, 2, 3):
            school_42[(c, s)] = 10 * c + s
            await file_report(app, f"QN-X{c}-T{s}", SCHOOL,
                              {"4.2": school_42[(c, s)], "8.3": 100_000})
    boss = await sign_in(app, "QN", role="coordinator")
    summary = await boss.say("/tonghop")
    communes = block(summary, "Các xã")
    schools = block(summary, "Các trường")
    assert "đã nộp 3" in communes.lower() and "tổng 3 đơn vị" in communes
    assert "đã nộp 9" in schools.lower() and "tổng 9 đơn vị" in schools
    assert f"tọa đàm: {sum(commune_42.values())} người" in communes
    assert f"tọa đàm: {sum(school_42.values())} người" in schools
    assert "6.000.000 đồng" in communes and "900.000 đồng" in schools

    async with app.sessions() as session:
        period, campaign = await reporting.find_period(session, "tuan-le-htsd-2023", None,
                                                       app.clock())
        scope = await reporting.scope_for_code(session, "QN")
        data = await reporting.export_data(session, period, campaign, scope,
                                           app.dispatcher.forms, app.clock())
    direct = [b for b in data.blocks if b.direct]
    below = [b for b in data.blocks if not b.direct]
    assert len(direct) == 1 and len(below) == 1
    assert direct[0].totals["4.2"] == Decimal(sum(commune_42.values()))
    assert below[0].totals["4.2"] == Decimal(sum(school_42.values()))
    assert {u.code for u in direct[0].units} == {"QN-X1", "QN-X2", "QN-X3"}
    assert len(below[0].units) == 9
    # The chart draws each line from its own counts: a commune's bar never holds its schools.
    assert [(r.code, r.total) for r in direct[0].progress] == [
        ("QN-X1", 1), ("QN-X2", 1), ("QN-X3", 1)]
    assert [(r.code, r.total, r.on_time) for r in below[0].progress] == [
        ("QN-X1", 3, 3), ("QN-X2", 3, 3), ("QN-X3", 3, 3)]
    from bot.exports.chart import chart_figure

    figure, _, _ = chart_figure(data)
    legends = [a.get_legend() for a in figure.axes if a.get_legend() is not None]
    assert [lg.get_title().get_text().split(" (")[0] for lg in legends] == ["Các xã",
                                                                          "Các trường"]


async def test_a_commune_starts_from_its_schools_figures_adjusts_and_the_province_sees_it_once(
        app: App, tmp_path: Path):
    await _province_tree(app, tmp_path)
    await file_report(app, "QN-X1-T1", SCHOOL, {"4.2": 40, "5.2": 12, "8.1": 1})
    await file_report(app, "QN-X1-T2", SCHOOL, {"4.2": 25, "5.2": 8, "8.1": 2})
    commune = await sign_in(app, "QN-X1")
    reply = await commune.say("/baocao")
    assert "2/3 trường" in reply
    assert "Trường Tiểu học số 3 xã 1" in reply  # still missing, named
    assert "Lấy số liệu tổng hợp từ 2 trường đã nộp" in reply
    reply = await commune.say("Lấy số liệu tổng hợp từ 2 trường đã nộp")
    assert "4.2 = 65" in reply and "5.2 = 20" in reply and "8.1 = 3" in reply
    # The commune adds its own activities to two figures, then answers the rest.
    taken = {q.id for q in SCHOOL.questions if q.numeric}
    rest = {qid: v for qid, v in typed_values(COMMUNE).items() if qid not in taken}
    rest.update({"4.2": 90, "5.2": 26})
    reply = await commune.say("\n".join(f"{qid}={value}" for qid, value in rest.items()))
    for _ in range(5):
        if "Đúng, giữ nguyên" not in reply:
            break
        reply = await commune.say("Đúng, giữ nguyên")
    assert "4.2  90 người" in reply and "5.2  26 lượt" in reply
    assert "8.1  3 tập thể" in reply  # taken over from the schools, unchanged
    reply = await commune.say("Nộp báo cáo")
    assert "đã được nộp" in reply

    boss = await sign_in(app, "QN", role="coordinator")
    summary = await boss.say("/tonghop")
    communes = block(summary, "Các xã")
    assert "tọa đàm: 90 người" in communes
    schools = block(summary, "Các trường")
    assert "tọa đàm: 65 người" in schools


async def test_the_parts_of_every_count_add_up_to_the_total(app: App):
    """Drafts are their own part, never inside “not submitted”."""
    await file_report(app, "X-ANLAO", COMMUNE)
    drafting = await sign_in(app, "X-ANTHANG")
    await drafting.say("/baocao")
    await drafting.say("có")  # a draft with one answer
    boss = await sign_in(app, "HP", role="coordinator")
    summary = await boss.say("/tonghop")
    communes = block(summary, "Các xã, phường")
    numbers = _parts(communes)
    assert numbers == {"đã nộp": 1, "trả lại": 0, "đang soạn": 1, "chưa bắt đầu": 1,
                       "tổng": 3}
    missing = await boss.say("/chuanop")
    assert "Xã An Thắng (X-ANTHANG, đang soạn)" in missing
    assert "Phường Vĩnh Bảo (P-VINHBAO, chưa bắt đầu)" in missing

    async with app.sessions() as session:
        period, campaign = await reporting.find_period(session, "tuan-le-htsd-2023", None,
                                                       app.clock())
        scope = await reporting.scope_for_code(session, "HP")
        data = await reporting.export_data(session, period, campaign, scope,
                                           app.dispatcher.forms, app.clock())
    for row in data.progress:
        assert row.on_time + row.late + row.returned + row.drafts + row.not_started == row.total


def _parts(text: str) -> dict[str, int]:
    found = {}
    for name in ("đã nộp", "trả lại", "đang soạn", "chưa bắt đầu", "tổng"):
        match = re.search(rf"{name}:? (\d+)", text.lower())
        assert match, (name, text)
        found[name] = int(match.group(1))
    return found


async def test_a_digest_counts_add_up(app: App):
    from bot.coordinators.reminders import ReminderStore  # noqa: F401 - the digest is rendered by it

    await file_report(app, "X-ANLAO", COMMUNE)
    drafting = await sign_in(app, "X-ANTHANG")
    await drafting.say("/baocao")
    await drafting.say("có")
    await sign_in(app, "HP", role="coordinator")
    from datetime import datetime

    from .conftest import VN

    items = await app.dispatcher.reminders.preview("tuan-le-htsd-2023",
                                                   datetime(2023, 10, 12, 8, 0, tzinfo=VN))
    digests = [text for r, text in items if r.kind == "digest"]
    assert digests
    parts = _parts(digests[0])
    assert parts["đã nộp"] + parts["trả lại"] + parts["đang soạn"] + parts["chưa bắt đầu"] \
        == parts["tổng"]
    assert parts["đang soạn"] >= 1


async def test_a_person_with_two_units_files_the_school_after_the_commune(app: App):
    """The same person may report for a commune and its school: two separate reports."""
    person = Person(app, "hai-don-vi")
    from .conftest import invite

    await person.say(await invite(app, "X-ANLAO"))
    await person.say(await invite(app, "TH-ANLAO"))
    await file_report(app, "X-ANLAO", COMMUNE, {"4.2": 200}, person=person, pick="Xã An Lão")
    await file_report(app, "TH-ANLAO", SCHOOL, {"4.2": 30}, person=person,
                      pick="Trường Tiểu học An Lão")
    boss = await sign_in(app, "HP", role="coordinator")
    summary = await boss.say("/tonghop")
    assert "tọa đàm: 200 người" in block(summary, "Các xã, phường")
    assert "tọa đàm: 30 người" in block(summary, "Các trường")


async def test_a_commune_with_a_draft_is_still_offered_its_schools_figures(
        app: App, tmp_path: Path):
    """The offer stands whenever the commune's report is open and schools have sent in: at
    /baocao after a break, in the middle of answering, and with every question answered."""
    await _province_tree(app, tmp_path)
    await file_report(app, "QN-X1-T1", SCHOOL, {"4.2": 40, "5.2": 12})
    await file_report(app, "QN-X1-T2", SCHOOL, {"4.2": 25, "5.2": 8})
    commune = await sign_in(app, "QN-X1")
    offer = "Lấy số liệu tổng hợp từ 2 trường đã nộp"
    await commune.say("/baocao")
    await commune.say("có")  # a draft with one answer
    await commune.say("/huy")
    reply = await commune.say("/baocao")
    assert "Đã trả lời 1/" in reply, reply
    assert offer in reply
    assert "giữ nguyên" in reply and "còn trống" in reply  # says it merges, keeps answers
    reply = await commune.say("/baocao")  # in the middle of answering
    assert offer.lower() in reply.lower()
    # Every question answered (4.2 typed by hand): reviewing, the offer is still there.
    reply = await commune.say("\n".join(f"{qid}={value}" for qid, value in
                                        typed_values(COMMUNE, {"4.2": 70}).items()))
    for _ in range(5):
        if "Đúng, giữ nguyên" not in reply:
            break
        reply = await commune.say("Đúng, giữ nguyên")
    reply = await commune.say("/baocao")
    assert offer.lower() in reply.lower() and "Nộp báo cáo" in reply
    reply = await commune.say(offer)
    assert "4.2" in reply and "Giữ nguyên" in reply  # nothing overwritten: every answer kept
    async with app.sessions() as session:
        period, campaign = await reporting.find_period(session, "tuan-le-htsd-2023", None,
                                                       app.clock())
        scope = await reporting.scope_for_code(session, "QN-X1")
        data = await reporting.export_data(session, period, campaign, scope,
                                           app.dispatcher.forms, app.clock())
    own = next(u for u in data.units if u.code == "QN-X1")
    assert own.answers["4.2"] == 70 and own.status == "draft"


async def test_a_province_digest_counts_its_communes_and_their_schools_apart(
        app: App, tmp_path: Path):
    from datetime import datetime

    from .conftest import VN

    await _province_tree(app, tmp_path)
    await file_report(app, "QN-X1", COMMUNE)
    await file_report(app, "QN-X1-T1", SCHOOL)
    await file_report(app, "QN-X2-T1", SCHOOL)
    await sign_in(app, "QN", role="coordinator")
    items = await app.dispatcher.reminders.preview("tuan-le-htsd-2023",
                                                   datetime(2023, 10, 12, 8, 0, tzinfo=VN))
    digests = [text for r, text in items if r.kind == "digest"]
    assert len(digests) == 1
    digest = digests[0]
    assert "tổng 12 đơn vị" not in digest  # the two lines never counted together
    communes = block(digest, "Các xã:")
    schools = block(digest, "Các trường")
    assert _parts(communes) == {"đã nộp": 1, "trả lại": 0, "đang soạn": 0,
                                "chưa bắt đầu": 2, "tổng": 3}
    assert _parts(schools) == {"đã nộp": 2, "trả lại": 0, "đang soạn": 0,
                               "chưa bắt đầu": 7, "tổng": 9}
    assert "không cộng" in schools  # said plainly, as in /tonghop
    # each not-submitted unit is named under its own line
    assert "Xã Số 2" in communes and "Trường Tiểu học số 2 xã 1" in schools
    assert "Trường Tiểu học số 2 xã 1" not in communes
