"""The case import: a real CSV, queued as an rq job and run by the real worker on real Redis."""

from pathlib import Path

import pytest
from sqlalchemy import func, select

from backoffice.extensions import db
from backoffice.models import (
    AuditEvent,
    Case,
    CaseStatus,
    Counsel,
    CounselKind,
    CounselOfRecord,
    JobRun,
    JobStatus,
)
from tests.helpers import GOOD_ROW, csrf_token_from, run_command, run_flask_command, write_csv

pytestmark = pytest.mark.worker


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def row(**changes: str) -> dict[str, str]:
    """A row of the case export: the good row but for the columns a test is about."""
    return {**GOOD_ROW, **changes}


def import_cases(app, path: Path):
    """The import command, run in this process (one test runs the real command line)."""
    return run_command(app, "import-cases", str(path))


def test_import_creates_cases_counsel_and_counsel_of_record(app, tmp_path, run_worker):
    rows = [
        GOOD_ROW,
        row(file_number="TC5-12345", division="SAR", office="central", appeal_filed_on="2026-10-01"),
        {"file_number": "0003-B5-01234", "division": "ID", "office": "central"},
    ]
    result = run_flask_command(app, "import-cases", str(write_csv(tmp_path / "cases.csv", rows)))  # a process
    assert result.returncode == 0, result.stderr
    assert "Queued case import #1" in result.stdout
    assert db.session.get(JobRun, 1).status is JobStatus.QUEUED

    run_worker()

    run = db.session.get(JobRun, 1)
    assert run.status is JobStatus.FINISHED
    assert (run.total, run.succeeded, run.failed) == (3, 3, 0)
    case = db.session.scalar(select(Case).where(Case.file_number == "TC5-12345"))
    assert case.division.code == "RAD" and case.office.code == "central"
    assert case.appeal_filed_on.isoformat() == "2026-10-01"
    counsel = db.session.scalar(select(Counsel).where(Counsel.external_id == "C-77"))
    assert counsel.kind is CounselKind.LAWYER
    assert counsel.email == "grace.li@law.example" and counsel.mobile == "+16045550101"
    assert count(CounselOfRecord) == 2
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "case.imported")) == 3


def test_bad_rows_are_reported_and_nothing_of_them_is_imported(app, tmp_path, run_worker):
    rows = [
        GOOD_ROW,
        # A valid case with an invalid counsel: neither the case nor the counsel may be imported.
        row(
            file_number="VB5-09999", counsel_id="C-78", counsel_email="not-an-email", counsel_kind="barrister"
        ),
        {"file_number": "12345", "division": "XYZ", "office": "mars", "next_hearing_on": "15/01/2027"},
        {"file_number": "VB5-11111", "division": "RPD", "office": "western", "appeal_filed_on": "2026-01-01"},
    ]
    import_cases(app, write_csv(tmp_path / "cases.csv", rows))
    run_worker()

    run = db.session.get(JobRun, 1)
    assert run.status is JobStatus.FINISHED
    assert (run.succeeded, run.failed) == (1, 3)
    problems = {(error["row"], error["column"]) for error in run.errors}
    assert {(3, "counsel_email"), (3, "counsel_kind")} <= problems
    assert {(4, "file_number"), (4, "division"), (4, "office"), (4, "next_hearing_on")} <= problems
    assert (5, "appeal_filed_on") in problems
    assert all(error["message_en"] and error["message_fr"] for error in run.errors)
    assert all(error["message_en"] != error["message_fr"] for error in run.errors)
    assert db.session.scalar(select(Case).where(Case.file_number == "VB5-09999")) is None
    assert db.session.scalar(select(Counsel).where(Counsel.external_id == "C-78")) is None
    assert count(Case) == 1


def test_reimport_updates_records_and_ends_counsel_of_record_and_audits_the_change(app, tmp_path, run_worker):
    import_cases(app, write_csv(tmp_path / "first.csv", [GOOD_ROW]))
    run_worker()
    changed = row(case_status="closed", next_hearing_on="", of_record="no")
    import_cases(app, write_csv(tmp_path / "second.csv", [changed]))
    run_worker()

    case = db.session.scalar(select(Case).where(Case.file_number == "VB5-02246"))
    assert case.status is CaseStatus.CLOSED and case.next_hearing_on is None
    assert case.counsel_of_record[0].ended_on is not None
    update = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "case.updated_by_import"))
    assert update.before == {"status": "active", "next_hearing_on": "2027-01-15"}
    assert update.after == {"status": "closed", "next_hearing_on": None}
    assert count(Case) == 1 and count(Counsel) == 1


def test_a_job_run_twice_imports_nothing_twice(app, tmp_path, run_worker):
    from backoffice.queue import JobName, job_queue

    import_cases(app, write_csv(tmp_path / "cases.csv", [GOOD_ROW]))
    job_queue(app).enqueue(JobName.IMPORT_CASES.value, 1)  # the same job, delivered again
    run_worker()
    assert count(Case) == 1 and count(CounselOfRecord) == 1
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "case_import.finished")) == 1


def test_a_file_without_the_required_columns_is_refused_before_queueing(app, tmp_path):
    path = tmp_path / "wrong.csv"
    path.write_text("name,email\nA,a@example.com\n", encoding="utf-8")
    result = import_cases(app, path)
    assert result.exit_code != 0
    assert "Columns missing from the file: file_number, division, office." in result.stderr
    assert "Colonnes manquantes" in result.stderr
    assert count(JobRun) == 0


def test_admin_uploads_an_import_and_follows_its_progress(app, tmp_path, login_as, run_worker):
    admin = login_as("admin", "central")
    page = admin.get("/admin/case_import/").get_data(as_text=True)
    csv_bytes = write_csv(tmp_path / "cases.csv", [GOOD_ROW]).read_bytes()
    import io

    response = admin.post(
        "/admin/case_import/",
        data={"csrf_token": csrf_token_from(page), "file": (io.BytesIO(csv_bytes), "export.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    queued = admin.get(response.location).get_data(as_text=True)
    assert "Queued" in queued and "data-refresh-seconds" in queued
    run_worker()
    finished = admin.get(response.location).get_data(as_text=True)
    assert "Finished" in finished and "1 of 1 rows" in finished
    assert db.session.get(JobRun, 1).requested_by_id == admin.user.id
    assert "export.csv" in admin.get("/admin/jobrun/").get_data(as_text=True)


def test_a_job_that_crashes_is_shown_as_failed_to_staff(app, tmp_path, run_worker):
    from backoffice.queue import JobName, enqueue_after_commit

    run = JobRun(kind="case_import", requested_by_label="test", input_path=None, rq_job_id="broken-1")
    db.session.add(run)
    enqueue_after_commit(JobName.IMPORT_CASES, 1, job_id="broken-1")
    db.session.commit()
    run_worker()
    run = db.session.get(JobRun, 1)
    assert run.status is JobStatus.FAILED
    assert "TypeError" in run.errors[-1]["message_en"]
    assert "erreur inattendue" in run.errors[-1]["message_fr"]


def test_an_import_committed_while_redis_is_down_is_queued_by_the_next_worker(app, tmp_path, run_worker):
    from redis import Redis

    from backoffice.workflows.case_import import start_case_import

    working_redis = app.extensions["redis"]
    app.extensions["redis"] = Redis.from_url("redis://127.0.0.1:1/0")  # nothing listens there
    try:
        run = start_case_import(write_csv(tmp_path / "cases.csv", [GOOD_ROW]), "cases.csv")
    finally:
        app.extensions["redis"] = working_redis
    assert db.session.get(JobRun, run.id).status is JobStatus.QUEUED
    assert working_redis.keys("rq:job:*") == []

    run_worker()

    run = db.session.get(JobRun, run.id)
    assert run.status is JobStatus.FINISHED and run.succeeded == 1
    assert run.summary["requeued"] == 1
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "job.requeued")) == 1


def test_a_run_lost_again_and_again_is_stopped_not_retried_forever(app, tmp_path):
    from backoffice.workflows.jobs import MAX_REQUEUES, requeue_lost_runs

    run = JobRun(
        kind="case_import",
        requested_by_label="test",
        rq_job_id="never-queued",
        summary={"requeued": MAX_REQUEUES},
    )
    db.session.add(run)
    db.session.commit()
    assert requeue_lost_runs() == []
    assert db.session.get(JobRun, run.id).status is JobStatus.FAILED


def upload_import(admin, rows: list[dict], path: Path) -> int:
    """An administrator uploads an import through the screen; returns its job's number."""
    import io

    page = admin.get("/admin/case_import/").get_data(as_text=True)
    response = admin.post(
        "/admin/case_import/",
        data={
            "csrf_token": csrf_token_from(page),
            "file": (io.BytesIO(write_csv(path, rows).read_bytes()), path.name),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    return int(response.location.rsplit("=", 1)[1])


def test_a_regional_supervisor_sees_only_the_jobs_run_from_its_office_and_their_problems(
    app, tmp_path, login_as, run_worker
):
    bad_row = {"file_number": "12345", "division": "XYZ", "office": "mars"}
    jobs = {
        office: upload_import(login_as("admin", office), [GOOD_ROW, bad_row], tmp_path / f"{office}.csv")
        for office in ("western", "central")
    }
    import_cases(app, write_csv(tmp_path / "national.csv", [GOOD_ROW]))
    run_worker()
    for office, other in (("western", "central"), ("central", "western")):
        supervisor = login_as("supervisor", office)
        listing = supervisor.get("/admin/jobrun/").get_data(as_text=True)
        assert f"{office}.csv" in listing and f"{other}.csv" not in listing and "national.csv" not in listing
        assert "List (1)" in listing
        details = supervisor.get(f"/admin/jobrun/details/?id={jobs[office]}").get_data(as_text=True)
        assert 'data-testid="job-errors"' in details and "<code>office</code>" in details
        assert supervisor.get(f"/admin/jobrun/details/?id={jobs[other]}").status_code == 404
        home = supervisor.get("/admin/").get_data(as_text=True)
        assert f'?id={jobs[office]}"' in home and f'?id={jobs[other]}"' not in home
    assert "List (3)" in login_as("supervisor", "national").get("/admin/jobrun/").get_data(as_text=True)


def test_a_stored_file_no_longer_in_storage_is_reported_as_missing_not_as_unreadable(app):
    from backoffice.workflows.case_import import import_cases

    run = JobRun(kind="case_import", requested_by_label="test", input_path="imports/case-import-9.csv")
    db.session.add(run)
    db.session.commit()

    assert import_cases(run.id).status is JobStatus.FAILED
    error = db.session.get(JobRun, run.id).errors[-1]
    assert error["message_en"] == "The imported file is no longer in storage."
    assert error["message_fr"] == "Le fichier importé n'est plus dans le stockage."
