"""Imports in the office's own words: Vietnamese headers and kind words, every unknown kind
refused with the known ones listed, text stored NFC, units no campaign targets named, and
templates to fill in."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select
from typer.testing import CliRunner

from bot.app import build_app
from bot.cli import app
from bot.settings import Settings
from bot.storage.models import CampaignForm, Contact, Unit
from conversations.campaigns import CAMPAIGNS_DIR
from conversations.forms import FORMS_DIR

runner = CliRunner()


@pytest.fixture
def env(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("BAOCAO_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def baocao(*args: str):  # noqa: ANN201
    return runner.invoke(app, list(args), catch_exceptions=False)


async def stored(db_url: str, model, *columns):  # noqa: ANN001, ANN201
    application = await build_app(Settings(database_url=db_url), migrate=False)
    try:
        async with application.sessions() as session:
            return (await session.execute(select(*columns).order_by(columns[0]))).all()
    finally:
        await application.close()


def load_bundled_campaigns() -> None:
    for form in ("tuan-le-htsd", "tuan-le-htsd-truong", "thang-khuyen-hoc"):
        assert baocao("forms", "load", str(FORMS_DIR / f"{form}.yaml")).exit_code == 0
    for campaign in ("tuan-le-htsd-2023", "thang-khuyen-hoc-2024"):
        result = baocao("campaigns", "load", str(CAMPAIGNS_DIR / f"{campaign}.yaml"))
        assert result.exit_code == 0, result.output


def windows_1258(text: str) -> bytes:
    """Text as Excel on Vietnamese Windows saves it: base letters with their hat, horn or
    breve precomposed, tone marks as separate combining characters."""
    tones = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
    letters: list[list[str]] = []  # [base with its hat/horn/breve, its tone marks]
    for char in unicodedata.normalize("NFD", text):
        if unicodedata.combining(char) and letters:
            if char in tones:
                letters[-1][1] += char
            else:
                letters[-1][0] = unicodedata.normalize("NFC", letters[-1][0] + char)
        else:
            letters.append([char, ""])
    return "".join(base + marks for base, marks in letters).encode("cp1258")


def test_vietnamese_headers_and_kind_words_with_or_without_diacritics(env: Path,
                                                                      db_url: str):
    """Defect 4: the Vietnamese column names were refused and any kind word was stored."""
    (env / "don-vi.csv").write_text(
        "Mã,Tên,Loại,Mã đơn vị cấp trên\n"
        "HP,Thành phố Hải Phòng,Thành phố,\n"
        "X-ANLAO,Xã An Lão,xã,HP\n"
        "P-VB,Phường Vĩnh Bảo,Phuong,HP\n"
        "DK-CB,Đặc khu Cát Hải,đặc khu,HP\n"
        "TT-AL,Thị trấn An Lão,thi tran,HP\n"
        "TH-AL,Trường Tiểu học An Lão,Trường,X-ANLAO\n"
        "THCS-AL,Trường THCS An Lão,School,X-ANLAO\n"
        "TTHTCD-AL,Trung tâm học tập cộng đồng An Lão,TTHTCĐ,X-ANLAO\n"
        "GDNN-AL,Trung tâm GDNN-GDTX An Lão,GDNN-GDTX,X-ANLAO\n", encoding="utf-8")
    result = baocao("units", "import", str(env / "don-vi.csv"))
    assert result.exit_code == 0, result.output
    import asyncio

    kinds = dict(asyncio.run(stored(db_url, Unit, Unit.code, Unit.kind)))
    assert kinds == {"HP": "province", "X-ANLAO": "commune", "P-VB": "ward",
                     "DK-CB": "special_zone", "TT-AL": "town", "TH-AL": "school",
                     "THCS-AL": "school", "TTHTCD-AL": "learning_centre", "GDNN-AL": "centre"}


def test_an_unknown_kind_is_refused_with_the_known_ones_listed(env: Path):
    (env / "units.csv").write_text("code,name,kind,parent_code\n"
                                   "HP,Hải Phòng,province,\n"
                                   "TH1,Trường Một,shcool,HP\n", encoding="utf-8")
    result = baocao("units", "import", str(env / "units.csv"))
    assert result.exit_code == 1
    assert "line 3: unknown kind “shcool”" in result.output
    for known in ("xã (commune)", "phường (ward)", "đặc khu (special_zone)", "trường (school)",
                  "TTHTCĐ (learning_centre)"):
        assert known in result.output
    assert "HP" not in baocao("units", "list").output  # nothing imported


def test_units_no_loaded_campaign_targets_are_named(env: Path):
    load_bundled_campaigns()
    (env / "units.csv").write_text("code,name,kind,parent_code\n"
                                   "HP,Hải Phòng,province,\n"
                                   "SGD,Sở Giáo dục và Đào tạo,department,HP\n"
                                   "X1,Xã Một,commune,HP\n"
                                   "DK1,Đặc khu Một,đặc khu,HP\n", encoding="utf-8")
    result = baocao("units", "import", str(env / "units.csv"))
    assert result.exit_code == 0, result.output
    warning = result.output.split("Imported 4 units.")[1]
    assert "no loaded campaign asks for a report" in warning
    assert "HP (province)" in warning and "SGD (department)" in warning
    assert "X1" not in warning and "DK1" not in warning  # đặc khu reports like a commune


async def test_the_bundled_campaigns_take_special_zones_where_communes_report(app):
    async with app.sessions() as session:
        rows = (await session.execute(select(CampaignForm.unit_kind, CampaignForm.form_id)))
        by_kind: dict[str, set[int]] = {}
        for kind, form_id in rows:
            by_kind.setdefault(kind, set()).add(form_id)
    assert by_kind["special_zone"] == by_kind["commune"]


def test_a_csv_from_excel_on_vietnamese_windows_is_stored_composed(env: Path, db_url: str):
    """Defect 4: cp1258 with decomposed accents was stored decomposed: search, sorting and
    the CLI tables went wrong."""
    text = ("Mã,Tên,Loại,Mã đơn vị cấp trên\n"
            "HP,Thành phố Hải Phòng,tỉnh,\n"
            "X-ANTHANG,Xã An Thắng,xã,HP\n"
            "TH-AT,Trường Tiểu học Nguyễn Bỉnh Khiêm,trường,X-ANTHANG\n")
    raw = windows_1258(text)
    assert raw.decode("cp1258") != unicodedata.normalize("NFC", raw.decode("cp1258"))
    (env / "units.csv").write_bytes(raw)
    assert baocao("units", "import", str(env / "units.csv")).exit_code == 0
    contacts = ("Họ tên;Số điện thoại;Mã đơn vị;Vai trò;Ngôn ngữ\n"
                "Nguyễn Thị Thủy;0912 345 678;X-ANTHANG;tổng hợp;Tiếng Việt\n"
                "Lê Văn Đức;0987654321;TH-AT;báo cáo;vi\n")
    (env / "nguoi.csv").write_bytes(windows_1258(contacts))
    result = baocao("contacts", "import", str(env / "nguoi.csv"))
    assert result.exit_code == 0, result.output
    import asyncio

    names = [n for (n,) in asyncio.run(stored(db_url, Unit, Unit.name))]
    assert "Xã An Thắng" in names and "Trường Tiểu học Nguyễn Bỉnh Khiêm" in names
    assert all(unicodedata.is_normalized("NFC", n) for n in names)
    people = asyncio.run(stored(db_url, Contact, Contact.name, Contact.role))
    assert people == [("Lê Văn Đức", "reporter"), ("Nguyễn Thị Thủy", "coordinator")]
    listing = baocao("units", "list").output
    assert "Xã An Thắng" in listing


def test_units_and_contacts_templates_are_filled_in_and_imported(env: Path):
    assert baocao("units", "template", str(env / "don-vi.xlsx")).exit_code == 0
    assert baocao("contacts", "template", str(env / "nguoi.xlsx")).exit_code == 0
    units = load_workbook(env / "don-vi.xlsx")
    sheet = units.worksheets[0]
    assert [c.value for c in sheet[1]] == ["Mã", "Tên", "Loại", "Mã đơn vị cấp trên"]
    kinds_listed = " ".join(str(c.value) for row in units.worksheets[1].iter_rows()
                            for c in row if c.value)
    assert "đặc khu" in kinds_listed and "TTHTCĐ" in kinds_listed
    sheet.append(["HP", "Thành phố Hải Phòng", "thành phố", None])
    sheet.append(["X1", "Xã Một", "xã", "HP"])
    units.save(env / "don-vi.xlsx")
    result = baocao("units", "import", str(env / "don-vi.xlsx"))
    assert result.exit_code == 0, result.output

    people = load_workbook(env / "nguoi.xlsx")
    sheet = people.worksheets[0]
    assert [c.value for c in sheet[1]] == ["Họ tên", "Số điện thoại", "Mã đơn vị", "Vai trò",
                                          "Ngôn ngữ"]
    sheet.append(["Trần Văn Nam", "0912345678", "X1", "báo cáo", "vi"])
    people.save(env / "nguoi.xlsx")
    result = baocao("contacts", "import", str(env / "nguoi.xlsx"))
    assert result.exit_code == 0, result.output
    assert "Trần Văn Nam" in baocao("contacts", "list").output


def test_a_template_is_not_written_over_an_existing_file(env: Path):
    book = Workbook()
    book.active.append(["giữ lại"])
    book.save(env / "don-vi.xlsx")
    result = baocao("units", "template", str(env / "don-vi.xlsx"))
    assert result.exit_code == 1 and "already exists" in result.output
    assert load_workbook(env / "don-vi.xlsx").active["A1"].value == "giữ lại"
