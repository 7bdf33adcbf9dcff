"""Migrations keep what is stored. SQLite changes a table by copying it: with foreign keys enforced, dropping
the old table would cascade to every attachment, check result and decision of the submissions."""

import os

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from backoffice import create_app
from backoffice.extensions import db
from config import TestConfig


def count(table: str) -> int:
    return db.session.execute(text(f"SELECT count(*) FROM {table}")).scalar()  # noqa: S608 - a fixed name


def test_going_down_and_up_through_the_queue_revision_on_sqlite_keeps_every_row(tmp_path, redis_url):
    from backoffice.models import CheckOutcome, CheckResultRecord
    from backoffice.workflows import decisions, submissions
    from tests.factories import create_filer, create_staff, create_submission

    app = create_app(
        TestConfig,
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'migrations.sqlite'}",
        REDIS_URL=redis_url,
        STORAGE_ROOT=str(tmp_path / "storage"),
        RQ_QUEUE=f"test-{os.getpid()}",
    )
    with app.app_context():
        upgrade()
        submission = create_submission(create_filer("western", "RPD"))
        submissions.fire(submission, "start_screening")
        submissions.fire(submission, "finish_screening")
        for outcome in (CheckOutcome.FAILURE, CheckOutcome.FAILURE, CheckOutcome.WARNING):
            db.session.add(
                CheckResultRecord(
                    submission_id=submission.id,
                    attachment_id=submission.attachments[0].id,
                    code="test",
                    outcome=outcome,
                    message_en="m",
                    message_fr="m",
                )
            )
        clerk = create_staff("clerk", "western")
        decisions.claim(submission.id, clerk)
        decisions.decide(submission.id, clerk, False, ["R-TOC"])
        db.session.commit()
        office_id = submission.office_id
        kept = {
            table: count(table) for table in ("attachments", "check_results", "decisions", "decision_reasons")
        }
        assert kept == {"attachments": 1, "check_results": 3, "decisions": 1, "decision_reasons": 1}
        db.session.remove()

        downgrade(revision="0005")
        assert {table: count(table) for table in kept} == kept
        db.session.remove()
        upgrade()

        assert {table: count(table) for table in kept} == kept
        row = db.session.execute(text("SELECT failed_checks, warning_checks FROM submissions")).one()
        assert tuple(row) == (2, 1)  # counted again from the stored results
        office = db.session.execute(text("SELECT office_id FROM decisions")).scalar()
        assert office == office_id
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        db.session.remove()
        db.engine.dispose()
