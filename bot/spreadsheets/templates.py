"""`baocao units template` / `contacts template`: an .xlsx an office fills in and imports as
it is. The first sheet holds the columns the import reads (in Vietnamese, as the office would
write them); the next sheets say what may go in them."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from bot.admin import CONTACT_LABELS, LANGUAGE_WORDS, ROLE_WORDS, UNIT_LABELS
from conversations.unit_kinds import KINDS

ROWS = 2000  # rows prepared (text format, drop-down lists) for filling in
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def _header(sheet, titles: Iterable[str], widths: Iterable[int]) -> None:  # noqa: ANN001
    sheet.append(list(titles))
    for cell, width in zip(sheet[1], widths, strict=True):
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        sheet.column_dimensions[cell.column_letter].width = width
    sheet.freeze_panes = "A2"


def _as_text(sheet, column: str) -> None:  # noqa: ANN001
    """Codes and phone numbers stay as typed (Excel would drop a phone's leading 0)."""
    for row in range(2, ROWS + 2):
        sheet[f"{column}{row}"].number_format = "@"


def _choices(sheet, column: str, source: str, prompt: str) -> None:  # noqa: ANN001
    rule = DataValidation(type="list", formula1=source, allow_blank=True)
    rule.error = prompt
    rule.errorTitle = "Giá trị không hợp lệ"
    rule.prompt = prompt
    rule.showErrorMessage = True
    rule.errorStyle = "warning"  # other spellings are still accepted by the import
    sheet.add_data_validation(rule)
    rule.add(f"{column}2:{column}{ROWS + 1}")


def units_template(path: Path, campaign_kinds: Iterable[str] = ()) -> None:
    book = Workbook()
    units = book.active
    units.title = "Đơn vị"
    _header(units, [UNIT_LABELS[c] for c in ("code", "name", "kind", "parent_code")],
            (16, 44, 18, 22))
    _as_text(units, "A")
    _as_text(units, "D")

    kinds = book.create_sheet("Loại đơn vị")
    _header(kinds, ["Loại (ghi vào cột Loại)", "Mã loại", "Cũng hiểu các cách viết"],
            (22, 18, 90))
    usual = {k.id for k in KINDS}
    for kind in KINDS:
        kinds.append([kind.vi.split("/")[0], kind.id, ", ".join(kind.vi.split("/")[1:]
                                                                + list(kind.words))])
    for extra in sorted(set(campaign_kinds) - usual):
        kinds.append([extra, extra, "(loại do chiến dịch đã nạp dùng)"])
    _choices(units, "C", f"='Loại đơn vị'!$A$2:$A${kinds.max_row}",
             "Chọn loại đơn vị: xã, phường, đặc khu, trường, TTHTCĐ…")

    guide = book.create_sheet("Hướng dẫn")
    _header(guide, ["Cột", "Ghi gì", "Ví dụ"], (22, 70, 30))
    for row in (
        ("Mã", "Mã ngắn, không trùng, dùng để gửi mã mời và tra cứu (chữ, số, '-' và '.')",
         "X-ANLAO"),
        ("Tên", "Tên đầy đủ của đơn vị", "Xã An Lão"),
        ("Loại", "Một loại ở trang “Loại đơn vị”, có dấu hay không dấu đều được", "xã"),
        ("Mã đơn vị cấp trên", "Mã của đơn vị quản lý trực tiếp; để trống với cấp cao nhất",
         "HP"),
    ):
        guide.append(list(row))
    guide.append([])
    guide.append(["Ví dụ", "HP · Thành phố Hải Phòng · thành phố · (trống)", ""])
    guide.append(["", "X-ANLAO · Xã An Lão · xã · HP", ""])
    guide.append(["", "TH-ANLAO · Trường Tiểu học An Lão · trường · X-ANLAO", ""])
    guide.append(["", "Nạp bằng lệnh: baocao units import don-vi.xlsx", ""])
    book.save(path)


def contacts_template(path: Path) -> None:
    book = Workbook()
    people = book.active
    people.title = "Người dùng"
    _header(people, [CONTACT_LABELS[c] for c in ("name", "phone", "unit_code", "role",
                                                 "language")], (30, 18, 16, 16, 12))
    _as_text(people, "B")
    _as_text(people, "C")

    lists = book.create_sheet("Danh mục")
    _header(lists, ["Vai trò", "Nghĩa", "Ngôn ngữ", "Nghĩa"], (16, 60, 12, 20))
    meanings = {"reporter": "nhập và nộp báo cáo của đơn vị",
                "coordinator": "xem tổng hợp, đơn vị chưa nộp, xuất tệp của các đơn vị cấp "
                               "dưới",
                "admin": "quản trị bot; nhận cảnh báo"}
    languages = {"vi": "Tiếng Việt", "en": "English"}
    rows = max(len(ROLE_WORDS), len(LANGUAGE_WORDS))
    role_items, language_items = list(ROLE_WORDS.items()), list(LANGUAGE_WORDS)
    for i in range(rows):
        role = role_items[i] if i < len(role_items) else None
        language = language_items[i] if i < len(language_items) else None
        lists.append([role[1][0] if role else None, meanings[role[0]] if role else None,
                      language, languages.get(language or "")])
    _choices(people, "D", f"='Danh mục'!$A$2:$A${len(ROLE_WORDS) + 1}",
             "báo cáo, tổng hợp hoặc quản trị")
    _choices(people, "E", '"vi,en"', "vi (Tiếng Việt) hoặc en (English)")

    guide = book.create_sheet("Hướng dẫn")
    _header(guide, ["Cột", "Ghi gì", "Ví dụ"], (22, 70, 30))
    for row in (
        ("Họ tên", "Họ và tên người dùng", "Nguyễn Thị Thu"),
        ("Số điện thoại", "Số điện thoại di động; người dùng Telegram đăng nhập bằng cách "
                          "chia sẻ số này", "0912 345 678"),
        ("Mã đơn vị", "Mã đơn vị (đã nạp) mà người này báo cáo hoặc tổng hợp; một người "
                      "nhiều đơn vị thì ghi nhiều dòng", "X-ANLAO"),
        ("Vai trò", "báo cáo, tổng hợp hoặc quản trị", "báo cáo"),
        ("Ngôn ngữ", "vi hoặc en; để trống là vi", "vi"),
    ):
        guide.append(list(row))
    guide.append([])
    guide.append(["", "Nạp bằng lệnh: baocao contacts import nguoi-dung.xlsx", ""])
    book.save(path)
