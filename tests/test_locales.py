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
        strings = [s for s in (translated.string if translated else ())] \
            if isinstance(message.id, tuple) else [translated.string if translated else ""]
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        if translated is None or not all(strings):
            missing.append(message.id)
        elif any(sorted(set(PLACEHOLDER.findall(string))) != sorted(
                set(PLACEHOLDER.findall(ids[-1]))) for string in strings):
            broken.append(message.id)
    assert missing == [], "run `python -m locales.catalog_tools` and translate these"
    assert broken == []
    # A fuzzy translation is never shown (it is left out when the catalog is compiled).
    assert [m.id for m in vietnamese if m.id and m.fuzzy] == []


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


def test_every_plural_call_is_extracted_as_a_plural():
    """Babel takes `tr.plural(…, tr.language)` for a `tr` call: keep `tr.` out of its
    arguments, or the plural form is never translated."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    calls = sum(path.read_text(encoding="utf-8").count("tr.plural(")
                for folder in ("conversations", "bot", "scheduler")
                for path in (root / folder).rglob("*.py"))
    plurals = [m for m in extract() if isinstance(m.id, tuple)]
    assert len(plurals) == calls
