"""The coordinator's files: write each export by hand-made data, then read it back."""

from __future__ import annotations

import codecs
import csv
import io
import struct
import warnings
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from docx import Document
from docx.oxml.ns import qn
from openpyxl import load_workbook

from bot.exports.chart import write_chart_png
from bot.exports.csv_export import write_csv
from bot.exports.docx_report import write_docx
from bot.exports.model import (
    ExportData,
    ProgressRow,
    QuestionColumn,
    ReportBlock,
    RevisionRow,
    UnitRow,
)
from bot.exports.xlsx_export import write_xlsx
from conversations.forms import FORMS_DIR, Form, load_form_file

VN = ZoneInfo("Asia/Ho_Chi_Minh")
DEADLINE = datetime(2023, 10, 13, 0, 0, tzinfo=VN)
GENERATED = datetime(2023, 10, 14, 1, 15, tzinfo=UTC)  # 14/10/2023 08:15 in Vietnam
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

UNIT_NAMES = [
    ("AL-AT", "Xã An Thắng", "Huyện An Lão"),
    ("AL-ATI", "Xã An Tiến", "Huyện An Lão"),
    ("AL-TT", "Thị trấn An Lão", "Huyện An Lão"),
    ("AL-BT", "Xã Bát Trang", "Huyện An Lão"),
    ("AL-CT", "Xã Chiến Thắng", "Huyện An Lão"),
    ("VB-DH", "Xã Dũng Tiến", "Huyện Vĩnh Bảo"),
    ("VB-GM", "Xã Giang Biên", "Huyện Vĩnh Bảo"),
    ("VB-HH", "Xã Hưng Nhân", "Huyện Vĩnh Bảo"),
    ("VB-TT", "Thị trấn Vĩnh Bảo", "Huyện Vĩnh Bảo"),
    ("VB-VL", "Xã Vĩnh Long", "Huyện Vĩnh Bảo"),
]
# Unit index → (status, on_time, submitted at in Vietnam time)
STATUS = {
    0: ("submitted", True, datetime(2023, 10, 10, 9, 30)),
    1: ("submitted", True, datetime(2023, 10, 11, 14, 5)),
    2: ("submitted", True, datetime(2023, 10, 12, 8, 0)),
    3: ("submitted", False, datetime(2023, 10, 13, 10, 45)),  # late
    4: ("draft", None, None),
    5: ("submitted", True, datetime(2023, 10, 9, 16, 20)),
    6: ("submitted", True, datetime(2023, 10, 12, 22, 59)),
    7: ("returned", None, datetime(2023, 10, 11, 7, 0)),
    8: ("none", None, None),  # not submitted
    9: ("submitted", True, datetime(2023, 10, 12, 11, 11)),
}
STATUS_WORDS = {
    0: "Đã nộp đúng hạn",
    1: "Đã nộp đúng hạn",
    2: "Đã nộp đúng hạn",
    3: "Nộp muộn",
    4: "Đang soạn",
    5: "Đã nộp đúng hạn",
    6: "Đã nộp đúng hạn",
    7: "Trả lại để sửa",
    8: "Chưa nộp",
    9: "Đã nộp đúng hạn",
}
# On time or late, as the first submission decided (the returned one came in on 11/10).
TIMING_WORDS = {i: ("Đúng hạn" if i != 3 else "Muộn") for i in (0, 1, 2, 3, 5, 6, 7, 9)}
UNIT_COLUMNS = 8  # code, name, parent, state, first submission, on time, resubmission, by
TEXTS = {
    ("I", 0): "Ban hành Kế hoạch số 125/KH-UBND; tổ chức lễ khai mạc ngày 02/10/2023.",
    ("I", 3): "- Tổ chức 3 lớp tin học cho cán bộ.\n- Treo 20 băng rôn.",
    ("I", 5): "Phối hợp với các trường tổ chức ngày hội đọc sách.",
    ("I", 4): "Bản nháp, chưa nộp.",  # a draft: not in the consolidated report
    ("IV", 1): "Đề nghị huyện hỗ trợ kinh phí mua sách cho thư viện.",
    ("IV", 9): "=Cần thêm máy tính cho Trung tâm học tập cộng đồng.",
    ("1.2", 0): "125/KH-UBND ngày 25/9/2023",
    ("1.2", 2): "   ",  # blank: not an opinion
}


def form_columns(form: Form) -> list[QuestionColumn]:
    columns = []
    for section in form.sections:
        for question in section.questions:
            columns.append(
                QuestionColumn(
                    id=question.id,
                    label_vi=question.label.vi,
                    type=question.type,
                    section_id=section.id,
                    section_title_vi=section.title.vi,
                    unit_vi=question.unit.vi,
                    choices_vi={c.id: c.label.vi for c in question.choices},
                    has_note=question.note and question.type != "text",
                )
            )
    return columns


def stored_value(question: QuestionColumn, index: int, position: int) -> object:
    """Known values: unit i answers (i + 1) × (row + 1); money in whole millions."""
    if question.type == "yes_no":
        return index != 2
    if question.type == "money":
        return 1_500_000 * (index + 1)
    return (index + 1) * (position + 1)


def totals_of(questions: list[QuestionColumn], units: list[UnitRow]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for question in questions:
        if question.numeric:
            totals[question.id] = sum(
                (
                    Decimal(str(u.answers[question.id]))
                    for u in units
                    if u.status == "submitted" and u.answers.get(question.id) is not None
                ),
                Decimal(0),
            )
    return totals


def make_units(questions: list[QuestionColumn]) -> list[UnitRow]:
    text_ids = {q.id for q in questions if q.type == "text"}
    units = []
    for index, (code, name, parent) in enumerate(UNIT_NAMES):
        status, on_time, local = STATUS[index]
        answers: dict[str, object] = {}
        if status != "none":
            for position, question in enumerate(questions):
                if question.type != "text":
                    answers[question.id] = stored_value(question, index, position)
            for (qid, who), text in TEXTS.items():
                if who == index and qid in text_ids:
                    answers[qid] = text
        if index == 0:
            answers["4.4"] = None  # skipped
        notes = {"2.4": "5 tờ báo tường, 20 bài viết"} if index == 0 else {}
        if index == 3:
            notes = {"1.1": "Kế hoạch số 88/KH-UBND"}
        units.append(
            UnitRow(
                code=code,
                name=name,
                parent_name=parent,
                kind="commune",
                status=status,
                on_time=on_time,
                submitted_at=local.replace(tzinfo=VN).astimezone(UTC) if local else None,
                submitted_by=f"Cán bộ {name}" if local else "",
                answers=answers,
                notes=notes,
            )
        )
    return units


def make_data(form_file: str = "tuan-le-htsd.yaml") -> ExportData:
    questions = form_columns(load_form_file(FORMS_DIR / form_file))
    units = make_units(questions)
    return ExportData(
        campaign_title="Tuần lễ hưởng ứng học tập suốt đời năm 2023",
        period_label="02/10 - 08/10/2023",
        scope_name="Thành phố Hải Phòng",
        timezone="Asia/Ho_Chi_Minh",
        deadline=DEADLINE,
        generated_at=GENERATED,
        blocks=[ReportBlock(
            title="Các xã, phường, thị trấn",
            direct=True,
            form_title="Báo cáo Tuần lễ hưởng ứng học tập suốt đời (xã, phường, thị trấn)",
            questions=questions,
            units=units,
            totals=totals_of(questions, units),
        )],
        progress=[
            ProgressRow("AL", "Huyện An Lão", total=5, on_time=3, late=1, drafts=1,
                        not_started=0),
            ProgressRow("VB", "Huyện Vĩnh Bảo", total=5, on_time=3, late=0, drafts=0,
                        not_started=2),
        ],
        revisions=[
            RevisionRow(
                "AL-AT",
                "Xã An Thắng",
                2,
                "4.2",
                120,
                150,
                "Nguyễn Văn An",
                datetime(2023, 10, 11, 1, 0, tzinfo=UTC),
            ),
            RevisionRow(
                "AL-BT",
                "Xã Bát Trang",
                2,
                "1.1",
                False,
                True,
                "Trần Thị Bình",
                datetime(2023, 10, 13, 4, 30, tzinfo=UTC),
            ),
        ],
        source_document="Kế hoạch số 245/KH-UBND ngày 20/9/2023 của UBND huyện An Lão",
    )


def with_block(data: ExportData, **changes: object) -> ExportData:
    """The data with its one block changed (its units, questions or totals)."""
    return replace(data, blocks=[replace(data.blocks[0], **changes)])


@pytest.fixture(scope="module")
def data() -> ExportData:
    return make_data()


def table_questions(data: ExportData) -> list[QuestionColumn]:
    """The report sheet's columns: every question but the free-text parts (I, II.2, …)."""
    return [q for q in data.questions if not (q.type == "text" and q.id == q.section_id)]


def expected_unit_row(data: ExportData, index: int, with_text: bool = False) -> list[object]:
    unit = data.units[index]
    status, _, local = STATUS[index]
    row: list[object] = [
        unit.code,
        unit.name,
        unit.parent_name,
        STATUS_WORDS[index],
        local,  # the first submission (none of these was sent again)
        TIMING_WORDS.get(index),
        None,
        unit.submitted_by or None,
    ]
    for question in data.questions if with_text else table_questions(data):
        value = unit.answers.get(question.id)
        if question.type == "yes_no" and value is not None:
            value = "Có" if value else "Không"
        if isinstance(value, str) and not value.strip() and not with_text:
            value = None
        row.append(value)
    return row


def header_of(question: QuestionColumn) -> str:
    unit = f" ({question.unit_vi})" if question.unit_vi and question.numeric else ""
    return f"{question.id}. {question.label_vi}{unit}"


# --- XLSX -----------------------------------------------------------------------------------


def padded(row: tuple[object, ...], width: int) -> list[object]:
    return list(row) + [None] * (width - len(row))


def test_xlsx_report_sheet_reads_back_cell_by_cell(data: ExportData, tmp_path: Path) -> None:
    path = tmp_path / "bao-cao.xlsx"
    write_xlsx(data, path)
    wb = load_workbook(path)
    visible = [name for name in wb.sheetnames if wb[name].sheet_state == "visible"]
    assert visible == ["Báo cáo", "Chưa nộp", "Tiến độ", "Ý kiến", "Lịch sử"]
    # Hidden: which report the file is for, read when a coordinator sends it back.
    assert wb["baocao"].sheet_state == "veryHidden"
    ws = wb["Báo cáo"]
    questions = table_questions(data)
    width = UNIT_COLUMNS + len(questions)
    assert ws.max_column == width
    rows = [padded(r, width) for r in ws.iter_rows(values_only=True)]
    # 4 title and header rows; 7 counted units in two districts, a subtotal each, the
    # totals; a blank row, the heading of the units not counted and their 3 rows
    assert len(rows) == 4 + 7 + 2 + 1 + 2 + 3

    assert rows[0][0] == "Tuần lễ hưởng ứng học tập suốt đời năm 2023"
    assert rows[1][0] == (
        "Kỳ báo cáo: 02/10 - 08/10/2023; Đơn vị tổng hợp: Thành phố Hải Phòng; "
        "Hạn nộp: 13/10/2023 00:00; Thời điểm xuất: 14/10/2023 08:15"
    )
    assert rows[2][0] == ("Các xã, phường, thị trấn — Báo cáo Tuần lễ hưởng ứng học tập suốt đời "
                          "(xã, phường, thị trấn)")
    assert rows[3] == [
        "Mã đơn vị",
        "Tên đơn vị",
        "Đơn vị cấp trên",
        "Trạng thái",
        "Nộp lần đầu",
        "Đúng hạn/muộn",
        "Nộp lại",
        "Người nộp",
    ] + [header_of(q) for q in questions]
    assert rows[3][8] == "1.1. Đã ban hành kế hoạch tổ chức Tuần lễ HTSĐ chưa?"
    assert rows[3][9] == "1.2. Số, ngày ban hành kế hoạch"  # in its place, as on the form
    assert rows[3][10] == "2.1. Số bài viết trên các báo (bài)"
    assert not any(h.startswith(("I.", "IV.")) for h in rows[3])

    order = [0, 1, 2, 3, None, 5, 6, 9, None, "total", "blank", "waiting", 4, 7, 8]
    for offset, index in enumerate(order, start=4):
        if isinstance(index, int):
            assert rows[offset] == expected_unit_row(data, index), data.units[index].name
    assert rows[8][1] == "Cộng: Huyện An Lão" and rows[12][1] == "Cộng: Huyện Vĩnh Bảo"
    assert rows[15][1].startswith("Các đơn vị chưa nộp")

    # the first unit: time in Vietnam, numbers as numbers, the skipped answer empty
    first = rows[4]
    assert first[4] == datetime(2023, 10, 10, 9, 30)
    column = {q.id: UNIT_COLUMNS + i for i, q in enumerate(questions)}
    assert first[column["8.3"]] == 1_500_000 and isinstance(first[column["8.3"]], int)
    assert first[column["4.4"]] is None
    assert first[column["1.2"]] == TEXTS[("1.2", 0)]
    assert rows[4 + 2][column["1.1"]] == "Không"
    assert rows[-1][UNIT_COLUMNS:] == [None] * len(questions)  # not submitted: no answers

    totals = rows[13]
    assert totals[:UNIT_COLUMNS] == [None, "Tổng cộng (các đơn vị đã nộp)"] + [None] * 6
    values = [padded(r, width) for r in load_workbook(path, data_only=True)["Báo cáo"]
              .iter_rows(values_only=True)][13]
    for question in questions:
        value = totals[column[question.id]]
        if question.numeric:
            letter = ws.cell(4, 1 + column[question.id]).column_letter
            assert value == f"=SUBTOTAL(9,{letter}5:{letter}13)", question.id
            assert values[column[question.id]] == data.main.totals[question.id], question.id
            assert isinstance(values[column[question.id]], int)
        elif question.type == "yes_no":
            assert value == "Có: 6/7"  # seven submitted, Thị trấn An Lão said no
        else:
            assert value is None
    # a hand check of one sum: submitted units 0, 1, 2, 3, 5, 6, 9 → (i + 1) × 1 500 000
    assert values[column["8.3"]] == 1_500_000 * (1 + 2 + 3 + 4 + 6 + 7 + 10)
    # 4.4 is the 13th row of the form: (2 + 3 + 4 + 6 + 7 + 10) × 13, unit 0 having skipped it
    assert values[column["4.4"]] == data.main.totals["4.4"] == 416

    # formats and layout
    assert ws.freeze_panes == "C5"
    assert ws.auto_filter.ref == f"A4:{ws.cell(4, width).column_letter}13"
    assert ws.cell(5, 5).number_format == "dd/mm/yyyy hh:mm"
    assert ws.cell(5, 1 + column["8.3"]).number_format == "#,##0"
    assert ws.cell(14, 1 + column["8.3"]).number_format == "#,##0"
    assert ws.cell(14, 2).font.bold
    assert ws.column_dimensions["B"].width >= 28


def test_xlsx_progress_opinion_and_history_sheets(data: ExportData, tmp_path: Path) -> None:
    path = tmp_path / "bao-cao.xlsx"
    write_xlsx(data, path)
    wb = load_workbook(path)

    progress = [list(r) for r in wb["Tiến độ"].iter_rows(values_only=True)]
    assert progress == [
        [
            "Mã",
            "Đơn vị",
            "Tổng số đơn vị",
            "Đúng hạn",
            "Muộn",
            "Trả lại",
            "Đang soạn",
            "Chưa bắt đầu",
            "Tỷ lệ đúng hạn",
        ],
        ["AL", "Huyện An Lão", 5, 3, 1, 0, 1, 0, 0.6],
        ["VB", "Huyện Vĩnh Bảo", 5, 3, 0, 0, 0, 2, 0.6],
        [None, "Tổng cộng", 10, 6, 1, 0, 1, 2, 0.6],
    ]
    assert wb["Tiến độ"].cell(2, 9).number_format == "0.0%"

    opinions = [list(r) for r in wb["Ý kiến"].iter_rows(values_only=True)]
    assert opinions == [
        ["Mã", "Đơn vị", "Mục", "Nội dung", "Ý kiến"],
        [
            "AL-AT",
            "Xã An Thắng",
            "2.4 (ghi chú)",
            "Số tờ báo tường, bài viết về chuyển đổi số, HTSĐ, XHHT",
            "5 tờ báo tường, 20 bài viết",
        ],
        ["AL-AT", "Xã An Thắng", "I", "Công tác chỉ đạo; kết quả đạt được", TEXTS[("I", 0)]],
        ["AL-ATI", "Xã An Tiến", "IV", "Đề xuất, kiến nghị", TEXTS[("IV", 1)]],
        [
            "AL-BT",
            "Xã Bát Trang",
            "1.1 (ghi chú)",
            "Đã ban hành kế hoạch tổ chức Tuần lễ HTSĐ chưa?",
            "Kế hoạch số 88/KH-UBND",
        ],
        ["AL-BT", "Xã Bát Trang", "I", "Công tác chỉ đạo; kết quả đạt được", TEXTS[("I", 3)]],
        ["VB-DH", "Xã Dũng Tiến", "I", "Công tác chỉ đạo; kết quả đạt được", TEXTS[("I", 5)]],
        # a text beginning with "=" stays text, not a formula
        ["VB-VL", "Xã Vĩnh Long", "IV", "Đề xuất, kiến nghị", TEXTS[("IV", 9)]],
        # a draft's text comes after the counted units', greyed (the 1.2 text is a column)
        ["AL-CT", "Xã Chiến Thắng", "I", "Công tác chỉ đạo; kết quả đạt được", TEXTS[("I", 4)]],
    ]
    assert wb["Ý kiến"].cell(8, 5).data_type == "s"
    assert wb["Ý kiến"].cell(9, 5).font.color.rgb.endswith("808080")

    history = [list(r) for r in wb["Lịch sử"].iter_rows(values_only=True)]
    assert history == [
        ["Đơn vị", "Lần nộp", "Câu", "Giá trị cũ", "Giá trị mới", "Người sửa", "Thời điểm"],
        ["Xã An Thắng", 2, "4.2", 120, 150, "Nguyễn Văn An", datetime(2023, 10, 11, 8, 0)],
        ["Xã Bát Trang", 2, "1.1", "Không", "Có", "Trần Thị Bình", datetime(2023, 10, 13, 11, 30)],
    ]


def extra_types_data() -> ExportData:
    """A form with the types the bundled forms lack: number, choice, date."""
    questions = [
        QuestionColumn("1.1", "Tỷ lệ hội viên so với dân số", "number", "1", "Hội viên", "%"),
        QuestionColumn(
            "1.2",
            "Hình thức khai mạc",
            "choice",
            "1",
            "Hội viên",
            choices_vi={"truc_tiep": "Trực tiếp", "truc_tuyen": "Trực tuyến"},
        ),
        QuestionColumn("1.3", "Ngày khai mạc", "date", "1", "Hội viên"),
        QuestionColumn("I", "Ý kiến", "text", "I", "Đề xuất, kiến nghị"),
    ]
    base = make_data()
    units = [
        replace(
            base.units[0],
            answers={
                "1.1": "12.5",
                "1.2": "truc_tuyen",
                "1.3": "2023-10-02",
                "I": "- Cần hỗ trợ thêm.",
            },
        ),
        replace(base.units[1], answers={"1.1": 40, "1.2": "truc_tiep", "1.3": "2023-10-03"}),
    ]
    return replace(
        with_block(base, questions=questions, units=units, totals={"1.1": Decimal("52.5")}),
        revisions=(),
    )


def test_xlsx_number_choice_and_date_cells(tmp_path: Path) -> None:
    data = extra_types_data()
    path = tmp_path / "extra.xlsx"
    write_xlsx(data, path)
    ws = load_workbook(path)["Báo cáo"]
    rows = [list(r) for r in ws.iter_rows(min_row=5, values_only=True)]
    assert rows[0][8:] == [12.5, "Trực tuyến", datetime(2023, 10, 2)]
    assert rows[1][8:] == [40, "Trực tiếp", datetime(2023, 10, 3)]
    assert rows[2][1] == "Tổng cộng (các đơn vị đã nộp)" and rows[2][8] == "=SUBTOTAL(9,I5:I6)"
    stored = load_workbook(path, data_only=True)["Báo cáo"]
    assert stored.cell(7, 9).value == 52.5
    assert ws.cell(5, 11).number_format == "dd/mm/yyyy"


def test_progress_is_reported_for_big_exports(tmp_path: Path) -> None:
    base = make_data()
    units = [replace(base.units[i % 10], code=f"U{i:04d}") for i in range(1200)]
    data = with_block(base, units=units)
    for writer, name in (
        (write_xlsx, "big.xlsx"),
        (write_csv, "big.csv"),
        (write_docx, "big.docx"),
    ):
        calls: list[tuple[int, int]] = []
        writer(data, tmp_path / name, lambda done, total, c=calls: c.append((done, total)))
        assert calls[-1] == (1200, 1200), name
        assert 3 <= len(calls) <= 20, name
        assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_xlsx_and_docx_write_to_a_stream(data: ExportData) -> None:
    buffer = io.BytesIO()
    write_xlsx(data, buffer)
    buffer.seek(0)
    assert load_workbook(buffer)["Báo cáo"]["B5"].value == "Xã An Thắng"
    buffer = io.BytesIO()
    write_docx(data, buffer)
    buffer.seek(0)
    assert "BÁO CÁO" in [p.text for p in Document(buffer).paragraphs]


# --- CSV ------------------------------------------------------------------------------------


def test_csv_has_bom_header_and_every_unit_row(data: ExportData, tmp_path: Path) -> None:
    path = tmp_path / "bao-cao.csv"
    write_csv(data, path)
    raw = path.read_bytes()
    assert raw.startswith(codecs.BOM_UTF8)
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    expected_header = [
        "Tuyến báo cáo",
        "Mã đơn vị",
        "Tên đơn vị",
        "Đơn vị cấp trên",
        "Trạng thái",
        "Nộp lần đầu",
        "Đúng hạn/muộn",
        "Nộp lại",
        "Người nộp",
    ]
    for q in data.questions:  # each question, then its note where the form takes one
        expected_header.append(header_of(q))
        if q.has_note:
            expected_header.append(header_of(q) + " (ghi chú)")
    assert rows[0] == expected_header
    assert "IV. Đề xuất, kiến nghị" in rows[0]  # text questions are columns here
    assert len(rows) == 1 + len(data.units)  # no totals row

    for index in range(len(data.units)):
        unit = data.units[index]
        expected = ["Các xã, phường, thị trấn: báo cáo gửi lên cấp tổng hợp"]
        values = expected_unit_row(data, index, with_text=True)
        fields = values[:UNIT_COLUMNS]
        for q, value in zip(data.questions, values[UNIT_COLUMNS:], strict=True):
            fields.append(value)
            if q.has_note:
                fields.append(unit.notes.get(q.id, ""))
        for value in fields:
            if value is None:
                value = ""
            elif isinstance(value, datetime):
                value = value.strftime("%Y-%m-%d %H:%M")
            elif isinstance(value, str) and value.startswith(("-", "=")):
                value = "\u2060" + value  # Excel would take it for a formula
            expected.append(str(value))
        assert rows[1 + index] == expected, data.units[index].name

    column = rows[0].index("8.3. Tổng kinh phí khen thưởng (đồng)")
    assert rows[1][column] == "1500000"
    assert rows[1][5] == "2023-10-10 09:30" and rows[1][6] == "Đúng hạn"
    part_one = next(h for h in rows[0] if h.startswith("I. "))
    assert rows[4][rows[0].index(part_one)] == "\u2060" + TEXTS[("I", 3)]


def test_csv_writes_to_a_stream_and_decimals_plainly(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    write_csv(extra_types_data(), buffer)
    rows = list(csv.reader(io.StringIO(buffer.getvalue().decode("utf-8-sig"))))
    assert rows[1][UNIT_COLUMNS + 1:] == ["12.5", "Trực tuyến", "2023-10-02",
                                          "\u2060- Cần hỗ trợ thêm."]
    assert rows[2][UNIT_COLUMNS + 1:] == ["40", "Trực tiếp", "2023-10-03", ""]


# --- DOCX -----------------------------------------------------------------------------------


def docx_paragraphs(path: Path) -> list[str]:
    return [p.text for p in Document(str(path)).paragraphs]


def test_docx_layout_sums_and_texts(data: ExportData, tmp_path: Path) -> None:
    path = tmp_path / "bao-cao.docx"
    write_docx(data, path)
    doc = Document(str(path))

    normal = doc.styles["Normal"]
    assert normal.font.name == "Times New Roman"
    assert normal.font.size.pt == 14
    fonts = normal.element.rPr.find(qn("w:rFonts"))
    assert fonts.get(qn("w:eastAsia")) == "Times New Roman"

    heading, results, signature, missing = doc.tables
    right = heading.rows[0].cells[1]
    assert [p.text for p in right.paragraphs if p.text] == [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
    ]
    assert right.paragraphs[1].runs[0].bold
    # no place known (no letterhead): left for the office to write
    assert heading.rows[1].cells[1].text == "......, ngày 14 tháng 10 năm 2023"

    texts = [p.text for p in doc.paragraphs]
    start = texts.index("BÁO CÁO")
    assert doc.paragraphs[start].runs[0].bold
    assert texts[start + 1] == "Kết quả thực hiện Tuần lễ hưởng ứng học tập suốt đời năm 2023"
    assert ("(Kỳ báo cáo: 02/10 - 08/10/2023. Tổng hợp từ báo cáo của 7/10 đơn vị đã nộp, "
            "số liệu đến 08:15 ngày 14/10/2023)"
            in texts)

    # parts in the order of the official form
    headings = [t for t in texts if t.split(". ")[0] in ("I", "II", "III", "IV", "1", "2")]
    assert headings == [
        "I. Công tác chỉ đạo; kết quả đạt được",
        "II. Kết quả cụ thể",
        "1. Các kết quả theo từng nội dung",
        "2. Những thuận lợi và khó khăn",
        "III. Kế hoạch tiếp theo",
        "IV. Đề xuất, kiến nghị",
    ]
    part_one = texts[texts.index(headings[0]) + 1 : texts.index(headings[1])]
    assert part_one == [
        "- Xã An Thắng: " + TEXTS[("I", 0)],
        "- Xã Bát Trang: - Tổ chức 3 lớp tin học cho cán bộ.",
        "- Treo 20 băng rôn.",  # each line of the answer its own paragraph
        "- Xã Dũng Tiến: " + TEXTS[("I", 5)],
    ]  # the draft of Xã Chiến Thắng is left out
    part_four = texts[texts.index(headings[5]) + 1 :]
    assert part_four[:2] == [
        "- Xã An Tiến: " + TEXTS[("IV", 1)],
        "- Xã Vĩnh Long: " + TEXTS[("IV", 9)],
    ]
    after_two = texts[texts.index(headings[3]) + 1]
    assert after_two == "(Chưa có đơn vị nào báo cáo nội dung này.)"

    rows = [[c.text for c in row.cells] for row in results.rows]
    assert rows[0] == ["Nội dung hoạt động", "Kết quả, số lượng", "Ghi chú"]
    by_label = {r[0]: r for r in rows}
    assert by_label["1. Kế hoạch tổ chức Tuần lễ HTSĐ"] == [
        "1. Kế hoạch tổ chức Tuần lễ HTSĐ",
        "",
        "",
    ]
    assert results.rows[1].cells[0].paragraphs[0].runs[0].bold
    assert by_label["- Đã ban hành kế hoạch tổ chức Tuần lễ HTSĐ chưa?"][1:] == [
        "6/7 đơn vị",
        "Xã Bát Trang: Kế hoạch số 88/KH-UBND",
    ]
    assert by_label["- Số, ngày ban hành kế hoạch"][1] == "1/7 đơn vị có"
    assert by_label["Xã An Thắng"][1] == TEXTS[("1.2", 0)]  # the plan, unit by unit
    assert by_label["- Tổng kinh phí khen thưởng"][1] == "49.500.000 đồng"
    assert by_label["- Số người tham gia hội thảo, tọa đàm"][1] == (
        f"{int(data.main.totals['4.2']):,} người".replace(",", ".")
    )
    assert by_label["- Số lượt người dự triển lãm"][1:] == [
        f"{int(data.main.totals['4.4'])} lượt",
        "Số liệu của 6/7 đơn vị",
    ]
    assert by_label["- Số tờ báo tường, bài viết về chuyển đổi số, HTSĐ, XHHT"][2] == (
        "Xã An Thắng: 5 tờ báo tường, 20 bài viết"
    )
    assert by_label["- Số sách, báo điện tử, tài liệu số và trang web đã khai thác"][1] == (
        str(int(data.main.totals["6.2"]))  # no unit in the form
    )
    numeric_rows = [r for r in rows if r[0].startswith("- ")]
    assert len(numeric_rows) == len(table_questions(data))
    section_rows = [r for r in results.rows[1:] if r.cells[0].paragraphs[0].runs[0].bold]
    assert [r.cells[0].text.split(".")[0] for r in section_rows] == [
        str(n) for n in range(1, 9)]

    sign = [p.text for p in signature.rows[0].cells[1].paragraphs if p.text]
    assert sign == []  # no signer known: the office writes it in
    assert [p.text for p in signature.rows[0].cells[0].paragraphs if p.text] == ["Nơi nhận:"]
    assert [r.cells[1].text for r in missing.rows[1:]] == [
        "Xã Chiến Thắng", "Xã Hưng Nhân", "Thị trấn Vĩnh Bảo"]


def test_docx_month_form_numbers_its_parts(tmp_path: Path) -> None:
    data = make_data("thang-khuyen-hoc.yaml")
    path = tmp_path / "thang.docx"
    write_docx(data, path)
    texts = docx_paragraphs(path)
    headings = [t for t in texts if t.split(". ")[0] in ("I", "II", "III", "IV", "1", "2")]
    assert headings == [
        "I. Công tác chỉ đạo; kết quả đạt được",
        "II. Kết quả cụ thể",
        "1. Các kết quả theo từng nội dung",
        "III. Những thuận lợi và khó khăn",
        "IV. Đề xuất, kiến nghị",
    ]
    rows = {r.cells[0].text: r.cells[1].text for r in Document(str(path)).tables[1].rows}
    assert rows["- Số tiền vận động được cho Quỹ Khuyến học"].endswith(" đồng")


# --- PNG ------------------------------------------------------------------------------------


def png_size(raw: bytes) -> tuple[int, int]:
    return struct.unpack(">II", raw[16:24])


def test_chart_png_without_glyph_warnings(data: ExportData, tmp_path: Path) -> None:
    path = tmp_path / "tien-do.png"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        write_chart_png(data, path)
    assert not [w for w in caught if "Glyph" in str(w.message)]
    raw = path.read_bytes()
    assert raw.startswith(PNG_SIGNATURE)
    assert len(raw) > 10_000
    width, height = png_size(raw)
    assert width == 1200  # 6 in at 200 dpi


def test_chart_grows_with_its_rows(data: ExportData) -> None:
    def height(count: int) -> int:
        rows = [
            ProgressRow(
                f"X{i}", f"Trường Tiểu học Nguyễn Bỉnh Khiêm số {i}", 20, i % 15, 2, 1, 0,
                17 - i % 15,
            )
            for i in range(count)
        ]
        units = [replace(data.units[0], code=f"U{i}") for i in range(40)]  # > 30: grouped
        buffer = io.BytesIO()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            write_chart_png(replace(with_block(data, units=units), progress=rows), buffer)
        assert not [w for w in caught if "Glyph" in str(w.message)]
        return png_size(buffer.getvalue())[1]

    assert height(5) < height(20) < height(40) < height(80)
    assert height(90) == height(120)  # past 90 rows the closest to complete are summed


def test_chart_with_no_progress_and_odd_names(data: ExportData, tmp_path: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        write_chart_png(replace(data, progress=[]), tmp_path / "empty.png")
        odd = [ProgressRow("A", "Xã Đồng Thái 🎉\u200b", 3, 1, 1, 0, 0, 1)]
        write_chart_png(
            replace(data, progress=odd, campaign_title="Tháng 🎓"), tmp_path / "odd.png"
        )
    assert not [w for w in caught if "Glyph" in str(w.message)]
    assert (tmp_path / "empty.png").read_bytes().startswith(PNG_SIGNATURE)
    assert (tmp_path / "odd.png").read_bytes().startswith(PNG_SIGNATURE)
