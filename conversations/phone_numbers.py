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


NO_BREAK = "\u00a0"  # a space a line never breaks at


def office_phone(phone: str) -> str:
    """A stored '+84904200040' as an office writes it, '0904 200 040' (a landline
    '0225 3861 234', Hà Nội and TP HCM '024 3826 1234'), its spaces unbreakable so the number
    stays on one line; anything else as it is."""
    stored = normalise_phone(phone) if phone.strip()[:1] in "+0" else None
    if stored is None or not re.fullmatch(r"\+84\d{9,10}", stored):
        return phone
    national = "0" + stored[3:]
    if len(national) == 10:    # a mobile: 0904 200 040
        parts = (national[:4], national[4:7], national[7:])
    elif national[:3] in ("024", "028"):  # a landline of Hà Nội or TP HCM
        parts = (national[:3], national[3:7], national[7:])
    else:                       # another province's landline: 0225 3861 234
        parts = (national[:4], national[4:8], national[8:])
    return NO_BREAK.join(parts)
