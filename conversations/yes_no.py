"""Understand yes/no answers however they are typed (with or without diacritics)."""

from __future__ import annotations

import re

from conversations.text_normalise import clean, fold, untelex

__all__ = ["parse_yes_no", "read_yes_no"]

# Folded forms (lower case, no diacritics): "có" -> "co", "đã" / "dạ" -> "da".
_YES = {
    "co",
    "c",
    "vang",
    "roi",
    "da",
    "da xong",
    "xong",
    "ok",
    "oke",
    "okay",
    "co roi",
    "yes",
    "y",
    "dung",
    "u",
    "co lam",
    "da lam",
    "lam roi",
    "xong roi",
    "co to chuc",
    "to chuc",
    "da to chuc",
    "to chuc roi",
    "ban hanh",
    "co ban hanh",
    "da ban hanh",
    "ban hanh roi",
    "da co",
    "co a",
}
_NO = {"khong", "k", "ko", "kg", "kh", "hong", "hok", "chua", "chua co", "khong co", "ko co",
       "k co", "kg co", "kh co", "no", "n", "sai", "chua lam", "khong lam", "ko lam",
       "chua to chuc", "khong to chuc", "ko to chuc", "chua ban hanh", "khong ban hanh",
       "ko ban hanh", "chua xong", "chua co a"}

# Punctuation around the answer and the polite particles "dạ ..." / "... ạ" / "... nhé" carry
# no meaning.
_EDGE_PUNCTUATION = re.compile(r"^[\s.,;:!?…~\"'()\-]+|[\s.,;:!?…~\"'()\-]+$")
_POLITE_PREFIX = re.compile(r"^(?:da|vang),? (?=\S)")
_POLITE_SUFFIX = re.compile(r"(?:,? (?:a|nhe|nha|nhen|day|ha|nhe a|a nhe))+$")
# The option copied back from the buttons: "1. Có", "2) Không".
_OPTION = re.compile(r"^([12]) ?[.):] ?(?=\S)")
# "đã ban hành kế hoạch (tổ chức Tuần lễ)", "chưa có KH": the answer with what it is about.
_OBJECT = re.compile(r" (?:ke hoach|kh)(?: to chuc)?(?: (?:tuan le|thang khuyen hoc)"
                     r"(?: (?:htsd|hoc tap suot doi))?)?$")
# Where a yes or no ends and its details begin: "có, số 12/KH-UBND", "chưa - dự kiến ...".
_SEPARATOR = re.compile(r"\s*[,;:–—]\s*|\s+-\s+")
# Details without a separator: the plan's number ("có số 12/KH-UBND", "có 12/KH-UBND").
_DETAILS = re.compile(r"^(?:(?:ke hoach |kh )?so\b|(?:kh )?\d+ ?/|ngay \d)")
# Details that start with the other answer ("không, có", "có, à không"): which one was meant?
_SECOND_ANSWER = re.compile(r"^(?:(?:a|o|ay|nham),? )?(co|c|vang|khong|ko|k|chua)\b")


def _plain(answer: str) -> bool | None:
    if answer in _YES:
        return True
    if answer in _NO:
        return False
    about = _OBJECT.search(answer)
    if about:
        head = answer[: about.start()]
        return True if head in _YES else False if head in _NO else None
    return None


def _read(answer: str) -> bool | None:
    """The folded answer without its polite particles, as a yes, a no or neither."""
    answer = _POLITE_SUFFIX.sub("", answer)
    answer = _POLITE_PREFIX.sub("", answer)
    return _plain(_EDGE_PUNCTUATION.sub("", answer))


def parse_yes_no(text: str) -> bool | None:
    """Return True for a yes, False for a no, None when the answer is neither.

    Digits are deliberately not accepted: "1" or "0" might be an answer to a number question;
    "1. Có" (the first option copied back) is, when its number is the yes option's.
    """
    answer = _EDGE_PUNCTUATION.sub("", fold(text))
    option = _OPTION.match(answer)
    if option:
        answer = answer[option.end():]
    found = _read(answer)
    if found is None and answer != untelex(answer):  # "khoong", "chuwa cos nhes" (Telex, VNI)
        found = _read(untelex(answer))
    if found is not None and option and found != (option.group(1) == "1"):
        return None  # "2. Có": which one was meant?
    return found


def read_yes_no(text: str) -> tuple[bool, str] | None:
    """A yes or no and the details written after it ("có, số 12/KH-UBND ngày 15/9" gives
    True and "số 12/KH-UBND ngày 15/9"), or None when the answer starts with neither."""
    text = clean(text)
    whole = parse_yes_no(text)
    if whole is not None:
        return whole, ""
    separator = _SEPARATOR.search(text)
    if separator and separator.start() > 0:
        head, rest = text[: separator.start()], text[separator.end():].strip()
        found = parse_yes_no(head)
        second = _SECOND_ANSWER.match(fold(rest))
        if second and (second.group(1) in ("co", "c", "vang")) != found:
            return None
        if found is not None and rest:
            return found, rest
    words = text.split(" ")
    for size in range(min(len(words) - 1, 6), 0, -1):
        rest = " ".join(words[size:])
        found = parse_yes_no(" ".join(words[:size]))
        if found is not None and _DETAILS.match(fold(rest)):
            return found, rest
    return None
