"""Invite letters: one page per unit, laid out as an administrative letter (Nghị định
30/2020/NĐ-CP: the issuing body and the national heading, place and date, "Kính gửi", the
signature block and "Nơi nhận"), with the unit's code, the QR code of its Telegram link and
how to sign in on Telegram and on Zalo. Written as .docx (to edit) and converted to PDF (to
print) by LibreOffice, when it is installed."""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import segno
from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt
from docx.text.paragraph import Paragraph

from bot.exports.letterhead import Letterhead, official_date
from bot.exports.xlsx_export import clean_text

FONT = "Times New Roman"
BODY_PT = 13
PDF_TIMEOUT = 120  # seconds; LibreOffice starting cold on a busy machine takes a while
PDF_SECONDS_PER_PAGE = 0.5  # and a province's 3,000 letters take minutes more
PLACE_BLANK = "......"


class PdfUnavailable(RuntimeError):
    """LibreOffice is not installed, or did not convert in time; the .docx still works."""


@dataclass(frozen=True)
class LetterPage:
    """What one unit's letter says."""

    unit_name: str
    unit_code: str
    code: str
    link: str            # the Telegram deep link; "" when the bot's username is not known
    bot_name: str        # "@baocao_bot", or ""
    expires_at: datetime | None
    uses: int


@dataclass(frozen=True)
class Letters:
    """A set of letters: the office that sends them and the campaign they are for."""

    letterhead: Letterhead
    campaign_title: str
    deadline: str        # "trước ngày 13/10/2023", or ""
    timezone: str
    made_at: datetime
    pages: list[LetterPage]
    sender: str = ""     # the sending unit's name as written ("Xã An Lão"), for the text


def in_text(issuer: str, sender: str = "") -> str:
    """The office's name inside a sentence, as written ("UBND xã An Lão", never "Ubnd Xã"):
    the sending unit's own name when the letterhead is that name in capitals; a name set
    all in capitals elsewhere (the settings) is softened to "Ủy Ban …"."""
    name, own = clean_text(issuer).strip(), clean_text(sender).strip()
    if own and name.upper() == own.upper():
        return own
    return name.title() if name.isupper() else name


def spaced(code: str) -> str:
    """A code as printed: two groups of five, easier to copy by hand (the hyphen is read)."""
    return f"{code[:5]}-{code[5:]}" if len(code) == 10 else code


def pdf_available() -> bool:
    return _soffice() is not None


def _soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def write_docx(letters: Letters) -> bytes:
    """The letters, a section (so a page) per unit."""
    document = Document()
    style = document.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(BODY_PT)
    style.paragraph_format.space_after = Pt(4)
    style.paragraph_format.space_before = Pt(0)
    style.paragraph_format.line_spacing = 1.0
    props = document.core_properties
    props.author = props.last_modified_by = clean_text(letters.letterhead.issuer) or "baocao"
    props.title = f"Thư mời báo cáo {clean_text(letters.campaign_title)}"
    props.language = "vi-VN"
    for number, page in enumerate(letters.pages):
        section = document.sections[0] if number == 0 else document.add_section(
            WD_SECTION.NEW_PAGE)
        section.page_width, section.page_height = Cm(21), Cm(29.7)
        section.top_margin, section.bottom_margin = Cm(1.5), Cm(1.5)
        section.left_margin, section.right_margin = Cm(3), Cm(2)
        _page(document, letters, page)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _para(document: Document, text: str = "", *, bold: bool = False, italic: bool = False,
          size: int = BODY_PT, align: WD_ALIGN_PARAGRAPH | None = None,
          after: int = 4) -> Paragraph:
    paragraph = document.add_paragraph()
    if text:
        run = paragraph.add_run(text)
        run.bold, run.italic, run.font.size = bold, italic, Pt(size)
    if align is not None:
        paragraph.alignment = align
    paragraph.paragraph_format.space_after = Pt(after)
    return paragraph


def _cell_lines(cell: object, lines: list[tuple[str, bool, bool, int]]) -> None:
    """Lines (text, bold, italic, size) centred in a heading cell."""
    first = True
    for text, bold, italic, size in lines:
        paragraph = cell.paragraphs[0] if first else cell.add_paragraph()  # type: ignore
        first = False
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.paragraph_format.space_after = Pt(0)
        run = paragraph.add_run(text)
        run.bold, run.italic, run.font.size = bold, italic, Pt(size)


def _two_columns(document: Document, left: Cm, right: Cm) -> tuple[Any, Any]:
    """A borderless two-column row of fixed widths (the heading, the signature block)."""
    table = document.add_table(rows=1, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for column, width in zip(table.columns, (left, right), strict=True):
        column.width = width
        for cell in column.cells:
            cell.width = width
    first, second = table.rows[0].cells
    return first, second


def _page(document: Document, letters: Letters, page: LetterPage) -> None:
    head = letters.letterhead
    local = letters.made_at.astimezone(ZoneInfo(letters.timezone))
    day, month, year = official_date(local.date())
    place = clean_text(head.place) or PLACE_BLANK
    left, right = _two_columns(document, Cm(6), Cm(10))
    issuer = [(clean_text(head.issuer_above).upper(), False, False, 12)] \
        if head.issuer_above else []
    issuer += [(clean_text(head.issuer).upper(), True, False, 12), ("———", False, False, 10),
               (f"Số:        /{head.symbol.split('-')[-1] or 'VP'}", False, False, 12)]
    _cell_lines(left, issuer)
    _cell_lines(right, [("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", True, False, 12),
                        ("Độc lập - Tự do - Hạnh phúc", True, False, 13),
                        ("———————", False, False, 10),
                        (f"{place}, ngày {day} tháng {month} năm {year}", False, True, 13)])
    _para(document, after=14)
    _para(document, "THƯ MỜI", bold=True, size=14, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    _para(document, f"V/v báo cáo {clean_text(letters.campaign_title)} qua Telegram, Zalo",
          bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=12)
    kinh_gui = _para(document, align=WD_ALIGN_PARAGRAPH.CENTER, after=12)
    kinh_gui.add_run("Kính gửi: ")
    kinh_gui.add_run(clean_text(page.unit_name)).bold = True
    due = f", hạn nộp {letters.deadline}" if letters.deadline else ""
    _para(document, f"Để tổng hợp báo cáo {clean_text(letters.campaign_title)}{due}, "
                    f"{in_text(head.issuer, letters.sender) or 'cơ quan thường trực'} mời đơn vị "
                    "gửi báo cáo qua trợ lý báo cáo trên Telegram hoặc Zalo: trợ lý hỏi "
                    "từng chỉ tiêu, đơn vị trả lời bằng tin nhắn, xem lại và nộp; có thể sửa "
                    "trước hạn.", align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    _para(document, f"Mã đăng nhập của đơn vị (mã đơn vị {page.unit_code}):",
          align=WD_ALIGN_PARAGRAPH.JUSTIFY, after=2)
    _para(document, spaced(page.code), bold=True, size=22, align=WD_ALIGN_PARAGRAPH.CENTER,
          after=2)
    if page.link:
        qr = io.BytesIO()
        segno.make(page.link, error="m").save(qr, kind="png", scale=8, border=2)
        qr.seek(0)
        picture = _para(document, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
        picture.add_run().add_picture(qr, width=Cm(3.8))
        _para(document, "Quét mã QR bằng camera điện thoại để mở Telegram", italic=True,
              size=11, align=WD_ALIGN_PARAGRAPH.CENTER, after=6)
    _para(document, "Cách đăng nhập trên Telegram:", bold=True, after=3)
    where = (f"quét mã QR ở trên, hoặc mở đường dẫn {page.link}" if page.link else
             f"tìm tài khoản {page.bot_name} trên Telegram" if page.bot_name else
             "mở tài khoản Telegram của trợ lý báo cáo")
    for line in (f"1. Trên điện thoại, {where};",
                 f"2. Bấm «Bắt đầu» (Start), hoặc gửi mã {spaced(page.code)}; trợ lý "
                 "trả lời tên đơn vị;",
                 "3. Gửi /baocao để bắt đầu báo cáo."):
        _para(document, line, after=2).paragraph_format.left_indent = Cm(0.75)
    _para(document, "Cách đăng nhập trên Zalo:", bold=True, after=3)
    for line in ("1. Mở tài khoản chính thức (Official Account) của trợ lý báo cáo trên Zalo, "
                 "bấm «Quan tâm»;",
                 f"2. Gửi tin nhắn có mã {spaced(page.code)}; trợ lý trả lời tên đơn vị;",
                 "3. Gửi /baocao để bắt đầu báo cáo."):
        _para(document, line, after=2).paragraph_format.left_indent = Cm(0.75)
    until = (f" đến hết ngày {page.expires_at.astimezone(ZoneInfo(letters.timezone)):%d/%m/%Y}"
             if page.expires_at else "")
    _para(document, f"Mã dùng được cho {page.uses} người của đơn vị{until}. Đề nghị đơn vị "
                    "giữ mã trong đơn vị; nếu mã bị lộ hoặc thất lạc, đề nghị liên hệ "
                    "cơ quan thường trực để được cấp mã mới.", italic=True, size=12,
          align=WD_ALIGN_PARAGRAPH.JUSTIFY, after=14)
    _signature(document, head)


def _signature(document: Document, head: Letterhead) -> None:
    left, right = _two_columns(document, Cm(7.5), Cm(8.5))
    # A letter goes down to the unit named in "Kính gửi" (the report's recipients are the
    # offices above, not this letter's).
    recipients = ["Như trên", "Lưu: VT"]
    lines = [("Nơi nhận:", True, True, 12)]
    lines += [(f"- {r}{';' if n < len(recipients) - 1 else '.'}", False, False, 11)
              for n, r in enumerate(recipients)]
    _cell_lines(left, lines)
    for paragraph in left.paragraphs:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.LEFT
    signer = [(clean_text(line), True, False, 13) for line in head.signer] or \
        [("THỦ TRƯỞNG ĐƠN VỊ", True, False, 13)]
    signer += [("", False, False, 13)] * 3
    if head.signer_name:
        signer.append((clean_text(head.signer_name), True, False, 13))
    _cell_lines(right, signer)


def pdf_timeout(pages: int) -> float:
    """How long LibreOffice may take for this many letters before we give up."""
    return PDF_TIMEOUT + PDF_SECONDS_PER_PAGE * pages


def to_pdf(docx: bytes, timeout: float = PDF_TIMEOUT) -> bytes:
    """The .docx converted by LibreOffice (blocking: call it off the event loop)."""
    soffice = _soffice()
    if soffice is None:
        raise PdfUnavailable("LibreOffice (soffice) is not installed")
    with tempfile.TemporaryDirectory(prefix="baocao-letters-") as folder:
        source = Path(folder) / "thu-moi.docx"
        source.write_bytes(docx)
        profile = Path(folder) / "profile"  # its own profile: never waits on another soffice
        try:
            subprocess.run([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless",
                            "--convert-to", "pdf", "--outdir", folder, str(source)],
                           check=True, timeout=timeout, capture_output=True)
        except subprocess.TimeoutExpired as exc:
            raise PdfUnavailable(f"LibreOffice did not finish in {timeout:.0f} s") from exc
        except subprocess.CalledProcessError as exc:
            raise PdfUnavailable("LibreOffice could not convert the letters") from exc
        result = source.with_suffix(".pdf")
        if not result.exists():
            raise PdfUnavailable("LibreOffice could not convert the letters")
        return result.read_bytes()
