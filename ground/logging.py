"""Structured logs of the ground service: JSON lines, or a human format on a terminal.

The standard library's logging with a JSON formatter (no extra dependency): every record becomes
one JSON object with ``time``, ``level``, ``logger``, ``message`` and any ``extra={...}`` fields
(``apid``, ``seq_count``, ``station``...). The human format prints the same fields as
``key=value`` after the message.

``RedactingFilter`` is a last line of defence for secrets: it rewrites ``Bearer <token>``,
``token=<token>`` and URL passwords in every record that passes the handlers configured here, and
in the records of uvicorn's and websockets' own loggers (which print request lines). The service
itself never logs a token or a password; the filter covers third-party debug output.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import Any, Final, TextIO

_STANDARD_ATTRS: Final = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)).keys()
    | {"message", "asctime", "taskName", "color_message"}
)

_SECRET_PATTERNS: Final = (
    # Authorization headers and bearer tokens in any text.
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+"), r"\1 ***"),
    # token=... in query strings or key=value text.
    (re.compile(r"(?i)\b((?:access_)?token=)[^&\s\"']+"), r"\1***"),
    # scheme://user:password@host
    (re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:)[^@\s/]+@"), r"\1***@"),
)

THIRD_PARTY_LOGGERS: Final = ("uvicorn", "uvicorn.error", "uvicorn.access", "websockets")
"""Loggers that print request lines; ``install_redaction`` puts the filter on each of them."""


def redact(text: str) -> str:
    """``text`` with bearer tokens, ``token=`` values and URL passwords replaced by ``***``."""
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrite a record's message (arguments merged in) without secrets; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed format string: keep the raw message
            message = str(record.msg)
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg = cleaned
            record.args = None
        return True


def install_redaction() -> None:
    """Put a ``RedactingFilter`` on uvicorn's and websockets' loggers (once; idempotent)."""
    for name in THIRD_PARTY_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS}


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in _extras(record).items():
            document[key] = value if isinstance(value, str | int | float | bool) else str(value)
        if record.exc_info:
            document["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(document, ensure_ascii=False)


class HumanFormatter(logging.Formatter):
    """``2025-01-01T12:00:00.123Z INFO  logger: message key=value``."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        line = f"{stamp}.{int(record.msecs):03d}Z {record.levelname:<7} {record.name}: "
        line += record.getMessage()
        extras = _extras(record)
        if extras:
            line += " " + " ".join(f"{k}={v}" for k, v in extras.items())
        if record.exc_info:
            line += "\n" + redact(self.formatException(record.exc_info))
        return line


def configure_logging(
    *, json_lines: bool, level: str = "INFO", stream: TextIO | None = None
) -> logging.Handler:
    """Send every log record to ``stream`` (stderr) as JSON lines or human text; return the handler.

    Replaces the root logger's handlers; uvicorn's loggers propagate to it (run uvicorn with
    ``log_config=None``).
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else HumanFormatter())
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    install_redaction()
    return handler
