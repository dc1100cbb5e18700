"""Files fit to sign and send up (issue 16): each point the rendered files fell short on,
checked by opening the file with its reader library (python-docx, openpyxl, the CSV module,
matplotlib's own layout)."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from openpyxl import load_workbook

from bot.exports.chart import MAX_BARS, MAX_UNITS, chart_figure, write_chart_png
from bot.exports.csv_export import WORD_JOINER, write_csv
from bot.exports.docx_report import write_docx
from bot.exports.letterhead import (
    ReportSettings,
    default_letterhead,
    letterhead_for,
    official_date,
)
from bot.exports.model import ExportData, ProgressRow, UnitRow
from bot.exports.report_templates import TEMPLATES_DIR, choose_template
from bot.exports.xlsx_export import write_xlsx

from .test_exports import TEXTS, make_data, png_size, with_block

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
COMMUNE_HEAD = default_letterhead("Xã An Lão", "commune", "Huyện An Lão", "district")


def commune_data(form_file: str = "tuan-le-htsd.yaml", **changes: object) -> ExportData:
    """The test data as a commune's coordinator exports it: the Week's form, the commune's
    letterhead, reporters for the units that have not submitted."""
    data = make_data(form_file)
    units = []
    for unit in data.units:
        if not unit.counted:
            unit = replace(unit, reporters=(("Nguyễn Thị Hoa", "0912345678"),
                                            ("Trần Văn Nam", "0987654321")),
                           last_reminded=datetime(2023, 10, 12, 1, 0, tzinfo=UTC))
        units.append(unit)
    data = with_block(data, units=units, form_key=form_file.removesuffix(".yaml"))
    return replace(data, **{"letterhead": COMMUNE_HEAD, **changes})


def body_texts(doc) -> list[str]:  # noqa: ANN001
    """Every paragraph of the body, tables included, in document order."""
    return ["".join(t.text or "" for t in p.iter(f"{W}t"))
            for p in doc.element.body.iter(f"{W}p")]


@pytest.fixture(scope="module")
def docx_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("docx") / "bao-cao.docx"
    write_docx(commune_data(), path)
    return path


# --- .docx ----------------------------------------------------------------------------------


def test_docx_heading_is_the_issuing_body_in_two_lines_with_number_place_and_date(
        docx_path: Path) -> None:
    doc = Document(str(docx_path))
    heading = doc.tables[0]
    left = [p.text for p in heading.rows[0].cells[0].paragraphs if p.text]
    assert left == ["ỦY BAN NHÂN DÂN", "XÃ AN LÃO"]
    issuer = heading.rows[0].cells[0].paragraphs[1]
    assert issuer.runs[0].bold and not heading.rows[0].cells[0].paragraphs[0].runs[0].bold
    right = [p.text for p in heading.rows[0].cells[1].paragraphs if p.text]
    assert right == ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]
    assert heading.rows[1].cells[0].text.startswith("Số:") and \
        heading.rows[1].cells[0].text.endswith("/BC-UBND")
    # the place, not "....."; the month written as offices write it (no "tháng 03")
    assert heading.rows[1].cells[1].text == "An Lão, ngày 14 tháng 10 năm 2023"
    assert heading.rows[1].cells[1].paragraphs[0].runs[0].italic


def test_official_date_zero_pads_days_below_ten_and_months_one_and_two_only() -> None:
    from datetime import date

    assert official_date(date(2024, 3, 5)) == ("05", "3", "2024")
    assert official_date(date(2024, 2, 15)) == ("15", "02", "2024")
    assert official_date(date(2024, 1, 9)) == ("09", "01", "2024")
    assert official_date(date(2024, 12, 31)) == ("31", "12", "2024")


def test_docx_month_of_march_is_tang_3(tmp_path: Path) -> None:
    data = commune_data(generated_at=datetime(2024, 3, 4, 2, 0, tzinfo=UTC))
    path = tmp_path / "march.docx"
    write_docx(data, path)
    date_line = Document(str(path)).tables[0].rows[1].cells[1].text
    assert date_line == "An Lão, ngày 04 tháng 3 năm 2024"


def test_docx_signature_block_is_the_committee_s(docx_path: Path) -> None:
    doc = Document(str(docx_path))
    signature = doc.tables[2]
    right = [p.text for p in signature.rows[0].cells[1].paragraphs if p.text]
    assert right[:4] == ["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH",
                         "(Ký, ghi rõ họ tên)"]
    assert "NGƯỜI LẬP BÁO CÁO" not in body_texts(doc)
    left = [p.text for p in signature.rows[0].cells[0].paragraphs if p.text]
    assert left == ["Nơi nhận:", "- UBND huyện An Lão;", "- Lưu: VT."]


def test_docx_title_and_source_line_without_seed_name(docx_path: Path) -> None:
    texts = body_texts(Document(str(docx_path)))
    start = texts.index("BÁO CÁO")
    assert texts[start + 1] == "Kết quả tổ chức Tuần lễ hưởng ứng học tập suốt đời năm 2023"
    assert texts[start + 2] == ("(Thực hiện Kế hoạch số 245/KH-UBND ngày 20/9/2023 của UBND "
                                "huyện An Lão)")
    assert not any("seed" in t.lower() or "))" in t for t in texts)


def test_bundled_campaign_source_prints_once_bracketed(tmp_path: Path) -> None:
    from conversations.campaigns import CAMPAIGNS_DIR, load_campaign_file

    source = load_campaign_file(CAMPAIGNS_DIR / "tuan-le-htsd-2023.yaml").source
    path = tmp_path / "source.docx"
    write_docx(commune_data(source_document=source), path)
    line = [t for t in body_texts(Document(str(path))) if t.startswith("(Thực hiện")]
    assert line == ["(Thực hiện Kế hoạch tổ chức Tuần lễ hưởng ứng học tập suốt đời năm 2023 "
                    "của UBND huyện An Lão)"]


def test_docx_page_layout_fonts_and_language(docx_path: Path) -> None:
    doc = Document(str(docx_path))
    section = doc.sections[0]
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)
    assert round(section.top_margin.cm, 1) == 2.0 and round(section.bottom_margin.cm, 1) == 2.0
    assert round(section.left_margin.cm, 1) == 3.0 and round(section.right_margin.cm, 1) == 1.5
    normal = doc.styles["Normal"]
    assert normal.font.name == "Times New Roman" and normal.font.size.pt == 14
    defaults = doc.styles.element.find(qn("w:docDefaults")).find(
        f"{qn('w:rPrDefault')}/{qn('w:rPr')}")
    fonts = defaults.find(qn("w:rFonts"))
    assert {fonts.get(qn(f"w:{a}")) for a in ("ascii", "hAnsi", "eastAsia", "cs")} == \
        {"Times New Roman"}
    # Vietnamese, so Word does not underline every word as misspelt English
    for r_pr in (defaults, normal.element.rPr):
        assert r_pr.find(qn("w:lang")).get(qn("w:val")) == "vi-VN"
    xml = doc.element.xml
    assert 'w:val="en-US"' not in xml
    sizes = {int(s.get(qn("w:val"))) / 2 for s in doc.element.body.iter(qn("w:sz"))}
    assert sizes <= {11, 12, 13, 14}, sizes


def test_docx_page_numbers_from_page_two(docx_path: Path) -> None:
    doc = Document(str(docx_path))
    section = doc.sections[0]
    assert section.different_first_page_header_footer  # w:titlePg
    assert "PAGE" not in section.first_page_header._element.xml
    header = section.header
    instr = [i.text for i in header._element.iter(qn("w:instrText"))]
    assert [i.strip() for i in instr] == ["PAGE"]
    assert header.paragraphs[0].alignment == 1  # centred, at the top


def test_docx_rows_never_split_and_headings_keep_with_next(docx_path: Path) -> None:
    doc = Document(str(docx_path))
    results = doc.tables[1]
    for row in results.rows:
        assert row._tr.trPr is not None and row._tr.trPr.find(qn("w:cantSplit")) is not None
    assert results.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    texts = [p.text for p in doc.paragraphs]
    for heading in ("I. Công tác chỉ đạo; kết quả đạt được", "II. Kết quả cụ thể",
                    "2. Những thuận lợi và khó khăn", "IV. Đề xuất, kiến nghị"):
        paragraph = doc.paragraphs[texts.index(heading)]
        assert paragraph.paragraph_format.keep_with_next, heading
    section_rows = [r for r in results.rows if re.match(r"\d\. ", r.cells[0].text)]
    assert section_rows
    for row in section_rows:  # a section title never sits alone at a page bottom
        assert row.cells[0].paragraphs[0].paragraph_format.keep_with_next


def test_docx_plan_number_row_in_place_listed_unit_by_unit(docx_path: Path) -> None:
    rows = [[c.text for c in r.cells] for r in Document(str(docx_path)).tables[1].rows]
    labels = [r[0] for r in rows]
    assert labels.count("1. Kế hoạch tổ chức Tuần lễ HTSĐ") == 1  # not repeated after 8
    at = labels.index("- Số, ngày ban hành kế hoạch")
    assert labels[at - 1] == "- Đã ban hành kế hoạch tổ chức Tuần lễ HTSĐ chưa?"
    assert rows[at][1] == "1/7 đơn vị có"
    assert rows[at + 1][:2] == ["Xã An Thắng", TEXTS[("1.2", 0)]]
    assert labels[at + 2] == "2. Các phương tiện thông tin về chuyển đổi số"


def test_docx_annex_lists_units_not_submitted_with_reporters(docx_path: Path) -> None:
    doc = Document(str(docx_path))
    texts = [p.text for p in doc.paragraphs]
    assert "PHỤ LỤC 1" in texts and "DANH SÁCH ĐƠN VỊ CHƯA NỘP BÁO CÁO" in texts
    assert doc.paragraphs[texts.index("PHỤ LỤC 1")].paragraph_format.page_break_before
    annex = doc.tables[3]
    rows = [[c.text for c in r.cells] for r in annex.rows]
    assert rows[0] == ["STT", "Đơn vị", "Tình trạng", "Người báo cáo", "Điện thoại",
                       "Nhắc lần cuối"]
    # a returned report says when it first came in (the first submission decided on time)
    assert [r[1:3] for r in rows[1:]] == [["Xã Chiến Thắng", "Đang soạn"],
                                          ["Xã Hưng Nhân", "Trả lại để sửa\nNộp lần đầu: "
                                           "07:00 11/10/2023, đúng hạn"],
                                          ["Thị trấn Vĩnh Bảo", "Chưa bắt đầu"]]
    assert rows[1][3] == "Nguyễn Thị Hoa\nTrần Văn Nam"
    assert rows[1][4] == "0912\u00a0345\u00a0678\n0987\u00a0654\u00a0321"  # one line each
    assert rows[1][5] == "12/10/2023 08:00"


def test_docx_blocks_from_further_down_are_annexes_never_added(tmp_path: Path) -> None:
    data = commune_data()
    schools = replace(data.main, title="Các trường, trung tâm", direct=False,
                      covered_by="xã, phường", units=data.main.units[:2],
                      totals={"8.3": Decimal(4_500_000)}, form_key="tuan-le-htsd-truong")
    data = replace(data, blocks=[data.main, schools])
    path = tmp_path / "blocks.docx"
    write_docx(data, path)
    doc = Document(str(path))
    texts = [p.text for p in doc.paragraphs]
    assert "Số liệu của các trường, trung tâm" in texts
    note = texts[texts.index("Số liệu của các trường, trung tâm") + 1]
    assert note.startswith("Đã báo cáo: 2/2 đơn vị.") and "không cộng thêm" in note
    main_rows = {r.cells[0].text: r.cells[1].text for r in doc.tables[1].rows}
    annex_rows = {r.cells[0].text: r.cells[1].text for r in doc.tables[3].rows}
    assert main_rows["- Tổng kinh phí khen thưởng"] == "49.500.000 đồng"
    assert annex_rows["- Tổng kinh phí khen thưởng"] == "4.500.000 đồng"
    assert "54.000.000 đồng" not in main_rows.values()
    assert "PHỤ LỤC 2" in texts  # the missing units come after the block


def test_docx_properties_say_who_made_it(docx_path: Path) -> None:
    props = Document(str(docx_path)).core_properties
    assert "python-docx" not in " ".join(str(v) for v in (
        props.author, props.last_modified_by, props.title, props.subject, props.comments,
        props.keywords, props.category))
    assert props.author == "Thành phố Hải Phòng"
    assert props.title == "Báo cáo Tuần lễ hưởng ứng học tập suốt đời năm 2023"
    assert props.language == "vi-VN"
    assert props.created == datetime(2023, 10, 14, 1, 15, tzinfo=UTC)  # 08:15 in Vietnam


def test_docx_month_report_uses_the_seed_000_template(tmp_path: Path) -> None:
    data = commune_data("thang-khuyen-hoc.yaml")
    path = tmp_path / "thang.docx"
    write_docx(data, path)
    texts = [p.text for p in Document(str(path)).paragraphs]
    assert "Kết quả tổ chức các hoạt động Tuần lễ hưởng ứng học tập suốt đời năm 2023" in texts
    assert "1. Kết quả các hoạt động trong Tháng Khuyến học" in texts
    assert [t for t in texts if re.match(r"^(I|II|III|IV)\. ", t)] == [
        "I. Công tác chỉ đạo; kết quả đạt được", "II. Kết quả cụ thể",
        "III. Những thuận lợi và khó khăn", "IV. Đề xuất, kiến nghị"]


def test_template_is_chosen_campaign_then_office_then_shipped(tmp_path: Path) -> None:
    assert choose_template("tuan-le-htsd") == str(TEMPLATES_DIR / "tuan-le-htsd.docx")
    # a school's version of the form takes the template of the form it derives from
    assert choose_template("tuan-le-htsd-truong") == str(TEMPLATES_DIR / "tuan-le-htsd.docx")
    assert choose_template("bao-cao-quy") == str(TEMPLATES_DIR / "bao-cao.docx")
    office = tmp_path / "mau"
    office.mkdir()
    own = office / "tuan-le-htsd.docx"
    own.write_bytes((TEMPLATES_DIR / "tuan-le-htsd.docx").read_bytes())
    assert choose_template("tuan-le-htsd-truong", "", str(office)) == str(own)
    assert choose_template("thang-khuyen-hoc", "", str(office)) == \
        str(TEMPLATES_DIR / "thang-khuyen-hoc.docx")
    campaign_own = tmp_path / "rieng.docx"
    campaign_own.write_bytes(own.read_bytes())
    assert choose_template("tuan-le-htsd", str(campaign_own), str(office)) == str(campaign_own)
    # a campaign's template that is gone: the office's, else the shipped one (logged)
    assert choose_template("tuan-le-htsd", str(tmp_path / "gone.docx"), str(office)) == str(own)


def test_an_office_template_edited_in_word_is_used(tmp_path: Path) -> None:
    """An office copies the shipped template and changes the wording; its copy is used."""
    from docx import Document as Open

    copy = Open(str(TEMPLATES_DIR / "tuan-le-htsd.docx"))
    for paragraph in copy.paragraphs:
        if paragraph.text == "BÁO CÁO":
            paragraph.runs[0].text = "BÁO CÁO NHANH"
    own = tmp_path / "tuan-le-htsd.docx"
    copy.save(str(own))
    path = tmp_path / "own.docx"
    write_docx(commune_data(report_template=str(own)), path)
    texts = [p.text for p in Document(str(path)).paragraphs]
    assert "BÁO CÁO NHANH" in texts and "Kết quả tổ chức Tuần lễ hưởng ứng học tập suốt đời "\
        "năm 2023" in texts


def test_letterhead_settings_override_campaign_override_unit() -> None:
    campaign = {"issuer": ["UBND XÃ AN LÃO", "BAN CHỈ ĐẠO XÂY DỰNG XHHT"],
                "recipients": ["UBND huyện (qua Phòng GD&ĐT)"], "signer": ["TRƯỞNG BAN"]}
    merged = letterhead_for(COMMUNE_HEAD, campaign, None)
    assert (merged.issuer_above, merged.issuer) == ("UBND XÃ AN LÃO",
                                                    "BAN CHỈ ĐẠO XÂY DỰNG XHHT")
    assert merged.signer == ("TRƯỞNG BAN",) and merged.place == "An Lão"
    assert merged.recipients == ("UBND huyện (qua Phòng GD&ĐT)", "Lưu: VT.")
    office = ReportSettings(place="Kiến An", signer_name="Nguyễn Văn Bình",
                            issuer=("HỘI KHUYẾN HỌC XÃ AN LÃO",))
    merged = letterhead_for(COMMUNE_HEAD, campaign, office)
    assert (merged.issuer_above, merged.issuer) == ("", "HỘI KHUYẾN HỌC XÃ AN LÃO")
    assert merged.place == "Kiến An" and merged.signer_name == "Nguyễn Văn Bình"
    assert merged.signer == ("TRƯỞNG BAN",)  # not set by the office: the campaign's
    school = default_letterhead("Trường Tiểu học An Lão", "school", "Xã An Lão", "commune")
    assert (school.issuer_above, school.issuer, school.signer) == (
        "UBND XÃ AN LÃO", "TRƯỜNG TIỂU HỌC AN LÃO", ("HIỆU TRƯỞNG",))


def test_docx_with_office_settings_prints_signer_name(tmp_path: Path) -> None:
    head = letterhead_for(COMMUNE_HEAD, {}, ReportSettings(signer_name="Nguyễn Mạnh Thắng"))
    path = tmp_path / "signed.docx"
    write_docx(commune_data(letterhead=head), path)
    cell = Document(str(path)).tables[2].rows[0].cells[1]
    assert [p.text for p in cell.paragraphs if p.text][-1] == "Nguyễn Mạnh Thắng"


def test_docx_text_with_markup_characters_is_kept_as_text(tmp_path: Path) -> None:
    data = commune_data()
    units = [replace(u, answers={**u.answers, "IV": "Đề nghị <b>hỗ trợ</b> & {{ x }} {% if %}"})
             if u.code == "AL-ATI" else u for u in data.units]
    path = tmp_path / "markup.docx"
    write_docx(with_block(data, units=units), path)
    texts = [p.text for p in Document(str(path)).paragraphs]
    assert "- Xã An Tiến: Đề nghị <b>hỗ trợ</b> & {{ x }} {% if %}" in texts


# --- XLSX -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("xlsx") / "bao-cao.xlsx"
    write_xlsx(commune_data(), path)
    return path


def _rows(ws) -> list[list[object]]:  # noqa: ANN001
    return [list(r) for r in ws.iter_rows(values_only=True)]


def test_xlsx_totals_are_subtotal_formulas_with_values_that_agree(workbook: Path) -> None:
    formulas = load_workbook(workbook)["Báo cáo"]
    values = load_workbook(workbook, data_only=True)["Báo cáo"]
    header = [c.value for c in formulas[4]]
    column = header.index("8.3. Tổng kinh phí khen thưởng (đồng)") + 1
    letter = formulas.cell(4, column).column_letter
    labels = [formulas.cell(r, 2).value for r in range(1, formulas.max_row + 1)]
    total_row = labels.index("Tổng cộng (các đơn vị đã nộp)") + 1
    assert formulas.cell(total_row, column).value == f"=SUBTOTAL(9,{letter}5:{letter}13)"
    assert values.cell(total_row, column).value == 49_500_000  # stored beside the formula
    # the value agrees with adding up the unit rows above it (subtotal rows left out)
    unit_rows = [r for r in range(5, total_row) if formulas.cell(r, 1).value]
    assert sum(values.cell(r, column).value for r in unit_rows) == 49_500_000
    # every number column: formula and stored value
    for col in range(8, len(header) + 1):
        cell = formulas.cell(total_row, col)
        if isinstance(cell.value, str) and cell.value.startswith("="):
            stored = values.cell(total_row, col).value
            expected = sum(values.cell(r, col).value or 0 for r in unit_rows)
            assert stored == expected, header[col - 1]


def test_xlsx_a_subtotal_row_per_parent_with_outline_grouping(workbook: Path) -> None:
    ws = load_workbook(workbook)["Báo cáo"]
    values = load_workbook(workbook, data_only=True)["Báo cáo"]
    labels = {ws.cell(r, 2).value: r for r in range(1, ws.max_row + 1)}
    an_lao, vinh_bao = labels["Cộng: Huyện An Lão"], labels["Cộng: Huyện Vĩnh Bảo"]
    column = [c.value for c in ws[4]].index("8.3. Tổng kinh phí khen thưởng (đồng)") + 1
    letter = ws.cell(4, column).column_letter
    assert ws.cell(an_lao, column).value == f"=SUBTOTAL(9,{letter}5:{letter}8)"
    assert values.cell(an_lao, column).value == 1_500_000 * (1 + 2 + 3 + 4)
    assert values.cell(vinh_bao, column).value == 1_500_000 * (6 + 7 + 10)
    for row in range(5, an_lao):
        assert ws.row_dimensions[row].outline_level == 1
    assert not ws.row_dimensions[an_lao].outline_level
    assert ws.sheet_properties.outlinePr.summaryBelow


def test_xlsx_drafts_greyed_and_outside_every_total(workbook: Path) -> None:
    ws = load_workbook(workbook)["Báo cáo"]
    labels = [ws.cell(r, 2).value for r in range(1, ws.max_row + 1)]
    total_row = labels.index("Tổng cộng (các đơn vị đã nộp)") + 1
    draft_row = labels.index("Xã Chiến Thắng") + 1
    assert draft_row > total_row  # after the totals, out of every formula's range
    assert ws.cell(draft_row, 4).value == "Đang soạn"
    assert ws.cell(draft_row, 2).font.color.rgb.endswith("808080")
    assert ws.cell(draft_row, 2).font.italic
    assert ws.cell(total_row - 1, 2).value == "Cộng: Huyện Vĩnh Bảo"
    counted_codes = [ws.cell(r, 1).value for r in range(5, total_row) if ws.cell(r, 1).value]
    assert "AL-CT" not in counted_codes and len(counted_codes) == 7


def test_xlsx_borders_widths_units_in_headers(workbook: Path) -> None:
    ws = load_workbook(workbook)["Báo cáo"]
    header = [c.value for c in ws[4]]
    assert "4.2. Số người tham gia hội thảo, tọa đàm (người)" in header
    assert "1.2. Số, ngày ban hành kế hoạch" in header  # a text row is a column too
    assert ws.column_dimensions["A"].width >= 12 and ws.column_dimensions["B"].width >= 28
    for row in (4, 5, 9, 14):
        for col in (1, 2, 7, len(header)):
            border = ws.cell(row, col).border
            assert border.left.style == border.right.style == border.top.style == \
                border.bottom.style == "thin", (row, col)
    empty = ws.cell(6, header.index("1.2. Số, ngày ban hành kế hoạch") + 1)
    assert empty.value is None and empty.border.bottom.style == "thin"


def test_xlsx_prints_one_page_wide_with_page_numbers(workbook: Path) -> None:
    book = load_workbook(workbook)
    for ws in book.worksheets:
        if ws.sheet_state != "visible":
            continue  # the hidden sheet that says which report the file is for
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0, ws.title
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
        assert ws.oddFooter.center.text == "Trang &P/&N", ws.title
    assert book["Báo cáo"].print_title_rows == "$4:$4"


def test_xlsx_missing_sheet_has_reporters_phones_and_last_reminder(workbook: Path) -> None:
    book = load_workbook(workbook)
    visible = [ws.title for ws in book.worksheets if ws.sheet_state == "visible"]
    assert visible == ["Báo cáo", "Chưa nộp", "Tiến độ", "Ý kiến", "Lịch sử"]
    rows = _rows(book["Chưa nộp"])
    assert rows[0] == ["Mã đơn vị", "Tên đơn vị", "Đơn vị cấp trên", "Tuyến báo cáo",
                       "Trạng thái", "Người báo cáo", "Điện thoại", "Nhắc lần cuối"]
    assert rows[1] == ["AL-CT", "Xã Chiến Thắng", "Huyện An Lão", "Các xã, phường, thị trấn",
                       "Đang soạn", "Nguyễn Thị Hoa\nTrần Văn Nam", "0912345678\n0987654321",
                       datetime(2023, 10, 12, 8, 0)]
    assert [r[0] for r in rows[1:]] == ["AL-CT", "VB-HH", "VB-TT"]
    assert rows[3][4] == "Chưa bắt đầu"


def test_xlsx_unit_table_is_found_by_its_header(workbook: Path) -> None:
    """How a program (issue 18's reader) finds the table: the row whose column A is
    "Mã đơn vị", then every row below with a code in column A; ids before the first ". "."""
    ws = load_workbook(workbook, data_only=True)["Báo cáo"]
    header_row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "Mã đơn vị")
    header = [c.value for c in ws[header_row]]
    ids = {h.split(". ", 1)[0]: i for i, h in enumerate(header) if re.match(r"^[\dIV.]+\. ", h)}
    assert list(ids)[:3] == ["1.1", "1.2", "2.1"]
    units = {ws.cell(r, 1).value: r for r in range(header_row + 1, ws.max_row + 1)
             if ws.cell(r, 1).value}
    assert len(units) == 10
    data = commune_data()
    assert ws.cell(units["AL-AT"], ids["4.2"] + 1).value == data.units[0].answers["4.2"]
    assert ws.cell(units["VB-VL"], ids["8.3"] + 1).value == 15_000_000


# --- chart ----------------------------------------------------------------------------------


def _drawn_labels(data: ExportData) -> tuple[list[str], list[tuple[float, float, float, float]],
                                              tuple[float, float], list[str]]:
    import matplotlib

    with matplotlib.rc_context({"font.family": "DejaVu Sans", "font.size": 10}):
        figure, bars, _ = chart_figure(data)
        figure.canvas.draw()
        renderer = figure.canvas.get_renderer()
        axes = figure.axes[0]
        labels = [t for t in axes.get_yticklabels() if t.get_text()]
        boxes = [t.get_window_extent(renderer).bounds for t in labels]
        size = (figure.bbox.width, figure.bbox.height)
        texts = [t.get_text() for t in figure.texts]
        return [t.get_text() for t in labels], boxes, size, texts


def _assert_readable(boxes: list[tuple[float, float, float, float]],
                     size: tuple[float, float]) -> None:
    """Every label inside the image, none over another, letters at least 20 px tall."""
    width, height = size
    previous_bottom = None
    for x, y, w, h in sorted(boxes, key=lambda b: -b[1]):
        assert x >= 0 and y >= 0 and x + w <= width and y + h <= height
        if previous_bottom is not None:
            assert y + h <= previous_bottom + 0.5
        previous_bottom = y
        assert h >= 20


def test_chart_of_a_few_units_a_row_each_furthest_behind_first() -> None:
    data = commune_data()
    labels, boxes, size, texts = _drawn_labels(data)
    assert labels[:4] == ["Thị trấn Vĩnh Bảo", "Xã Hưng Nhân", "Xã Chiến Thắng",
                          "Xã Bát Trang"]  # not started, returned, draft, late
    assert sorted(labels) == sorted(u.name for u in data.units)
    _assert_readable(boxes, size)
    assert any("đến 08:15 14/10/2023" in t and "Hạn nộp: trước ngày 13/10/2023" in t
               for t in texts)


def _province(communes: int) -> ExportData:
    base = commune_data()
    units = [replace(base.units[i % 10], code=f"U{i}") for i in range(communes * 3)]
    progress = []
    for i in range(communes):
        done = (i * 7) % 4
        progress.append(ProgressRow(f"X{i}", f"Xã Nguyễn Văn Trỗi số {i}", 3, on_time=done,
                                    late=0, drafts=1 if done < 3 else 0,
                                    not_started=3 - done - (1 if done < 3 else 0)))
    return replace(with_block(base, units=units), progress=progress)


def test_chart_of_a_hundred_communes_a_bar_each_sorted_with_every_label_drawn(
        tmp_path: Path) -> None:
    data = _province(100)
    assert len(data.units) > MAX_UNITS
    labels, boxes, size, _ = _drawn_labels(data)
    complete = [r for r in data.progress if r.on_time == r.total]
    behind = [r for r in data.progress if r.on_time < r.total]
    assert len(labels) == len(behind) + 1  # the complete ones gathered, nothing behind hidden
    assert labels[-1] == f"{len(complete)} đơn vị đã nộp đủ"
    shares = [next(r.on_time / r.total for r in behind if r.name.replace("\n", " ") ==
                   label.replace("\n", " ")) for label in labels[:-1]]
    assert shares == sorted(shares)  # the furthest behind on top
    _assert_readable(boxes, size)
    path = tmp_path / "tinh.png"
    write_chart_png(data, path)
    width, height = png_size(path.read_bytes())
    assert width == 1200 and width + height <= 10_000 and height / width <= 20


def test_chart_past_the_limit_sums_only_the_closest_to_complete() -> None:
    rows = [ProgressRow(f"X{i}", f"Xã {i}", 10, min(i % 12, 10), 0, 0, 0,
                        10 - min(i % 12, 10)) for i in range(200)]
    complete = sum(1 for r in rows if r.on_time == 10)
    data = replace(_province(40), progress=rows)
    labels, boxes, size, _ = _drawn_labels(data)
    assert len(labels) == MAX_BARS
    assert labels[0] == "Xã 0" and labels[-1] == f"{complete} đơn vị đã nộp đủ"
    summed = 200 - complete - (MAX_BARS - 2)
    assert labels[-2] == f"… {summed} đơn vị khác\n(đã nộp từ 50%)"  # the closest summed
    _assert_readable(boxes, size)


def test_chart_keeps_drafts_apart_from_not_started() -> None:
    import matplotlib

    data = _province(40)
    with matplotlib.rc_context({"font.family": "DejaVu Sans"}):
        figure, bars, grouped = chart_figure(data)
    assert grouped
    legend = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    drafts = sum(r.drafts for r in data.progress)
    assert f"Đang soạn ({drafts})" in legend
    assert any(t.startswith("Chưa bắt đầu (") for t in legend)


def _two_lines(communes: int, schools_each: int) -> ExportData:
    """A province: its communes report to it (the direct line) and each commune's schools to
    their commune (a line further down, already in the communes' reports)."""
    from bot.exports.model import ReportBlock

    base = commune_data()
    states = [("submitted", True), ("none", None), ("draft", None), ("submitted", False),
              ("returned", None)]
    commune_rows, school_rows, commune_progress, school_progress = [], [], [], []
    for c in range(communes):
        status, on_time = states[c % 5]
        name = f"Xã Nguyễn Văn Trỗi số {c}"
        commune_rows.append(replace(base.units[0], code=f"X{c}", name=name, kind="commune",
                                    status=status, on_time=on_time))
        counts = {"on_time": 0, "late": 0, "drafts": 0, "returned": 0, "not_started": 0}
        for s in range(schools_each):
            s_status, s_on_time = states[(c * 3 + s) % 5] if c % 4 else states[0]
            school_rows.append(replace(base.units[0], code=f"X{c}-T{s}", name=f"Trường {s}",
                                       parent_name=name, kind="school", status=s_status,
                                       on_time=s_on_time))
            key = {"none": "not_started", "draft": "drafts", "returned": "returned"}.get(
                s_status, "on_time" if s_on_time else "late")
            counts[key] += 1
        commune_progress.append(ProgressRow(f"X{c}", name, 1, *(
            (1 if k == _key(status, on_time) else 0) for k in
            ("on_time", "late", "drafts", "returned", "not_started"))))
        school_progress.append(ProgressRow(f"X{c}", name, schools_each, **counts))
    direct = replace(base.blocks[0], title="Các xã", units=commune_rows,
                     progress=commune_progress)
    below = ReportBlock("Các trường", False, "Báo cáo của trường", base.blocks[0].questions,
                        school_rows, {}, covered_by="xã", progress=school_progress)
    everything = [ProgressRow(a.code, a.name, a.total + b.total, a.on_time + b.on_time,
                              a.late + b.late, a.drafts + b.drafts, a.returned + b.returned,
                              a.not_started + b.not_started)
                  for a, b in zip(commune_progress, school_progress, strict=True)]
    return replace(base, blocks=[direct, below], progress=everything,
                   scope_name="Tỉnh Quảng Ninh")


def _key(status: str, on_time: bool | None) -> str:
    return {"none": "not_started", "draft": "drafts", "returned": "returned"}.get(
        status, "on_time" if on_time else "late")


def test_chart_of_two_reporting_lines_draws_one_panel_and_legend_each(tmp_path: Path) -> None:
    """150 units: 25 communes reporting to the province and their 125 schools reporting to
    the communes. Never one list or one legend for both, never a commune and its schools in
    one bar; each panel sorted furthest behind first."""
    import matplotlib

    data = _two_lines(25, 5)
    assert len(data.units) == 150
    with matplotlib.rc_context({"font.family": "DejaVu Sans", "font.size": 10}):
        figure, _, _ = chart_figure(data)
        figure.canvas.draw()
        renderer = figure.canvas.get_renderer()
        panels = [a for a in figure.axes if a.get_legend() is not None]
        assert len(panels) == 2
        for axes, block in zip(panels, data.blocks, strict=True):
            legend = axes.get_legend()
            counted = sum(int(re.search(r"\((\d+)\)$", t.get_text()).group(1))
                          for t in legend.get_texts())
            assert counted == len(block.units)  # each legend counts its own line only
            assert block.title in legend.get_title().get_text()
        communes, schools = panels
        commune_labels = [t.get_text() for t in communes.get_yticklabels() if t.get_text()]
        assert sorted(label.replace("\n", " ") for label in commune_labels) == sorted(
            u.name for u in data.blocks[0].units)  # one row per commune, its own report
        school_labels = [t.get_text() for t in schools.get_yticklabels() if t.get_text()]
        assert len(school_labels) == 25  # one bar per commune: its schools only
        order = {"not_started": 0, "returned": 1, "drafts": 2, "late": 3, "on_time": 4}
        by_name = {u.name: _key(u.status, u.on_time) for u in data.blocks[0].units}
        ranks = [order[by_name[label.replace("\n", " ")]] for label in commune_labels]
        assert ranks == sorted(ranks)  # furthest behind first
        shares = {r.name: r.on_time + r.late for r in data.blocks[1].progress}
        done = [shares[label.replace("\n", " ")] for label in school_labels]
        assert done == sorted(done)
        boxes = [t.get_window_extent(renderer).bounds
                 for a in panels for t in a.get_yticklabels() if t.get_text()]
        _assert_readable(boxes, (figure.bbox.width, figure.bbox.height))
    path = tmp_path / "hai-tuyen.png"
    write_chart_png(data, path)
    width, height = png_size(path.read_bytes())
    assert width == 1200 and width + height <= 10_000 and height / width <= 20


# --- CSV ------------------------------------------------------------------------------------


def test_csv_excel_vi_dialect_semicolons_and_decimal_comma(tmp_path: Path) -> None:
    from .test_exports import extra_types_data

    buffer = io.BytesIO()
    write_csv(extra_types_data(), buffer, dialect="excel-vi")
    text = buffer.getvalue().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    header = rows[0]
    assert header[:2] == ["Tuyến báo cáo", "Mã đơn vị"]
    number = header.index("1.1. Tỷ lệ hội viên so với dân số (%)")
    assert rows[1][number] == "12,5" and rows[2][number] == "40"
    assert all(len(row) == len(header) for row in rows)  # split on ";", not on ","


def test_csv_notes_are_included_beside_their_question(tmp_path: Path) -> None:
    path = tmp_path / "ghi-chu.csv"
    write_csv(commune_data(), path)
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    note = "2.4. Số tờ báo tường, bài viết về chuyển đổi số, HTSĐ, XHHT (tờ/bài) (ghi chú)"
    assert rows[0][note] == "5 tờ báo tường, 20 bài viết"
    assert rows[3]["1.1. Đã ban hành kế hoạch tổ chức Tuần lễ HTSĐ chưa? (ghi chú)"] == \
        "Kế hoạch số 88/KH-UBND"
    assert "1.2. Số, ngày ban hành kế hoạch (ghi chú)" not in rows[0]  # a text takes none


def test_csv_no_visible_apostrophe_before_a_dash(tmp_path: Path) -> None:
    path = tmp_path / "gach.csv"
    write_csv(commune_data(), path)
    raw = path.read_text(encoding="utf-8-sig")
    assert "'- Tổ chức" not in raw and "'=" not in raw
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    column = next(h for h in rows[0] if h.startswith("I. "))
    text = rows[3][column]
    # shown as written; starts with an invisible word joiner so Excel takes it for text
    assert text == WORD_JOINER + TEXTS[("I", 3)]
    assert text.lstrip(WORD_JOINER) == TEXTS[("I", 3)]
    assert rows[0]["Tên đơn vị"] == "Xã An Thắng"  # plain names untouched


def test_csv_dialect_is_checked() -> None:
    with pytest.raises(ValueError, match="excel-vi"):
        write_csv(commune_data(), io.BytesIO(), dialect="semicolon")


def _unit(data: ExportData, code: str) -> UnitRow:
    return next(u for u in data.units if u.code == code)
