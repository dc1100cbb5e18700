"""Issue 22, defects 1 and 7, as conversations in the local chat against a real SQLite file:
a word after a number is never thrown away ("5 triệuu" is asked back as 5.000.000 đồng, "10
lít" refused, never 5 or 10 đồng stored), typed, in fast entry and in an Excel cell; a yes with
the plan's number stores the yes in 1.1 and the number in 1.2."""

from __future__ import annotations

from pathlib import Path

from bot.app import App

from .filing import COMMUNE, sign_in, typed_values
from .test_excel_reports import shown_path, stored_answers, template_rows
from .test_report_conversation import stored_report

ASKED = "“5 triệuu”: 5.000.000 đồng, đúng không?"


async def at_question_8_3(app: App):  # noqa: ANN201
    """A commune with every figure up to 8.2 entered, being asked 8.3 (the reward money)."""
    thu = await sign_in(app, "X-ANLAO")
    await thu.say("/baocao")
    await thu.say("có")
    await thu.say("Bỏ qua")
    typed = typed_values(COMMUNE)
    numbers = [q.id for q in COMMUNE.questions if q.numeric and q.id != "8.3"]
    reply = await thu.say("\n".join(f"{qid}={typed[qid]}" for qid in numbers))
    assert "8.3. " in reply, reply
    return thu


async def test_1_a_near_miss_of_trieu_typed_at_8_3_is_asked_back_then_stored(app: App):
    thu = await at_question_8_3(app)
    reply = await thu.say("5 triệuu")
    assert ASKED in reply and "Đúng, giữ nguyên" in reply and "Nhập lại" in reply
    assert "8.3" not in (await stored_report(app, "X-ANLAO")).answers  # nothing stored yet
    reply = await thu.say("Nhập lại")
    assert "8.3. " in reply
    assert "8.3" not in (await stored_report(app, "X-ANLAO")).answers
    reply = await thu.say("5 trieeuj")
    assert "“5 trieeuj”: 5.000.000 đồng, đúng không?" in reply
    reply = await thu.say("đúng")
    assert "8.3 = 5.000.000 đồng" in reply
    assert (await stored_report(app, "X-ANLAO")).answers["8.3"] == 5_000_000


async def test_1_an_unknown_word_after_the_amount_is_refused_with_the_words_understood(
        app: App):
    thu = await at_question_8_3(app)
    for typed in ("10 lít", "5 xyz", "5 chai"):
        reply = await thu.say(typed)
        assert f"“{typed}”: chưa hiểu chữ sau con số" in reply and "“triệu”" in reply
        assert "8.3. " in reply
        assert "8.3" not in (await stored_report(app, "X-ANLAO")).answers
    reply = await thu.say("5 triệu")
    assert (await stored_report(app, "X-ANLAO")).answers["8.3"] == 5_000_000


async def test_1_an_unknown_word_after_a_count_is_refused_naming_its_unit(app: App):
    thu = await sign_in(app, "X-ANLAO")
    await thu.say("/baocao")
    await thu.say("có")
    await thu.say("Bỏ qua")
    await thu.say("mục 2: 3, 1, 12, 4")
    await thu.say("mục 3: 1, 1, 1")
    reply = await thu.say("12 kg")  # 4.1, seminars held: "lần"
    assert "“12 kg”: chưa hiểu chữ sau con số" in reply and "“lần”" in reply
    reply = await thu.say("12 trieeuj")
    assert "chưa hiểu chữ sau con số" in reply
    assert "4.1" not in (await stored_report(app, "X-ANLAO")).answers


async def test_1_fast_entry_of_a_near_miss_is_asked_back_never_5_dong(app: App):
    thu = await sign_in(app, "X-ANLAO")
    await thu.say("/baocao")
    reply = await thu.say("8.3 = 5 triệuu")
    assert "8.3 = 5 đồng" not in reply
    assert ASKED in reply and "Đúng, giữ nguyên" in reply
    report = await stored_report(app, "X-ANLAO")
    assert report is None or "8.3" not in report.answers
    reply = await thu.say("Đúng, giữ nguyên")
    assert "8.3 = 5.000.000 đồng" in reply
    assert (await stored_report(app, "X-ANLAO")).answers["8.3"] == 5_000_000
    reply = await thu.say("8.3 = 10 lít")
    assert "“10 lít”: chưa hiểu chữ sau con số" in reply
    assert (await stored_report(app, "X-ANLAO")).answers["8.3"] == 5_000_000


async def test_1_an_excel_cell_with_a_near_miss_is_asked_back(app: App, tmp_path: Path):
    from openpyxl import load_workbook

    thu = await sign_in(app, "X-ANLAO")
    book = load_workbook(shown_path(await thu.say("/excel")))
    rows = template_rows(book)
    ws = book["Báo cáo"]
    ws.cell(rows["2.1"], 3).value = 12
    ws.cell(rows["8.3"], 3).value = "3 triệuu"
    ws.cell(rows["8.2"], 3).value = "5 chai"
    filled = tmp_path / "bao cao.xlsx"
    book.save(filled)
    reply = "\n".join(await thu.chat.send_file(filled))
    assert "“3 triệuu”: 3.000.000 đồng, đúng không?" in reply
    assert f"C{rows['8.2']} (8.2): “5 chai” — “5 chai”: chưa hiểu chữ sau con số" in reply
    answers = await stored_answers(app, "X-ANLAO")
    assert answers == {"2.1": 12}  # neither 3 đồng nor 5 individuals
    reply = await thu.say("đúng")
    assert "8.3 = 3.000.000 đồng" in reply
    assert (await stored_answers(app, "X-ANLAO"))["8.3"] == 3_000_000


async def test_7_a_yes_with_the_plan_number_stores_1_1_and_1_2(app: App):
    thu = await sign_in(app, "X-ANLAO")
    await thu.say("/baocao")
    reply = await thu.say("có, số 12/KH-UBND ngày 15/9")
    assert "1.1 = Có" in reply and "1.2 = số 12/KH-UBND ngày 15/9" in reply
    assert "2.1. " in reply  # 1.2 is answered: not asked
    report = await stored_report(app, "X-ANLAO")
    assert report.answers["1.1"] is True and report.answers["1.2"] == "số 12/KH-UBND ngày 15/9"
    assert "1.1" not in report.notes


async def test_7_a_no_keeps_its_reason_as_the_note_and_typed_shapes_are_read(app: App):
    thu = await sign_in(app, "X-ANLAO")
    await thu.say("/baocao")
    reply = await thu.say("chưa, dự kiến tuần sau")
    assert "1.2. " in reply
    report = await stored_report(app, "X-ANLAO")
    assert report.answers["1.1"] is False and report.notes["1.1"] == "dự kiến tuần sau"
    await thu.say("Bỏ qua")
    reply = await thu.say("tổng cộng 3 bài")  # 2.1
    assert "2.2. " in reply
    await thu.say("(1)")
    await thu.say("= 12")
    report = await stored_report(app, "X-ANLAO")
    assert (report.answers["2.1"], report.answers["2.2"], report.answers["2.3"]) == (3, 1, 12)


async def test_7_fast_entry_of_a_yes_with_the_plan_number(app: App):
    thu = await sign_in(app, "X-ANLAO")
    await thu.say("/baocao")
    await thu.say("1.1 = đã ban hành kế hoạch số 125/KH-UBND\n2.1 = 3")
    report = await stored_report(app, "X-ANLAO")
    assert report.answers["1.1"] is True and report.answers["1.2"] == "số 125/KH-UBND"
    assert report.answers["2.1"] == 3


async def test_1_a_coordinator_entering_paper_reports_never_stores_a_guessed_unit(
        app: App, tmp_path: Path):
    from openpyxl import load_workbook

    from .test_excel_reports import header_columns

    boss = await sign_in(app, "HP", role="coordinator")
    book = load_workbook(shown_path(await boss.say("/xuat")))
    ws = book["Báo cáo"]
    header, columns = header_columns(ws)
    row = next(r for r in range(header + 1, ws.max_row + 1)
               if ws.cell(r, columns["Mã đơn vị"]).value == "P-VINHBAO")
    for qid, value in (("2.1", 5), ("8.3", "3 triệuu"), ("8.2", "5 chai")):
        ws.cell(row, columns[f"{qid}. {COMMUNE.question(qid).label.vi}"]).value = value
    filled = tmp_path / "nhap-thay.xlsx"
    book.save(filled)
    reply = "\n".join(await boss.chat.send_file(filled))
    assert "(P-VINHBAO, 8.3): “3 triệuu” — chữ sau con số chưa rõ (có thể là 3.000.000 đồng)" \
        in reply
    assert "(P-VINHBAO, 8.2): “5 chai” — “5 chai”: chưa hiểu chữ sau con số" in reply
    assert await stored_answers(app, "P-VINHBAO") == {"2.1": 5}
