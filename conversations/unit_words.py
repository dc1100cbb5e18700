"""The words a figure may carry after its number, per kind of question (issue 22).

A word right after a number either is a unit the question takes ("12 người", "5 triệu"), or
nearly is one ("5 triệuu", "5 trieeuj": a key pressed twice, or a Telex mark left as a
letter), in which case the reading is asked back; any other word ("10 lít", "12 kg") is
refused, because dropping it would store a figure nobody meant.
"""

from __future__ import annotations

from conversations.text_normalise import fold, untelex

__all__ = ["COUNT_UNITS", "MONEY_UNITS", "MULTIPLIER_WORDS", "count_unit_at", "near_word"]

# What reports count, folded; several words where the unit has several ("đồng chí").
COUNT_UNITS = frozenset(fold(word) for word in (
    "người", "ng", "lượt", "lượt người", "lớp", "lớp học", "trường", "cụ", "đồng chí", "em", "cháu",
    "học sinh", "hs", "học viên", "giáo viên", "gv", "cán bộ", "hội viên", "thành viên",
    "đoàn viên", "gia đình", "hộ", "hộ gia đình", "dòng họ", "đơn vị", "tập thể", "cá nhân",
    "công dân", "bài", "bài viết", "tin", "tin bài", "bản tin", "tờ", "tờ rơi", "cuốn", "quyển",
    "bản", "cái", "chiếc", "buổi", "lần", "cuộc", "đợt", "hoạt động", "trung tâm", "cơ sở",
    "câu lạc bộ", "clb", "thư viện", "băng rôn", "băng zôn", "pano", "pa nô", "khẩu hiệu",
    "suất", "phần quà", "cộng đồng", "chi hội", "tiết mục", "gian", "đầu sách", "sách", "tài liệu",
    "xã", "phường", "thôn", "tổ", "khu", "tổ dân phố", "trang", "website", "trang web",
))
# The đồng, however it is written after a figure.
MONEY_UNITS = frozenset({"d", "dong", "vnd", "₫", "vn d"})
# The multipliers as they are meant, folded, with the spelling shown when a reading is asked.
MULTIPLIER_WORDS: dict[str, str] = {"nghin": "nghìn", "ngan": "ngàn", "trieu": "triệu",
                                    "ty": "tỷ"}
_LONGEST_UNIT = max(len(unit.split()) for unit in COUNT_UNITS)


def count_unit_at(words: list[str], extra: frozenset[str] = frozenset()) -> int:
    """How many of the folded ``words`` (from the start) are a count unit: 0 if none."""
    units = COUNT_UNITS | extra
    for size in range(min(_LONGEST_UNIT, len(words)), 0, -1):
        if " ".join(words[:size]) in units:
            return size
    return 0


def _one_edit(a: str, b: str) -> bool:
    """True if a and b differ by one letter added, dropped, changed or two swapped."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def near_word(word: str, targets: frozenset[str] | set[str] | dict[str, str]) -> str:
    """The folded target ``word`` nearly is: the same letters without their marks, a Telex
    or VNI leftover, or (for words of five letters or more) one key off. "" if none."""
    folded = fold(word)
    if folded in targets:
        return folded
    plain = untelex(folded)
    if plain in targets:
        return plain
    if len(folded) >= 5:
        for target in targets:
            if len(target) >= 5 and (_one_edit(folded, target) or _one_edit(plain, target)):
                return target
    return ""
