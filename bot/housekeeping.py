"""What the running bot clears away by itself: processed message keys past their retention,
exported files past BAOCAO_FILES_KEEP_DAYS, and expired download links."""

from __future__ import annotations

import logging
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import and_, delete, or_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery.budget import CHANNEL as BUDGET_CHANNEL
from bot.storage.models import FileLink, ProcessedMessage, WebLink, WebSession
from bot.web.uploads import prune_upload_links

log = logging.getLogger(__name__)
EXPORT_FOLDER = re.compile(r"[0-9a-f]{32}")  # coordination.make_export: one uuid4 hex each


def month_start(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


async def prune_processed(sessions: async_sessionmaker[AsyncSession], now: datetime,
                          retention: timedelta) -> int:
    """Forget processed message keys older than the retention window (which is longer than a
    messenger's own redelivery). Zalo keys of the current month stay: the monthly Zalo budget
    counts them."""
    cutoff = now - retention
    async with sessions() as session, session.begin():
        result = await session.execute(delete(ProcessedMessage).where(
            ProcessedMessage.processed_at < cutoff,
            or_(ProcessedMessage.channel != BUDGET_CHANNEL,
                and_(ProcessedMessage.channel == BUDGET_CHANNEL,
                     ProcessedMessage.processed_at < month_start(now)))))
    return result.rowcount or 0


def delete_old_exports(files_dir: Path, now: datetime, keep: timedelta) -> int:
    """Delete the bot's export folders last written before now - keep; anything else in the
    folder (not named as the bot names its exports) is left alone."""
    if keep <= timedelta(0) or not files_dir.is_dir():
        return 0
    cutoff = (now - keep).timestamp()
    deleted = 0
    for folder in files_dir.iterdir():
        if not (folder.is_dir() and EXPORT_FOLDER.fullmatch(folder.name)):
            continue
        try:
            newest = max([folder.stat().st_mtime]
                         + [f.stat().st_mtime for f in folder.iterdir()])
        except OSError:
            continue
        if newest < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
            deleted += 1
    return deleted


async def prune_file_links(sessions: async_sessionmaker[AsyncSession], now: datetime) -> int:
    """Expired links are refused by their signed expiry alone; their rows can go."""
    async with sessions() as session, session.begin():
        result = await session.execute(delete(FileLink).where(FileLink.expires_at < now))
    return result.rowcount or 0


async def prune_web_sign_ins(sessions: async_sessionmaker[AsyncSession], now: datetime) -> int:
    """Web console links and sessions a day after they expired or ended (for a day, a link
    opened late still says "expired" rather than "not valid")."""
    day_ago = now - timedelta(days=1)
    async with sessions() as session, session.begin():
        links = await session.execute(delete(WebLink).where(WebLink.expires_at < day_ago))
        ended = await session.execute(delete(WebSession).where(
            or_(WebSession.expires_at < day_ago, WebSession.ended_at < day_ago)))
    return (links.rowcount or 0) + (ended.rowcount or 0)


async def housekeeping(sessions: async_sessionmaker[AsyncSession], files_dir: Path,
                       now: datetime, retention: timedelta, keep_files: timedelta) -> None:
    """Each chore on its own: one failing does not stop the others."""
    try:
        pruned = await prune_processed(sessions, now, retention)
        links = await prune_file_links(sessions, now) + await prune_upload_links(sessions, now)
        links += await prune_web_sign_ins(sessions, now)
    except Exception:
        log.exception("pruning processed messages and expired links failed")
        pruned = links = 0
    try:
        files = delete_old_exports(files_dir, now, keep_files)
    except OSError:
        log.exception("deleting old exports in %s failed", files_dir)
        files = 0
    if pruned or links or files:
        log.info("Housekeeping: forgot %s processed message keys, %s expired links; deleted "
                 "%s old exports", pruned, links, files)
