"""Unit kinds and the words offices use for them.

Campaigns name the kinds they ask for a report (`commune`, `school`…); an office's spreadsheet
says "xã", "Trường", "TTHTCĐ", "dac khu". Every word here, however typed (case, diacritics,
hyphens), maps to one kind; a word that maps to none is refused rather than stored, because a
unit of an unknown kind silently drops out of every campaign."""

from __future__ import annotations

import re
from dataclasses import dataclass

from conversations.text_normalise import fold

__all__ = ["KINDS", "Kind", "kind_key", "known_kinds_text", "resolve_kind"]


@dataclass(frozen=True)
class Kind:
    id: str
    vi: str  # as shown to an office (the first word it would write)
    en: str
    words: tuple[str, ...] = ()  # other ways of writing it


KINDS: tuple[Kind, ...] = (
    Kind("province", "tỉnh/thành phố", "province or centrally-run city",
         ("tỉnh", "thành phố", "thành phố trực thuộc trung ương", "tp", "ubnd tỉnh",
          "ubnd thành phố", "city")),
    Kind("commune", "xã", "commune", ("ubnd xã",)),
    Kind("ward", "phường", "ward", ("ubnd phường",)),
    Kind("special_zone", "đặc khu", "special zone", ("ubnd đặc khu", "special zone")),
    Kind("town", "thị trấn", "town", ("ubnd thị trấn",)),
    Kind("district", "huyện/quận/thị xã", "district (before 07/2025)",
         ("huyện", "quận", "thị xã", "ubnd huyện", "ubnd quận")),
    Kind("school", "trường", "school",
         ("trường học", "mầm non", "trường mầm non", "mn", "tiểu học", "trường tiểu học", "th",
          "thcs", "trường thcs", "th&thcs", "th và thcs", "thpt", "trường thpt",
          "thcs&thpt", "liên cấp", "trường liên cấp", "trung học cơ sở",
          "trung học phổ thông")),
    Kind("centre", "GDNN-GDTX", "vocational/continuing-education centre",
         ("trung tâm gdnn-gdtx", "tt gdnn-gdtx", "ttgdnn-gdtx", "gdtx", "trung tâm gdtx",
          "center")),
    Kind("learning_centre", "TTHTCĐ", "community learning centre",
         ("trung tâm học tập cộng đồng", "tt htcđ", "tthtcd", "learning center")),
    Kind("department", "phòng/ban/ngành", "department",
         ("phòng", "ban", "ngành", "sở", "phòng giáo dục", "phòng gd&đt", "sở gd&đt")),
    Kind("association", "hội khuyến học", "study promotion association",
         ("hội", "chi hội khuyến học", "hội khuyến học xã", "hkh")),
    Kind("residential_group", "tổ dân phố", "residential group",
         ("tdp", "thôn", "khu phố", "ấp", "bản", "residential group")),
)

_SEPARATORS = re.compile(r"[^a-z0-9]+")


def kind_key(word: str) -> str:
    """A word as compared: no case, no diacritics, any run of punctuation one space."""
    return _SEPARATORS.sub(" ", fold(word)).strip()


_BY_WORD: dict[str, str] = {}
for _kind in KINDS:
    for _word in (_kind.id, _kind.en, *_kind.vi.split("/"), *_kind.words):
        _BY_WORD.setdefault(kind_key(_word), _kind.id)


def resolve_kind(word: str, extra: frozenset[str] | set[str] = frozenset()) -> str | None:
    """The kind a word names, or None. `extra` are kinds campaigns use beyond the usual ones
    (an office's own campaign may ask a `library` for a report), matched by their id."""
    key = kind_key(word)
    if not key:
        return None
    found = _BY_WORD.get(key)
    if found is not None:
        return found
    for kind in extra:
        if kind_key(kind) == key:
            return kind
    return None


def known_kinds_text(extra: frozenset[str] | set[str] = frozenset()) -> str:
    """The kinds an import accepts, as an office would read them: "xã (commune), …"."""
    usual = {k.id for k in KINDS}
    shown = [f"{k.vi} ({k.id})" for k in KINDS]
    shown += sorted(k for k in extra if k not in usual)
    return ", ".join(shown)
