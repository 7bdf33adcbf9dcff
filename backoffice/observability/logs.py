"""Logs: JSON lines for the log store (LOG_FORMAT=json, production) or readable lines (text, development).

Every record written while a request or a job runs carries its request id and job id. The one line per
request (observability.requests) and per job (observability.jobs) add their own fields, given as
`extra={"fields": {...}}`; other records keep only their message, and no record's other attributes are
written, since they may hold anything.

No personal information reaches a JSON line: the message written is the first line of a record's message
(rq passes a whole traceback as text, whose last line quotes the exception, and an exception's text can quote
a database row: an email address, a name), and an exception is written as its type and the places it passed
through, never its text.
"""

import json
import logging
import re
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

from flask import g, has_request_context

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")  # rq colours its words when it writes to a terminal
FRAME_LINE = re.compile(r'\s*File "[^"]*", line \d+, in \S+')


@dataclass(frozen=True)
class RunningJob:
    job_id: str
    request_id: str | None


_running_job: ContextVar[RunningJob | None] = ContextVar("running_job", default=None)


@contextmanager
def job_running(job_id: str, request_id: str | None) -> Iterator[None]:
    """Records logged meanwhile carry this job's id and the id of the request that queued it."""
    token = _running_job.set(RunningJob(job_id, request_id))
    try:
        yield
    finally:
        _running_job.reset(token)


def current_request_id() -> str | None:
    """The id of the web request being answered, or of the one that queued the job being run."""
    if has_request_context():
        return g.get("request_id")
    job = _running_job.get()
    return job.request_id if job else None


def current_job_id() -> str | None:
    job = _running_job.get()
    return job.job_id if job else None


class ContextFilter(logging.Filter):
    """Adds the request and job ids to every record the handler writes."""

    def filter(self, record: logging.LogRecord) -> bool:
        # rq names the job of its own records (extra={"job_id": ...}), outside the job's run.
        record.request_id = getattr(record, "request_id", None) or current_request_id()
        record.job_id = getattr(record, "job_id", None) or (
            None if has_request_context() else current_job_id()
        )
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": first_line(record.getMessage()),
        }
        for name in ("request_id", "job_id"):
            if getattr(record, name, None):
                line[name] = getattr(record, name)
        line.update(getattr(record, "fields", {}))
        stack = _frames(record.getMessage())
        if record.exc_info and record.exc_info[0] is not None:
            line["error"] = record.exc_info[0].__name__
            stack = _frames("".join(traceback.format_exception(*record.exc_info)))
        if stack:
            line["stack"] = stack
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """Today's readable lines, with the ids and fields after the message."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802  (logging's name)
        tags = {name: getattr(record, name, None) for name in ("request_id", "job_id")}
        tags.update(getattr(record, "fields", {}))
        described = " ".join(f"{name}={value}" for name, value in tags.items() if value is not None)
        line = super().formatMessage(record)
        return f"{line} [{described}]" if described else line


def first_line(message: str) -> str:
    return ANSI_ESCAPE.sub("", message.strip().split("\n", 1)[0])


def _frames(text: str) -> list[str]:
    """The places a traceback passed through ("File ..., line ..., in ..."), without any text it quotes."""
    return [line.strip() for line in text.splitlines() if FRAME_LINE.fullmatch(line)]


FORMATTERS = {"json": JsonFormatter, "text": TextFormatter}
OWN_LOGGERS = frozenset({"backoffice", "jobs", "rq"})
QUIET_LIBRARIES = ("botocore", "boto3", "urllib3", "s3transfer")


class StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a record comes (a test's capture, a worker's redirected stderr),
    not to the stream it was when the handler was made."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def configure_logging(log_format: str, level: str) -> None:
    """One handler of ours on the root logger, whatever the number of calls (create_app is called per test);
    the last call's format and level win."""
    if log_format not in FORMATTERS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(FORMATTERS)}, not {log_format!r}.")
    root = logging.getLogger()
    for handler in [handler for handler in root.handlers if isinstance(handler, StderrHandler)]:
        root.removeHandler(handler)
    handler = StderrHandler()
    handler.setFormatter(FORMATTERS[log_format]())
    handler.addFilter(ContextFilter())
    root.addHandler(handler)
    root.setLevel(level.upper())
    # The development server's access lines quote the query string; in JSON, the application's own line says it.
    logging.getLogger("werkzeug").setLevel(logging.WARNING if log_format == "json" else logging.NOTSET)
    # The AWS SDK and its HTTP library log every request, headers and signed URLs included, at DEBUG and INFO:
    # never below WARNING, whatever LOG_LEVEL asks.
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    # A logging configuration read in this process since (Alembic's, when migrations run in it) turns off every
    # logger that existed then: the application's are on again.
    for name, logger in logging.root.manager.loggerDict.items():
        if isinstance(logger, logging.Logger) and name.partition(".")[0] in OWN_LOGGERS:
            logger.disabled = False
