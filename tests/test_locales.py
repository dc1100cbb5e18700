"""Every string the bot says exists in Vietnamese, with the same placeholders."""

from __future__ import annotations

import re

from conversations.i18n import Catalog
from locales.catalog_tools import extract, read_catalog

PLACEHOLDER = re.compile(r"\{(\w+)\}")


def test_every_message_in_the_code_is_translated_to_vietnamese():
    vietnamese = read_catalog("vi")
    missing, broken = [], []
    for message in extract():
        if not message.id:
            continue
        translated = vietnamese.get(message.id)
        if translated is None or not translated.string:
            missing.append(message.id)
        elif sorted(PLACEHOLDER.findall(message.id)) != sorted(
                PLACEHOLDER.findall(translated.string)):
            broken.append(message.id)
    assert missing == [], "run `python -m locales.catalog_tools` and translate these"
    assert broken == []


def test_numbers_and_dates_follow_each_language():
    from datetime import date
    from decimal import Decimal

    vi, en = Catalog().tr("vi"), Catalog().tr("en")
    assert vi.number(1234567) == "1.234.567" and en.number(1234567) == "1,234,567"
    assert vi.number(Decimal("2.5")) == "2,5"
    assert vi.date(date(2023, 10, 13)) == "13/10/2023"
    assert vi("Section {section} · question {n}/{total}", section="4", n=12, total=41) \
        == "Mục 4 · câu 12/41"
    assert en("Section {section} · question {n}/{total}", section="4", n=12, total=41) \
        == "Section 4 · question 12/41"
