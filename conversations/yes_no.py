"""Understand yes/no answers however they are typed (with or without diacritics)."""

from __future__ import annotations

import re

from conversations.text_normalise import fold

__all__ = ["parse_yes_no"]

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

# Punctuation around the answer and the polite particles "dạ ..." / "... ạ" carry no meaning.
_EDGE_PUNCTUATION = re.compile(r"^[\s.,;:!?…~\"'()\-]+|[\s.,;:!?…~\"'()\-]+$")
_POLITE_PREFIX = re.compile(r"^(?:da|vang),? (?=\S)")
_POLITE_SUFFIX = re.compile(r",? a$")


def parse_yes_no(text: str) -> bool | None:
    """Return True for a yes, False for a no, None when the answer is neither.

    Digits are deliberately not accepted: "1" or "0" might be an answer to a number question.
    """
    answer = _EDGE_PUNCTUATION.sub("", fold(text))
    answer = _POLITE_SUFFIX.sub("", answer)
    answer = _POLITE_PREFIX.sub("", answer)
    answer = _EDGE_PUNCTUATION.sub("", answer)
    if answer in _YES:
        return True
    if answer in _NO:
        return False
    return None
