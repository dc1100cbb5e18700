"""The form page's posts as chat fast entry (no database): only what changed is sent, each
line read back by the chat's own fast entry first, so no value can land in another row."""

from __future__ import annotations

from conversations import web_form
from conversations.i18n import Catalog

from .test_coordinators_e2e import school_form

FORM = school_form()
TR = Catalog().tr("vi", ("school",))


def section(sid: str, values: dict[str, str] | None = None) -> web_form.SectionRows:
    """A section as the page shows it, with these values stored."""
    rows = next(s for s in FORM.sections if s.id == sid)
    return web_form.SectionRows(sid, "", tuple(
        web_form.Row(q.id, "", "", q.type, "", (values or {}).get(q.id, ""), "",
                     q.note and q.type != "text", "", "", "", q.id in (values or {}),
                     q.required, multiline=q.type == "text") for q in rows.questions))


def test_only_what_changed_is_sent_with_its_note():
    sent = web_form.entry(FORM, section("8", {"8.1": "2"}),
                          {"v:8.1": "2", "v:8.2": "", "v:8.3": "5tr", "n:8.3": "tiền mặt"})
    assert sent.lines == ("8.3 = 5tr ghi chú: tiền mặt",) and sent.refused == ()


def test_a_note_that_reads_like_another_row_is_refused():
    sent = web_form.entry(FORM, section("8"), {"v:8.3": "5tr", "n:8.3": "xem 4.2 = 10"})
    assert sent.lines == () and sent.refused == ("8.3",)


def test_a_text_part_keeps_its_lines_unless_a_line_names_a_row():
    kept = web_form.entry(FORM, section("III"), {"v:III": "Duy trì.\r\nMở thêm lớp."})
    assert kept.texts == (("III", "Duy trì.\nMở thêm lớp."),)
    split = web_form.entry(FORM, section("III"), {"v:III": "Duy trì.\n4.2 = 3 lớp"})
    assert split.texts == () and split.refused == ("III",)


def test_said_about_names_the_row_and_not_its_neighbours():
    reply = "• 4.1: “3”, 4.2: “1” — không thể ít hơn\n4.2. Số người: 2.500 người\n4.10 khác"
    assert web_form.said_about(reply, "4.1") == ["4.1: “3”, 4.2: “1” — không thể ít hơn"]
    assert len(web_form.said_about(reply, "4.2")) == 2
