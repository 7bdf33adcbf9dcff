"""Job: the periodic sweep that queues again what Redis lost, then schedules itself again."""

from collections.abc import Iterator
from contextlib import contextmanager

from redis.exceptions import LockError

from backoffice import queue
from backoffice.workflows.decisions import release_idle_claims
from backoffice.workflows.jobs import requeue_lost_runs, schedule_sweep
from backoffice.workflows.notifications import requeue_waiting_notifications
from backoffice.workflows.screening import requeue_lost_screenings
from jobs.context import job_context
from jobs.registration import upkeep_once

# Longer than a sweep takes, short enough that a sweep killed midway holds up the next one only briefly.
SWEEP_LOCK_SECONDS = 60


def sweep_once() -> dict[str, list]:
    """Settle the jobs of workers that died; queue again the job runs, messages and screenings that are waiting
    with no job to carry them; then the registration upkeep (code expiries and reminders, meeting reminders).

    One sweep at a time: workers started together would each queue the same lost job again, and it would run
    twice at once."""
    with _one_sweep_at_a_time():
        return {
            "abandoned_jobs": queue.abandon_jobs_of_dead_workers(),
            "job_runs": requeue_lost_runs(),
            "notifications": requeue_waiting_notifications(),
            "screenings": requeue_lost_screenings(),
            "claims_released": release_idle_claims(),
            **upkeep_once(),
        }


@contextmanager
def _one_sweep_at_a_time() -> Iterator[None]:
    lock = queue.redis_connection().lock(f"{queue.job_queue().key}:sweep", timeout=SWEEP_LOCK_SECONDS)
    lock.acquire()  # waits for a sweep under way; no longer than the lock lives
    try:
        yield
    finally:
        try:
            lock.release()
        except LockError:  # this sweep outlived its lock: nothing to release
            pass


def sweep() -> dict[str, list]:
    with job_context():
        found = sweep_once()
        schedule_sweep()
        return found
