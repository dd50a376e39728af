"""Where log records go (standard error or a file) and how they read (text or JSON lines).

Owns the root handler and formatter of the chat-server process. What gets logged, and
that message text and passwords never are at INFO, is up to the modules that log. Must
not import anything from chat_server.
"""

from __future__ import annotations

import datetime
import json
import logging
import logging.handlers
import sys
from typing import Any

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC)
            .isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def open_handler(log_file: str | None) -> logging.StreamHandler[Any]:
    """A handler for `log_file`, or standard error; raises OSError when it cannot open.

    A file handler reopens its file when it is moved away, so logrotate needs no signal.
    """
    if log_file:
        return logging.handlers.WatchedFileHandler(log_file, encoding="utf-8")
    return logging.StreamHandler(sys.stderr)


def configure(handler: logging.Handler, level: str, log_format: str) -> None:
    """Make `handler` the only destination of the root logger."""
    formatter = JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)


def set_level(level: str) -> None:
    logging.getLogger().setLevel(level)
