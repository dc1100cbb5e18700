"""A whole report in a few messages (issue 14): the `/mau` template of this unit's form, filled
in and sent back, and `mục N:` lines; the seed 004 commune report counted message by message,
in the local chat against a real SQLite file."""

from __future__ import annotations

from typing import Any

from bot.app import App

from .conftest import Person, invite
from .test_answer_safety import SCHOOL_FORM
from .test_report_conversation import COMMUNE_FORM, signed_in, stored_report

# What a commune types for each row of seed 004's form, and what must be stored.
FIGURES: dict[str, tuple[str, Any]] = {
    "1.1": ("có", True),
    "1.2": ("Số 125/KH-UBND ngày 25/9/2023", "Số 125/KH-UBND ngày 25/9/2023"),
    "2.1": ("3", 3), "2.2": ("1", 1), "2.3": ("12", 12),
    "2.4": ("5 ghi chú: 2 tờ báo tường, 3 bài", 5),
    "3.1": ("1.500", 1500), "3.2": ("200", 200), "3.3": ("12", 12),
    "4.1": ("2", 2), "4.2": ("khoảng 150", 150), "4.3": ("1", 1), "4.4": ("300", 300),
    "4.5": ("3", 3),
    "5.1": ("2", 2), "5.2": ("60", 60), "5.3": ("1", 1), "5.4": ("35", 35), "5.5": ("3", 3),
    "5.6": ("90", 90), "5.7": ("2", 2), "5.8": ("80", 80), "5.9": ("4", 4), "5.10": ("120", 120),
    "6.1": ("4", 4), "6.2": ("25", 25), "6.3": ("3", 3), "6.4": ("210", 210),
    "7.1": ("1", 1), "7.2": ("1", 1), "7.3": ("1", 1), "7.4": ("1", 1), "7.5": ("0", 0),
    "8.1": ("3", 3), "8.2": ("12", 12), "8.3": ("2tr5", 2_500_000),
    "I": ("UBND xã ban hành kế hoạch, tổ chức khai mạc ngày 02/10/2023; các trường, "
          "Trung tâm học tập cộng đồng tổ chức nhiều hoạt động thiết thực.",
          "UBND xã ban hành kế hoạch, tổ chức khai mạc ngày 02/10/2023; các trường, "
          "Trung tâm học tập cộng đồng tổ chức nhiều hoạt động thiết thực."),
    "II.2": ("Thuận lợi: được huyện quan tâm.\nKhó khăn: kinh phí còn hạn chế.",
             "Thuận lợi: được huyện quan tâm.\nKhó khăn: kinh phí còn hạn chế."),
    "III": ("Duy trì các lớp tại Trung tâm học tập cộng đồng.",
            "Duy trì các lớp tại Trung tâm học tập cộng đồng."),
    "IV": ("Đề nghị huyện hỗ trợ sách cho thư viện.", "Đề nghị huyện hỗ trợ sách cho thư viện."),
}
EXPECTED = {qid: stored for qid, (_typed, stored) in FIGURES.items()}


class Counted(Person):
    """A person whose messages are counted from the first one on."""

    def __init__(self, app: App, user: str) -> None:
        super().__init__(app, user)
        self.sent = 0

    async def say(self, text: str) -> str:
        self.sent += 1
        return await super().say(text)


def fill(template: str, figures: dict[str, tuple[str, Any]]) -> str:
    """What a person does with the template: write each figure after its “=”."""
    lines = []
    for line in template.splitlines():
        qid = line.split(" ", 1)[0]
        assert line.rstrip().endswith("="), line
        lines.append(f"{line.rstrip()} {figures[qid][0]}" if qid in figures else line)
    return "\n".join(lines)


async def counted(app: App, unit: str = "X-ANLAO") -> Counted:
    person = Counted(app, "thu-trang")
    reply = await person.say(await invite(app, unit))
    assert "đã được đăng ký" in reply
    person.sent = 0  # signing in is not part of filing the report
    return person


async def test_the_commune_report_by_template_in_at_most_four_messages(app: App):
    thu = await counted(app)
    reply = await thu.say("/baocao")
    assert "mẫu điền nhanh" in reply.lower()
    reply = await thu.say("Mẫu điền nhanh")
    intro, template = reply.split("\n---\n")
    assert "“=”" in intro
    # One row per line, in the form's order, each with its id and a short label.
    rows = template.splitlines()
    assert [r.split(" ", 1)[0] for r in rows] == [q.id for q in COMMUNE_FORM.questions]
    assert rows[10].startswith("4.2 Số người tham gia hội thảo") and rows[10].rstrip().endswith("=")
    reply = await thu.say(fill(template, FIGURES))
    assert "Đã lưu 40 câu" in reply and "Xem lại báo cáo" in reply
    assert "Chưa lưu" not in reply
    reply = await thu.say("Nộp báo cáo")
    assert "đã được nộp" in reply
    assert thu.sent <= 4
    report = await stored_report(app, "X-ANLAO")
    assert report.status == "submitted" and report.answers == EXPECTED
    assert report.notes["4.2"] == "ước tính" and report.notes["2.4"] == "2 tờ báo tường, 3 bài"


async def test_the_template_straight_away_and_what_was_not_stored(app: App):
    thu = await counted(app)
    reply = await thu.say("/mau")
    template = reply.split("\n---\n")[1]
    figures = dict(FIGURES)
    figures["4.4"] = ("300-350", None)  # a range: refused, and said why
    figures["5.2"] = ("60 người/lớp", None)  # a rate
    del figures["6.3"]  # left empty
    reply = await thu.say(fill(template, figures))
    assert "Đã lưu 37 câu" in reply
    assert "6.3" in reply.split("để trống")[1].split("\n")[0]
    assert "4.4: “300-350”" in reply and "khoảng" in reply
    assert "5.2: “60 người/lớp”" in reply and "tổng số" in reply
    report = await stored_report(app, "X-ANLAO")
    assert {"4.4", "5.2", "6.3"}.isdisjoint(report.answers)
    assert report.answers["4.5"] == 3 and report.answers["5.3"] == 1
    # The missing rows are asked one by one, starting with the first refused one.
    assert "4.4. " in reply
    assert thu.sent == 2


async def test_a_school_gets_the_template_of_its_own_form(app: App):
    lan = await counted(app, "TH-ANLAO")
    reply = await lan.say("/mau")
    template = reply.split("\n---\n")[1]
    assert [r.split(" ", 1)[0] for r in template.splitlines()] == \
        [q.id for q in SCHOOL_FORM.questions]
    assert "thầy/cô" in reply and "anh/chị" not in reply


async def test_the_template_shows_answers_given_and_keeps_untouched_texts(app: App, person):
    thu = await signed_in(person(), app)
    await thu.say("/baocao")
    await thu.say("I: " + FIGURES["I"][0])
    await thu.say("4.2 150")
    reply = await thu.say("/mau")
    template = reply.split("\n---\n")[1]
    assert "\n4.2 Số người tham gia hội thảo, tọa đàm = 150\n" in template
    assert "\nI Công tác chỉ đạo" in template and "để trống là giữ nguyên" in template
    # Sent back as shown, nothing changes; the text part left empty stays as it was.
    reply = await thu.say(template)
    assert "1 câu gửi lại như cũ: không thay đổi" in reply and "Đã lưu" not in reply
    left_empty = reply.split("chưa lưu: ")[1].split("\n")[0].rstrip(".").split(", ")
    assert "I" not in left_empty and "II.2" in left_empty
    report = await stored_report(app, "X-ANLAO")
    assert report.answers["I"] == FIGURES["I"][1] and report.answers["4.2"] == 150


async def test_the_commune_report_by_section_lines_in_at_most_ten_messages(app: App):
    thu = await counted(app)
    await thu.say("/baocao")

    def line(sid: str) -> str:
        section = COMMUNE_FORM.section(sid)
        return f"mục {sid}: " + "; ".join(FIGURES[q.id][0] for q in section.questions)

    # One section per message, as a practised user types them; the text parts go last,
    # one per line, with the last section.
    for sid in ("1", "2", "3", "4", "5", "6", "7"):
        reply = await thu.say(line(sid))
        assert "Chưa lưu" not in reply, reply
    reply = await thu.say("\n".join([line("8"), *(f"{p}: {FIGURES[p][0]}" for p in
                                                    ("I", "II.2", "III", "IV"))]))
    assert "Xem lại báo cáo" in reply and "Chưa lưu" not in reply
    reply = await thu.say("Nộp báo cáo")
    assert "đã được nộp" in reply
    assert thu.sent <= 10
    report = await stored_report(app, "X-ANLAO")
    assert report.status == "submitted" and report.answers == EXPECTED


async def test_several_sections_in_one_message_make_it_shorter_still(app: App):
    thu = await counted(app)
    await thu.say("/baocao")
    sections = [s for s in COMMUNE_FORM.sections if s.id[0].isdigit()]
    lines = [f"mục {s.id}: " + "; ".join(FIGURES[q.id][0] for q in s.questions)
             for s in sections]
    await thu.say("\n".join(lines[:4]))
    await thu.say("\n".join(lines[4:]))
    reply = await thu.say("\n".join(f"{p}: {FIGURES[p][0]}" for p in ("I", "II.2", "III", "IV")))
    assert "Xem lại báo cáo" in reply
    await thu.say("nộp")
    assert thu.sent == 5
    assert (await stored_report(app, "X-ANLAO")).answers == EXPECTED
