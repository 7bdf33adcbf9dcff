"""One log line and the metrics of each job run, and the request id that travels with jobs.

A job queued while a request is answered keeps that request's id in its meta (backoffice.queue), and a job
queued by a job keeps the id its parent had: the log lines of a submission's screening, of the receipt it
sends and of that receipt's retries all name the portal's request that brought the submission in.
"""

import logging
import re
import time
from typing import Any

from rq.job import Job

from backoffice.observability.logs import job_running
from backoffice.observability.metrics import count_job
from backoffice.queue import REQUEST_ID, JobName

logger = logging.getLogger("backoffice.jobs")
KNOWN_JOBS = frozenset(name.value for name in JobName)
PLAIN_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class ObservedJob(Job):
    """rq's job, timed, counted and logged in one line as it runs (the worker's job_class)."""

    def perform(self) -> Any:
        request_id = self.meta.get(REQUEST_ID)
        started = time.perf_counter()
        outcome, error = "failed", None
        with job_running(self.id, request_id):
            try:
                result = super().perform()
                outcome = "finished"
                return result
            except BaseException as raised:  # a job timeout is not an Exception
                error = type(raised).__name__
                raise
            finally:
                self._observe(request_id, outcome, error, time.perf_counter() - started)

    def _observe(self, request_id: str | None, outcome: str, error: str | None, seconds: float) -> None:
        name = self.func_name if self.func_name in KNOWN_JOBS else "other"
        count_job(name, outcome, seconds)
        fields = {
            "job": name,
            "job_id": self.id,
            "ids": [_plain(argument) for argument in self.args],
            "request_id": request_id,
            "queue": self.origin,
            "outcome": outcome,
            "error": error,
            "duration_ms": round(seconds * 1000, 1),
        }
        level = logging.INFO if outcome == "finished" else logging.ERROR
        logger.log(level, "job %s", outcome, extra={"fields": _present(fields)})


def _plain(argument: object) -> object:
    """Jobs take ids (STYLE.md); anything else given to one stays out of the logs."""
    if isinstance(argument, int) or (isinstance(argument, str) and PLAIN_ID.fullmatch(argument)):
        return argument
    return "(not an id)"


def _present(fields: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if value is not None}
