"""The one table of job names: each names an entry point in jobs/, is stored in Redis as a plain name, and every
job, queued now or later, says what to do when it fails."""

from datetime import timedelta

from rq.job import Job
from rq.utils import import_attribute

from backoffice import queue
from backoffice.queue import JobName
from jobs.failures import on_job_failure


def test_every_job_name_is_an_entry_point_in_jobs():
    for name in JobName:
        assert name.value.startswith("jobs."), name
        assert callable(import_attribute(name.value)), name


def test_a_job_queued_now_or_later_records_its_failure_for_staff(app):
    queue.enqueue(JobName.SWEEP, job_id="now")
    queue.enqueue_in(timedelta(hours=1), JobName.SWEEP, job_id="later")
    for job_id in ("now", "later"):
        job = Job.fetch(job_id, connection=queue.redis_connection(app))
        assert job.failure_callback is on_job_failure, job_id
        assert type(job.func_name) is str and job.func_name == JobName.SWEEP.value  # a plain name in Redis
