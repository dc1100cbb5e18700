"""`baocao`: the command line for admins, the local chat, and running the bot."""

from __future__ import annotations

import asyncio
import getpass
import logging
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar
from zoneinfo import ZoneInfo

import typer

if TYPE_CHECKING:  # the CLI imports what a command needs when it runs (bench/startup.py)
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot import admin
    from bot.app import App
    from bot.settings import Settings

T = TypeVar("T")

app = typer.Typer(help="baocao: campaign reports of schools and communes, in chat.",
                  no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database.", no_args_is_help=True)
units_app = typer.Typer(help="The unit tree (province, communes, schools, centres…).",
                        no_args_is_help=True)
contacts_app = typer.Typer(help="People who report or coordinate.", no_args_is_help=True)
forms_app = typer.Typer(help="Report forms (YAML or a spreadsheet).", no_args_is_help=True)
campaigns_app = typer.Typer(help="Campaigns and their periods (YAML).", no_args_is_help=True)
invite_app = typer.Typer(help="Invite codes for signing in.", no_args_is_help=True)
demo_app = typer.Typer(help="A demo province to try the bot.", no_args_is_help=True)
remind_app = typer.Typer(help="Deadline reminders.", no_args_is_help=True)
web_app = typer.Typer(help="The coordinators' web console.", no_args_is_help=True)
for sub, name in ((db_app, "db"), (units_app, "units"), (contacts_app, "contacts"),
                  (forms_app, "forms"), (campaigns_app, "campaigns"), (invite_app, "invite"),
                  (demo_app, "demo"), (remind_app, "remind"), (web_app, "web")):
    app.add_typer(sub, name=name)


def _show_version(value: bool) -> None:
    if value:
        from bot import __version__

        typer.echo(f"baocao {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_show_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """baocao: campaign reports of schools and communes, in chat."""


def _settings() -> Settings:
    """The settings, or one line per bad variable and exit code 2 (no traceback)."""
    from bot.settings import SettingsError, load_settings

    try:
        return load_settings()
    except SettingsError as exc:
        for line in exc.lines:
            typer.echo(line, err=True)
        raise typer.Exit(2) from None


def _run(work: Callable[[App], Awaitable[T]]) -> T:
    settings = _settings()

    async def main() -> T:
        application = await _open(settings)
        try:
            return await work(application)
        finally:
            await application.close()

    return asyncio.run(main())


async def _open(settings: Settings) -> App:
    """The app on the configured database, or one line saying why it cannot be opened."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.app import build_app

    try:
        return await build_app(settings)
    except (OSError, TimeoutError, SQLAlchemyError) as exc:
        reason = getattr(exc, "orig", None) or exc
        typer.echo(f"Cannot open the database {settings.safe_database_url()}: {reason}",
                   err=True)
        raise typer.Exit(1) from None


def _in_transaction(work: Callable[[AsyncSession, App], Awaitable[T]]) -> T:
    from bot import admin
    from bot.offices.campaigns import OfficeError
    from bot.spreadsheets.tables import TableError
    from conversations.campaigns import CampaignError
    from conversations.forms import FormError

    async def inner(application: App) -> T:
        async with application.sessions() as session, session.begin():
            return await work(session, application)

    try:
        return _run(inner)
    except TableError as exc:
        typer.echo("Nothing was imported. Please correct these lines and try again:", err=True)
        for line in exc.errors:
            typer.echo(f"  {line}", err=True)
        raise typer.Exit(1) from exc
    except (admin.AdminError, FormError, CampaignError, OfficeError) as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(1) from exc


def _table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    typer.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    typer.echo("  ".join("-" * w for w in widths))
    for row in rows:
        typer.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))


# ----------------------------------------------------------------------------- db

@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations (also done automatically at every start)."""
    from bot.storage.database import upgrade_sync

    settings = _settings()
    upgrade_sync(settings.database_url)
    typer.echo(f"Database is up to date: {settings.safe_database_url()}")


# ----------------------------------------------------------------------------- units, contacts

@units_app.command("import")
def units_import(file: Path) -> None:
    """Import units from .xlsx or .csv: Mã, Tên, Loại, Mã đơn vị cấp trên (or code, name,
    kind, parent_code)."""
    from bot import admin

    result = _in_transaction(lambda s, a: admin.import_units(s, file, a.clock()))
    typer.echo(f"Imported {result.count} units.")
    if not result.campaigns_loaded:
        typer.echo("No campaign is loaded yet: load the forms and campaigns "
                   "(`baocao forms load`, `baocao campaigns load`) to have units report.")
    elif result.untargeted:
        typer.echo(f"Warning: no loaded campaign asks for a report from these "
                   f"{len(result.untargeted)} unit(s) (fine for units that only coordinate):")
        for unit in result.untargeted:
            typer.echo(f"  {unit.code} ({unit.kind}) {unit.name}")


@units_app.command("template")
def units_template(file: Annotated[Path, typer.Argument(help="the .xlsx file to write")]
                   ) -> None:
    """Write an .xlsx to fill in and import: the columns, and the unit kinds known."""
    from bot.spreadsheets import templates

    _write_template(file, lambda: templates.units_template(file))


def _write_template(file: Path, write: Callable[[], None]) -> None:
    if file.exists():
        typer.echo(f"Error: {file} already exists; give another file name.", err=True)
        raise typer.Exit(1)
    if file.suffix.lower() != ".xlsx":
        typer.echo("Error: the template is an Excel file: give a name ending in .xlsx.",
                   err=True)
        raise typer.Exit(1)
    write()
    typer.echo(f"Wrote {file}: fill in the first sheet, then import it.")


@units_app.command("list")
def units_list() -> None:
    """The unit tree, indented."""
    from bot import admin

    units = _in_transaction(lambda s, a: admin.list_units(s))
    rows = [["  " * (u.path.count("/") - 2) + u.code, u.name, u.kind] for u in units]
    _table(["code", "name", "kind"], rows)


@contacts_app.command("import")
def contacts_import(file: Path) -> None:
    """Import contacts from .xlsx or .csv: Họ tên, Số điện thoại, Mã đơn vị, Vai trò[, Ngôn
    ngữ] (or name, phone, unit_code, role[, language])."""
    from bot import admin

    count = _in_transaction(lambda s, a: admin.import_contacts(s, file, a.clock()))
    typer.echo(f"Imported {count} contact rows.")


@contacts_app.command("template")
def contacts_template(file: Annotated[Path, typer.Argument(help="the .xlsx file to write")]
                      ) -> None:
    """Write an .xlsx to fill in and import: the columns, roles and languages."""
    from bot.spreadsheets import templates

    _write_template(file, lambda: templates.contacts_template(file))


@contacts_app.command("list")
def contacts_list() -> None:
    """The contacts with their units."""
    from bot import admin

    rows = _in_transaction(lambda s, a: admin.list_contacts(s))
    _table(["id", "name", "phone", "role", "lang", "units"],
           [[str(c.id), c.name, c.phone or "", c.role, c.language, units] for c, units in rows])


# ----------------------------------------------------------------------------- forms, campaigns

@forms_app.command("load")
def forms_load(file: Path) -> None:
    """Load a form: YAML, or a spreadsheet (.xlsx, as `forms export` writes it); a new
    version must raise its version number."""
    from bot import admin

    if file.suffix.lower() == ".xlsx":
        from bot.spreadsheets.form_sheets import FormSheetError, read_form_workbook

        if not file.is_file():
            typer.echo(f"Error: {file} does not exist.", err=True)
            raise typer.Exit(1)
        try:
            form, raw = read_form_workbook(file)
        except FormSheetError as exc:
            typer.echo(f"Nothing was loaded. Please correct these lines of {file.name} and "
                       f"try again:", err=True)
            for line in exc.errors:
                typer.echo(f"  {line}", err=True)
            raise typer.Exit(1) from exc
    else:
        import yaml

        from conversations.forms import load_form_file

        form = _checked(lambda: load_form_file(file))
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    row, created = _in_transaction(lambda s, a: admin.load_form(s, form, raw, a.clock()))
    verb = "Loaded" if created else "Already loaded:"
    typer.echo(f"{verb} form {row.key} version {row.version} ({len(form.questions)} questions, "
               f"{len(form.rules)} rules).")


@forms_app.command("export")
def forms_export(
    key: Annotated[str, typer.Argument(help="the form's id, e.g. tuan-le-htsd")],
    out: Annotated[Path, typer.Option("--out", help="FORM.xlsx (or FORM.yaml) to write")],
    version: Annotated[int | None, typer.Option("--version",
                                                help="a version (default: the newest)")] = None,
) -> None:
    """Write a loaded form as a spreadsheet to edit (or as YAML): copy last year's form, raise
    its version, change what changed, and load it with `forms load`."""
    from bot import admin
    from bot.spreadsheets.form_sheets import write_form_workbook
    from conversations.forms import dump_form_yaml

    if out.exists():
        typer.echo(f"Error: {out} already exists; give another file name.", err=True)
        raise typer.Exit(1)
    if out.suffix.lower() not in (".xlsx", ".yaml", ".yml"):
        typer.echo("Error: give a file name ending in .xlsx (or .yaml).", err=True)
        raise typer.Exit(1)
    form = _in_transaction(lambda s, a: admin.loaded_form(s, key, version))
    if out.suffix.lower() == ".xlsx":
        write_form_workbook(form, out)
    else:
        out.write_text(dump_form_yaml(form), encoding="utf-8")
    typer.echo(f"Wrote {out}: form {form.id} version {form.version} "
               f"({len(form.questions)} questions, {len(form.rules)} rules).")


@campaigns_app.command("load")
def campaigns_load(file: Path) -> None:
    """Load or update a campaign YAML file (its forms must be loaded first)."""
    from bot.exports.report_templates import template_exists
    from bot.offices import campaigns
    from bot.offices.history import Actor
    from conversations.campaigns import load_campaign_file

    spec = _checked(lambda: load_campaign_file(file, _settings().timezone))
    template = ((spec.raw or {}).get("report") or {}).get("template")
    if template and not template_exists(template):
        typer.echo(f"Error: {file}: report template {template} not found (give a .docx path, "
                   "relative to the campaign file, or a shipped template's name)", err=True)
        raise typer.Exit(1)
    campaign = _in_transaction(lambda s, a: campaigns.load(s, spec, actor=Actor(),
                                                           now=a.clock()))
    typer.echo(f"Loaded campaign {campaign.key} (id {campaign.id}) with "
               f"{len(spec.periods)} period(s).")


@campaigns_app.command("extend")
def campaigns_extend(
    campaign: Annotated[str, typer.Option("--campaign", help="campaign key or id")],
    due_before: Annotated[str | None, typer.Option(
        "--due-before", help='the new deadline, "trước ngày" DD/MM/YYYY')] = None,
    lock_before: Annotated[str | None, typer.Option(
        "--lock-before", help="the new lock date, DD/MM/YYYY")] = None,
    period: Annotated[str | None, typer.Option("--period", help="period key (default: the "
                                                                 "current one)")] = None,
) -> None:
    """A later deadline or lock for a period, as the console's "Extend"; the reporters of units
    not yet submitted are told the new date in chat (the running bot sends it)."""
    from bot.coordinators import reporting
    from bot.offices import campaigns
    from bot.offices.history import Actor
    from bot.offices.notices import tell_new_deadline

    days = {}
    for name, text in (("due_before", due_before), ("lock_before", lock_before)):
        days[name] = campaigns.parse_day(text) if text else None
        if text and days[name] is None:
            typer.echo(f"Error: --{name.replace('_', '-')} expects DD/MM/YYYY, got {text!r}",
                       err=True)
            raise typer.Exit(1)
    if not any(days.values()):
        typer.echo("Error: give --due-before or --lock-before.", err=True)
        raise typer.Exit(1)

    async def work(session: AsyncSession, a: App) -> int:
        p, c = await reporting.find_period(session, campaign, period, a.clock())
        await campaigns.extend(session, c, p, due_before=days["due_before"],
                               lock_before=days["lock_before"], actor=Actor(), now=a.clock())
        return await tell_new_deadline(session, a.dispatcher.reminders, a.catalog, c.key, p.id,
                                       a.clock(), lock_only=days["due_before"] is None)

    told = _reporting_command(work)
    typer.echo(f"Extended; {told} reporter(s) of units not yet submitted will be told in chat.")


def _checked(load: Callable[[], T]) -> T:
    from conversations.campaigns import CampaignError
    from conversations.forms import FormError

    try:
        return load()
    except (FormError, CampaignError, OSError) as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(1) from exc


@campaigns_app.command("list")
def campaigns_list() -> None:
    """Campaigns with their ids and periods."""
    from bot import admin

    items = _in_transaction(lambda s, a: admin.list_campaigns(s))
    rows = []
    for campaign, periods in items:
        for p in periods:
            deadline = p.deadline.astimezone(_zone(campaign.timezone))
            rows.append([str(campaign.id), campaign.key, p.key, p.label_vi, p.title_vi,
                         f"{p.starts_on:%d/%m/%Y}-{p.ends_on:%d/%m/%Y}",
                         f"{deadline:%d/%m/%Y %H:%M}"])
    _table(["id", "campaign", "period", "label", "title", "dates", "deadline"], rows)


def _zone(name: str):  # noqa: ANN202
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


# ----------------------------------------------------------------------------- invites

@invite_app.command("create")
def invite_create(
    unit: Annotated[str, typer.Option("--unit", help="unit code")],
    role: Annotated[str, typer.Option("--role")] = "reporter",
    uses: Annotated[int, typer.Option("--uses", help="how many people may use it")] = 1,
    days: Annotated[float, typer.Option("--days", help="valid for this many days")] = 30,
    qr: Annotated[Path | None, typer.Option("--qr", help="write a PNG QR code of the link")]
    = None,
) -> None:
    """Create an invite code for a unit; prints the code and the Telegram link."""
    from bot import admin

    username = _settings().telegram_bot_username
    if qr is not None and not username:
        typer.echo("Error: set BAOCAO_TELEGRAM_BOT_USERNAME so the QR code can hold the "
                   "t.me link.", err=True)
        raise typer.Exit(1)
    from bot.offices import invites

    info = _in_transaction(lambda s, a: invites.create(s, unit, role, uses, days, a.clock()))
    typer.echo(info.code)
    link = admin.deep_link(username, info.code)
    if link:
        typer.echo(link)
    if qr is not None:
        import segno

        segno.make(link, error="m").save(str(qr), kind="png", scale=10, border=4)
        typer.echo(f"QR code written to {qr}")


@invite_app.command("letters")
def invite_letters(
    unit: Annotated[str | None, typer.Option("--unit", help="a unit or commune: it and the "
                                             "units below it")] = None,
    campaign: Annotated[str | None, typer.Option("--campaign", help="campaign key or id "
                                                 "(default: the next deadline's)")] = None,
    out: Annotated[Path, typer.Option("--out", help="folder for the .docx and .pdf")]
    = Path("."),
    pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help="also the PDF (LibreOffice)")]
    = True,
) -> None:
    """Invite letters, a page per reporting unit, with its code and QR code: .docx and PDF.
    A unit keeps a code it has; one with none gets one."""
    from sqlalchemy import select

    from bot.exports.letterhead import ReportSettings
    from bot.offices import invites, letters
    from bot.storage.models import Unit

    if unit is None and campaign is None:
        typer.echo("Error: give --unit CODE, --campaign KEY, or both.", err=True)
        raise typer.Exit(1)
    settings = _settings()

    async def make(session: AsyncSession, application: App) -> tuple[str, letters.Letters]:
        now = application.clock()
        chosen = (await invites.campaign_by_key(session, campaign) if campaign
                  else await invites.default_campaign(session, now))
        office = None
        if unit is not None:
            found = await session.scalar(select(Unit).where(Unit.code == unit))
            if found is None:
                raise invites.InviteError(f"unit {unit} is not loaded")
            wanted = {u.id for u in await invites.subtree(session, found)}
            office = await session.get(Unit, found.parent_id) if found.parent_id else found
        units = [u for u in await invites.reporting_units(session, chosen)
                 if unit is None or u.id in wanted]
        if office is None:
            office = await session.scalar(select(Unit).where(Unit.parent_id.is_(None)))
        made, _codes = await invites.make_letters(
            session, units, chosen, office, settings.telegram_bot_username,
            ReportSettings.from_settings(settings), now)
        return f"thu-moi-{chosen.key}-{unit or 'tat-ca'}", made

    name, made = _in_transaction(make)
    out.mkdir(parents=True, exist_ok=True)
    docx = letters.write_docx(made)
    (out / f"{name}.docx").write_bytes(docx)
    typer.echo(f"{len(made.pages)} letters written to {out / (name + '.docx')}")
    if not settings.telegram_bot_username:
        typer.echo("Note: set BAOCAO_TELEGRAM_BOT_USERNAME to print the QR code of the t.me "
                   "link on each letter.")
    if pdf:
        try:
            printable = letters.to_pdf(docx, letters.pdf_timeout(len(made.pages)))
            (out / f"{name}.pdf").write_bytes(printable)
        except letters.PdfUnavailable as exc:
            typer.echo(f"No PDF: {exc}; the .docx is written.", err=True)
            raise typer.Exit(1) from exc
        typer.echo(f"and as PDF to {out / (name + '.pdf')}")


@invite_app.command("list")
def invite_list() -> None:
    """The invite codes, their units and uses."""
    from bot import admin

    invites = _in_transaction(lambda s, a: admin.list_invites(s))
    _invite_table(invites)


def _invite_table(invites: list[admin.InviteInfo]) -> None:
    zone = _zone(_settings().timezone)  # stored in UTC: the day is the local one
    _table(["code", "unit", "name", "role", "uses", "expires"],
           [[i.code, i.unit_code, i.unit_name, i.role, f"{i.uses}/{i.max_uses}",
             f"{i.expires_at.astimezone(zone):%d/%m/%Y}" if i.expires_at else "-"]
            for i in invites])


# ----------------------------------------------------------------------------- reminders

def _local_time(text: str | None, settings: Settings) -> datetime | None:
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text.strip().replace("/", "-"))
    except ValueError as exc:
        typer.echo(f"Error: --at expects \"YYYY-MM-DD HH:MM\", got {text!r}", err=True)
        raise typer.Exit(1) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=_zone(settings.timezone))


CAMPAIGN_HELP = "campaign key or id (see `baocao campaigns list`)"


@remind_app.command("preview")
def remind_preview(
    campaign: Annotated[str, typer.Option("--campaign", help=CAMPAIGN_HELP)],
    at: Annotated[str | None, typer.Option("--at", help='"2023-10-10 08:00" local time')]
    = None,
) -> None:
    """Print the reminders and digests that would be sent (now, or at --at), and to whom."""
    from bot.coordinators import reporting

    settings = _settings()
    when = _local_time(at, settings)

    async def work(a: App) -> list:
        async with a.sessions() as session:  # closed before the preview opens its own
            key = (await reporting.find_campaign(session, campaign)).key
        return await a.dispatcher.reminders.preview(key, when or a.clock())

    try:
        items = _run(work)
    except reporting.ReportingError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(1) from exc
    if when is not None:  # the reports as they were then; a preview of now needs no note
        local = when.astimezone(_zone(settings.timezone))
        typer.echo(f"As of {local:%H:%M %d/%m/%Y} ({settings.timezone}): reports submitted, "
                   "returned or accepted after that time are not counted, lateness is "
                   "judged at that time; the people and their chats are today's.")
    if not items:
        typer.echo("Nothing is due at that time.")
        return
    for reminder, text in items:
        who = reminder.recipient
        where = f"{who.channel}:{who.chat_id}" if who.channel else "unreachable"
        typer.echo(f"── {reminder.kind} → {who.name} ({where})")
        typer.echo(text)
    typer.echo(f"{len(items)} message(s).")


@remind_app.command("now")
def remind_now(campaign: Annotated[str, typer.Option("--campaign", help=CAMPAIGN_HELP)]
               ) -> None:
    """Remind, right now, every reporter whose unit has not submitted."""
    from bot.coordinators import reporting

    async def work(session: AsyncSession, a: App) -> int:
        key = (await reporting.find_campaign(session, campaign)).key
        return await a.dispatcher.reminders.nudge(session, key, a.clock())

    count = _reporting_command(work)
    typer.echo(f"Queued {count} reminder(s); the running bot sends them.")


# ----------------------------------------------------------------------------- reports

@app.command("summary")
def summary(
    campaign: Annotated[str, typer.Option("--campaign", help=CAMPAIGN_HELP)],
    period: Annotated[str | None, typer.Option("--period", help="period key")] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="only this unit's subtree")] = None,
) -> None:
    """Every unit's state and the totals of every figure, block by block of the reporting
    line: nothing from two forms or two levels is ever added together."""
    from bot.coordinators import reporting
    from conversations.number_parsing import format_number

    async def work(session: AsyncSession, a: App) -> None:
        p, c = await reporting.find_period(session, campaign, period, a.clock())
        scope = await reporting.scope_for_code(session, unit)
        lines = await reporting.lines_of(session, p, scope, a.dispatcher.forms)
        await reporting.sum_blocks(session, lines)
        typer.echo(f"{p.title_vi} — {p.label_vi}" + (f" — {scope.name}" if unit else ""))
        total = lines.counts
        typer.echo(f"Units: {total.total}; submitted: {total.submitted} (on time "
                   f"{total.on_time}, late {total.late}; accepted {total.accepted}); "
                   f"returned: {total.returned}; drafts: {total.drafts}; not started: "
                   f"{total.not_started}")
        for block in lines.blocks:
            c = block.counts
            typer.echo("")
            if block.direct:
                typer.echo(f"{block.title.vi} — {block.form.title.vi}")
            else:
                typer.echo(f"{block.title.vi} — {block.form.title.vi} (báo cáo gửi "
                           f"{block.covered_by.vi}; đã có trong báo cáo của "
                           f"{block.covered_by.vi}, không cộng thêm)")
            typer.echo(f"Units: {c.total}; submitted: {c.submitted}; returned: {c.returned}; "
                       f"drafts: {c.drafts}; not started: {c.not_started}")
            rows = [[q.id, q.label.vi[:60], format_number(block.totals.get(q.id, 0), "vi"),
                     q.unit.vi] for q in block.form.questions if q.numeric]
            _table(["id", "row", "total (submitted)", "unit"], rows)

    _reporting_command(work)


@app.command("export")
def export(
    campaign: Annotated[str, typer.Option("--campaign", help=CAMPAIGN_HELP)],
    out: Annotated[Path, typer.Option("--out", help="file to write")],
    fmt: Annotated[str, typer.Option("--format", help="xlsx, csv, docx or png")] = "xlsx",
    period: Annotated[str | None, typer.Option("--period", help="period key")] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="only this unit's subtree")] = None,
    dialect: Annotated[str, typer.Option(
        "--dialect", help="CSV only: comma (1500000, 12.5; any program) or excel-vi "
                          "(';' and 12,5: Excel with Vietnamese regional settings)")] = "comma",
) -> None:
    """Write the campaign's table (xlsx, csv), consolidated report (docx) or chart (png)."""
    from bot.coordinators import reporting
    from bot.exports import writers
    from bot.exports.csv_export import DIALECTS
    from bot.exports.letterhead import ReportSettings

    if fmt not in writers.FORMATS:
        typer.echo(f"Error: --format must be one of {', '.join(writers.FORMATS)}", err=True)
        raise typer.Exit(1)
    if dialect not in DIALECTS:
        typer.echo(f"Error: --dialect must be one of {', '.join(DIALECTS)}", err=True)
        raise typer.Exit(1)

    async def work(session: AsyncSession, a: App) -> int:
        p, c = await reporting.find_period(session, campaign, period, a.clock())
        scope = await reporting.scope_for_code(session, unit)
        data = await reporting.export_data(session, p, c, scope, a.dispatcher.forms, a.clock(),
                                           ReportSettings.from_settings(a.settings))
        with typer.progressbar(length=max(1, len(data.units)), label="Writing") as bar:
            last = [0]

            def advance(done: int, total: int) -> None:
                bar.update(done - last[0])
                last[0] = done

            skipped = writers.write(fmt, data, out, advance, dialect=dialect)
            bar.update(max(0, len(data.units) - last[0]))
        for item in skipped:
            typer.echo(f"Left out (not a value the file can hold): {item}", err=True)
        return len(data.units)

    count = _reporting_command(work)
    typer.echo(f"Wrote {out} ({count} units).")


def _reporting_command(work: Callable[[AsyncSession, App], Awaitable[T]]) -> T:
    from bot.coordinators import reporting

    try:
        return _in_transaction(work)
    except reporting.ReportingError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(1) from exc


# ----------------------------------------------------------------------------- demo

@demo_app.command("seed")
def demo_seed() -> None:
    """A province with communes, schools and centres, both campaigns, a Week open today."""
    from bot import demo

    with tempfile.TemporaryDirectory() as tmp:
        invites = _in_transaction(lambda s, a: demo.seed(s, a.clock(), Path(tmp)))
    typer.echo("Demo data is ready. Invite codes (send one in `baocao chat`):")
    _invite_table(invites)


# ----------------------------------------------------------------------------- chat, run

def _default_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER", "local")


@app.command("chat")
def chat(
    user: Annotated[str | None, typer.Option("--user", help="local identity")] = None,
    as_phone: Annotated[str | None, typer.Option("--as", help="chat as this contact")] = None,
) -> None:
    """Chat with the bot in this terminal (the real engine and database)."""
    asyncio.run(_chat(_settings(), user or _default_user(), as_phone))


async def _chat(settings: Settings, user: str, as_phone: str | None) -> None:
    from bot.channels.local_chat import LocalChat, run_terminal

    application = await _open(settings)
    try:
        if as_phone and not await _link_local(application, user, as_phone):
            return
        typer.echo(f"baocao local chat as “{user}” — type /trogiup for help, Ctrl-D to quit.")
        await run_terminal(LocalChat(application, user), _read_line, typer.echo)
    finally:
        await application.close()


async def _read_line(prompt: str) -> str | None:
    """A typed line, or a whole paste at once when reading from a terminal."""
    from bot.channels.local_chat import read_pasted

    try:
        if sys.stdin.isatty():
            typer.echo(prompt, nl=False)
            return await asyncio.to_thread(read_pasted, sys.stdin.fileno())
        return await asyncio.to_thread(input, prompt)
    except (EOFError, KeyboardInterrupt):
        return None


async def _link_local(application: App, user: str, phone: str) -> bool:
    from sqlalchemy import select

    from bot.storage.models import Contact, Identity
    from conversations.phone_numbers import normalise_phone

    normalised = normalise_phone(phone)
    async with application.sessions() as session, session.begin():
        contact = await session.scalar(select(Contact).where(Contact.phone == normalised))
        if contact is None:
            typer.echo(f"No contact has the phone number {phone}.", err=True)
            return False
        identity = await session.scalar(select(Identity).where(
            Identity.channel == "local", Identity.external_user_id == user))
        if identity is None:
            session.add(Identity(channel="local", external_user_id=user, chat_id=user,
                                 display_name=contact.name, contact_id=contact.id,
                                 created_at=application.clock()))
        else:
            identity.contact_id = contact.id
    return True


@app.command("run")
def run() -> None:
    """Run the bot on every messenger configured (Telegram, Zalo or both); with none, the
    local chat in this terminal."""
    settings = _settings()
    if not settings.channels():
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            typer.echo("No messenger is configured and there is no terminal for the local "
                       "chat: set TELEGRAM_BOT_TOKEN and/or ZALO_BOT_TOKEN (see the README, "
                       "Settings).", err=True)
            raise typer.Exit(2)
        typer.echo("No messenger is configured (TELEGRAM_BOT_TOKEN, ZALO_BOT_TOKEN), so the "
                   "bot runs as a local chat in this terminal. Run `baocao demo seed` first to "
                   "have invite codes.")
        asyncio.run(_chat(settings, _default_user(), None))
        return
    from bot.runtime import StartupError, serve_forever

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: "
                        "%(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # not a line a minute
    try:
        asyncio.run(serve_forever(settings))
    except StartupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:  # a second Ctrl-C while stopping
        pass


@web_app.command("link")
def web_link(phone: Annotated[str, typer.Option("--phone", help="the coordinator's phone "
                                                 "number, as imported")]) -> None:
    """A one-time link (10 minutes) that signs a coordinator in to the web console, as /web
    gives in chat."""
    from sqlalchemy import select

    from bot import admin
    from bot.storage.models import Contact
    from conversations.phone_numbers import normalise_phone

    settings = _settings()
    if not settings.web_console():
        typer.echo("The web console is off: set BAOCAO_PUBLIC_URL and BAOCAO_WEB_SECRET "
                   "(see the README, Settings).", err=True)
        raise typer.Exit(2)
    normalised = normalise_phone(phone)
    if normalised is None:
        typer.echo(f"Not a phone number: {phone}", err=True)
        raise typer.Exit(1)

    async def work(session: AsyncSession, a: App) -> str:
        from bot.web.links import WebLinks

        contact = await session.scalar(select(Contact).where(Contact.phone == normalised))
        if contact is None or not contact.active:
            raise admin.AdminError(f"no contact has the phone number {phone}")
        if contact.role not in ("coordinator", "admin"):
            raise admin.AdminError(f"{contact.name or phone} is a reporter; the console is for "
                                   "coordinators and admins")
        link = await WebLinks(settings.public_url, settings.timezone).create(
            session, contact.id, a.clock())
        local = link.expires_at.astimezone(ZoneInfo(settings.timezone))
        return f"{link.url}\nFor {contact.name or phone}; works once, until " \
               f"{local:%H:%M %d/%m/%Y}."

    typer.echo(_in_transaction(work))


@app.command("status")
def status() -> None:
    """What is configured; how many units, contacts, open periods and undelivered messages
    there are; whether the running bot works (exit 1 when something is stuck)."""
    from bot import __version__, admin

    settings = _settings()
    channels = dict(settings.channels())
    typer.echo(f"baocao {__version__}")
    typer.echo(f"Database: {settings.safe_database_url()}")
    for name in ("Telegram", "Zalo"):
        typer.echo(f"{name}: {channels.get(name, 'not configured')}")
    typer.echo(f"Public URL for downloads: {settings.public_url or 'not set'}")
    console = ("on, at " + settings.public_url.rstrip("/") + "/web/" if settings.web_console()
               else "off (needs BAOCAO_PUBLIC_URL and BAOCAO_WEB_SECRET)")
    typer.echo(f"Web console: {console}")
    typer.echo(f"Time zone: {settings.timezone}; default language: "
               f"{settings.default_language}")
    typer.echo(f"Exports: {settings.files_dir} (kept {settings.files_keep_days:g} days)")
    counts = _run(lambda a: admin.status_counts(a.sessions, a.clock()))
    typer.echo(f"Units: {counts.units}")
    typer.echo(f"Contacts: {counts.contacts}")
    typer.echo(f"Open periods: {counts.open_periods}")
    typer.echo(f"Undelivered messages: {counts.undelivered}"
               + (f" (of which failed: {counts.failed})" if counts.failed else ""))
    typer.echo("")
    if not _health():
        raise typer.Exit(1)  # something is stuck: for a monitor or cron


def _health() -> bool:
    """Is the bot working? When each poller and sender last succeeded, their last errors,
    what waits to be sent; False when something is stuck."""
    from bot.delivery.health import ago, duration, read_status

    async def work(session: AsyncSession, a: App) -> tuple:
        now = a.clock()
        return await read_status(session, now), now

    found, now = _in_transaction(work)
    if found.parts:
        _table(["instance", "part", "last success", "last error", "skipped"],
               [[line.instance_id, line.component, ago(line.last_ok_at, now),
                 f"{ago(line.last_error_at, now)}: {line.last_error[:60]}"
                 if line.last_error_at else "-", str(line.skipped)]
                for line in found.parts])
    else:
        typer.echo("No running bot has reported yet (start it with `baocao run`).")
    oldest = f", the oldest for {duration(now - found.oldest_unsent)}" \
        if found.oldest_unsent else ""
    typer.echo(f"Outbox: {found.unsent} message(s) waiting{oldest}; "
               f"{found.failed_last_day} failed in the last 24 h. Inbox: {found.inbox}.")
    problems = found.problems(now)
    for problem in problems:
        typer.echo(f"PROBLEM: {problem}")
    if not problems:
        typer.echo("OK")
    return not problems


def main() -> None:
    app()


if __name__ == "__main__":
    main()
