"""Translations and Vietnamese-style formatting, handed to the engine ready to use.

Catalogs are gettext `.po` files under `locales/`; Babel compiles them in memory, so no
compiled `.mo` file has to be kept in the repository or built at install time.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Iterable
from dataclasses import dataclass, replace
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


# The catalogs write the default Vietnamese form of address; a unit kind may have its own.
DEFAULT_ADDRESS = "anh/chị"


def _readdress(text: str, word: str) -> str:
    """Put the reader's form of address ("thầy/cô") where the catalog says "anh/chị"."""
    return (text.replace(DEFAULT_ADDRESS, word)
            .replace(DEFAULT_ADDRESS.capitalize(), word[:1].upper() + word[1:]))


@dataclass(frozen=True)
class Tr:
    """The user's language: translated strings, numbers and dates."""

    language: str
    translations: gettext.NullTranslations
    address: str = ""  # the reader's form of address when not "anh/chị" (a school: "thầy/cô")

    def __call__(self, msgid: str, **params: object) -> str:
        text = self.translations.gettext(msgid)
        if self.address:
            text = _readdress(text, self.address)
        return text.format(**params) if params else text

    def plural(self, singular: str, plural: str, n: int, **params: object) -> str:
        """A message with a count in it: "1 question" / "2 questions"; `{n}` is the count."""
        text = self.translations.ngettext(singular, plural, n)
        if self.address:
            text = _readdress(text, self.address)
        return text.format(n=n, **params)

    def addressing(self, kinds: Iterable[str]) -> Tr:
        """The same language, addressing a person of these unit kinds: "thầy/cô" for schools
        and GDNN-GDTX centres, "anh/chị" for a community learning centre (commune staff run
        it). The words per kind live in the catalog; mixed kinds keep the default."""
        plain = replace(self, address="")
        words = {form_of_address(plain, kind) for kind in kinds}
        word = words.pop() if len(words) == 1 else ""
        return replace(self, address="" if word == DEFAULT_ADDRESS else word)

    def number(self, value: int | Decimal) -> str:
        return format_number(value, self.language)

    def date(self, value: date) -> str:
        return format_date(value, self.language)

    def local_date(self, value: datetime, tz: str) -> str:
        """The day of an instant where the users are: stored instants are UTC, and between
        00:00 and 07:00 in Viet Nam the UTC date is still the previous day."""
        return self.date(value.astimezone(ZoneInfo(tz)).date())

    def datetime(self, value: datetime, tz: str) -> str:
        local = value.astimezone(ZoneInfo(tz))
        tr = self
        return tr("{time} on {date}", time=local.strftime("%H:%M"), date=self.date(local.date()))


def form_of_address(tr: Tr, kind: str) -> str:
    """How the catalog addresses someone reporting for a unit of this kind."""
    words = {
        "school": tr("form of address: school"),
        "centre": tr("form of address: centre"),
        "learning_centre": tr("form of address: learning_centre"),
    }
    word = words.get(kind) or tr("form of address: any other unit")
    # Untranslated (English): no form of address to change.
    return DEFAULT_ADDRESS if word.startswith("form of address") else word


class Catalog:
    """All languages; the engine asks it for one user's `Tr`."""

    def __init__(self, translations: dict[str, gettext.NullTranslations] | None = None) -> None:
        self._translations = translations if translations is not None else load_translations()

    def tr(self, language: str, kinds: Iterable[str] = ()) -> Tr:
        """One language's `Tr`; with `kinds`, addressing a reporter of those unit kinds."""
        language = language if language in SUPPORTED else "vi"
        tr = Tr(language, self._translations.get(language, gettext.NullTranslations()))
        kinds = tuple(kinds)
        return tr.addressing(kinds) if kinds else tr
