"""The periodic upkeep (the sweep): what a lost job, a dead worker or a lost Redis left waiting is taken up again,
idle claims are released, and the registration's reminders and expiries are sent. Run at every worker start and
every few minutes; each part is safe to run again."""

from collections.abc import Iterator
from contextlib import contextmanager

from redis.exceptions import LockError

from backoffice import queue
from backoffice.extensions import db
from backoffice.screening.workflow import requeue_lost_screenings
from backoffice.workflows.decisions import release_idle_claims
from backoffice.workflows.jobs import requeue_lost_runs
from backoffice.workflows.notifications import requeue_waiting_notifications
from backoffice.workflows.registration import invitation_codes, meetings

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


def upkeep_once() -> dict[str, list[int]]:
    """Expire invitation codes past their date, remind counsel of codes expiring within a week and of
    meetings within a day. Each reminder is sent once, so running it often does no harm."""
    found = invitation_codes.expire_and_remind()
    found["meeting_reminders"] = meetings.queue_meeting_reminders()
    db.session.commit()
    found["meetings_requeued"] = meetings.requeue_stalled_meetings()
    return found
