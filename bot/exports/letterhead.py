"""Who issues the consolidated report, where, who signs it and who receives it.

Nghị định 30/2020/NĐ-CP puts the issuing body (in two lines: the body above, if any, then the
issuing body itself), the number, the place and date, the signer's authority and title, and the
recipients ("Nơi nhận") on every administrative document. They come, most specific first, from
the office's settings (`BAOCAO_REPORT_*`), the campaign's `report:` section, and otherwise from
the coordinator's unit itself: a commune's report is issued by "ỦY BAN NHÂN DÂN / XÃ AN LÃO" and
signed "TM. ỦY BAN NHÂN DÂN / KT. CHỦ TỊCH / PHÓ CHỦ TỊCH", as in the seed 004 form.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

# Kinds whose reports a people's committee issues and signs.
COMMITTEE_KINDS = frozenset({"province", "district", "commune", "ward", "town", "special_zone"})
COMMITTEE_SIGNER = ("TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH")
SIGN_HINT = "(Ký, ghi rõ họ tên)"
FILED = "Lưu: VT."

# The administrative word a unit's name starts with; the place ("địa danh") is what follows.
_PLACE_WORDS = re.compile(
    r"^(?:ủy ban nhân dân|ubnd|thành phố|tp\.?|tỉnh|huyện|quận|thị xã|thị trấn|xã|phường|"
    r"đặc khu)\s+", re.IGNORECASE)


@dataclass(frozen=True)
class Letterhead:
    """What the heading and the signature block of the consolidated report say."""

    issuer_above: str = ""            # the body above the issuer, regular capitals; may be ""
    issuer: str = ""                  # the issuing body, bold capitals
    symbol: str = "BC"                # "Số:     /BC-UBND"
    place: str = ""                   # "An Lão" (địa danh)
    signer: tuple[str, ...] = ()      # authority and title lines, bold capitals
    signer_name: str = ""             # empty: left blank for the signer to write
    recipients: tuple[str, ...] = ()  # "Nơi nhận", the last one being "Lưu: VT."

    @property
    def number_line(self) -> str:
        return f"Số:        /{self.symbol}"


@dataclass(frozen=True)
class ReportSettings:
    """The office's own settings for the consolidated report (`BAOCAO_REPORT_*`); every empty
    value falls back to the campaign's, then to what the coordinator's unit implies."""

    template_dir: str = ""
    issuer: tuple[str, ...] = ()
    place: str = ""
    signer: tuple[str, ...] = ()
    signer_name: str = ""
    recipients: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Any) -> ReportSettings:
        return cls(
            template_dir=settings.report_template_dir,
            issuer=split_lines(settings.report_issuer),
            place=settings.report_place.strip(),
            signer=split_lines(settings.report_signer),
            signer_name=settings.report_signer_name.strip(),
            recipients=split_lines(settings.report_recipients),
        )


def split_lines(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """Lines written `a|b` in a setting, or a YAML list."""
    if not value:
        return ()
    items = value.split("|") if isinstance(value, str) else [str(v) for v in value]
    return tuple(item.strip() for item in items if item and item.strip())


def place_of(name: str) -> str:
    """The place a unit's name names: "Xã An Lão" → "An Lão"."""
    return _PLACE_WORDS.sub("", name.strip(), count=1).strip() or name.strip()


def units_reported_on(kinds: Sequence[str]) -> str:
    """The units whose reports this one consolidates, as "Nơi nhận" names them: "UBND các
    xã, phường" (their committees), "Các trường, trung tâm"."""
    from conversations.reporting_lines import group_name

    title = group_name(kinds).vi
    if kinds and all(k in COMMITTEE_KINDS for k in kinds):
        return f"UBND {title[:1].lower()}{title[1:]}"
    return title


def default_letterhead(name: str, kind: str, parent_name: str = "",
                       parent_kind: str = "", reported_on: Sequence[str] = ()) -> Letterhead:
    """What a unit of this kind writes on its reports when nobody has said otherwise. It is
    sent, as offices send theirs, to the level above (if any) and to the units it reports on
    (`reported_on`, "UBND các xã, phường"), and filed ("Lưu: VT.")."""
    if not name:
        return Letterhead(recipients=(*(f"{r};" for r in reported_on), FILED))
    upper = name.upper()
    above = f"UBND {parent_name.upper()}" if parent_name and parent_kind in COMMITTEE_KINDS \
        else parent_name.upper()
    place = place_of(name) if kind in COMMITTEE_KINDS else place_of(parent_name or name)
    upward = (f"UBND {parent_name[:1].lower()}{parent_name[1:]}" if parent_kind in COMMITTEE_KINDS
              else parent_name)
    recipients = tuple(r for r in (f"{upward};" if parent_name else "",
                                   *(f"{r};" for r in reported_on), FILED) if r)
    if kind in COMMITTEE_KINDS:
        return Letterhead("ỦY BAN NHÂN DÂN", upper.removeprefix("ỦY BAN NHÂN DÂN ").strip(),
                          "BC-UBND", place, COMMITTEE_SIGNER, recipients=recipients)
    lowered = name.lower()
    if kind == "school":
        return Letterhead(above, upper, "BC-", place, ("HIỆU TRƯỞNG",), recipients=recipients)
    if kind == "association" or lowered.startswith("hội"):
        return Letterhead(above, upper, "BC-", place, ("TM. BAN CHẤP HÀNH", "CHỦ TỊCH"),
                          recipients=recipients)
    if lowered.startswith("phòng"):
        return Letterhead(above, upper, "BC-", place, ("TRƯỞNG PHÒNG",), recipients=recipients)
    if lowered.startswith("sở"):
        return Letterhead(above, upper, "BC-", place, ("GIÁM ĐỐC",), recipients=recipients)
    return Letterhead(above, upper, "BC-", place, ("THỦ TRƯỞNG ĐƠN VỊ",), recipients=recipients)


def letterhead_for(unit: Letterhead, campaign_report: Mapping[str, Any] | None,
                   settings: ReportSettings | None) -> Letterhead:
    """The unit's letterhead with the campaign's `report:` values, then the office's
    settings, laid over it."""
    result = unit
    for source in (_from_campaign(campaign_report or {}), _from_settings(settings)):
        result = replace(result, **{k: v for k, v in source.items() if v is not None})
    if result.recipients and not any(r.startswith("Lưu") for r in result.recipients):
        result = replace(result, recipients=(*result.recipients, FILED))
    return result


def _given(value: Any) -> Any:
    """None for a value not given (an empty string or list), so it changes nothing."""
    return value or None


def _from_campaign(report: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **_issuer_fields(split_lines(report.get("issuer"))),
        "place": _given(str(report.get("place") or "").strip()),
        "signer": _given(split_lines(report.get("signer"))),
        "signer_name": _given(str(report.get("signer_name") or "").strip()),
        "recipients": _given(split_lines(report.get("recipients"))),
        "symbol": _given(str(report.get("symbol") or "").strip()),
    }


def _from_settings(settings: ReportSettings | None) -> dict[str, Any]:
    if settings is None:
        return {}
    return {**_issuer_fields(settings.issuer), "place": _given(settings.place),
            "signer": _given(settings.signer), "signer_name": _given(settings.signer_name),
            "recipients": _given(settings.recipients)}


def _issuer_fields(lines: tuple[str, ...]) -> dict[str, str]:
    """One line: the issuer alone (no body above); more: the body above, then the issuer."""
    if not lines:
        return {}
    if len(lines) == 1:
        return {"issuer_above": "", "issuer": lines[0]}
    return {"issuer_above": lines[0], "issuer": " ".join(lines[1:])}


def official_date(day: date) -> tuple[str, str, str]:
    """Day, month and year as Nghị định 30 writes them: a day below 10 and the months 1 and 2
    take a leading zero ("ngày 05 tháng 02", "ngày 14 tháng 3")."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"{day.day:02d}", month, str(day.year)
