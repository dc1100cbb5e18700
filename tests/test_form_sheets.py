"""Forms authored in a spreadsheet: `baocao forms export KEY --out FORM.xlsx` writes any loaded
form as an office edits it (a row per question, sheets of sections, choices and rules), `forms
load FORM.xlsx` reads it back with every mistake named by sheet and line, and a form goes
YAML → XLSX → YAML unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook
from typer.testing import CliRunner

from bot.cli import app
from bot.spreadsheets.form_sheets import FormSheetError, read_form_workbook, write_form_workbook
from conversations.forms import (
    bundled_form_files,
    dump_form_yaml,
    form_to_dict,
    load_form_file,
    load_form_text,
)

runner = CliRunner()

CHOICE_FORM = """
id: khao-sat
version: 3
title: {vi: "Khảo sát thư viện", en: "Library survey"}
source: "=tự soạn"
previous_period: {factor: 8, min_value: 50}
sections:
  - id: "1"
    title: {vi: "Thư viện", en: "Library"}
    help: {vi: "Tính đến cuối kỳ.", en: "At the end of the period."}
    questions:
      - id: "1.1"
        type: choice
        label: {vi: "Loại thư viện", en: "Kind of library"}
        choices:
          - {id: so, label: {vi: "Thư viện số, điện tử", en: "Digital library"}}
          - {id: giay, label: {vi: "Thư viện giấy", en: "Paper library"}}
      - {id: "1.2", type: number, label: "Diện tích (m2)", min: 0.5, max: 2000.25,
         soft_max: 500, unit: "m2", required: false}
      - {id: "1.3", type: date, label: {vi: "Ngày khai trương", en: "Opening day"}, note: false}
      - {id: "1.4", type: count, label: "Số đầu sách", main: true}
      - {id: "1.5", type: yes_no, label: "Có mở cửa buổi tối?"}
  - id: "II"
    title: "Ý kiến"
    questions:
      - {id: "II", type: text, label: "Đề xuất", required: false}
rules:
  - {id: sach, when: "[1.5] = 1", check: "[1.4] >= 100", level: soft,
     message: {vi: "Mở buổi tối mà ít sách ([1.4])", en: "Open at night with few books ([1.4])"}}
  - {id: dien-tich, check: "[1.4] <= 2 * [1.2] + 10000", level: hard}
"""


@pytest.mark.parametrize("path", bundled_form_files(), ids=lambda p: p.stem)
def test_every_bundled_form_goes_yaml_xlsx_yaml_unchanged(path: Path, tmp_path: Path):
    form = load_form_file(path)
    sheet = tmp_path / f"{form.id}.xlsx"
    write_form_workbook(form, sheet)
    again, raw = read_form_workbook(sheet)
    assert again == form
    assert raw == form_to_dict(form)
    assert dump_form_yaml(again) == dump_form_yaml(form)
    assert load_form_text(dump_form_yaml(again)) == form
    # The first sheets a person opens: a guide, then the form's details.
    book = load_workbook(sheet, read_only=True)
    assert book.sheetnames == ["Hướng dẫn", "Biểu mẫu", "Mục", "Câu hỏi", "Lựa chọn",
                               "Quy tắc", "Lời văn"]
    questions = list(book["Câu hỏi"].values)
    assert questions[0][:5] == ("Mục", "Mã", "Loại", "Nội dung (vi)", "Nội dung (en)")
    assert len(questions) - 1 == len(form.questions)
    # The words by unit kind survive the spreadsheet: a centre still reads "Trung tâm…".
    for kind in ("school", "centre", "learning_centre"):
        assert again.worded_for(kind) == form.worded_for(kind)


def test_the_wording_sheet_is_the_words_by_unit_kind(tmp_path: Path):
    form = next(load_form_file(p) for p in bundled_form_files()
                if p.stem == "tuan-le-htsd-truong")
    sheet = tmp_path / "truong.xlsx"
    write_form_workbook(form, sheet)
    book = load_workbook(sheet, read_only=True)
    rows = list(book["Lời văn"].values)
    assert rows[0] == ("Loại đơn vị", "Từ", "Lời văn (vi)", "Lời văn (en)")
    assert ("mặc định", "unit", "nhà trường", "school") in rows
    assert ("learning_centre", "plan_no", "45/KH-TTHTCĐ", "45/KH-TTHTCĐ") in rows
    labels = {r[1]: r[3] for r in book["Câu hỏi"].values}
    assert labels["1.1"] == "{Unit} đã ban hành kế hoạch tổ chức Tuần lễ HTSĐ chưa?"
    # An office edits a word on the sheet: the centre's report says it.
    edited = load_workbook(sheet)
    for row in edited["Lời văn"].iter_rows(min_row=2):
        if row[0].value == "learning_centre" and row[1].value == "unit":
            row[2].value = "trung tâm học tập cộng đồng"
    edited.save(sheet)
    again, _raw = read_form_workbook(sheet)
    assert again.worded_for("learning_centre").question("1.1").label.vi.startswith(
        "Trung tâm học tập cộng đồng đã ban hành")
    assert again.question("1.1").label.vi.startswith("Nhà trường đã ban hành")


def test_choices_decimals_dates_rules_and_texts_like_formulas_round_trip(tmp_path: Path):
    form = load_form_text(CHOICE_FORM)
    sheet = tmp_path / "khao-sat.xlsx"
    write_form_workbook(form, sheet)
    again, _raw = read_form_workbook(sheet)
    assert again == form
    assert again.source == "=tự soạn"  # a text starting with "=" is no formula
    assert again.rules[1].check.text() == "[1.4] <= 2 * [1.2] + 10000"
    assert again.previous_check.factor == 8


def test_a_spreadsheet_with_mistakes_is_refused_line_by_line(tmp_path: Path):
    form = next(load_form_file(p) for p in bundled_form_files() if p.stem == "tuan-le-htsd")
    sheet = tmp_path / "mau.xlsx"
    write_form_workbook(form, sheet)
    book = load_workbook(sheet)
    questions = book["Câu hỏi"]
    questions["B5"] = None                 # line 5: no id
    questions["C6"] = "số lượng lớn"       # line 6: an unknown type
    questions["I7"] = "abc"                # line 7: min is no number
    questions["H8"] = "có lẽ"              # line 8: required is neither có nor không
    questions["A9"] = "9"                  # line 9: no such section
    questions["B10"] = "2.1"               # line 10: an id twice
    rules = book["Quy tắc"]
    rules.append(["moi", None, "[4.2] >= [9.9]", "cứng", "x", None])
    rules.append(["moi2", None, "[4.2] >> 3", "cứng", "x", None])
    rules.append(["moi3", None, "[4.2] >= 1", "vừa", "x", None])
    book.save(sheet)
    with pytest.raises(FormSheetError) as refused:
        read_form_workbook(sheet)
    errors = refused.value.errors
    assert "sheet “Câu hỏi”, line 5: the question has no id (column “Mã”)" in errors
    assert any(e.startswith("sheet “Câu hỏi”, line 6: question 2.3: type “số lượng lớn” is "
                            "not one of số lượng, tiền") for e in errors)
    assert "sheet “Câu hỏi”, line 7, min: “abc” is not a number" in errors
    assert "sheet “Câu hỏi”, line 8: write “có” or “không”, not “có lẽ”" in errors
    assert "sheet “Câu hỏi”, line 9: section “9” is not on the sheet “Mục”" in errors
    assert "sheet “Câu hỏi”, line 10: question 2.1 already appears on line 4" in errors
    assert any(e.startswith("sheet “Quy tắc”, line 10 (moi): [9.9] is not a question")
               for e in errors)
    assert any(e.startswith("sheet “Quy tắc”, line 11 (moi2): ") for e in errors)
    assert "sheet “Quy tắc”, line 12: level “vừa” is “cứng” (hard) or “mềm” (soft)" in errors


@pytest.fixture
def env(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("BAOCAO_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def baocao(*args: str):  # noqa: ANN201
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_export_edit_and_load_a_new_version_from_the_command_line(env: Path):
    week = next(p for p in bundled_form_files() if p.stem == "tuan-le-htsd")
    assert baocao("forms", "load", str(week)).exit_code == 0
    result = baocao("forms", "export", "tuan-le-htsd", "--out", "mau.xlsx")
    assert result.exit_code == 0, result.output
    assert "Wrote mau.xlsx: form tuan-le-htsd version 1 (40 questions, 8 rules)" in result.output
    # The same form from the spreadsheet is the same form: already loaded.
    assert "Already loaded: form tuan-le-htsd version 1" in baocao(
        "forms", "load", "mau.xlsx").output
    # Next year's form: version 2, a rule added.
    book = load_workbook(env / "mau.xlsx")
    book["Biểu mẫu"]["B3"] = 2
    book["Quy tắc"].append(["hoi-thao-quy-mo", "[4.1] > 0", "[4.2] >= 5 * [4.1]", "mềm",
                            "Trung bình dưới 5 người một buổi ([4.2], [4.1])", None])
    book.save(env / "mau-2024.xlsx")
    result = baocao("forms", "load", "mau-2024.xlsx")
    assert "Loaded form tuan-le-htsd version 2 (40 questions, 9 rules)" in result.output
    result = baocao("forms", "export", "tuan-le-htsd", "--version", "2", "--out", "mau.yaml")
    assert result.exit_code == 0
    raw = yaml.safe_load((env / "mau.yaml").read_text(encoding="utf-8"))
    assert raw["version"] == 2 and raw["rules"][-1]["check"] == "[4.2] >= 5 * [4.1]"
    # Mistakes: named by sheet and line, nothing loaded.
    book["Câu hỏi"]["C4"] = "???"
    book["Biểu mẫu"]["B3"] = 3
    book.save(env / "sai.xlsx")
    result = runner.invoke(app, ["forms", "load", "sai.xlsx"])
    assert result.exit_code == 1
    assert "Nothing was loaded. Please correct these lines of sai.xlsx" in result.output
    assert "sheet “Câu hỏi”, line 4: question 2.1: type “???”" in result.output
    assert "no form khac" in runner.invoke(app, ["forms", "export", "khac", "--out",
                                                 "k.xlsx"]).output
