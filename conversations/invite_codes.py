"""Invite codes: random, unambiguous when read aloud or typed from a printed letter."""

from __future__ import annotations

import secrets

# No 0/O, 1/I/L: the code is often copied by hand from paper.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LENGTH = 10


def new_code(length: int = LENGTH) -> str:
    """A code with at least one letter and one digit, so chat words are never taken for one."""
    while True:
        code = "".join(secrets.choice(ALPHABET) for _ in range(length))
        if any(ch.isdigit() for ch in code) and any(ch.isalpha() for ch in code):
            return code


def candidate(text: str) -> str | None:
    """The code a message may hold ('/start abcde-fghjk', 'ABCDE FGHJK'), upper-cased, or None."""
    words = text.strip().split()
    if words and words[0].lower().startswith("/start"):
        words = words[1:]
    if not 1 <= len(words) <= 3:
        return None
    compact = "".join(words).replace("-", "").replace("_", "").upper()
    if not LENGTH <= len(compact) <= 16 or not compact.isalnum() or not compact.isascii():
        return None
    if not any(ch.isdigit() for ch in compact) or not any(ch.isalpha() for ch in compact):
        return None
    return compact


def looks_valid(code: str) -> bool:
    return len(code) >= LENGTH and all(ch in ALPHABET for ch in code)
