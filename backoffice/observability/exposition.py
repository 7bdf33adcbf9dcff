"""What a Prometheus scrape reads: the processes' metrics, and figures computed when scraped.

The web's /metrics answers with every metric of this host (the multiprocess folder, or this process) and with
the figures of the whole back office read when scraped: submissions waiting per queue and office, outbox
messages by status, and jobs in rq's queue and registries. Those take two grouped statements and one Redis
round trip, and are never written to the multiprocess folder (each scrape computes them afresh, whichever
process answers). A worker host without a web process is scraped on the worker's own metrics port, which
reads only the multiprocess folder: the global figures come from the web's scrape, once.
"""

import logging
from collections.abc import Iterable, Iterator
from wsgiref.simple_server import WSGIServer

from flask import Flask
from prometheus_client import REGISTRY, CollectorRegistry, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from redis.exceptions import RedisError
from sqlalchemy import and_, func, select
from sqlalchemy.exc import SQLAlchemyError

from backoffice.extensions import db
from backoffice.models import Notification, NotificationStatus, Office, Submission
from backoffice.queue import job_queue
from backoffice.reports.dashboard import QUEUES

logger = logging.getLogger(__name__)
# Every status but those of messages done with.
OUTBOX_STATUSES = tuple(
    status
    for status in NotificationStatus
    if status not in (NotificationStatus.SENT, NotificationStatus.LETTER_SENT)
)


def processes_metrics(multiprocess_dir: str | None) -> Collector:
    """This host's processes' metrics: from the multiprocess folder when there is one, else this process's."""
    if not multiprocess_dir:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=multiprocess_dir)
    return registry


def scrape(app: Flask, accept: str | None) -> tuple[bytes, str]:
    """The body of /metrics and its content type, in the format the scraper accepts (Prometheus' text format,
    or OpenMetrics); called in a request, whose database session it uses."""
    encode, content_type = choose_encoder(accept or "")
    processes = processes_metrics(app.config["PROMETHEUS_MULTIPROC_DIR"])
    return encode(Together([processes, Backlog(app)])), content_type


class Together:
    """Several collectors read as one (the encoders take anything with `collect`)."""

    def __init__(self, collectors: Iterable[Collector]) -> None:
        self.collectors = list(collectors)

    def collect(self) -> Iterator[Metric]:
        for collector in self.collectors:
            yield from collector.collect()


class Backlog:
    """The figures read at scrape time. A source that cannot be read is left out, and says so in
    backoffice_metrics_source_up, rather than failing the whole scrape."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "backoffice_metrics_source_up",
            "Whether a source of scraped figures could be read.",
            labels=["source"],
        )
        try:
            found = [submissions_waiting(), outbox_messages()]
        except SQLAlchemyError:
            db.session.rollback()
            logger.warning("Metrics: the database could not be read.", exc_info=True)
            found = []
        up.add_metric(["database"], 1 if found else 0)
        try:
            found.append(jobs_in_queue(self.app))
            up.add_metric(["redis"], 1)
        except RedisError:
            logger.warning("Metrics: Redis could not be read.", exc_info=True)
            up.add_metric(["redis"], 0)
        yield from found
        yield up


def submissions_waiting() -> GaugeMetricFamily:
    """Submissions waiting in the registry and division queues of each office (the dashboard's queues: held,
    claimed or not), in one statement over ix_submissions_status_office; an office with none shows 0."""
    rows = db.session.execute(
        select(Office.code, Submission.status, func.count(Submission.id))
        .select_from(Office)
        .outerjoin(Submission, and_(Submission.office_id == Office.id, Submission.status.in_(QUEUES)))
        .group_by(Office.code, Submission.status)
    ).all()
    counts = {(code, queue): 0 for code, _status, _count in rows for queue in QUEUES}
    counts.update({(code, status): count for code, status, count in rows if status is not None})
    family = GaugeMetricFamily(
        "backoffice_submissions_waiting",
        "Submissions waiting in a work queue (with_registry, with_division), by office.",
        labels=["queue", "office"],
    )
    for (code, queue), count in sorted(counts.items()):
        family.add_metric([queue.value, code], count)
    return family


def outbox_messages() -> GaugeMetricFamily:
    """Messages of the outbox not done with, by status (queued, sending, retrying, failed, uncertain,
    to_print), in one statement over ix_notifications_status_next_attempt_at."""
    rows = db.session.execute(
        select(Notification.status, func.count(Notification.id))
        .where(Notification.status.in_(OUTBOX_STATUSES))
        .group_by(Notification.status)
    ).all()
    counts = dict.fromkeys(OUTBOX_STATUSES, 0) | dict(rows)
    family = GaugeMetricFamily(
        "backoffice_outbox_messages",
        "Messages of the outbox waiting or failed, by status.",
        labels=["status"],
    )
    for status, count in counts.items():
        family.add_metric([status.value], count)
    return family


def jobs_in_queue(app: Flask) -> GaugeMetricFamily:
    """Jobs queued, started, scheduled, deferred and failed, from rq's queue and registries, in one round trip
    (counted as they stand: rq's own clean-up of its registries is left to its workers)."""
    queue = job_queue(app)
    keys = {
        "started": queue.started_job_registry.key,
        "scheduled": queue.scheduled_job_registry.key,
        "deferred": queue.deferred_job_registry.key,
        "failed": queue.failed_job_registry.key,
    }
    with queue.connection.pipeline(transaction=False) as pipeline:
        pipeline.llen(queue.key)
        for key in keys.values():
            pipeline.zcard(key)
        counts = pipeline.execute()
    family = GaugeMetricFamily(
        "backoffice_rq_jobs",
        "Jobs in rq's queue and registries, by queue and state.",
        labels=["queue", "state"],
    )
    for state, count in zip(["queued", *keys], counts, strict=True):
        family.add_metric([queue.name, state], count)
    return family


def serve_worker_metrics(multiprocess_dir: str, port: int) -> WSGIServer:
    """Serve this host's metrics (its workers' jobs, screening times, delivery and Webex errors) from the
    multiprocess folder on 127.0.0.1:`port` (0: a free port), in a thread; returns the server (its
    `server_port`, and `shutdown()`)."""
    server, _thread = start_http_server(port, addr="127.0.0.1", registry=processes_metrics(multiprocess_dir))
    return server
