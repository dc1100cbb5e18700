"""Figures checked before they go up: against the unit's own previous report of the same form,
and (for coordinators) against the sibling units' figures, by a modified z-score.

Pure functions; the wording lives with the flows that use them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from statistics import median
from typing import Any

from conversations.forms import PreviousCheck, Question
from conversations.rules import numeric

# Iglewicz and Hoaglin's constant and threshold for the modified z-score (DHIS2's outlier
# detection offers the same method); with fewer values than this a median says little.
MOD_Z_CONSTANT = 0.6745
MOD_Z_THRESHOLD = 3.5
MIN_GROUP = 5
# When more than half the values are equal the median absolute deviation is 0; the mean
# absolute deviation, scaled to match it on normal data, stands in (as IBM SPSS does).
MEAN_AD_SCALE = 1.253314


@dataclass(frozen=True)
class Gap:
    """A figure far from the unit's previous report: `times` as many (up) or a `times`-th
    of it (down); `times` is 0 when one of the two is 0."""

    previous: Decimal
    up: bool
    times: int


def previous_gap(question: Question, value: Any, previous: Any,
                 check: PreviousCheck) -> Gap | None:
    """Whether `value` is `factor` times above or below the previous report's figure, unless
    both are small; None when it is not, or when there is nothing to compare."""
    if not check.on or not question.numeric:
        return None
    now, before = numeric(value, question.type), numeric(previous, question.type)
    if now is None or before is None or now < 0 or before < 0:
        return None
    if max(now, before) < check.min_value:
        return None
    if now > before * check.factor:
        return Gap(before, True, int(now / before) if before else 0)
    if now * check.factor < before:
        return Gap(before, False, int(before / now) if now else 0)
    return None


@dataclass(frozen=True)
class Outlier:
    key: Any          # whatever identifies the value to the caller (a unit)
    value: Decimal
    median: Decimal
    score: float      # the modified z-score, signed
    group_size: int


def outliers(values: Sequence[tuple[Any, Decimal]], threshold: float = MOD_Z_THRESHOLD,
             min_group: int = MIN_GROUP) -> list[Outlier]:
    """The values whose modified z-score, 0.6745 (x − median) / MAD, is beyond the threshold;
    nothing for a group too small to have a meaningful median, or where all values agree."""
    if len(values) < min_group:
        return []
    numbers = [float(v) for _, v in values]
    middle = median(numbers)
    deviations = [abs(x - middle) for x in numbers]
    mad = median(deviations)
    if mad > 0:
        scale = mad / MOD_Z_CONSTANT
    else:
        mean_ad = sum(deviations) / len(deviations)
        if mean_ad == 0:
            return []
        scale = MEAN_AD_SCALE * mean_ad
    found = []
    for (key, value), x in zip(values, numbers, strict=True):
        score = (x - middle) / scale
        if abs(score) > threshold:
            found.append(Outlier(key, value, _decimal(middle), round(score, 1), len(values)))
    return found


def _decimal(value: float) -> Decimal:
    number = Decimal(format(value, ".15g"))
    return number.quantize(Decimal(1)) if number == number.to_integral_value() \
        else number.normalize()


def numeric_answers(answers: Mapping[str, Mapping[str, Any]], types: Mapping[str, str]
                    ) -> dict[str, Decimal]:
    """The answers a rule can use, as numbers (yes is 1, no is 0)."""
    out: dict[str, Decimal] = {}
    for qid, qtype in types.items():
        stored = answers.get(qid)
        if stored is None:
            continue
        value = numeric(stored.get("value"), qtype)
        if value is not None:
            out[qid] = value
    return out
