"""Secrets out of the logs.

Libraries put the bot token in their error texts (aiohttp names the URL, /bot<token>/method, in
"Can not write request body for …"), and a download link's signature is what makes it work.
`mask_secrets` installs a filter that rewrites every log record as it is made, whichever logger
and handler it goes to, tracebacks included; `SafeAccessLogger` writes the web server's access
log with signed links reduced to their path.

One-time links are secrets too: whoever reads `GET /web/l/<token>` in a log could sign in
before the coordinator does (a link preview does not spend it). So the filter also masks every
link path token, every `sig=` and every console cookie it sees, and the bare tokens the links
made or received in this process (`hide`): a download or upload token sits alone in the SQL
parameters and rows that SQLAlchemy and aiosqlite log at DEBUG."""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

MASK = "***"
# A link's token after its path, in a URL or a request line: /web/l/…, /files/…, /uploads/….
_LINK_TOKEN = re.compile(r"((?:https?://[^/\s'\"]+|^|[\s'\"(])/(?:web/l|files|uploads)/)"
                         r"[A-Za-z0-9_-]{16,}")
_SIGNATURE = re.compile(r"((?<![A-Za-z])sig=)[^&\s'\"\\]+")
_COOKIE = re.compile(r"(baocao_web(?:_pre)?=)[^;\s'\"\\]+")
_TOKEN_WORD = re.compile(r"[A-Za-z0-9_-]{20,}")
RECENT_TOKENS = 20_000  # about a day of links at a province's busiest; the oldest go first


class SecretFilter(logging.Filter):
    """Replaces each secret (and a token's secret half) by *** in the record's message,
    arguments and traceback text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__("baocao-secrets")
        self.secrets: set[str] = set()
        self.pattern: re.Pattern[str] | None = None
        self.tokens: OrderedDict[str, None] = OrderedDict()  # the oldest is forgotten first
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

    def hide(self, token: str) -> None:
        """Mask this link or session token wherever it appears, alone too, from now on."""
        if len(token) < 20 or token in self.tokens:
            return
        self.tokens[token] = None
        if len(self.tokens) > RECENT_TOKENS:
            self.tokens.popitem(last=False)

    def mask(self, text: str) -> str:
        if self.pattern:
            text = self.pattern.sub(MASK, text)
        text = _LINK_TOKEN.sub(rf"\g<1>{MASK}", text)
        text = _SIGNATURE.sub(rf"\g<1>{MASK}", text)
        text = _COOKIE.sub(rf"\g<1>{MASK}", text)
        if self.tokens:
            text = _TOKEN_WORD.sub(lambda m: MASK if m.group(0) in self.tokens else m.group(0),
                                   text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
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
    _filter.add(secrets)
    _install()
    return _filter


def _install() -> None:
    global _installed
    if not _installed:
        _installed = True
        logging.getLogger().addFilter(_filter)
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            _filter.filter(record)
            return record

        logging.setLogRecordFactory(factory)


def hide(token: str) -> None:
    """Keep a one-time link's or a session's token out of every log line from now on."""
    _install()
    _filter.hide(token)


class SafeAccessLogger(AbstractAccessLogger):
    """One line per request, like aiohttp's, without the query of a signed link and with a
    link's token masked."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        if not self.logger.isEnabledFor(logging.INFO):
            return
        target = _filter.mask(request.path if "sig" in request.query else request.path_qs)
        self.logger.info('%s "%s %s HTTP/%d.%d" %s %.3fs', request.remote, request.method,
                         target, request.version.major, request.version.minor,
                         response.status, time)

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)
