"""Screening a submission: read each attachment safely, run the checks, store the results, hand it to registry.

Idempotent: an attachment already screened is not read again, and a submission that has moved on is left
alone, so a job that runs twice does no harm. A failed check informs the clerk; it decides nothing.
"""

import logging
import time
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from backoffice import queue
from backoffice.extensions import db
from backoffice.integrations.storage import document_store
from backoffice.models import (
    Attachment,
    AuditEvent,
    CheckOutcome,
    CheckResultRecord,
    Submission,
    SubmissionStatus,
)
from backoffice.models.types import utcnow
from backoffice.observability.metrics import observe_screening
from backoffice.screening.checks import (
    CheckContext,
    CheckResult,
    Outcome,
    check_proof_of_service,
    run_document_checks,
    worst_outcome,
)
from backoffice.screening.pdf_reading import ReadingSettings, read_document
from backoffice.screening.sandbox import Limits
from backoffice.screening.scan_reading import OcrSettings
from backoffice.workflows import submissions
from backoffice.workflows.audit import SYSTEM, record_event
from backoffice.workflows.state_machine import ChangedMeanwhile

log = logging.getLogger(__name__)


def screen_submission(submission_id: int) -> SubmissionStatus | None:
    submission = db.session.get(Submission, submission_id)
    if submission is None:
        return None
    if submission.status is SubmissionStatus.RECEIVED:
        try:
            submissions.fire(submission, "start_screening")
        except ChangedMeanwhile:  # another run of this job started it a moment ago: carry on from where it is
            db.session.rollback()
        db.session.commit()
    if submission.status is not SubmissionStatus.SCREENING:
        return submission.status
    context = check_context(submission)
    for attachment in submission.attachments:
        if attachment.screened_at is None:
            screen_attachment(attachment, context)
            db.session.commit()
    try:
        _finish(submission, context)
    except ChangedMeanwhile:  # another run of this job finished it meanwhile, with the same results
        db.session.rollback()
    db.session.commit()
    return submission.status


def check_context(submission: Submission) -> CheckContext:
    rule = submission.deadline_rule
    return CheckContext(
        document_kind=submission.document_kind.value,
        division=submission.division.code,
        file_numbers=frozenset({submission.case.file_number}),
        ucis=frozenset({submission.case.uci} if submission.case.uci else set()),
        proof_of_service_declared=submission.proof_of_service is not None,
        proof_of_service_required=bool(rule and rule.proof_of_service_required),
        attachment_count=len(submission.attachments),
    )


def screen_attachment(attachment: Attachment, context: CheckContext) -> list[CheckResult]:
    started = time.monotonic()
    with document_store().local_copy(attachment.sha256) as path:  # the readers are children that need a path
        document = read_document(path, attachment.filename, attachment.size, reading_settings())
    if document.reading.get("reader_error"):
        log.warning(
            "Screening: a PDF reader stopped on attachment %s (%s): %s",
            attachment.id,
            document.structure.get("problem") or document.pages_error,
            document.reading["reader_error"],
        )
    results = run_document_checks(document, context)
    db.session.execute(delete(CheckResultRecord).where(CheckResultRecord.attachment_id == attachment.id))
    for result in results:
        db.session.add(_record(attachment.submission_id, attachment.id, result))
    attachment.page_count = document.page_count
    attachment.screening_outcome = CheckOutcome(worst_outcome(results).value)
    attachment.screening_seconds = round(time.monotonic() - started, 3)
    observe_screening(attachment.screening_seconds, document.page_count)
    attachment.screened_at = utcnow()
    return results


def reading_settings() -> ReadingSettings:
    config = current_app.config
    memory_bytes = config["SCREENING_MEMORY_MB"] * 1024 * 1024
    return ReadingSettings(
        max_pages=config["SCREENING_MAX_PAGES"],
        processes=config["SCREENING_PROCESSES"],
        limits=Limits(
            memory_bytes=memory_bytes,
            cpu_seconds=config["SCREENING_CPU_SECONDS"],
            wall_seconds=config["SCREENING_WALL_SECONDS"],
        ),
        ocr=OcrSettings(
            seconds=config["SCREENING_OCR_SECONDS"],
            processes=config["SCREENING_PROCESSES"],
            memory_bytes=memory_bytes,
        ),
    )


WAITING_IN_QUEUES = (SubmissionStatus.WITH_REGISTRY, SubmissionStatus.WITH_DIVISION)


def recheck_job_id(submission_id: int) -> str:
    return f"check-again-{submission_id}"


def queue_check_again(submission: Submission) -> None:
    """Run the checks again once this transaction commits (the kind of document was corrected): until they
    finish the submission shows its checks as running, and it cannot be accepted with others."""
    submission.screening_outcome = None
    submission.screening_finished_at = None
    queue.enqueue_after_commit(queue.JobName.CHECK_AGAIN, submission.id, job_id=recheck_job_id(submission.id))


def check_again(submission_id: int) -> CheckOutcome | None:
    """The checks of a submission waiting in a queue, run again on every file; its place does not change."""
    submission = db.session.get(Submission, submission_id)
    if submission is None or submission.status not in WAITING_IN_QUEUES:
        return None
    context = check_context(submission)
    for attachment in submission.attachments:
        screen_attachment(attachment, context)
        db.session.commit()
    _store_outcome(submission, context)
    record_event(
        "submission.checked_again",
        actor=SYSTEM,
        record=submission,
        after={"outcome": submission.screening_outcome.value},
    )
    db.session.commit()
    return submission.screening_outcome


def _finish(submission: Submission, context: CheckContext) -> None:
    _store_outcome(submission, context)
    submissions.fire(submission, "finish_screening", outcome=submission.screening_outcome.value)


def _store_outcome(submission: Submission, context: CheckContext) -> None:
    """The submission-wide checks, then the worst outcome and the counts of failures and warnings."""
    db.session.execute(
        delete(CheckResultRecord).where(
            CheckResultRecord.submission_id == submission.id, CheckResultRecord.attachment_id.is_(None)
        )
    )
    rule = submission.deadline_rule
    citation = (rule.citation_en, rule.citation_fr) if rule else None
    service = check_proof_of_service(context, citation)
    if service is not None:
        db.session.add(_record(submission.id, None, service))
    db.session.flush()
    outcomes = db.session.scalars(
        select(CheckResultRecord.outcome).where(CheckResultRecord.submission_id == submission.id)
    ).all()
    submission.screening_outcome = max(
        outcomes, key=lambda outcome: outcome.severity, default=CheckOutcome.PASS
    )
    submission.failed_checks = outcomes.count(CheckOutcome.FAILURE)
    submission.warning_checks = outcomes.count(CheckOutcome.WARNING)
    submission.screening_finished_at = utcnow()


def _record(submission_id: int, attachment_id: int | None, result: CheckResult) -> CheckResultRecord:
    return CheckResultRecord(
        submission_id=submission_id,
        attachment_id=attachment_id,
        code=result.code,
        outcome=CheckOutcome(result.outcome.value),
        message_en=result.message_en,
        message_fr=result.message_fr,
        details=result.details,
        for_counsel=result.for_counsel,
    )


MAX_SCREENING_REQUEUES = 3
# A lost screening is queued again at the next sweep (within a minute of a crash), but a second and third time
# only this long after the one before: a document that kills its worker each time is given up after about a
# quarter of an hour, not after three minutes of an outage of the bucket or the database.
REQUEUE_SPACING = timedelta(minutes=5)


def requeue_lost_screenings() -> list[int]:
    """Queue again each submission waiting for screening with no job to carry it.

    After a few losses the remaining attachments get a failed "readable" result and the submission goes to
    registry anyway: a clerk sees it, rather than it waiting for ever.
    """
    requeued = []
    waiting = select(Submission).where(
        Submission.status.in_([SubmissionStatus.RECEIVED, SubmissionStatus.SCREENING])
    )
    for submission_id in db.session.scalars(
        select(Submission.id).where(
            Submission.status.in_(WAITING_IN_QUEUES), Submission.screening_outcome.is_(None)
        )
    ).all():  # checks to run again after a correction, whose job Redis lost
        if not queue.job_is_waiting_or_running(recheck_job_id(submission_id)):
            queue.enqueue_after_commit(
                queue.JobName.CHECK_AGAIN, submission_id, job_id=recheck_job_id(submission_id)
            )
            requeued.append(submission_id)
    for submission in db.session.scalars(waiting).all():
        job_id = submissions.screening_job_id(submission.id)
        if queue.job_is_waiting_or_running(job_id):
            continue
        losses, last_requeued_at = _requeues(submission)
        if last_requeued_at is not None and utcnow() - last_requeued_at < REQUEUE_SPACING:
            continue
        if losses >= MAX_SCREENING_REQUEUES:
            _give_up(submission)
            continue
        record_event(
            "submission.screening_requeued", actor=SYSTEM, record=submission, after={"attempt": losses + 1}
        )
        queue.enqueue_after_commit(queue.JobName.SCREEN_SUBMISSION, submission.id, job_id=job_id)
        requeued.append(submission.id)
    db.session.commit()
    return requeued


def _requeues(submission: Submission) -> tuple[int, datetime | None]:
    """How many times the screening was queued again, and when last."""
    return db.session.execute(
        select(func.count(AuditEvent.id), func.max(AuditEvent.occurred_at)).where(
            AuditEvent.record_type == Submission.__tablename__,
            AuditEvent.record_id == str(submission.id),
            AuditEvent.action == "submission.screening_requeued",
        )
    ).one()


def _give_up(submission: Submission) -> None:
    if submission.status is SubmissionStatus.RECEIVED:
        submissions.fire(submission, "start_screening")
    for attachment in submission.attachments:
        if attachment.screened_at is None:
            db.session.add(_record(submission.id, attachment.id, UNSCREENED))
            attachment.screening_outcome = CheckOutcome.FAILURE
            attachment.screened_at = utcnow()
    _finish(submission, check_context(submission))


UNSCREENED = CheckResult(
    "readable",
    Outcome.FAILURE,
    "The automated checks could not finish on this file after several tries; a clerk must open it.",
    "Les contrôles automatisés n'ont pas pu se terminer sur ce fichier après plusieurs essais; un commis doit l'ouvrir.",
    {"problem": "not_screened"},
)
