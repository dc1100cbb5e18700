"""Why a line of an office's file is not taken: one message per problem, with its line number,
worded for the console (translated) and for the CLI (English, as it always printed)."""

from __future__ import annotations

from dataclasses import dataclass, field

from conversations.i18n import Tr


def tr(msgid: str) -> str:
    """Marks a message for the catalogs (babel extracts `tr("…")`); translated where shown."""
    return msgid


EMPTY_CODE = tr("the code is empty")
BAD_CODE = tr("code “{code}” may hold only letters, digits, “-” and “.” (A-Z without accents, "
              "no spaces, no “/”), at most 64 characters")
DUPLICATE_CODE = tr("code {code} already appears on line {other}")
EMPTY_NAME = tr("the name is empty")
EMPTY_KIND = tr("the kind is empty (e.g. xã, phường, trường)")
UNKNOWN_KIND = tr("unknown kind “{word}”")
NO_PARENT = tr("parent {parent} is neither in the file nor loaded")
OWN_PARENT = tr("a unit cannot be its own parent")
LOOP = tr("the parent codes form a loop ({code})")
UNIT_OUTSIDE = tr("unit {code} is not among the units you coordinate")
PARENT_OUTSIDE = tr("parent {parent} is not among the units you coordinate: a unit can only be "
                    "placed under one of yours")
NO_PARENT_GIVEN = tr("the parent code is empty: a unit must be placed under one of your units")
MERGED_UNIT = tr("unit {code} was merged into another unit and is no longer used")
NOT_A_PHONE = tr("“{phone}” is not a phone number")
UNIT_NOT_LOADED = tr("unit {code} is not loaded (run `baocao units import` first)")
BAD_ROLE = tr("role must be one of {roles}")
BAD_LANGUAGE = tr("language must be vi or en")
ROLE_NOT_YOURS = tr("only an administrator may give the role “{role}”")
PHONE_OUTSIDE = tr("phone {phone} belongs to a person of units you do not coordinate")
LINE = tr("line {line}: {why}")


@dataclass(frozen=True)
class Problem:
    """One bad line: its number, the message and what fills it in."""

    line: int
    message: str
    params: dict[str, str] = field(default_factory=dict)

    def text(self, tr: Tr | None = None) -> str:
        """'line 3: unknown kind “shcool”' in English, or in the reader's language."""
        if tr is None:
            return LINE.format(line=self.line, why=self.message.format(**self.params))
        return tr(LINE, line=self.line, why=tr(self.message, **self.params))
