"""`baocao`: the command line for admins, the local chat, and running the bot."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import logging
import os
import tempfile
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, TypeVar

import typer
import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import admin, demo, reporting
from bot.app import App, build_app
from bot.local_chat import LocalChat, run_terminal
from bot.runtime import serve_forever
from bot.settings import Settings
from bot.storage.database import upgrade_sync
from bot.storage.models import CampaignForm, Contact, Identity
from bot.tables import TableError
from conversations.campaigns import CampaignError, load_campaign_file
from conversations.forms import FormError, load_form_file
from conversations.number_parsing import format_number
from conversations.phone_numbers import normalise_phone

T = TypeVar("T")

app = typer.Typer(help="baocao: campaign reports of schools and communes, in chat.",
                  no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database.", no_args_is_help=True)
units_app = typer.Typer(help="The unit tree (province, communes, schools, centres…).",
                        no_args_is_help=True)
contacts_app = typer.Typer(help="People who report or coordinate.", no_args_is_help=True)
forms_app = typer.Typer(help="Report forms (YAML).", no_args_is_help=True)
campaigns_app = typer.Typer(help="Campaigns and their periods (YAML).", no_args_is_help=True)
invite_app = typer.Typer(help="Invite codes for signing in.", no_args_is_help=True)
demo_app = typer.Typer(help="A demo province to try the bot.", no_args_is_help=True)
remind_app = typer.Typer(help="Deadline reminders.", no_args_is_help=True)
for sub, name in ((db_app, "db"), (units_app, "units"), (contacts_app, "contacts"),
                  (forms_app, "forms"), (campaigns_app, "campaigns"), (invite_app, "invite"),
                  (demo_app, "demo"), (remind_app, "remind")):
    app.add_typer(sub, name=name)


def _run(work: Callable[[App], Awaitable[T]]) -> T:
    async def main() -> T:
        application = await build_app(Settings())
        try:
            return await work(application)
        finally:
            await application.close()

    return asyncio.run(main())


def _in_transaction(work: Callable[[AsyncSession, App], Awaitable[T]]) -> T:
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
    except (admin.AdminError, FormError, CampaignError) as exc:
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
    settings = Settings()
    upgrade_sync(settings.database_url)
    typer.echo(f"Database is up to date: {_safe_url(settings.database_url)}")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# ----------------------------------------------------------------------------- units, contacts

@units_app.command("import")
def units_import(file: Path) -> None:
    """Import units from .xlsx or .csv with columns code, name, kind, parent_code."""
    count = _in_transaction(lambda s, a: admin.import_units(s, file))
    typer.echo(f"Imported {count} units.")


@units_app.command("list")
def units_list() -> None:
    """The unit tree, indented."""
    units = _in_transaction(lambda s, a: admin.list_units(s))
    rows = [["  " * (u.path.count("/") - 2) + u.code, u.name, u.kind] for u in units]
    _table(["code", "name", "kind"], rows)


@contacts_app.command("import")
def contacts_import(file: Path) -> None:
    """Import contacts from .xlsx or .csv: name, phone, unit_code, role[, language]."""
    count = _in_transaction(lambda s, a: admin.import_contacts(s, file, a.clock()))
    typer.echo(f"Imported {count} contact rows.")


@contacts_app.command("list")
def contacts_list() -> None:
    rows = _in_transaction(lambda s, a: admin.list_contacts(s))
    _table(["id", "name", "phone", "role", "lang", "units"],
           [[str(c.id), c.name, c.phone or "", c.role, c.language, units] for c, units in rows])


# ----------------------------------------------------------------------------- forms, campaigns

@forms_app.command("load")
def forms_load(file: Path) -> None:
    """Load a form YAML file (a new version must raise `version:`)."""
    form = _checked(lambda: load_form_file(file))
    raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    row, created = _in_transaction(lambda s, a: admin.load_form(s, form, raw, a.clock()))
    verb = "Loaded" if created else "Already loaded:"
    typer.echo(f"{verb} form {row.key} version {row.version} ({len(form.questions)} questions).")


@campaigns_app.command("load")
def campaigns_load(file: Path) -> None:
    """Load or update a campaign YAML file (its forms must be loaded first)."""
    spec = _checked(lambda: load_campaign_file(file, Settings().timezone))
    campaign = _in_transaction(lambda s, a: admin.load_campaign(s, spec, a.clock()))
    typer.echo(f"Loaded campaign {campaign.key} (id {campaign.id}) with "
               f"{len(spec.periods)} period(s).")


def _checked(load: Callable[[], T]) -> T:
    try:
        return load()
    except (FormError, CampaignError, OSError) as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(1) from exc


@campaigns_app.command("list")
def campaigns_list() -> None:
    """Campaigns with their ids and periods."""
    items = _in_transaction(lambda s, a: admin.list_campaigns(s))
    rows = []
    for campaign, periods in items:
        for p in periods:
            deadline = p.deadline.astimezone(_zone(campaign.timezone))
            rows.append([str(campaign.id), campaign.key, p.key, campaign.title_vi,
                         f"{p.starts_on:%d/%m/%Y}-{p.ends_on:%d/%m/%Y}",
                         f"{deadline:%d/%m/%Y %H:%M}"])
    _table(["id", "campaign", "period", "title", "dates", "deadline"], rows)


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
    username = Settings().telegram_bot_username
    if qr is not None and not username:
        typer.echo("Error: set BAOCAO_TELEGRAM_BOT_USERNAME so the QR code can hold the "
                   "t.me link.", err=True)
        raise typer.Exit(1)
    info = _in_transaction(lambda s, a: admin.create_invite(s, unit, role, uses, days, a.clock()))
    typer.echo(info.code)
    link = admin.deep_link(username, info.code)
    if link:
        typer.echo(link)
    if qr is not None:
        import segno

        segno.make(link, error="m").save(str(qr), kind="png", scale=10, border=4)
        typer.echo(f"QR code written to {qr}")


@invite_app.command("list")
def invite_list() -> None:
    invites = _in_transaction(lambda s, a: admin.list_invites(s))
    _invite_table(invites)


def _invite_table(invites: list[admin.InviteInfo]) -> None:
    _table(["code", "unit", "name", "role", "uses", "expires"],
           [[i.code, i.unit_code, i.unit_name, i.role, f"{i.uses}/{i.max_uses}",
             f"{i.expires_at:%d/%m/%Y}" if i.expires_at else "-"] for i in invites])


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


@remind_app.command("preview")
def remind_preview(
    campaign: Annotated[str, typer.Option("--campaign", help="campaign id")],
    at: Annotated[str | None, typer.Option("--at", help='"2023-10-10 08:00" local time')]
    = None,
) -> None:
    """Print the reminders and digests that would be sent (now, or at --at), and to whom."""
    settings = Settings()
    when = _local_time(at, settings)

    async def work(a: App) -> list:
        return await a.dispatcher.reminders.preview(campaign, when or a.clock())

    items = _run(work)
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
def remind_now(campaign: Annotated[str, typer.Option("--campaign", help="campaign id")]) -> None:
    """Remind, right now, every reporter whose unit has not submitted."""
    async def work(session: AsyncSession, a: App) -> int:
        return await a.dispatcher.reminders.nudge(session, campaign, a.clock())

    count = _in_transaction(work)
    typer.echo(f"Queued {count} reminder(s); the running bot sends them.")


# ----------------------------------------------------------------------------- reports

@app.command("summary")
def summary(
    campaign: Annotated[str, typer.Option("--campaign", help="campaign id")],
    period: Annotated[str | None, typer.Option("--period", help="period key")] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="only this unit's subtree")] = None,
) -> None:
    """Completeness and the totals of every figure, summed in SQL over the unit tree."""
    async def work(session: AsyncSession, a: App) -> None:
        p, c = await reporting.find_period(session, campaign, period, a.clock())
        scope = await reporting.scope_for_code(session, unit)
        counts = await reporting.counts(session, p, scope)
        typer.echo(f"{c.title_vi} — {p.label_vi}" + (f" — {scope.name}" if unit else ""))
        typer.echo(f"Units: {counts.total}; on time: {counts.on_time}; late: {counts.late}; "
                   f"drafts: {counts.drafts}; not submitted: {counts.missing}")
        data_forms = (await session.scalars(select(CampaignForm.form_id).where(
            CampaignForm.campaign_id == c.id).distinct())).all()
        columns = reporting.columns_of([await a.dispatcher.forms.get(session, f)
                                        for f in sorted(data_forms)])
        sums = await reporting.totals(session, p, scope)
        rows = [[q.id, q.label_vi[:60], format_number(sums.get(q.id, 0), "vi"), q.unit_vi]
                for q in columns if q.numeric]
        _table(["id", "row", "total (submitted)", "unit"], rows)

    _reporting_command(work)


@app.command("export")
def export(
    campaign: Annotated[str, typer.Option("--campaign", help="campaign id")],
    out: Annotated[Path, typer.Option("--out", help="file to write")],
    fmt: Annotated[str, typer.Option("--format", help="xlsx, csv, docx or png")] = "xlsx",
    period: Annotated[str | None, typer.Option("--period", help="period key")] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="only this unit's subtree")] = None,
) -> None:
    """Write the campaign's table (xlsx, csv), consolidated report (docx) or chart (png)."""
    from bot.exports import writers

    if fmt not in writers.FORMATS:
        typer.echo(f"Error: --format must be one of {', '.join(writers.FORMATS)}", err=True)
        raise typer.Exit(1)

    async def work(session: AsyncSession, a: App) -> int:
        p, c = await reporting.find_period(session, campaign, period, a.clock())
        scope = await reporting.scope_for_code(session, unit)
        data = await reporting.export_data(session, p, c, scope, a.dispatcher.forms, a.clock())
        with typer.progressbar(length=max(1, len(data.units)), label="Writing") as bar:
            last = [0]

            def advance(done: int, total: int) -> None:
                bar.update(done - last[0])
                last[0] = done

            skipped = writers.write(fmt, data, out, advance)
            bar.update(max(0, len(data.units) - last[0]))
        for item in skipped:
            typer.echo(f"Left out (not a value the file can hold): {item}", err=True)
        return len(data.units)

    count = _reporting_command(work)
    typer.echo(f"Wrote {out} ({count} units).")


def _reporting_command(work: Callable[[AsyncSession, App], Awaitable[T]]) -> T:
    try:
        return _in_transaction(work)
    except reporting.ReportingError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(1) from exc


# ----------------------------------------------------------------------------- demo

@demo_app.command("seed")
def demo_seed() -> None:
    """A province with communes, schools and centres, both campaigns, a Week open today."""
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
    asyncio.run(_chat(user or _default_user(), as_phone))


async def _chat(user: str, as_phone: str | None) -> None:
    application = await build_app(Settings())
    try:
        if as_phone and not await _link_local(application, user, as_phone):
            return
        typer.echo(f"baocao local chat as “{user}” — type /trogiup for help, Ctrl-D to quit.")
        await run_terminal(LocalChat(application, user), _read_line, typer.echo)
    finally:
        await application.close()


async def _read_line(prompt: str) -> str | None:
    try:
        return await asyncio.to_thread(input, prompt)
    except (EOFError, KeyboardInterrupt):
        return None


async def _link_local(application: App, user: str, phone: str) -> bool:
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


@app.command("status")
def status() -> None:
    """Is the bot working? When each poller and sender last succeeded, their last errors,
    what waits to be sent. Exits 1 when something is stuck (for a monitor or cron)."""
    from bot.health import ago, duration, read_status

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
    if problems:
        raise typer.Exit(1)
    typer.echo("OK")


@app.command("run")
def run() -> None:
    """Run the bot on the messengers whose tokens are set; without any, the local chat."""
    settings = Settings()
    if settings.telegram_bot_token is None:
        typer.echo("No TELEGRAM_BOT_TOKEN is set, so the bot runs as a local chat in this "
                   "terminal. Run `baocao demo seed` first to have invite codes.")
        asyncio.run(_chat(_default_user(), None))
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: "
                        "%(message)s")
    mode = "webhook" if settings.webhook_url else "long polling"
    typer.echo(f"Starting the bot on Telegram ({mode}); Ctrl-C stops it.")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_forever(settings))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
