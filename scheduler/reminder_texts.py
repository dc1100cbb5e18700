"""What a reminder says, in its recipient's language: polite, short, ending with how to go on."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from conversations.context import BlockSummary
from conversations.coordinator_commands import block_title, counts_text, state_word
from conversations.deadlines import deadline_phrase
from conversations.events import Button, OutboundMessage
from conversations.i18n import Catalog, Tr
from conversations.reporting_lines import StateCounts, group_name, kind_names
from scheduler.reminder_plan import DueReminder, PeriodSnapshot, UnitReport

Line = tuple[BlockSummary, list[UnitReport]]


def deadline_of(p: PeriodSnapshot, tr: Tr) -> str:
    return deadline_phrase(p.deadline, p.timezone, tr)


def _progress(unit: UnitReport, tr: Tr) -> str:
    if unit.status in ("draft", "returned") and unit.answered:
        missing = unit.total - unit.answered
        if missing <= 0:
            return tr("{unit}: every question is answered; it only needs submitting.",
                      unit=unit.name)
        return tr("{unit}: {missing} questions still unanswered.", unit=unit.name,
                  missing=missing)
    return tr("{unit}: not started yet ({total} questions).", unit=unit.name, total=unit.total)


def render(reminder: DueReminder, catalog: Catalog, now: datetime) -> OutboundMessage:
    kinds = [] if reminder.kind == "digest" else [u.kind for u in reminder.units if u.kind]
    tr = catalog.tr(reminder.recipient.language, kinds)
    p = reminder.period
    title = p.campaign_title.get(tr.language)
    deadline = deadline_of(p, tr)
    if reminder.kind == "digest":
        return OutboundMessage(digest_text(reminder, tr, now))
    if reminder.kind == "task":
        assert reminder.task is not None and reminder.task_owner is not None
        task, owner = reminder.task, reminder.task_owner
        text = tr("Kindly reminding: “{task}” of {unit} is to be done before {date}. "
                  "Is it done?", task=task.title.get(tr.language), unit=owner.name,
                  date=tr.date(task.due_at.astimezone(p.tz).date()))
        token = f"task:{task.task_id}:{owner.unit_id}"
        return OutboundMessage(text, (Button(f"{token}:y", tr("Done")),
                                      Button(f"{token}:n", tr("Not yet"))))
    lines = []
    if reminder.kind == "correction":  # after the lock: reports returned, open until then
        until = min(u.correct_by for u in reminder.units if u.correct_by is not None)
        lines.append(tr("Kindly reminding: the report {campaign} was returned for correction "
                        "and can be sent again until {time}.", campaign=title,
                        time=tr.datetime(until, p.timezone)))
    elif reminder.kind == "opening":
        lines.append(tr("Kindly informing you: {campaign} has started. The report of your unit "
                        "is due {deadline}.", campaign=title, deadline=deadline))
    elif reminder.kind == "overdue":
        lines.append(tr("Kindly reminding: the report {campaign} was due {deadline} and has "
                        "not been submitted yet. A report sent now is still accepted and "
                        "recorded as late.", campaign=title, deadline=deadline))
    else:
        days = max(0, (p.deadline - now).days)
        if days >= 1:
            lines.append(tr("Kindly reminding: the report {campaign} is due {deadline} "
                            "({days} days left).", campaign=title, deadline=deadline,
                            days=days))
        else:
            lines.append(tr("Kindly reminding: the report {campaign} is due {deadline}, "
                            "less than a day from now.", campaign=title, deadline=deadline))
    lines.extend("• " + _progress(unit, tr) for unit in reminder.units)
    lines.append(tr("Send /baocao to continue."))
    return OutboundMessage("\n".join(lines), (Button("report", tr("Fill in the report")),))


def digest_text(reminder: DueReminder, tr: Tr, now: datetime) -> str:
    """Counts per reporting line (a province's communes, then their schools, apart), each
    with the units that have not submitted; then the figures to check and the tasks."""
    p = reminder.period
    units = reminder.units
    coordinator = reminder.coordinator_unit.name if reminder.coordinator_unit else ""
    lines = [
        tr("Summary of {campaign} for {unit}, at {time}:",
           campaign=p.campaign_title.get(tr.language), unit=coordinator,
           time=tr.datetime(now, p.timezone)),
        tr("Due {deadline}.", deadline=deadline_of(p, tr)),
    ]
    for line in digest_lines(units):
        lines.append("")
        lines.extend(_line_text(line, tr))
    lines.append("")
    to_check = [u for u in units if u.submitted and u.flagged]
    if to_check:
        lines.append(tr("Figures kept by the unit after being asked back, marked “cần kiểm "
                        "tra” (send /kiemtra for the reasons):"))
        lines.extend(f"• {u.name}: {', '.join(u.flagged)}"
                     for u in sorted(to_check, key=lambda u: u.name))
    scope = reminder.coordinator_unit.unit_id if reminder.coordinator_unit else None
    for task in p.tasks:
        owners = [o for o in task.owners if o.coordinator_unit_id == scope]
        if not owners:
            continue
        done = [o for o in owners if o.done]
        not_done = sorted(o.name for o in owners if not o.done)
        line = tr("Task “{task}”: done {done}/{total}.", task=task.title.get(tr.language),
                  done=len(done), total=len(owners))
        if not_done:
            line += " " + tr("Not done or not answered: {units}.", units=", ".join(not_done))
        lines.append(line)
    return "\n".join(lines).rstrip()


def digest_lines(units: Sequence[UnitReport]) -> list[Line]:
    """The units by reporting line: those whose reports come to the coordinator's level
    first, then each line further down; one form per line, never two counted as one."""
    grouped: dict[tuple[bool, str], list[UnitReport]] = {}
    for unit in units:
        grouped.setdefault((bool(unit.covered_by), unit.form), []).append(unit)
    result = []
    for (covered, _), members in sorted(grouped.items(), key=lambda item: item[0][0]):
        counts = StateCounts()
        for u in members:
            counts = counts.plus(u.status, u.on_time)
        summary = BlockSummary(group_name(u.kind for u in members), not covered, counts,
                               covered_by=kind_names(u.covered_by for u in members
                                                     if u.covered_by))
        result.append((summary, members))
    return result


def _line_text(line: Line, tr: Tr) -> list[str]:
    summary, units = line
    lines = [block_title(summary, tr) + ":", counts_text(summary.counts, tr) + "."]
    missing = [u for u in units if not u.submitted]
    if missing:
        lines.append(tr("Units that have not submitted:"))
        for unit in sorted(missing, key=lambda u: u.name):
            people = ", ".join(r.name + (f" ({r.phone})" if r.phone else "")
                               for r in unit.reporters) or tr("no reporter registered")
            lines.append(f"• {unit.name} ({state_word(unit.status, tr)}) — {people}")
    else:
        lines.append(tr("Every unit has submitted. Thank you!"))
    return lines
