"""Reading a received workbook in a child process with a memory and a time limit: the second
line behind the streaming checks (bot/spreadsheets/xlsx_checks.py). Whatever a file does to the
reader, the bot's own process keeps its memory and its event loop keeps answering; a child that
runs out of either is killed and the file is answered "too_heavy".

The child prints the workbook as JSON on stdout (cell values tagged by type), nothing else.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import sys
import weakref
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from conversations.uploaded_workbook import SheetRows, UploadedWorkbook

log = logging.getLogger(__name__)

MEMORY_LIMIT_BYTES = 1024 * 1024 * 1024  # address space of the child (Python alone: ~150 MB)
TIME_LIMIT_SECONDS = 60.0
MAX_OUTPUT_BYTES = 256 * 1024 * 1024
# Files read at once; more wait their turn (each child may take up to MEMORY_LIMIT_BYTES).
READERS_AT_ONCE = 2
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = \
    weakref.WeakKeyDictionary()


def _readers() -> asyncio.Semaphore:
    """One semaphore per event loop (tests run one loop each)."""
    loop = asyncio.get_running_loop()
    if loop not in _slots:
        _slots[loop] = asyncio.Semaphore(READERS_AT_ONCE)
    return _slots[loop]


async def read_isolated(path: Path, file_name: str, *,
                        memory_limit: int = MEMORY_LIMIT_BYTES,
                        time_limit: float = TIME_LIMIT_SECONDS) -> UploadedWorkbook:
    """The workbook as read by a child process; a problem, never an exception."""
    async with _readers():
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.spreadsheets.workbook_worker", str(path),
                str(memory_limit), str(int(time_limit) + 1),
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, limit=MAX_OUTPUT_BYTES)
        except OSError:
            log.exception("could not start the workbook reader")
            return UploadedWorkbook(file_name, "unreadable")
        try:
            out, err = await asyncio.wait_for(process.communicate(), time_limit)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            log.warning("reading %s took more than %.0f s; stopped", file_name, time_limit)
            return UploadedWorkbook(file_name, "too_heavy")
    if process.returncode != 0:
        log.warning("the workbook reader stopped on %s (exit %s): %s", file_name,
                    process.returncode,
                    " | ".join(err.decode(errors="replace").strip().splitlines()[-2:])[-300:])
        return UploadedWorkbook(file_name, "too_heavy")
    try:
        return decode(json.loads(out), file_name)
    except (ValueError, KeyError, TypeError):
        log.warning("the workbook reader answered %d unreadable bytes for %s", len(out),
                    file_name)
        return UploadedWorkbook(file_name, "unreadable")


# ----------------------------------------------------------------------------- JSON

def encode(upload: UploadedWorkbook) -> dict[str, Any]:
    return {"problem": upload.problem, "meta": dict(upload.meta),
            "formulas": list(upload.formulas), "formulas_unread": upload.formulas_unread,
            "sheets": [{"name": s.name, "hidden": s.hidden,
                        "rows": [[n, [_value(v) for v in values]] for n, values in s.rows]}
                       for s in upload.sheets]}


def decode(data: dict[str, Any], file_name: str) -> UploadedWorkbook:
    sheets = tuple(SheetRows(str(s["name"]), tuple(
        (int(n), tuple(_unvalue(v) for v in values)) for n, values in s["rows"]),
        bool(s["hidden"])) for s in data["sheets"])
    return UploadedWorkbook(file_name, str(data["problem"]),
                            {str(k): str(v) for k, v in data["meta"].items()}, sheets,
                            tuple(str(f) for f in data["formulas"]),
                            int(data["formulas_unread"]))


def _value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return {"f": repr(value)}
    if isinstance(value, datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, time):
        return {"t": value.isoformat()}
    if isinstance(value, timedelta):
        return {"td": value.total_seconds()}
    if isinstance(value, Decimal):
        return {"dec": str(value)}
    if isinstance(value, bytes):
        return {"b": base64.b64encode(value).decode()}
    return str(value)


def _unvalue(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    ((tag, text),) = value.items()
    kinds = {"f": float, "dt": datetime.fromisoformat, "d": date.fromisoformat,
             "t": time.fromisoformat, "td": lambda s: timedelta(seconds=s), "dec": Decimal,
             "b": base64.b64decode}
    return kinds[tag](text)


# ----------------------------------------------------------------------------- the child

def _child(argv: list[str]) -> int:
    import resource

    path, memory, seconds = Path(argv[0]), int(argv[1]), int(argv[2])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))
    from bot.spreadsheets.workbooks import read_workbook

    try:
        upload = read_workbook(path, path.name)
    except MemoryError:
        upload = UploadedWorkbook(path.name, "too_heavy")
    sys.stdout.write(json.dumps(encode(upload), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(_child(sys.argv[1:]))
