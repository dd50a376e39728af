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
import time
from typing import Any

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class TextFormatter(logging.Formatter):
    """TEXT_FORMAT, with the date and time formatted once per second rather than once
    per record: a server taking thousands of connections a second logs two lines for
    each, and `time.strftime` was a good part of what a line cost."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)
        self._second = -1
        self._stamp = ""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt is not None:
            return super().formatTime(record, datefmt)
        second = int(record.created)
        if second != self._second:
            self._stamp = time.strftime(self.default_time_format, self.converter(second))
            self._second = second
        return f"{self._stamp},{int(record.msecs):03d}"


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
    """Make `handler` the only destination of the root logger.

    Neither format shows the calling function, thread or process, so records are made
    without looking them up (the logging documentation's "Optimization"): finding the
    caller walks the stack on every record, which cost more than the line's own text.
    """
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    formatter = JsonFormatter() if log_format == "json" else TextFormatter()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)


def set_level(level: str) -> None:
    logging.getLogger().setLevel(level)
