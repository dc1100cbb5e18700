"""Secrets out of the logs.

Libraries put the bot token in their error texts (aiohttp names the URL, /bot<token>/method, in
"Can not write request body for …"), and a download link's signature is what makes it work.
`mask_secrets` installs a filter that rewrites every log record as it is made, whichever logger
and handler it goes to, tracebacks included; `SafeAccessLogger` writes the web server's access
log with signed links reduced to their path."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

MASK = "***"


class SecretFilter(logging.Filter):
    """Replaces each secret (and a token's secret half) by *** in the record's message,
    arguments and traceback text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__("baocao-secrets")
        self.secrets: set[str] = set()
        self.pattern: re.Pattern[str] | None = None
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        for secret in secrets:
            if not secret or len(secret) < 6:
                continue
            self.secrets.add(secret)
            _bot_id, colon, rest = secret.partition(":")
            if colon and len(rest) >= 6:  # the part of a Telegram token that is the secret
                self.secrets.add(rest)
        if self.secrets:
            alternatives = sorted(self.secrets, key=len, reverse=True)
            self.pattern = re.compile("|".join(re.escape(s) for s in alternatives))

    def mask(self, text: str) -> str:
        return self.pattern.sub(MASK, text) if self.pattern else text

    def filter(self, record: logging.LogRecord) -> bool:
        if self.pattern is None:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: mask what is there
            message = f"{record.msg} {record.args}"
        masked = self.mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.mask(record.exc_text)
        if record.stack_info:
            record.stack_info = self.mask(record.stack_info)
        return True


_filter = SecretFilter()
_installed = False


def mask_secrets(secrets: Iterable[str]) -> SecretFilter:
    """Mask these secrets in every log record from now on: the filter sits on the root logger
    and, so that records of every other logger pass it too, in the record factory."""
    global _installed
    _filter.add(secrets)
    if not _installed:
        _installed = True
        logging.getLogger().addFilter(_filter)
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            _filter.filter(record)
            return record

        logging.setLogRecordFactory(factory)
    return _filter


class SafeAccessLogger(AbstractAccessLogger):
    """One line per request, like aiohttp's, without the query of a signed link."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        if not self.logger.isEnabledFor(logging.INFO):
            return
        target = request.path if "sig" in request.query else request.path_qs
        self.logger.info('%s "%s %s HTTP/%d.%d" %s %.3fs', request.remote, request.method,
                         target, request.version.major, request.version.minor,
                         response.status, time)

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)
