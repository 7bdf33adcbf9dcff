"""The metrics each process counts as things happen, for Prometheus (prometheus_client).

Several processes serve the back office (gunicorn's workers, rq's workers and the work horse each forks per
job): with PROMETHEUS_MULTIPROC_DIR set (prometheus_client reads it when first imported) each process writes
its values into a file of that folder, and /metrics or the worker's metrics port adds them up at scrape time
(observability.exposition). Without it, the values live in this process only (development, tests).

Figures read at scrape time (queue lengths, the outbox, rq's registries) are not here: they are computed by
a collector when scraped (observability.exposition), so never written to that folder.

Labels take few values: a Flask endpoint name (never a path), a job's name, a provider, a kind of failure.
"""

import functools
import os
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from prometheus_client import Counter, Gauge, Histogram, values

SECONDS_OF_A_REQUEST = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
SECONDS_OF_A_JOB = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)
SECONDS_PER_PAGE = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# rq forks a work horse per job. Files named by each horse's pid would add a file per metric type per job,
# forever, to the folder every scrape reads; a worker's horses run one after another, never two at once, so
# they share one set of files named after their worker (see mark_work_horse).
_horse_of_worker: int | None = None


def _process_identifier() -> str:
    return f"rqhorse-{_horse_of_worker}" if _horse_of_worker else str(os.getpid())


def mark_work_horse(worker_pid: int) -> None:
    """Called first thing in a forked work horse: its values go to its worker's horses' files."""
    global _horse_of_worker
    _horse_of_worker = worker_pid


if values.ValueClass is not values.MutexValue:  # prometheus_client found PROMETHEUS_MULTIPROC_DIR
    values.ValueClass = values.MultiProcessValue(_process_identifier)


REQUESTS = Counter(
    "backoffice_http_requests",
    "Requests answered, by Flask endpoint, method and status.",
    ["endpoint", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "backoffice_http_request_duration_seconds",
    "Time to answer a request, by Flask endpoint, method and status.",
    ["endpoint", "method", "status"],
    buckets=SECONDS_OF_A_REQUEST,
)
REQUESTS_IN_PROGRESS = Gauge(
    "backoffice_http_requests_in_progress",
    "Requests being answered, by the processes alive.",
    multiprocess_mode="livesum",  # gunicorn's child_exit hook removes a dead worker's share
)
JOBS = Counter(
    "backoffice_jobs", "Jobs run by the workers, by job and outcome (finished, failed).", ["job", "outcome"]
)
JOB_SECONDS = Histogram(
    "backoffice_job_duration_seconds", "Time a job ran, by job.", ["job"], buckets=SECONDS_OF_A_JOB
)
SCREENING_SECONDS_PER_PAGE = Histogram(
    "backoffice_screening_seconds_per_page",
    "Time to screen an attachment (reading and checks), divided by its pages.",
    buckets=SECONDS_PER_PAGE,
)
INTEGRATION_ERRORS = Counter(
    "backoffice_integration_errors",
    "Failures of an outside service, by provider (webex, notify, smtp) and kind (temporary, permanent).",
    ["provider", "kind"],
)
SIGN_IN_FAILURES = Counter(
    "backoffice_sign_in_failures",
    "Staff sign-ins refused, by reason (unknown_account, wrong_password, locked).",
    ["reason"],
)
LOCKOUTS = Counter("backoffice_account_lockouts", "Staff accounts locked after too many failed sign-ins.")


def count_request(endpoint: str | None, method: str, status: int, seconds: float) -> None:
    labels = (endpoint or "unmatched", method if method in METHODS else "other", str(status))
    REQUESTS.labels(*labels).inc()
    REQUEST_SECONDS.labels(*labels).observe(seconds)


def count_job(job: str, outcome: str, seconds: float) -> None:
    JOBS.labels(job, outcome).inc()
    JOB_SECONDS.labels(job).observe(seconds)


def observe_screening(seconds: float, pages: int | None) -> None:
    """A file that could not be read has no pages: its time counts as one page's."""
    SCREENING_SECONDS_PER_PAGE.observe(seconds / max(pages or 1, 1))


def count_sign_in_failure(reason: str) -> None:
    SIGN_IN_FAILURES.labels(reason).inc()


def count_lockout() -> None:
    LOCKOUTS.inc()


P = ParamSpec("P")
R = TypeVar("R")


def errors_counted(provider: str, errors: type[Exception]) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Count each `errors` an integration's function raises (its `temporary` attribute gives the kind)."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def counted(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return function(*args, **kwargs)
            except errors as error:
                count_integration_error(provider, error)
                raise

        return counted

    return decorate


def count_integration_error(provider: str, error: Any) -> None:
    kind = "temporary" if getattr(error, "temporary", True) else "permanent"
    INTEGRATION_ERRORS.labels(provider, kind).inc()
