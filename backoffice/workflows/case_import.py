"""Importing cases, counsel and counsel of record from the case management system's CSV export.

Each row is checked whole before anything of it is written, and written in its own savepoint, so a
bad row is reported with its row number and field and never half-imported. Progress is committed as
it goes, so staff can follow it, and a rerun after a crash does the same thing again (upserts).
"""

import csv
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from backoffice.extensions import db
from backoffice.integrations.storage import document_store
from backoffice.models import (
    Case,
    CaseStatus,
    Counsel,
    CounselKind,
    CounselOfRecord,
    Division,
    JobRun,
    JobStatus,
    Language,
    Office,
    StaffUser,
)
from backoffice.models.types import utcnow
from backoffice.queue import JobName, enqueue_after_commit
from backoffice.workflows.audit import COMMAND_LINE, SYSTEM, record_event
from backoffice.workflows.cases import file_number_problem, normalise_file_number, normalise_uci
from backoffice.workflows.i18n import in_both_languages
from backoffice.workflows.jobs import fail_run

REQUIRED_COLUMNS = ("file_number", "division", "office")
COLUMNS = REQUIRED_COLUMNS + (
    "case_status",
    "uci",
    "appeal_filed_on",
    "next_hearing_on",
    "counsel_id",
    "counsel_name",
    "counsel_kind",
    "regulator",
    "membership_number",
    "counsel_email",
    "counsel_mobile",
    "counsel_postal_address",
    "counsel_fax",
    "counsel_language",
    "of_record",
)
PROGRESS_EVERY = 25
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
REGULATED_KINDS = {CounselKind.LAWYER, CounselKind.QUEBEC_NOTARY, CounselKind.LICENSED_CONSULTANT}


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (unreadable, or columns missing)."""


@dataclass
class CaseRow:
    """One row, checked and converted; `problems` lists (column, message) when it is not valid."""

    number: int
    values: dict[str, Any] = field(default_factory=dict)
    problems: list[tuple[str, Any]] = field(default_factory=list)

    def problem(self, column: str, message: Any) -> None:
        self.problems.append((column, message))


def start_case_import(source: Path, source_name: str, *, requested_by: StaffUser | None = None) -> JobRun:
    """Keep a copy of the file in storage, record the job and queue it after commit."""
    read_header(source)  # refuse an unreadable file at once, before queueing anything
    run = JobRun(
        kind="case_import",
        requested_by=requested_by,
        requested_by_label=requested_by.email if requested_by else COMMAND_LINE,
        office_id=requested_by.office_id if requested_by else None,
        source_name=source_name[:255],
    )
    db.session.add(run)
    db.session.flush()
    # Kept in the document store under a key, not a path, so that a worker on another host reads it.
    run.input_path = f"imports/case-import-{run.id}.csv"
    document_store().put_named(run.input_path, source)
    run.rq_job_id = f"case-import-{run.id}"
    record_event(
        "case_import.queued", record=run, actor=requested_by or COMMAND_LINE, after={"file": source_name}
    )
    enqueue_after_commit(JobName.IMPORT_CASES, run.id, job_id=run.rq_job_id)
    db.session.commit()
    return run


def read_header(path: Path) -> list[str]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            header = next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError) as error:
        raise ImportFileError(_l("The file cannot be read as UTF-8 CSV.")) from error
    header = [name.strip().lower() for name in header]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise ImportFileError(_l("Columns missing from the file: %(columns)s.", columns=", ".join(missing)))
    return header


def import_cases(run_id: int) -> JobRun | None:
    """The job: import every row of a queued run. Does nothing for a run already finished."""
    run = db.session.get(JobRun, run_id)
    if run is None or run.status in (JobStatus.FINISHED, JobStatus.FAILED):
        return run
    try:
        rows = _rows_of(run.input_path)
    except ImportFileError as error:
        return _fail(run, error)
    _begin(run, len(rows))
    lookups = _Lookups.load()
    for row in rows:
        _import_row(run, check_row(row, lookups))
        if run.done % PROGRESS_EVERY == 0:
            db.session.commit()
    return _finish(run)


def _rows_of(input_path: str) -> list[CaseRow]:
    """The rows of a run's file, read from a local copy (kept by key: `imports/case-import-7.csv`)."""
    try:
        with document_store().local_copy_of(input_path) as path:
            read_header(path)
            return _read_rows(path)
    except FileNotFoundError as error:  # removed, or the store changed since the run was queued
        raise ImportFileError(_l("The imported file is no longer in storage.")) from error


def _read_rows(path: Path) -> list[CaseRow]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        reader.fieldnames = [name.strip().lower() for name in reader.fieldnames or []]
        return [
            CaseRow(number, {k: (v or "").strip() for k, v in raw.items() if k in COLUMNS})
            for number, raw in enumerate(reader, start=2)  # row 1 is the header
        ]


def _begin(run: JobRun, total: int) -> None:
    run.status = JobStatus.RUNNING
    run.started_at = utcnow()
    run.total, run.done, run.succeeded, run.failed, run.errors = total, 0, 0, 0, []
    db.session.commit()


def _fail(run: JobRun, error: Exception) -> JobRun:
    fail_run(run, error.args[0], reason=str(error.args[0]))
    db.session.commit()
    return run


def _finish(run: JobRun) -> JobRun:
    run.status = JobStatus.FINISHED
    run.finished_at = utcnow()
    counts = {"rows": run.total, "imported": run.succeeded, "refused": run.failed}
    run.summary = {**run.summary, **counts}
    record_event("case_import.finished", actor=SYSTEM, record=run, after=counts)
    db.session.commit()
    return run


def _messages(message: Any) -> dict[str, str]:
    both = in_both_languages(message)
    return {"message_en": both["en"], "message_fr": both["fr"]}


def _import_row(run: JobRun, row: CaseRow) -> None:
    run.done += 1
    if not row.problems:
        try:
            with db.session.begin_nested():
                apply_row(row.values)
            run.succeeded += 1
            return
        except Exception as error:  # a database refusal of this row only; reported, not fatal
            current_app.logger.warning("Case import row %s refused: %s", row.number, type(error))
            row.problem("", _l("The database refused this row; nothing of it was imported."))
    run.failed += 1
    run.errors = run.errors + [
        {"row": row.number, "column": column, **_messages(message)} for column, message in row.problems
    ]


@dataclass
class _Lookups:
    offices: dict[str, Office]
    divisions: dict[str, Division]

    @classmethod
    def load(cls) -> "_Lookups":
        divisions = {}
        for division in db.session.scalars(select(Division)):
            divisions[division.code] = divisions[division.code_fr] = division
        offices = {office.code: office for office in db.session.scalars(select(Office))}
        return cls(offices, divisions)


def check_row(row: CaseRow, lookups: _Lookups) -> CaseRow:
    """Check and convert every value of a row; collect every problem, not only the first."""
    values = row.values
    division = lookups.divisions.get(values.get("division", "").upper())
    if division is None:
        row.problem("division", _l("Unknown division; use RPD, RAD, ID or IAD (or SPR, SAR, SI, SAI)."))
    office = lookups.offices.get(values.get("office", "").lower())
    if office is None:
        row.problem("office", _l("Unknown office; use one of: %(codes)s.", codes=", ".join(lookups.offices)))
    file_number = normalise_file_number(values.get("file_number", ""))
    problem = file_number_problem(file_number, division.code if division else None)
    if problem:
        row.problem("file_number", problem)
    checked: dict[str, Any] = {"file_number": file_number, "division": division, "office": office}
    checked.update(_check_case_details(row, division))
    if values.get("counsel_id"):
        checked["counsel"] = _check_counsel(row)
        checked["of_record"] = _check_yes_no(row, "of_record", default=True)
    row.values = checked
    return row


def _check_case_details(row: CaseRow, division: Division | None) -> dict[str, Any]:
    values = row.values
    status_text = values.get("case_status", "").lower() or CaseStatus.ACTIVE.value
    status = _member(CaseStatus, status_text)
    if status is None:
        row.problem("case_status", _l("A case status is active or closed."))
    uci = None
    if values.get("uci"):
        uci = normalise_uci(values["uci"])
        if uci is None:
            row.problem("uci", _l("A UCI has 8 digits (0000-0000) or 10 (00-0000-0000)."))
    appeal_filed_on = _check_date(row, "appeal_filed_on")
    if appeal_filed_on and division is not None and not division.is_appeal:
        row.problem("appeal_filed_on", _l("Only cases of an appeal division (RAD, IAD) have an appeal date."))
    return {
        "status": status,
        "uci": uci,
        "appeal_filed_on": appeal_filed_on,
        "next_hearing_on": _check_date(row, "next_hearing_on"),
    }


def _check_counsel(row: CaseRow) -> dict[str, Any]:
    values = row.values
    kind = _member(CounselKind, values.get("counsel_kind", "").lower())
    if kind is None:
        row.problem(
            "counsel_kind", _l("Counsel kind is lawyer, quebec_notary, licensed_consultant or unpaid.")
        )
    if not values.get("counsel_name"):
        row.problem("counsel_name", _l("Counsel's name is missing."))
    if kind in REGULATED_KINDS and not (values.get("regulator") and values.get("membership_number")):
        row.problem("membership_number", _l("Regulated counsel need a regulator and a membership number."))
    email = values.get("counsel_email", "").lower() or None
    if email and not EMAIL.match(email):
        row.problem("counsel_email", _l("This is not an email address."))
    language = values.get("counsel_language", "").lower()
    if language and _member(Language, language) is None:
        row.problem("counsel_language", _l("Preferred language is en or fr."))
    return {
        "external_id": values["counsel_id"],
        "full_name": values.get("counsel_name", ""),
        "kind": kind,
        "regulator": values.get("regulator") or None,
        "membership_number": values.get("membership_number") or None,
        "email": email,
        "mobile": _check_phone(row, "counsel_mobile"),
        "postal_address": values.get("counsel_postal_address") or None,
        "fax": _check_phone(row, "counsel_fax"),
        "preferred_language": _member(Language, language) if language else None,
    }


def normalise_phone(value: str) -> str | None:
    """A North American number as +1 and 10 digits, or None when it is not one."""
    digits = re.sub(r"[\s().+-]", "", value)
    if not digits.isdigit():
        return None
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return f"+1{digits}" if len(digits) == 10 else None


def _check_phone(row: CaseRow, column: str) -> str | None:
    value = row.values.get(column, "")
    if not value:
        return None
    phone = normalise_phone(value)
    if phone is None:
        row.problem(column, _l("A phone number has 10 digits, e.g. 604-555-0101."))
    return phone


def _check_date(row: CaseRow, column: str) -> date | None:
    value = row.values.get(column, "")
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        row.problem(column, _l("A date is written YYYY-MM-DD."))
        return None


def _check_yes_no(row: CaseRow, column: str, *, default: bool) -> bool:
    value = row.values.get(column, "").lower()
    if not value:
        return default
    if value in ("yes", "oui", "true", "1"):
        return True
    if value in ("no", "non", "false", "0"):
        return False
    row.problem(column, _l("Write yes or no."))
    return default


def _member(enum_class, value: str):
    try:
        return enum_class(value)
    except ValueError:
        return None


CASE_FIELDS = ("status", "uci", "appeal_filed_on", "next_hearing_on")
COUNSEL_FIELDS = (
    "full_name",
    "kind",
    "regulator",
    "membership_number",
    "email",
    "mobile",
    "postal_address",
    "fax",
    "preferred_language",
)


def apply_row(values: dict[str, Any]) -> None:
    """Create or update the case, its counsel and the link between them, with audit events."""
    case = _upsert_case(values)
    if "counsel" in values:
        counsel = _upsert_counsel(values["counsel"], case)
        _link(case, counsel, values["of_record"])
    db.session.flush()


def _upsert_case(values: dict[str, Any]) -> Case:
    case = db.session.scalar(select(Case).where(Case.file_number == values["file_number"]))
    wanted = {name: values[name] for name in CASE_FIELDS}
    wanted["division_id"], wanted["office_id"] = values["division"].id, values["office"].id
    if case is None:
        case = Case(file_number=values["file_number"], **wanted)
        db.session.add(case)
        db.session.flush()
        record_event("case.imported", actor=SYSTEM, record=case, after=_plain(wanted))
        return case
    _update(case, wanted, "case.updated_by_import", office_id=wanted["office_id"])
    return case


def _upsert_counsel(values: dict[str, Any], case: Case) -> Counsel:
    counsel = db.session.scalar(select(Counsel).where(Counsel.external_id == values["external_id"]))
    wanted = {name: values[name] for name in COUNSEL_FIELDS}
    if counsel is None:
        counsel = Counsel(external_id=values["external_id"], **wanted)
        db.session.add(counsel)
        db.session.flush()
        record_event(
            "counsel.imported", actor=SYSTEM, record=counsel, office_id=case.office_id, after=_plain(wanted)
        )
        return counsel
    _update(counsel, wanted, "counsel.updated_by_import", office_id=case.office_id)
    return counsel


def _link(case: Case, counsel: Counsel, of_record: bool) -> None:
    link = db.session.scalar(
        select(CounselOfRecord).where(
            CounselOfRecord.case_id == case.id, CounselOfRecord.counsel_id == counsel.id
        )
    )
    today = utcnow().date()
    if of_record and (link is None or link.ended_on is not None):
        if link is None:
            link = CounselOfRecord(case=case, counsel=counsel, started_on=today)
            db.session.add(link)
        link.ended_on = None
        record_event(
            "counsel_of_record.added", actor=SYSTEM, record=case, after={"counsel": counsel.external_id}
        )
    elif not of_record and link is not None and link.ended_on is None:
        link.ended_on = today
        record_event(
            "counsel_of_record.ended", actor=SYSTEM, record=case, after={"counsel": counsel.external_id}
        )


def _update(record: Any, wanted: dict[str, Any], action: str, *, office_id: int) -> None:
    before = {name: getattr(record, name) for name in wanted if getattr(record, name) != wanted[name]}
    if not before:
        return
    for name in before:
        setattr(record, name, wanted[name])
    after = {name: wanted[name] for name in before}
    record_event(
        action, actor=SYSTEM, record=record, office_id=office_id, before=_plain(before), after=_plain(after)
    )


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    """Values as JSON can hold them, for the audit log."""
    return {
        name: (
            value.isoformat()
            if isinstance(value, date)
            else value.value
            if hasattr(value, "value")
            else value
        )
        for name, value in values.items()
    }
