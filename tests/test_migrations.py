"""Migrations keep what is stored. SQLite changes a table by copying it: with foreign keys enforced, dropping
the old table would cascade to every attachment, check result and decision of the submissions."""

import os

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from backoffice import create_app
from backoffice.extensions import db
from config import TestConfig


def count(table: str) -> int:
    return db.session.execute(text(f"SELECT count(*) FROM {table}")).scalar()  # noqa: S608 - a fixed name


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    from backoffice import MIGRATIONS_DIR

    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def test_going_down_and_up_through_the_queue_revision_on_sqlite_keeps_every_row(tmp_path, redis_url):
    from backoffice.models import CheckOutcome, CheckResultRecord
    from backoffice.workflows import decisions, submissions
    from backoffice.workflows.timeliness import eastern_day
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
        decided_on = eastern_day(decisions.decide(submission.id, clerk, False, ["R-TOC"]).decided_at)
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
        # The decision made before the tallies existed is counted on its day.
        tally = db.session.execute(
            text("SELECT day, office_id, accepted, rejected FROM decision_tallies")
        ).one()
        assert tuple(tally) == (str(decided_on), office_id, 0, 1)
        reason = db.session.execute(text("SELECT day, decisions FROM reason_tallies")).one()
        assert tuple(reason) == (str(decided_on), 1)
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        db.session.remove()
        db.engine.dispose()


def test_the_migrated_schema_is_the_one_the_models_describe(app):
    """What the migrations build and what the models expect agree: tables, columns, types, indexes and
    constraints (a change to a model without its migration fails here)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from backoffice.extensions import declared_in_models

    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": declared_in_models})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_searching_in_part_has_its_indexes_on_postgresql_and_migrations_run_without_them(app, redis_url):
    """With pg_trgm (here, as a superuser) the search indexes are made; a database whose owner may not add
    extensions is still migrated to the end, without them."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    if db.engine.dialect.name != "postgresql":
        pytest.skip("trigram indexes are PostgreSQL's")
    found = db.session.execute(text("SELECT indexname FROM pg_indexes WHERE indexname LIKE '%trgm'"))
    assert sorted(found.scalars()) == ["ix_cases_file_number_trgm", "ix_counsel_full_name_trgm"]

    name = f"irb_limited_{os.getpid()}"
    admin = create_engine(db.engine.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    statements = [
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
        f'DROP ROLE IF EXISTS "{name}"',
        f'CREATE ROLE "{name}" LOGIN',
        f'CREATE DATABASE "{name}"',
    ]
    with admin.connect() as connection:
        for statement in statements:
            connection.execute(text(statement))
    owner = create_engine(db.engine.url.set(database=name), isolation_level="AUTOCOMMIT")
    with owner.connect() as connection:  # may make tables, not add extensions
        connection.execute(text(f'GRANT ALL ON SCHEMA public TO "{name}"'))
    owner.dispose()
    limited_url = make_url(db.engine.url).set(database=name, username=name, password=None)
    limited = create_app(
        TestConfig,
        SQLALCHEMY_DATABASE_URI=limited_url.render_as_string(hide_password=False),
        REDIS_URL=redis_url,
    )
    try:
        with limited.app_context():
            upgrade()
            version = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
            indexes = db.session.execute(text("SELECT count(*) FROM pg_indexes WHERE indexname LIKE '%trgm'"))
            assert (version, indexes.scalar()) == (head_revision(), 0)
            db.session.remove()
            db.engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'DROP ROLE IF EXISTS "{name}"'))
        admin.dispose()


def test_jobs_run_before_they_kept_an_office_take_the_office_of_who_started_them(app):
    """Going up to the revision that gives jobs an office fills it from the staff member who started each;
    a job from the command line stays without one (national scope only)."""
    from tests.factories import create_staff, office

    admin = create_staff("admin", "central")
    staff, label, central = admin.id, admin.email, office("central").id
    db.session.remove()
    downgrade(revision="0008")
    insert = text(
        "INSERT INTO job_runs (kind, status, requested_by_id, requested_by_label, total, done, succeeded, "
        "failed, errors, summary, created_at) "
        "VALUES ('case_import', 'finished', :staff, :label, 0, 0, 0, 0, '[]', '{}', CURRENT_TIMESTAMP)"
    )
    db.session.execute(insert, {"staff": staff, "label": label})
    db.session.execute(insert, {"staff": None, "label": "command line"})
    db.session.commit()
    db.session.remove()
    upgrade()
    offices = db.session.execute(text("SELECT requested_by_id, office_id FROM job_runs ORDER BY id")).all()
    assert [tuple(row) for row in offices] == [(staff, central), (None, None)]
