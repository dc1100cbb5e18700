"""The files as a person sees them: LibreOffice (Debian's package) turns the .docx and the
.xlsx into PDF, and the PDF's pages and text are checked (poppler-utils). CI installs both
(.ci/run); without them these tests skip and say what to install."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.exports.docx_report import write_docx
from bot.exports.xlsx_export import write_xlsx

from .test_export_files import commune_data

NEEDED = ("soffice", "pdftotext", "pdfinfo", "pdffonts")
MISSING = [tool for tool in NEEDED if shutil.which(tool) is None]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(MISSING), reason=(
        f"{', '.join(MISSING)} not installed: apt-get install libreoffice-writer "
        "libreoffice-calc fonts-liberation2 poppler-utils (.ci/run does)")),
]


def to_pdf(source: Path, tmp_path: Path) -> Path:
    """Convert with a profile of its own, so parallel runs never share LibreOffice's lock."""
    profile = tmp_path / "lo-profile"
    subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(source)],
                   check=True, capture_output=True, timeout=180)
    pdf = tmp_path / (source.stem + ".pdf")
    assert pdf.is_file(), f"LibreOffice made no PDF of {source.name}"
    return pdf


def pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True)
    return int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.MULTILINE).group(1))


def text(pdf: Path, page: int | None = None) -> str:
    args = ["pdftotext", "-layout"]
    if page is not None:
        args += ["-f", str(page), "-l", str(page)]
    result = subprocess.run([*args, str(pdf), "-"], check=True, capture_output=True, text=True)
    return result.stdout


def test_docx_renders_with_heading_totals_signer_and_page_numbers(tmp_path: Path) -> None:
    source = tmp_path / "bao-cao.docx"
    write_docx(commune_data(), source)
    pdf = to_pdf(source, tmp_path)
    count = pages(pdf)
    assert 3 <= count <= 5, count
    first = text(pdf, 1)
    for line in ("ỦY BAN NHÂN DÂN", "XÃ AN LÃO", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                 "Độc lập - Tự do - Hạnh phúc", "An Lão, ngày 14 tháng 10 năm 2023", "BÁO CÁO",
                 "Kết quả tổ chức Tuần lễ hưởng ứng học tập suốt đời năm 2023"):
        assert line in first, line
    assert not re.match(r"\s*1\s*$", first.splitlines()[0])  # no number on page 1
    assert text(pdf, 2).strip().splitlines()[0].strip() == "2"  # at the top from page 2
    whole = text(pdf).replace("\u00a0", " ")
    assert "49.500.000 đồng" in whole  # 8.3's total
    assert "1.155 người" in whole      # 8.2's total
    for line in ("TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Nơi nhận:",
                 "DANH SÁCH ĐƠN VỊ CHƯA NỘP BÁO CÁO", "Nguyễn Thị Hoa", "0912 345 678"):
        assert line in whole, line
    fonts = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True,
                           text=True).stdout
    # Times New Roman, or Liberation Serif in its place (the same metrics, fonts-liberation2)
    assert re.search(r"TimesNewRoman|LiberationSerif", fonts), fonts


def test_xlsx_renders_one_page_wide_with_totals_and_page_numbers(tmp_path: Path) -> None:
    source = tmp_path / "bao-cao.xlsx"
    write_xlsx(commune_data(), source)
    pdf = to_pdf(source, tmp_path)
    # one page per sheet: Báo cáo (one page wide), Chưa nộp, Tiến độ, Ý kiến, Lịch sử
    assert pages(pdf) == 5
    report = text(pdf, 1)
    assert "Tuần lễ hưởng ứng học tập suốt đời năm 2023" in report
    assert "Tổng cộng (các đơn vị đã nộp)" in report
    assert "Cộng: Huyện An Lão" in report and "Cộng: Huyện Vĩnh Bảo" in report
    totals = next(line for line in report.splitlines() if "Tổng cộng (các" in line)
    assert re.search(r"49[.,]500[.,]000", totals), totals  # computed by LibreOffice
    assert "Trang 1/5" in report
    missing = text(pdf, 2)
    assert "Xã Chiến Thắng" in missing and "0912345678" in missing and "Trang 2/5" in missing
