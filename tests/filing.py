"""Reports filed as a reporter files them in the local chat: sign in with an invite, /baocao,
every answer as `id=value` lines, then “Nộp báo cáo”. Shared by the reporting-line tests."""

from __future__ import annotations

import re
from pathlib import Path

from bot.app import App
from conversations.forms import Form, bundled_form_files, load_form_file

from .conftest import Person, invite

FORMS = {p.stem: load_form_file(p) for p in bundled_form_files()}
COMMUNE = FORMS["tuan-le-htsd"]
SCHOOL = FORMS["tuan-le-htsd-truong"]


def typed_values(form: Form, overrides: dict[str, object] | None = None) -> dict[str, str]:
    """Something typed for every question: `có`, small counts, money, a sentence for texts."""
    typed: dict[str, str] = {}
    for q in form.questions:
        if q.type == "yes_no":
            typed[q.id] = "có"
        elif q.type == "text":
            typed[q.id] = f"Nội dung phần {q.id}."
        elif q.type == "money":
            typed[q.id] = "1000000"
        else:
            typed[q.id] = "1"
    for qid, value in (overrides or {}).items():
        typed[qid] = str(value)
    return typed


async def sign_in(app: App, unit: str, user: str | None = None, role: str = "reporter"
                  ) -> Person:
    person = Person(app, user or f"{role}-{unit}")
    reply = await person.say(await invite(app, unit, role=role))
    assert "Chào mừng" in reply, reply
    return person


async def fill(person: Person, form: Form, values: dict[str, object] | None = None,
               pick: str | None = None) -> str:
    """Open the report (choosing `pick` when asked), send every answer; returns the last reply."""
    reply = await person.say("/baocao")
    if pick is not None and "muốn làm báo cáo nào" in reply:
        number = _option_number(reply, pick)
        reply = await person.say(str(number))
    typed = typed_values(form, values)
    reply = await person.say("\n".join(f"{qid}={value}" for qid, value in typed.items()))
    for _ in range(10):  # values above a row's usual range are confirmed, as a person would
        if "Đúng, giữ nguyên" not in reply:
            break
        reply = await person.say("Đúng, giữ nguyên")
    return reply


async def file_report(app: App, unit: str, form: Form, values: dict[str, object] | None = None,
                      *, person: Person | None = None, pick: str | None = None) -> Person:
    person = person or await sign_in(app, unit)
    reply = await fill(person, form, values, pick)
    assert "Nộp báo cáo" in reply, reply
    reply = await person.say("Nộp báo cáo")
    assert "đã được nộp" in reply or "Đã nộp" in reply or "nộp lúc" in reply, reply
    return person


def _option_number(reply: str, label: str) -> int:
    for line in reply.splitlines():
        match = re.match(r"\s*(\d+)[.)]\s*(.+)", line)
        if match and label in match.group(2):
            return int(match.group(1))
    raise AssertionError(f"no option {label!r} in:\n{reply}")


def document_path(reply: str) -> Path:
    """The file a `/xuat` reply delivered in the local chat (shown as `[name] path`)."""
    match = re.search(r"\[[^\]]+\] (\S+)", reply)
    assert match, reply
    return Path(match.group(1))
