"""The instance id: the same across restarts of one installation, different for two processes
running at once.

Outbox claims carry it, so a restarted instance takes back at once the messages its previous
run had claimed (instead of waiting for their lease), while claims of another instance still
running keep their lease. The id lives in a small file; the process holds an exclusive lock on
it while it runs, which the system releases when the process dies (even by kill -9). A second
process started in the same place finds the lock taken and uses a fresh id of its own."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import uuid
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)


class InstanceId:
    """The id, and the lock that keeps it this process's own while it runs."""

    def __init__(self, value: str, handle: IO[str] | None = None) -> None:
        self.value = value
        self._handle = handle

    def __str__(self) -> str:
        return self.value

    def release(self) -> None:
        if self._handle is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def id_file(database_url: str, configured: str = "") -> Path:
    """Beside the SQLite database file, else in the working directory."""
    if configured:
        return Path(configured)
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(f"{url.database}.instance")
    return Path(".baocao-instance")


def acquire(path: Path, configured: str = "") -> InstanceId:
    if configured:
        return InstanceId(configured)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held open for the lock
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        fresh = _new()
        log.warning("another process holds %s; this one runs as instance %s", path, fresh)
        return InstanceId(fresh)
    handle.seek(0)
    known = handle.read().strip()
    if not known:
        known = _new()
        handle.seek(0)
        handle.truncate()
        handle.write(known + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return InstanceId(known, handle)


def _new() -> str:
    return f"{os.uname().nodename[:20]}-{uuid.uuid4().hex[:12]}"
