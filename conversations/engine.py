"""The conversation engine: advance(state, event, context, now) → new state, messages, effects.

Pure: no I/O, no clock. The shell locks the chat, loads the context, calls `advance`, and commits
the result in one transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from conversations import (
    coordinator_commands,
    form_link,
    not_typed,
    report_flow,
    task_checkins,
    workbook_entry,
)
from conversations.context import (
    MAX_FAILED_SIGNINS_GLOBAL,
    MAX_FAILED_SIGNINS_PER_HOUR,
    Context,
)
from conversations.corrections import pending_by_report
from conversations.events import (
    Button,
    InboundEvent,
    LinkIdentity,
    OfferUpload,
    OutboundMessage,
    RecordFailedSignIn,
    Register,
    SetLanguage,
    StepResult,
)
from conversations.fast_entry import example_line, example_section
from conversations.i18n import SUPPORTED, Tr
from conversations.invite_codes import NearMiss, candidate, near_miss
from conversations.session import Turn
from conversations.status import status_text
from conversations.text_normalise import clean, fold

COMMANDS: dict[str, str] = {
    "start": "start",
    "baocao": "report",
    "report": "report",
    "trangthai": "status",
    "status": "status",
    "huy": "cancel",
    "cancel": "cancel",
    "trogiup": "help",
    "help": "help",
    "ngonngu": "lang",
    "lang": "lang",
    "language": "lang",
    "nhac": "nudge",
    "remind": "nudge",
    "tonghop": "summary",
    "summary": "summary",
    "chuanop": "missing",
    "missing": "missing",
    "xem": "view",
    "view": "view",
    "tralai": "return",
    "return": "return",
    "xuat": "export",
    "export": "export",
    "bieudo": "chart",
    "chart": "chart",
    "duyet": "accept",
    "accept": "accept",
    "mau": "template",
    "template": "template",
    "web": "web",
    "bangdieukhien": "web",
    "excel": "excel",
    "tailen": "upload",
    "upload": "upload",
    "kiemtra": "check",
    "check": "check",
}
COORDINATOR_COMMANDS = frozenset({"nudge", "summary", "missing", "view", "return", "accept",
                                  "export", "chart", "web", "check"})
# Commands people type without the slash, folded (no diacritics, lower case).
WORD_COMMANDS: dict[str, str] = {
    "bao cao": "report",
    "baocao": "report",
    "trang thai": "status",
    "trangthai": "status",
    "huy": "cancel",
    "tro giup": "help",
    "trogiup": "help",
    "giup": "help",
    "help": "help",
    "ngon ngu": "lang",
    "mau": "template",
    "mau dien nhanh": "template",
    "excel": "excel",
    "tep excel": "excel",
    "file excel": "excel",
}


def parse_command(text: str) -> tuple[str, str] | None:
    """'/baocao@MyBot arg' → ('report', 'arg'); None when the text is no known command."""
    stripped = clean(text)
    if not stripped.startswith("/"):
        return None
    head, _, rest = stripped[1:].partition(" ")
    name = fold(head.split("@", 1)[0])
    command = COMMANDS.get(name)
    return (command, rest.strip()) if command else ("unknown", stripped)


# Commands a button may carry as its token ("/duyet TH-HALONG" under a notice of a report sent
# again): pressed, they run as if typed; on a channel without buttons the command is shown to
# type. Only these, so a button never reaches a command nobody offered.
BUTTON_COMMANDS = frozenset({"accept"})


def command_of(event: InboundEvent) -> tuple[str, str] | None:
    """The command a typed text or a command button carries, as `parse_command` gives it."""
    if event.kind == "text":
        return parse_command(event.text)
    if event.kind == "button" and event.payload.startswith("/"):
        command = parse_command(event.payload)
        if command is not None and command[0] in BUTTON_COMMANDS:
            return command
    return None


def needs_received(event: InboundEvent, state: dict[str, Any]) -> bool:
    """Whether the event may open a report or take over the figures received from the units
    that report to it (a commune's schools): the shell then loads what they sent in."""
    if event.kind == "button":
        return event.payload in ("report", "consolidate") or event.payload.startswith("pick:")
    if event.kind != "text":
        return False
    if state.get("step") == "choosing":
        return True
    command = parse_command(event.text)
    if command is not None:
        return command[0] == "report"
    folded = fold(event.text).strip(" .!?")
    if WORD_COMMANDS.get(folded) == "report" or \
            report_flow.SHORTCUT_WORDS.get(folded) == "consolidate":
        return True
    answers = [token for token, _label, shortcut in state.get("offered") or [] if not shortcut]
    if len(folded) <= 3 and folded.isdigit() and 1 <= int(folded) <= len(answers):
        return answers[int(folded) - 1] in ("report", "consolidate")
    return any(token in ("report", "consolidate") and folded == fold(label).strip(" .!?")
               for token, label, _shortcut in state.get("offered") or [])


def advance(state: dict[str, Any], event: InboundEvent, ctx: Context, now: datetime) -> StepResult:
    turn = Turn(state=dict(state or {}), event=event, ctx=ctx, now=now)
    if ctx.contact is None:
        if not not_typed.handle(turn, _not_joined_yet):
            _onboarding(turn)
    elif not not_typed.handle(turn):
        _registered(turn)
    return turn.result()


def _not_joined_yet(turn: Turn, prefix: str) -> None:
    turn.say(prefix + "\n" + _how_to_join(turn), buttons=_share_button(turn))


def _onboarding(turn: Turn) -> None:
    tr = turn.tr
    if turn.event.kind == "contact":
        _shared_contact(turn)
        return
    command = parse_command(turn.event.text) if turn.event.kind == "text" else None
    if command and command[0] == "lang":
        _language(turn, command[1])
        return
    if command and command[0] == "help":
        turn.say(tr("This bot collects the campaign reports of schools and communes.") + "\n"
                 + _how_to_join(turn))
        return
    if turn.event.kind == "text" and (command is None or command[0] == "start"):
        code = candidate(turn.event.text)
        if code:
            _sign_in(turn, code)
            return
        miss = near_miss(turn.event.text)
        if miss is not None:
            _near_miss(turn, miss)
            return
    if command and command[0] == "start":
        turn.say(tr("Welcome to baocao, the assistant for the campaign reports that schools and "
                    "communes send to the education office and the study promotion "
                    "association.") + "\n"
                 + _how_to_join(turn), buttons=_share_button(turn))
        return
    turn.say(_how_to_join(turn), buttons=_share_button(turn))


def _share_button(turn: Turn) -> tuple[Button, ...]:
    if not turn.ctx.can_share_contact:
        return ()
    return (Button("share_phone", turn.tr("Share my phone number")),)


def _shared_contact(turn: Turn) -> None:
    tr, event = turn.tr, turn.event
    if turn.ctx.contact is not None:
        turn.say(tr("You are already signed in. Send /baocao to report."))
        return
    if not event.contact_user_id or event.contact_user_id != event.user_id:
        turn.say(tr("Please share your own phone number with the button below, not someone "
                    "else's contact."), buttons=_share_button(turn))
        return
    match = turn.ctx.phone_match
    if match is None:
        turn.say(tr("Your phone number is not on the list of any unit yet. Please send the "
                    "invite code your coordinator gave you."))
        return
    turn.effect(LinkIdentity(match.id))
    turn.switch_language(match.language)
    units = ", ".join(u.name for u in match.units) or "—"
    turn.say(tr("Welcome, {name}! You are signed in for: {units}.", name=match.name, units=units)
             + "\n" + tr("Send /baocao to start a report, /trogiup for help."),
             buttons=(Button("report", tr("Start a report")),))


def _how_to_join(turn: Turn) -> str:
    tr = turn.tr
    if turn.ctx.can_share_contact:
        return tr("To start, please send the invite code your education office or study "
                  "promotion association gave you (10 letters and digits, for example "
                  "K7PM-2QXR9A), or share your phone number if your unit registered it.")
    return tr("To start, please send the invite code your education office or study promotion "
              "association gave you (10 letters and digits, for example K7PM-2QXR9A).")


def _near_miss(turn: Turn, miss: NearMiss) -> None:
    """A code typed with a character too many or too few, or a look-alike: say which."""
    tr = turn.tr
    if miss.lookalikes:
        text = tr("The code {code} has {chars}: invite codes have no letter O, I or L and no "
                  "digit 0 or 1, so one of them was misread. Please check the code on the "
                  "paper (an O may be a Q or a D) and send it again.", code=miss.code,
                  chars=", ".join(f"“{c}”" for c in miss.lookalikes))
    else:
        text = tr.plural("An invite code has 10 characters; {code} has {n}. Please check it "
                         "letter by letter and send it again.",
                         "An invite code has 10 characters; {code} has {n}. Please check it "
                         "letter by letter and send it again.", miss.length, code=miss.code)
    turn.say(text, buttons=_share_button(turn))


def _sign_in(turn: Turn, code: str) -> None:
    """Every code is tried here, signed in or not: a right code always signs in, at once; a
    miss is recorded, answered the same way whoever asks, and refused past the limits."""
    tr, ctx = turn.tr, turn.ctx
    invite = ctx.invite
    if invite is None or invite.code != code:
        _missed(turn, code)
        return
    if invite.problem == "expired":
        turn.say(tr("The code {code} has expired. Please ask your coordinator for a new one.",
                    code=code))
        return
    if invite.problem == "used_up":
        turn.say(tr("The code {code} has already been used as many times as allowed. Please ask "
                    "your coordinator for a new one.", code=code))
        return
    if ctx.contact and any(u.code == invite.unit.code for u in ctx.contact.units):
        turn.say(tr("You already report for {unit}.", unit=invite.unit.name))
        return
    turn.effect(Register(invite.code, turn.event.display_name, turn.event.phone))
    kinds = [u.kind for u in ctx.contact.units] if ctx.contact else []
    turn.address_for(*kinds, invite.unit.kind)
    tr = turn.tr
    if invite.role == "coordinator":
        text = tr("Welcome! You are now registered as a coordinator of {unit}.",
                  unit=invite.unit.name)
    else:
        text = tr("Welcome! You are now registered to report for {unit}.", unit=invite.unit.name)
    turn.say(text + "\n" + tr("Send /baocao to start a report, /trogiup for help."),
             buttons=(Button("report", tr("Start a report")),))


def _missed(turn: Turn, code: str) -> None:
    """A code not found. Past a limit (this account's misses in the last hour, or everyone's
    in the window) it is refused with a note and counts against the account only: the limits
    refuse wrong codes, never a right one, so no flood of guesses locks anyone out."""
    tr, ctx = turn.tr, turn.ctx
    if ctx.failed_signins_last_hour >= MAX_FAILED_SIGNINS_PER_HOUR:
        turn.effect(RecordFailedSignIn(code, limited=True))
        turn.say(tr("The code {code} was not found either: this account has sent several codes "
                    "that were not found. Please check the code letter by letter on the paper, "
                    "or ask your coordinator to check it; the right code signs in at once.",
                    code=code))
        return
    if ctx.failed_signins_everywhere >= MAX_FAILED_SIGNINS_GLOBAL:
        turn.effect(RecordFailedSignIn(code, limited=True))
        turn.say(tr("The code {code} was not found. Many wrong codes have been sent to the bot "
                    "in the last few minutes, so please check the code letter by letter on the "
                    "paper before sending it again; the right code signs in at once.",
                    code=code))
        return
    turn.effect(RecordFailedSignIn(code))
    turn.say(tr("The code {code} was not found. Please check it letter by letter (it has no "
                "letter O or I, and no digit 0 or 1) and send it again.", code=code))


def _registered(turn: Turn) -> None:
    event, tr = turn.event, turn.tr
    if event.kind == "contact":
        _shared_contact(turn)
        return
    if event.kind == "document":
        workbook_entry.document(turn)
        return
    if event.kind == "workbook":
        workbook_entry.received(turn)
        return
    command = command_of(event)
    if command is None and event.kind == "text" and not report_flow.expects_free_text(turn):
        word = WORD_COMMANDS.get(fold(event.text).strip(" .!?"))
        if word:
            command = (word, "")
    token = report_flow.offered_token(turn)
    if token and token.startswith("task:") and task_checkins.handle_token(turn, token):
        return
    if command is None and task_checkins.handle_words(turn):
        return
    if token and token.startswith("lang:"):
        _language(turn, token.split(":", 1)[1])
        return
    if token == "report":
        command = ("report", "")
    if token == "template" and command is None:
        command = ("template", "")
    if token == "excel" and command is None and turn.state.get("step", "idle") in (
            "idle", "choosing"):
        command = ("excel", "")
    if command:
        name, arg = command
        if name == "start":
            code = candidate(event.text)
            if code:
                _sign_in(turn, code)
            else:
                turn.say(tr("Welcome back! Send /baocao to report, /trangthai to see what is due."))
        elif name == "report":
            report_flow.start(turn, arg)
            form_link.offer(turn)
        elif name == "template":
            report_flow.start(turn, arg, purpose="template")
        elif name == "excel":
            report_flow.start(turn, arg, purpose="excel")
        elif name == "upload":
            _offer_upload(turn)
        elif name == "check":
            coordinator_commands.check(turn)
        elif name == "status":
            turn.say(status_text(turn.ctx, tr, turn.now, pending_by_report(turn.state)))
        elif name == "cancel":
            report_flow.cancel(turn)
        elif name == "help":
            text = help_text(tr, _example(turn))
            if coordinator_commands.is_coordinator(turn):
                text += "\n\n" + coordinator_help(tr)
            turn.say(text)
        elif name == "lang":
            _language(turn, arg)
        elif name == "nudge":
            coordinator_commands.nudge(turn)
        elif name == "summary":
            coordinator_commands.summary(turn)
        elif name == "missing":
            coordinator_commands.missing(turn)
        elif name == "view":
            coordinator_commands.view(turn, arg)
        elif name == "return":
            coordinator_commands.return_report(turn, arg)
        elif name == "accept":
            coordinator_commands.accept(turn, arg)
        elif name == "export":
            coordinator_commands.export(turn, arg)
        elif name == "chart":
            coordinator_commands.chart(turn, arg)
        elif name == "web":
            coordinator_commands.web_link(turn)
        else:
            turn.say(tr("I don't know this command. Send /trogiup to see what I can do."))
        return
    if turn.state.get("step", "idle") == "idle" and event.kind == "text":
        code = candidate(event.text)
        if code:
            _sign_in(turn, code)
            return
    report_flow.handle(turn)


def _offer_upload(turn: Turn) -> None:
    """`/tailen`: how to send the bot a filled-in Excel file from this messenger."""
    tr = turn.tr
    if turn.ctx.can_receive_files:
        turn.say(tr("Send the filled-in Excel file (.xlsx, at most 20 MB) here in the chat, "
                    "as a file: the report template from /excel, or, for coordinators, the "
                    "file from /xuat with the figures of units that reported on paper."))
        return
    turn.effect(OfferUpload())


def _example(turn: Turn) -> str:
    """A section line for the form of the person's report (the first one open)."""
    current = turn.ctx.assignment(turn.state.get("assignment"))
    assignments = [current] if current else list(turn.ctx.assignments)
    for a in assignments:
        if a.form_key in turn.ctx.forms:
            form = turn.ctx.form_for(a)
            return example_line(example_section(form), turn.tr.language)
    return "mục 2: 3, 1, 12" if turn.tr.language == "vi" else "section 2: 3, 1, 12"


def help_text(tr: Tr, example: str = "mục 2: 3, 1, 12") -> str:
    return "\n".join([
        tr("What I can do:"),
        tr("/baocao — fill in or correct a report"),
        tr("/mau — a template of the whole report, to fill in and send back in one message"),
        tr("/excel — the report as an Excel file of your unit, to fill in and send back"),
        tr("/trangthai — what is due for your unit, and deadlines"),
        tr("/huy — stop the current report (answers stay saved)"),
        tr("/ngonngu — Tiếng Việt / English"),
        "",
        tr("Answer one question at a time, or send a whole section at once: “mục”, its "
           "number, then one value per row in order, for example “{example}”; or several "
           "answers as “4.1=2 4.2=150”, one section or answer per line.", example=example),
        tr("Numbers may be written 1.234 or 1 234, amounts as 5tr or 500k. To add a note to an "
           "answer, write it after “ghi chú”, for example: 3 ghi chú: 2 lớp trực tuyến."),
    ])


def coordinator_help(tr: Tr) -> str:
    return "\n".join([
        tr("For coordinators:"),
        tr("/tonghop — who has submitted, and the main figures summed"),
        tr("/chuanop — units that have not submitted, with reporters and phones"),
        tr("/xem CODE — one unit's report and its history"),
        tr("/tralai CODE reason — send a report back for correction"),
        tr("/duyet CODE — accept a submitted report"),
        tr("/xuat — the Excel file (/xuat csv, /xuat docx for the consolidated report)"),
        tr("/bieudo [CODE] — a chart of who has submitted (of one unit's units with its code)"),
        tr("/nhac — remind now every unit below yours that has not submitted (once an hour)"),
        tr("/web — a link to the web console: every unit's state, reports, files"),
        tr("/kiemtra — figures far from those of similar units, and figures marked “cần "
           "kiểm tra”"),
        tr("/tailen — send the /xuat file back with the figures of units that reported on "
           "paper: they are entered on their behalf"),
    ])


def _language(turn: Turn, arg: str) -> None:
    choice = fold(arg).strip()
    mapping = {"vi": "vi", "tieng viet": "vi", "viet": "vi", "en": "en", "english": "en",
               "tieng anh": "en", "anh": "en"}
    language = mapping.get(choice)
    if language is None:
        turn.say(turn.tr("Choose your language / Chọn ngôn ngữ:"),
                 buttons=(Button("lang:vi", "Tiếng Việt"), Button("lang:en", "English")))
        return
    if language not in SUPPORTED:
        return
    if turn.ctx.contact is not None:
        turn.effect(SetLanguage(language))
    else:
        turn.state["language"] = language
    turn.switch_language(language)
    turn.say(turn.tr("Language set to English.") if language == "en"
             else turn.tr("Language set to Vietnamese."))


__all__ = ["advance", "command_of", "parse_command", "OutboundMessage"]
