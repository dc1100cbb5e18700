"""Forms an office loads: a form spreadsheet (the `forms export` layout) read with the same
line-numbered errors as `baocao forms load`, stored by admin.load_form, recorded."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot import admin
from bot.offices.history import Actor, record
from bot.spreadsheets.form_sheets import read_form_workbook
from bot.storage.models import FormVersion


async def load_workbook_form(session: AsyncSession, path: Path, *, actor: Actor,
                             now: datetime) -> tuple[FormVersion, bool]:
    """Store the spreadsheet's form (FormSheetError names every mistake, nothing stored;
    AdminError: that version is loaded with other content). Returns the row and whether it
    is new; a new one is in the history."""
    form, raw = read_form_workbook(path)
    row, created = await admin.load_form(session, form, raw, now)
    if created:
        await record(session, actor=actor, action="form.load",
                     subject=f"{row.key} v{row.version}", at=now, before=None,
                     after={"form": row.key, "version": row.version,
                            "questions": len(form.questions), "rules": len(form.rules)})
    return row, created
