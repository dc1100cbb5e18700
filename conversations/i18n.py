"""Translations and Vietnamese-style formatting, handed to the engine ready to use.

Catalogs are gettext `.po` files under `locales/`; Babel compiles them in memory, so no
compiled `.mo` file has to be kept in the repository or built at install time.
"""

from __future__ import annotations

import gettext
import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from conversations.date_parsing import format_date
from conversations.number_parsing import format_number

DOMAIN = "baocao"
SUPPORTED = ("vi", "en")


def default_locales_dir() -> Path:
    import locales

    return Path(locales.__file__).parent


def load_translations(locales_dir: Path | None = None) -> dict[str, gettext.NullTranslations]:
    """Compile every supported language's `.po` into a translations object."""
    base = locales_dir or default_locales_dir()
    result: dict[str, gettext.NullTranslations] = {}
    for language in SUPPORTED:
        po = base / language / "LC_MESSAGES" / f"{DOMAIN}.po"
        if not po.exists():
            result[language] = gettext.NullTranslations()
            continue
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=language, domain=DOMAIN)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        result[language] = gettext.GNUTranslations(buffer)
    return result


@dataclass(frozen=True)
class Tr:
    """The user's language: translated strings, numbers and dates."""

    language: str
    translations: gettext.NullTranslations

    def __call__(self, msgid: str, **params: object) -> str:
        text = self.translations.gettext(msgid)
        return text.format(**params) if params else text

    def number(self, value: int | Decimal) -> str:
        return format_number(value, self.language)

    def date(self, value: date) -> str:
        return format_date(value, self.language)

    def datetime(self, value: datetime, tz: str) -> str:
        local = value.astimezone(ZoneInfo(tz))
        tr = self
        return tr("{time} on {date}", time=local.strftime("%H:%M"), date=self.date(local.date()))


class Catalog:
    """All languages; the engine asks it for one user's `Tr`."""

    def __init__(self, translations: dict[str, gettext.NullTranslations] | None = None) -> None:
        self._translations = translations if translations is not None else load_translations()

    def tr(self, language: str) -> Tr:
        language = language if language in SUPPORTED else "vi"
        return Tr(language, self._translations.get(language, gettext.NullTranslations()))
