"""Invite codes: random, unambiguous when read aloud or typed from a printed letter."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

# No 0/O, 1/I/L: the code is often copied by hand from paper.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LOOKALIKES = "0O1IL"
LENGTH = 10

# What people put around a code: "Mã: K7PM-2QXR9A.", "code: …", quotes, a final full stop.
_PREFIX = re.compile(r"^(?:mã\s+mời|ma\s+moi|mã\s+số|mã|ma|invite\s+code|invite|code)\s*[:：\-]?"
                     r"\s+|^(?:mã\s+mời|ma\s+moi|mã\s+số|mã|ma|invite\s+code|invite|code)\s*[:：]",
                     re.IGNORECASE)
_EDGES = " \t\n.,;:!?\"'“”‘’«»()[]<>*`"


def new_code(length: int = LENGTH) -> str:
    """A code with at least one letter and one digit, so chat words are never taken for one."""
    while True:
        code = "".join(secrets.choice(ALPHABET) for _ in range(length))
        if any(ch.isdigit() for ch in code) and any(ch.isalpha() for ch in code):
            return code


def _compact(text: str) -> str | None:
    """'/start abcde-fghjk', 'Mã: ABCDE FGHJK.' → 'ABCDEFGHJK'; None if not code-shaped."""
    words = text.strip().split()
    if words and words[0].lower().startswith("/start"):
        words = words[1:]
    body = " ".join(words).strip(_EDGES)
    stripped = _PREFIX.sub("", body, count=1).strip(_EDGES)
    found = _squeeze(stripped)
    if stripped != body and (found is None or len(found) != LENGTH):
        whole = _squeeze(body)  # "MA K7PM 2QXR": a code that begins like a prefix
        if whole is not None and len(whole) == LENGTH:
            return whole
    return found


def _squeeze(body: str) -> str | None:
    words = body.split()
    if not 1 <= len(words) <= 3:
        return None
    compact = "".join(words).replace("-", "").replace("_", "").replace(".", "").upper()
    if not compact.isalnum() or not compact.isascii():
        return None
    if not any(ch.isdigit() for ch in compact) or not any(ch.isalpha() for ch in compact):
        return None
    return compact


def candidate(text: str) -> str | None:
    """The code a message holds ('/start abcde-fghjk', 'Mã: ABCDE FGHJK.'), upper-cased, or
    None. Only a well-formed code is looked up; a near miss gets a hint instead."""
    compact = _compact(text)
    if compact is None or len(compact) != LENGTH or any(ch not in ALPHABET for ch in compact):
        return None
    return compact


@dataclass(frozen=True)
class NearMiss:
    """A message that looks like a mistyped code: wrong length, or a look-alike character."""

    code: str
    length: int
    lookalikes: str = ""  # the characters no code has (O, I, L, 0, 1)


def near_miss(text: str) -> NearMiss | None:
    compact = _compact(text)
    if compact is None or not 6 <= len(compact) <= 14 or candidate(text) is not None:
        return None
    odd = "".join(dict.fromkeys(ch for ch in compact if ch in LOOKALIKES))
    return NearMiss(compact, len(compact), odd)


def looks_valid(code: str) -> bool:
    return len(code) >= LENGTH and all(ch in ALPHABET for ch in code)
