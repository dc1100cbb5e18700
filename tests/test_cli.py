"""The admin's command line: imports that fail say which lines and import nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from bot.cli import app

runner = CliRunner()


@pytest.fixture
def env(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("BAOCAO_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def baocao(*args: str):  # noqa: ANN201
    return runner.invoke(app, list(args), catch_exceptions=False)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_units_import_reports_every_bad_line_and_imports_nothing(env: Path):
    bad = write(env / "units.csv", "code,name,kind,parent_code\n"
                                   "HP,Thành phố Hải Phòng,province,\n"
                                   "X1,,commune,HP\n"
                                   "X2,Xã Hai,commune,NOWHERE\n"
                                   "HP,Trùng mã,province,\n")
    result = baocao("units", "import", str(bad))
    assert result.exit_code == 1
    assert "line 3: the name is empty" in result.output
    assert "line 4: parent NOWHERE" in result.output
    assert "line 5: code HP already appears on line 2" in result.output
    listing = baocao("units", "list")
    assert "HP" not in listing.output


def test_units_and_contacts_import_from_xlsx_and_csv(env: Path):
    book = Workbook()
    sheet = book.active
    sheet.append(["code", "name", "kind", "parent_code"])
    sheet.append(["HP", "Thành phố Hải Phòng", "province", None])
    sheet.append(["X-ANLAO", "Xã An Lão", "commune", "HP"])
    sheet.append(["TH-ANLAO", "Trường Tiểu học An Lão", "school", "X-ANLAO"])
    book.save(env / "units.xlsx")
    assert baocao("units", "import", str(env / "units.xlsx")).exit_code == 0
    listing = baocao("units", "list").output
    assert "    TH-ANLAO" in listing  # indented two levels below the province

    contacts = write(env / "contacts.csv", "name;phone;unit_code;role;language\n"
                                           "Nguyễn Thị Thu;0912 345 678;X-ANLAO;reporter;vi\n"
                                           "Nguyễn Thị Thu;+84912345678;TH-ANLAO;reporter;vi\n"
                                           "Trần Văn Nam;84987654321;HP;coordinator;en\n")
    result = baocao("contacts", "import", str(contacts))
    assert result.exit_code == 0, result.output
    listing = baocao("contacts", "list").output
    assert "+84912345678" in listing and "TH-ANLAO, X-ANLAO" in listing
    assert listing.count("Nguyễn Thị Thu") == 1


def test_contacts_import_refuses_bad_phones_roles_and_units(env: Path):
    write(env / "units.csv", "code,name,kind,parent_code\nHP,Hải Phòng,province,\n")
    baocao("units", "import", str(env / "units.csv"))
    bad = write(env / "contacts.csv", "name,phone,unit_code,role\n"
                                      "An,12345,HP,reporter\n"
                                      "Bình,0912345678,X9,reporter\n"
                                      "Chi,0912345679,HP,boss\n")
    result = baocao("contacts", "import", str(bad))
    assert result.exit_code == 1
    assert "line 2: “12345” is not a phone number" in result.output
    assert "line 3: unit X9 is not loaded" in result.output
    assert "line 4: role must be one of" in result.output
    assert "Bình" not in baocao("contacts", "list").output


def test_forms_campaigns_invites_and_listings(env: Path):
    from conversations.campaigns import CAMPAIGNS_DIR
    from conversations.forms import FORMS_DIR

    write(env / "units.csv", "code,name,kind,parent_code\nHP,Hải Phòng,province,\n"
                             "X1,Xã Một,commune,HP\n")
    baocao("units", "import", str(env / "units.csv"))
    result = baocao("campaigns", "load", str(CAMPAIGNS_DIR / "tuan-le-htsd-2023.yaml"))
    assert result.exit_code == 1 and "is not loaded" in result.output
    for name in ("tuan-le-htsd", "tuan-le-htsd-truong"):
        assert baocao("forms", "load", str(FORMS_DIR / f"{name}.yaml")).exit_code == 0
    result = baocao("campaigns", "load", str(CAMPAIGNS_DIR / "tuan-le-htsd-2023.yaml"))
    assert result.exit_code == 0, result.output
    listing = baocao("campaigns", "list").output
    assert "tuan-le-htsd-2023" in listing and "13/10/2023 00:00" in listing
    code = baocao("invite", "create", "--unit", "X1", "--uses", "3").output.strip()
    assert len(code) == 10
    assert code in baocao("invite", "list").output
    assert baocao("invite", "create", "--unit", "NOPE").exit_code == 1


def test_a_broken_form_file_is_refused_with_its_place(env: Path):
    bad = write(env / "form.yaml", "id: x\nsections:\n  - id: '1'\n    title: Một\n"
                                   "    questions:\n      - id: '1.1'\n        type: counter\n"
                                   "        label: Số\n")
    result = baocao("forms", "load", str(bad))
    assert result.exit_code == 1 and "1.1" in result.output and "type must be" in result.output


def test_demo_seed_prints_an_invite_per_unit(env: Path):
    result = baocao("demo", "seed")
    assert result.exit_code == 0, result.output
    assert "Xã An Lão" in result.output and "coordinator" in result.output
    assert "tuan-le-htsd-demo" in baocao("campaigns", "list").output


def test_invite_prints_the_deep_link_and_writes_a_qr_code(env: Path,
                                                          monkeypatch: pytest.MonkeyPatch):
    write(env / "units.csv", "code,name,kind,parent_code\nX1,Xã Một,commune,\n")
    baocao("units", "import", str(env / "units.csv"))
    refused = baocao("invite", "create", "--unit", "X1", "--qr", str(env / "qr.png"))
    assert refused.exit_code == 1 and "BAOCAO_TELEGRAM_BOT_USERNAME" in refused.output
    monkeypatch.setenv("BAOCAO_TELEGRAM_BOT_USERNAME", "baocao_hp_bot")
    result = baocao("invite", "create", "--unit", "X1", "--qr", str(env / "qr.png"))
    code, link = result.output.splitlines()[:2]
    assert link == f"https://t.me/baocao_hp_bot?start={code}"
    assert (env / "qr.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
