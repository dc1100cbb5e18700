"""Vietnamese phone numbers in one form, so 0912…, +84912… and 84912… are the same person."""

from __future__ import annotations

import re

_DIGITS = re.compile(r"\d+")


def normalise_phone(raw: str) -> str | None:
    """'0912 345 678', '+84 912-345-678', '84912345678' → '+84912345678'; None if not a phone."""
    text = raw.strip()
    digits = "".join(_DIGITS.findall(text))
    if text.startswith("+"):
        if not digits.startswith("84"):
            return f"+{digits}" if 8 <= len(digits) <= 15 else None
        national = digits[2:]
    elif digits.startswith("84") and len(digits) in (11, 12):
        national = digits[2:]
    elif digits.startswith("0"):
        national = digits[1:]
    else:
        national = digits
    national = national.lstrip("0")
    if not 9 <= len(national) <= 10:
        return None
    return f"+84{national}"
