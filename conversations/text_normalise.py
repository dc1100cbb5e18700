"""Normalise free text typed into chat apps before it is parsed.

Phones and chat apps add invisible characters, full-width digits, odd spaces and emoji to what
people type; removing them once here keeps every parser simple. ``fold`` additionally drops
Vietnamese diacritics, because many users type without them ("khong" for "không").
"""

from __future__ import annotations

import functools
import re
import unicodedata

__all__ = ["clean", "fold", "untelex"]

# Code point ranges holding emoji and pictographs that are not all of category "So":
# variation selectors, skin-tone modifiers (Sk), the keycap mark (Me), tag characters (Cf).
_EMOJI_RANGES: tuple[tuple[int, int], ...] = (
    (0x2600, 0x27BF),  # miscellaneous symbols, dingbats
    (0x2B00, 0x2BFF),  # miscellaneous symbols and arrows
    (0x20E3, 0x20E3),  # combining enclosing keycap
    (0xFE00, 0xFE0F),  # variation selectors
    (0x1F000, 0x1FAFF),  # mahjong ... symbols and pictographs extended-A
    (0xE0020, 0xE007F),  # tags (flag sequences)
)

# Line breaks other than "\n" that should still count as one.
_LINE_BREAKS = {"\r", "\u2028", "\u2029", "\x85"}

_WHITESPACE_RUN = re.compile(r"\s+")


def _is_emoji(char: str) -> bool:
    """True for pictographic characters that carry no textual meaning for the parsers."""
    if unicodedata.category(char) == "So":
        return True
    code = ord(char)
    return any(low <= code <= high for low, high in _EMOJI_RANGES)


def _map_char(char: str) -> str:
    """Map one character to itself, a plain space, a newline, or nothing."""
    if char == "\n" or char in _LINE_BREAKS:
        return "\n"
    if char.isspace():  # tab, NBSP, narrow NBSP, ideographic space, ...
        return " "
    category = unicodedata.category(char)
    # Cf: zero-width space/joiners, LRM/RLM, word joiner, BOM, soft hyphen, bidi controls.
    # Cc: other control characters. Cs: lone surrogates that can arrive from broken clients.
    if category in ("Cf", "Cc", "Cs") or _is_emoji(char):
        return ""
    return char


def _collapse(match: re.Match[str]) -> str:
    """A whitespace run becomes one newline if it spans lines, else one space."""
    return "\n" if "\n" in match.group() else " "


@functools.lru_cache(maxsize=8192)
def clean(text: str) -> str:
    """Return ``text`` in a canonical form that parsers can rely on.

    NFKC turns full-width digits and compatibility characters into plain ones while keeping
    Vietnamese letters composed ("ệ", "ữ"). Invisible characters and emoji are removed, all
    Unicode spaces become a plain space, and whitespace runs collapse (newlines are kept).
    """
    text = text.replace("\r\n", "\n")
    text = unicodedata.normalize("NFKC", text)
    text = "".join(_map_char(char) for char in text)
    # Removing characters may have put a base letter next to its combining mark again.
    text = unicodedata.normalize("NFKC", text)
    return _WHITESPACE_RUN.sub(_collapse, text).strip()


@functools.lru_cache(maxsize=8192)  # labels and words are folded again at every step
def fold(text: str) -> str:
    """Return ``clean(text)`` lower-cased and without Vietnamese diacritics.

    Used to match words however they were typed: "Không có", "KHONG CO" and "không có"
    all fold to "khong co"; "đ"/"Đ" become "d".
    """
    text = clean(text).lower().replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    # A stray mark may have hung on a space ("¯" is NFKC " " + macron); tidy spaces again.
    return _WHITESPACE_RUN.sub(_collapse, unicodedata.normalize("NFC", stripped)).strip()


_TELEX_TONE = re.compile(r"(?<=[a-z])[sfrxj]$")
_VNI_MARKS = re.compile(r"(?<=[a-z])[1-9]+")
_DOUBLED = re.compile(r"([aeod])\1")


@functools.lru_cache(maxsize=8192)
def untelex(folded: str) -> str:
    """A folded word with the keys of a Telex or VNI keyboard that did not turn into marks
    removed: "khoong" -> "khong", "chuwa" -> "chua", "cos" -> "co", "trieeuj" -> "trieu",
    "kho6ng" -> "khong". Only for matching a word against a known vocabulary: no Vietnamese
    syllable ends in s, f, r, x or j, but an English word may."""
    words = []
    for word in folded.split(" "):
        if not any(char.isalpha() for char in word):
            words.append(word)
            continue
        word = _VNI_MARKS.sub("", word)
        if len(word) > 2:
            word = _TELEX_TONE.sub("", word)
        word = word.replace("w", "") if len(word) > 1 else word
        words.append(_DOUBLED.sub(r"\1", word))
    return " ".join(words)
