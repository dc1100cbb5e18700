"""Report forms in a spreadsheet, for offices that author them in Excel: one row per question,
a sheet of sections, a sheet of rules (and one of choices), with the form's own details on a
first sheet. `baocao forms export KEY --out FORM.xlsx` writes it from any loaded form, so an
office copies last year's form and edits it; `baocao forms load FORM.xlsx` reads it back, with
every mistake named by its sheet and line. The YAML stays the source format in the repo: a
form goes YAML → XLSX → YAML unchanged (conversations.forms.form_to_dict is the common shape).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from bot.spreadsheets.workbooks import read_workbook
from conversations.forms import (
    Form,
    FormError,
    _question,
    form_to_dict,
    parse_form,
)
from conversations.number_parsing import NumberError, parse_number
from conversations.rules import RuleError, parse_rule
from conversations.text_normalise import fold
from conversations.uploaded_workbook import SheetRows

FORM_SHEET, SECTIONS_SHEET, QUESTIONS_SHEET = "Biểu mẫu", "Mục", "Câu hỏi"
CHOICES_SHEET, RULES_SHEET, GUIDE_SHEET = "Lựa chọn", "Quy tắc", "Hướng dẫn"
WORDING_SHEET, DEFAULT_KIND = "Lời văn", "mặc định"

# Question types and rule levels as an office writes them; the first word is the one written.
TYPE_WORDS: dict[str, tuple[str, ...]] = {
    "count": ("số lượng", "số đếm", "count"),
    "money": ("tiền", "số tiền", "money"),
    "number": ("số", "số thập phân", "number"),
    "yes_no": ("có/không", "có không", "yes/no", "yes_no"),
    "choice": ("lựa chọn", "chọn", "choice"),
    "text": ("văn bản", "lời văn", "text"),
    "date": ("ngày", "ngày tháng", "date"),
}
LEVEL_WORDS: dict[str, tuple[str, ...]] = {
    "hard": ("cứng", "bắt buộc", "hard"),
    "soft": ("mềm", "hỏi lại", "soft"),
}
YES_WORDS = {"co", "x", "yes", "true", "1", "bat buoc", "dung"}
NO_WORDS = {"khong", "no", "false", "0", "k", "ko", ""}

# (key, header written, other headers accepted) per sheet.
FORM_FIELDS = (("id", "Mã biểu mẫu", ("id", "ma")), ("version", "Phiên bản", ("version",)),
               ("title_vi", "Tên (vi)", ("title vi", "ten")), ("title_en", "Tên (en)",
                                                               ("title en",)),
               ("description_vi", "Mô tả (vi)", ("description vi", "mo ta")),
               ("description_en", "Mô tả (en)", ("description en",)),
               ("source", "Nguồn", ("source",)),
               ("factor", "So sánh kỳ trước: hệ số", ("previous factor",)),
               ("min_value", "So sánh kỳ trước: bỏ qua khi cả hai nhỏ hơn",
                ("previous min value",)))
SECTION_COLUMNS = (("id", "Mã mục", ("id", "ma", "muc")),
                   ("title_vi", "Tên mục (vi)", ("title vi", "ten muc", "ten")),
                   ("title_en", "Tên mục (en)", ("title en",)),
                   ("help_vi", "Hướng dẫn (vi)", ("help vi", "huong dan")),
                   ("help_en", "Hướng dẫn (en)", ("help en",)))
QUESTION_COLUMNS = (("section", "Mục", ("section", "ma muc")), ("id", "Mã", ("id", "ma cau")),
                    ("type", "Loại", ("type",)),
                    ("label_vi", "Nội dung (vi)", ("label vi", "noi dung")),
                    ("label_en", "Nội dung (en)", ("label en",)),
                    ("unit_vi", "Đơn vị tính (vi)", ("unit vi", "unit", "don vi tinh")),
                    ("unit_en", "Đơn vị tính (en)", ("unit en",)),
                    ("required", "Bắt buộc", ("required",)),
                    ("min", "Nhỏ nhất", ("min",)), ("max", "Lớn nhất", ("max",)),
                    ("soft_max", "Ngưỡng hỏi lại", ("soft max", "soft_max")),
                    ("note", "Có ghi chú", ("note", "note allowed", "ghi chu")),
                    ("main", "Số liệu chính", ("main",)),
                    ("help_vi", "Hướng dẫn (vi)", ("help vi", "help", "huong dan")),
                    ("help_en", "Hướng dẫn (en)", ("help en",)))
CHOICE_COLUMNS = (("question", "Mã câu hỏi", ("question", "cau hoi", "ma")),
                  ("id", "Mã lựa chọn", ("id", "choice")),
                  ("label_vi", "Nhãn (vi)", ("label vi", "nhan")),
                  ("label_en", "Nhãn (en)", ("label en",)))
RULE_COLUMNS = (("id", "Mã quy tắc", ("id", "ma")),
                ("when", "Khi (điều kiện)", ("when", "khi", "dieu kien")),
                ("check", "Kiểm tra", ("check",)), ("level", "Mức", ("level",)),
                ("message_vi", "Thông báo (vi)", ("message vi", "thong bao")),
                ("message_en", "Thông báo (en)", ("message en",)))
WORDING_COLUMNS = (("kind", "Loại đơn vị", ("kind", "loai")), ("word", "Từ", ("word", "ten")),
                   ("text_vi", "Lời văn (vi)", ("vi", "loi van")),
                   ("text_en", "Lời văn (en)", ("en",)))

_BOLD = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_WRAP = Alignment(wrap_text=True, vertical="top")


class FormSheetError(FormError):
    """A form spreadsheet with mistakes; `errors` names each by sheet and line."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


# ----------------------------------------------------------------------------- writing

def write_form_workbook(form: Form, path: Path) -> None:
    form = form.template or form  # as written: {unit} left in, the words on their own sheet
    raw = form_to_dict(form)
    wb = Workbook()
    guide = wb.active
    guide.title = GUIDE_SHEET
    _guide(guide)
    sheet = wb.create_sheet(FORM_SHEET)
    _header(sheet, ["Thuộc tính", "Giá trị"], [44, 90])
    check = raw["previous_period"]
    values = {"id": form.id, "version": form.version, "title_vi": form.title.vi,
              "title_en": form.title.en, "description_vi": form.description.vi,
              "description_en": form.description.en, "source": form.source,
              "factor": check["factor"], "min_value": check["min_value"]}
    for key, header, _ in FORM_FIELDS:
        _append(sheet, [header, _text_cell(values[key])])
    for row in sheet.iter_rows(min_row=2, min_col=2):
        for cell in row:
            cell.alignment = _WRAP
    sections = wb.create_sheet(SECTIONS_SHEET)
    _header(sections, [h for _, h, _ in SECTION_COLUMNS], [10, 60, 60, 50, 50])
    for s in form.sections:
        _append(sections, _texts([s.id, s.title.vi, s.title.en, s.help.vi, s.help.en]))
    questions = wb.create_sheet(QUESTIONS_SHEET)
    _header(questions, [h for _, h, _ in QUESTION_COLUMNS],
            [8, 8, 12, 60, 60, 14, 14, 10, 10, 10, 14, 11, 12, 50, 50])
    for s in raw["sections"]:
        for q in s["questions"]:
            _append(questions, [
                _text_cell(s["id"]), _text_cell(q["id"]), TYPE_WORDS[q["type"]][0],
                _text_cell(q["label"]["vi"]), _text_cell(q["label"]["en"]),
                _text_cell((q.get("unit") or {}).get("vi", "")),
                _text_cell((q.get("unit") or {}).get("en", "")), _yes_no(q["required"]),
                q.get("min"), q.get("max"), q.get("soft_max"), _yes_no(q["note"]),
                _yes_no(q["main"]), _text_cell((q.get("help") or {}).get("vi", "")),
                _text_cell((q.get("help") or {}).get("en", ""))])
    types = DataValidation(type="list", formula1='"' + ",".join(
        w[0] for w in TYPE_WORDS.values()) + '"', allow_blank=True)
    booleans = DataValidation(type="list", formula1='"có,không"', allow_blank=True)
    questions.add_data_validation(types)
    questions.add_data_validation(booleans)
    types.add("C2:C2000")
    for column in ("H", "L", "M"):
        booleans.add(f"{column}2:{column}2000")
    choices = wb.create_sheet(CHOICES_SHEET)
    _header(choices, [h for _, h, _ in CHOICE_COLUMNS], [12, 16, 50, 50])
    for q in form.questions:
        for c in q.choices:
            _append(choices, _texts([q.id, c.id, c.label.vi, c.label.en]))
    rules = wb.create_sheet(RULES_SHEET)
    _header(rules, [h for _, h, _ in RULE_COLUMNS], [22, 24, 30, 8, 70, 70])
    levels = DataValidation(type="list", formula1='"cứng,mềm"', allow_blank=True)
    rules.add_data_validation(levels)
    levels.add("D2:D1000")
    for rule in raw.get("rules") or []:
        message = rule.get("message") or {}
        _append(rules, _texts([rule["id"], rule.get("when", ""), rule["check"],
                             LEVEL_WORDS[rule["level"]][0], message.get("vi", ""),
                             message.get("en", "")]))
    wording = wb.create_sheet(WORDING_SHEET)
    _header(wording, [h for _, h, _ in WORDING_COLUMNS], [20, 14, 40, 40])
    for kind, words in (raw.get("wording") or {}).items():
        for word, text in words.items():
            _append(wording, _texts([DEFAULT_KIND if kind == "default" else kind, word,
                                     text["vi"], text["en"]]))
    for ws in (sections, questions, choices, rules, wording):
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                cell.alignment = _WRAP
    wb.active = wb.sheetnames.index(QUESTIONS_SHEET)
    wb.save(path)


def _guide(ws: Any) -> None:
    ws.column_dimensions["A"].width = 110
    lines = [
        "Biểu mẫu báo cáo: mỗi dòng của trang “Câu hỏi” là một câu hỏi, theo thứ tự in trên mẫu.",
        "Trang “Biểu mẫu”: mã, phiên bản (mẫu mới mỗi năm: tăng phiên bản), tên, mô tả, nguồn;"
        " so sánh với báo cáo kỳ trước của đơn vị (hệ số 0 = không so sánh).",
        "Trang “Mục”: các mục của mẫu (1, 2, …; phần lời văn I, II.2, …).",
        "Trang “Câu hỏi”: Mục, Mã (như in trên mẫu, ví dụ 4.2), Loại (" + ", ".join(
            w[0] for w in TYPE_WORDS.values()) + "), Nội dung, Đơn vị tính, Bắt buộc (có/không),"
        " Nhỏ nhất, Lớn nhất, Ngưỡng hỏi lại (trên mức này bot hỏi lại), Có ghi chú, Số liệu"
        " chính (hiện trong tổng hợp), Hướng dẫn. Cột (en) có thể để trống: dùng tiếng Việt.",
        "Trang “Lựa chọn”: các lựa chọn của câu hỏi loại “lựa chọn”.",
        "Trang “Quy tắc”: quy tắc giữa các con số. Câu hỏi viết trong ngoặc vuông: [5.2] >= [5.1];"
        " [8.1] + [8.2] > 0. So sánh: >=, <=, >, <, =, !=. “Khi” (không bắt buộc): quy tắc chỉ"
        " áp dụng khi điều kiện đúng, ví dụ Khi [8.3] > 0, Kiểm tra [8.1] + [8.2] > 0.",
        "Mức “cứng”: con số không được lưu, bot báo thông báo của quy tắc. Mức “mềm”: bot hỏi"
        " lại; nếu đơn vị giữ nguyên, con số được lưu kèm lý do “cần kiểm tra”.",
        "Trang “Lời văn” (không bắt buộc): từ ngữ theo loại đơn vị. Nội dung viết {unit} (hoặc"
        " {Unit}: viết hoa chữ đầu) thì bot thay bằng từ của đơn vị báo cáo: dòng “mặc định”"
        " unit = nhà trường; dòng “learning_centre” unit = trung tâm. Mỗi loại đơn vị chỉ ghi"
        " những từ nó nói khác.",
        "Nạp mẫu: baocao forms load TEN_TEP.xlsx — lỗi được báo theo trang và dòng.",
    ]
    ws.append(["Hướng dẫn soạn biểu mẫu"])
    ws["A1"].font = Font(bold=True, size=14)
    for line in lines:
        ws.append([line])
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = _WRAP


def _header(ws: Any, titles: Sequence[str], widths: Sequence[int]) -> None:
    ws.append(list(titles))
    for index, cell in enumerate(ws[1], start=1):
        cell.font, cell.fill, cell.alignment = _BOLD, _HEADER_FILL, _WRAP
        ws.column_dimensions[cell.column_letter].width = widths[index - 1]
    ws.freeze_panes = "A2"


def _text_cell(value: Any) -> Any:
    """Empty text is an empty cell."""
    return None if value == "" else value


def _texts(values: list[Any]) -> list[Any]:
    return [_text_cell(v) for v in values]


def _append(ws: Any, values: list[Any]) -> None:
    """A row whose texts stay texts: openpyxl would take "=…" for a formula."""
    ws.append(values)
    for cell in ws[ws.max_row]:
        if isinstance(cell.value, str) and cell.value.startswith("="):
            cell.data_type = "s"


def _yes_no(value: bool) -> str:
    return "có" if value else "không"


# ----------------------------------------------------------------------------- reading

def read_form_workbook(path: Path) -> tuple[Form, dict[str, Any]]:
    """The form and its canonical mapping (stored as the form's definition), or
    FormSheetError listing every mistake by sheet and line."""
    upload = read_workbook(path, path.name)
    if upload.problem:
        raise FormSheetError([f"{path.name}: not a readable Excel (.xlsx) file"])
    errors: list[str] = []
    sheets = {fold(s.name): s for s in upload.sheets}

    def sheet(name: str, english: str) -> SheetRows | None:
        found = sheets.get(fold(name)) or sheets.get(english)
        if found is None:
            errors.append(f"the sheet “{name}” is missing")
        return found

    form_sheet = sheet(FORM_SHEET, "form")
    section_sheet = sheet(SECTIONS_SHEET, "sections")
    question_sheet = sheet(QUESTIONS_SHEET, "questions")
    choice_sheet = sheets.get(fold(CHOICES_SHEET)) or sheets.get("choices")
    rule_sheet = sheets.get(fold(RULES_SHEET)) or sheets.get("rules")
    wording_sheet = sheets.get(fold(WORDING_SHEET)) or sheets.get("wording")
    if errors:
        raise FormSheetError(errors)
    assert form_sheet and section_sheet and question_sheet
    details = _details(form_sheet, errors)
    raw: dict[str, Any] = {"id": details.get("id", ""), "version": details.get("version"),
                           "title": _text_pair(details, "title"),
                           "description": _text_pair(details, "description", optional=True),
                           "source": details.get("source") or ""}
    if not raw["description"]:
        raw.pop("description")
    if not raw["source"]:
        raw.pop("source")
    factor = _number(details.get("factor"), f"sheet “{FORM_SHEET}”, {FORM_FIELDS[7][1]}",
                     errors)
    minimum = _number(details.get("min_value"), f"sheet “{FORM_SHEET}”, {FORM_FIELDS[8][1]}",
                      errors)
    if factor is not None or minimum is not None:
        raw["previous_period"] = {k: v for k, v in (("factor", factor),
                                                    ("min_value", minimum)) if v is not None}
    if not raw["id"]:
        errors.append(f"sheet “{FORM_SHEET}”: “{FORM_FIELDS[0][1]}” is empty")
    section_rows = list(_table(section_sheet, SECTION_COLUMNS, errors))
    sections: dict[str, dict[str, Any]] = {}
    for line, row in section_rows:
        sid = _plain(row.get("id"))
        where = f"sheet “{SECTIONS_SHEET}”, line {line}"
        if not sid:
            errors.append(f"{where}: the section has no id")
            continue
        if sid in sections:
            errors.append(f"{where}: section {sid} appears twice")
            continue
        if not _plain(row.get("title_vi")):
            errors.append(f"{where}: section {sid} has no title (vi)")
        sections[sid] = {"id": sid, "title": _pair(row, "title"),
                         **({"help": _pair(row, "help")} if _plain(row.get("help_vi")) else {}),
                         "questions": []}
    choices: dict[str, list[dict[str, Any]]] = {}
    for line, row in (_table(choice_sheet, CHOICE_COLUMNS, errors) if choice_sheet else ()):
        qid = _plain(row.get("question"))
        if qid:
            choices.setdefault(qid, []).append(
                {"id": _plain(row.get("id")), "label": _pair(row, "label"), "_line": line})
    seen: dict[str, int] = {}
    for line, row in _table(question_sheet, QUESTION_COLUMNS, errors):
        where = f"sheet “{QUESTIONS_SHEET}”, line {line}"
        question, sid = _question_raw(row, where, choices, errors)
        if question is None:
            continue
        if sid not in sections:
            errors.append(f"{where}: section “{sid}” is not on the sheet “{SECTIONS_SHEET}”")
            continue
        if question["id"] in seen:
            errors.append(f"{where}: question {question['id']} already appears on line "
                          f"{seen[question['id']]}")
            continue
        seen[question["id"]] = line
        try:
            _question(question, sid, where)
        except FormError as exc:
            errors.append(str(exc))
            continue
        sections[sid]["questions"].append(question)
    for qid, listed in choices.items():
        if qid not in seen:
            errors.append(f"sheet “{CHOICES_SHEET}”, line {listed[0]['_line']}: question "
                          f"{qid} is not on the sheet “{QUESTIONS_SHEET}”")
    for sid, section in sections.items():
        if not section["questions"]:
            errors.append(f"sheet “{SECTIONS_SHEET}”: section {sid} has no question")
    raw["sections"] = list(sections.values())
    rules = []
    types = {q["id"]: q["type"] for s in raw["sections"] for q in s["questions"]
             if q["type"] in ("count", "money", "number", "yes_no")}
    for line, row in (_table(rule_sheet, RULE_COLUMNS, errors) if rule_sheet else ()):
        rule = _rule_raw(row, line, errors)
        if rule is None:
            continue
        try:
            parse_rule(rule, f"sheet “{RULES_SHEET}”, line {line}", types)
        except RuleError as exc:
            errors.append(str(exc))
            continue
        rules.append(rule)
    if rules:
        raw["rules"] = rules
    wording = _wording_raw(wording_sheet, errors) if wording_sheet else {}
    if wording:
        raw["wording"] = wording
    if errors:
        raise FormSheetError(errors)
    try:
        form = parse_form(raw, path.name)
    except FormError as exc:
        raise FormSheetError([str(exc)]) from None
    return form, form_to_dict(form)


def _wording_raw(ws: SheetRows, errors: list[str]) -> dict[str, Any]:
    """The sheet “Lời văn” as the form's wording block: words per unit kind."""
    out: dict[str, dict[str, Any]] = {}
    for line, row in _table(ws, WORDING_COLUMNS, errors):
        kind = _plain(row.get("kind"))
        kind = "default" if fold(kind) in ("", fold(DEFAULT_KIND), "default") else kind
        word = _plain(row.get("word"))
        if not word or not _plain(row.get("text_vi")):
            errors.append(f"sheet “{WORDING_SHEET}”, line {line}: write the word and its "
                          f"text (vi)")
            continue
        out.setdefault(kind, {})[word] = _pair(row, "text")
    return out


def _details(ws: SheetRows, errors: list[str]) -> dict[str, Any]:
    keys = {fold(header): key for key, header, _ in FORM_FIELDS}
    for key, _header_text, others in FORM_FIELDS:
        for other in others:
            keys.setdefault(fold(other), key)
    found: dict[str, Any] = {}
    for line, values in ws.rows:
        if line == 1 or not values or values[0] is None:
            continue
        key = keys.get(fold(str(values[0])))
        if key is None:
            errors.append(f"sheet “{FORM_SHEET}”, line {line}: unknown item “{values[0]}”")
            continue
        value = values[1] if len(values) > 1 else None
        if key == "version" and value is not None:
            number = _number(value, f"sheet “{FORM_SHEET}”, line {line}", errors)
            if number is None or number != int(number) or number < 1:
                errors.append(f"sheet “{FORM_SHEET}”, line {line}: the version is a whole "
                              f"number from 1")
                continue
            value = int(number)
        found[key] = value if not isinstance(value, str) else value.strip()
    return found


def _table(ws: SheetRows, columns: tuple[tuple[str, str, tuple[str, ...]], ...],
           errors: list[str]) -> list[tuple[int, dict[str, Any]]]:
    """The rows under the header row, as {column key: value}, with their line numbers."""
    if not ws.rows:
        return []
    header_line, header = ws.rows[0]
    names = {fold(h): key for key, h, _ in columns}
    for key, _h, others in columns:
        for other in others:
            names.setdefault(fold(other), key)
    where: dict[int, str] = {}
    for index, title in enumerate(header):
        if title is None:
            continue
        key = names.get(fold(str(title)).strip())
        if key is None:
            errors.append(f"sheet “{ws.name}”, line {header_line}: unknown column “{title}”")
        elif key in where.values():
            errors.append(f"sheet “{ws.name}”, line {header_line}: column “{title}” twice")
        else:
            where[index] = key
    rows = []
    for line, values in ws.rows[1:]:
        row = {key: values[index] for index, key in where.items() if index < len(values)}
        if any(v is not None for v in row.values()):
            rows.append((line, row))
    return rows


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _pair(row: dict[str, Any], name: str) -> dict[str, str]:
    vi = _plain(row.get(f"{name}_vi"))
    en = _plain(row.get(f"{name}_en"))
    return {"vi": vi, "en": en or vi}


def _text_pair(details: dict[str, Any], name: str, optional: bool = False
               ) -> dict[str, str] | None:
    vi = _plain(details.get(f"{name}_vi"))
    if optional and not vi:
        return None
    return {"vi": vi, "en": _plain(details.get(f"{name}_en")) or vi}


def _number(value: Any, where: str, errors: list[str]) -> int | float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        errors.append(f"{where}: “{value}” is not a number")
        return None
    if isinstance(value, int | float):
        number = Decimal(format(value, ".15g")) if isinstance(value, float) else Decimal(value)
    else:
        try:
            number = parse_number(str(value))
        except NumberError:
            errors.append(f"{where}: “{value}” is not a number")
            return None
    return int(number) if number == number.to_integral_value() else float(number)


def _flag(value: Any, default: bool, where: str, errors: list[str]) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    word = fold(_plain(value))
    if word in YES_WORDS:
        return True
    if word in NO_WORDS:
        return False
    errors.append(f"{where}: write “có” or “không”, not “{value}”")
    return default


def _kind(value: Any, words: dict[str, tuple[str, ...]]) -> str | None:
    folded = fold(_plain(value))
    for key, spellings in words.items():
        if folded in {fold(w) for w in spellings}:
            return key
    return None


def _question_raw(row: dict[str, Any], where: str, choices: dict[str, list[dict[str, Any]]],
                  errors: list[str]) -> tuple[dict[str, Any] | None, str]:
    qid, sid = _plain(row.get("id")), _plain(row.get("section"))
    if not qid:
        errors.append(f"{where}: the question has no id (column “Mã”)")
        return None, sid
    if not sid:
        errors.append(f"{where}: question {qid} has no section (column “Mục”)")
        return None, sid
    qtype = _kind(row.get("type"), TYPE_WORDS)
    if qtype is None:
        errors.append(f"{where}: question {qid}: type “{_plain(row.get('type'))}” is not one "
                      f"of {', '.join(w[0] for w in TYPE_WORDS.values())}")
        return None, sid
    if not _plain(row.get("label_vi")):
        errors.append(f"{where}: question {qid} has no label (vi)")
        return None, sid
    raw: dict[str, Any] = {"id": qid, "type": qtype, "label": _pair(row, "label"),
                           "required": _flag(row.get("required"), True, where, errors)}
    for key in ("min", "max", "soft_max"):
        number = _number(row.get(key), f"{where}, {key}", errors)
        if number is not None:
            raw[key] = number
    if _plain(row.get("unit_vi")):
        raw["unit"] = _pair(row, "unit")
    if _plain(row.get("help_vi")):
        raw["help"] = _pair(row, "help")
    if qtype == "choice":
        raw["choices"] = [{"id": c["id"], "label": c["label"]} for c in choices.get(qid, [])]
        if len(raw["choices"]) < 2:
            errors.append(f"{where}: question {qid} is a choice: list at least two choices "
                          f"on the sheet “{CHOICES_SHEET}”")
            return None, sid
    raw["note"] = _flag(row.get("note"), qtype != "text", where, errors)
    raw["main"] = _flag(row.get("main"), False, where, errors)
    return raw, sid


def _rule_raw(row: dict[str, Any], line: int, errors: list[str]) -> dict[str, Any] | None:
    where = f"sheet “{RULES_SHEET}”, line {line}"
    rule: dict[str, Any] = {"id": _plain(row.get("id"))}
    if not rule["id"]:
        errors.append(f"{where}: the rule has no id")
        return None
    if _plain(row.get("when")):
        rule["when"] = _plain(row.get("when"))
    rule["check"] = _plain(row.get("check"))
    level = _kind(row.get("level") or "cứng", LEVEL_WORDS)
    if level is None:
        errors.append(f"{where}: level “{_plain(row.get('level'))}” is “cứng” (hard) or "
                      f"“mềm” (soft)")
        return None
    rule["level"] = level
    if _plain(row.get("message_vi")):
        rule["message"] = _pair(row, "message")
    return rule


__all__ = ["FormSheetError", "read_form_workbook", "write_form_workbook"]
