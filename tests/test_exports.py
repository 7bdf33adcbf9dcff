"""Every CSV the back office writes is safe to open in a spreadsheet: a cell that would run as a formula
(starting with =, +, -, @, a tab or a carriage return) is written with a quote before it, and nothing else
changes. The test walks the admin's model screens, so a new export is covered without being listed here."""

import csv
import io

from sqlalchemy import Enum, String, inspect, select

from backoffice.extensions import db
from backoffice.models import (
    AuditEvent,
    Case,
    Counsel,
    Division,
    InvitationChannel,
    Notification,
    Office,
    Reason,
    Registration,
    Role,
    SsoGroupMapping,
    StaffUser,
    Submission,
)
from backoffice.workflows.registration.machine import start_registration
from tests.factories import create_filer, create_staff, create_submission, division, office
from tests.helpers import model_views

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"), newline="")))


def exported_records() -> dict[type, object]:
    """A record of each model a screen exports, in one office; offices and divisions that it does not use."""
    filer = create_filer("western", "RPD")
    submission = create_submission(filer)
    clerk = create_staff("clerk", "western")
    registration = start_registration(filer.counsel, InvitationChannel.EMAIL, clerk)
    db.session.commit()
    return {
        Case: filer.case,
        Counsel: filer.counsel,
        Submission: submission,
        Registration: registration,
        Notification: db.session.scalar(select(Notification).order_by(Notification.id.desc()).limit(1)),
        StaffUser: clerk,
        Office: office("eastern"),
        Division: division("IAD"),
        Reason: db.session.scalar(select(Reason).order_by(Reason.id).limit(1)),
        SsoGroupMapping: _group_mapping(),
        AuditEvent: None,  # append-only: a new event is written each time instead
    }


def _group_mapping() -> SsoGroupMapping:
    mapping = SsoGroupMapping(group="backoffice-clerks", role=Role.CLERK, office=office("western"))
    db.session.add(mapping)
    db.session.commit()
    return mapping


def text_columns(view) -> dict[str, int | None]:
    """The exported columns of the view's model that hold free text, with their length."""
    columns = inspect(view.model).columns
    return {
        name: columns[name].type.length
        for name, _label in view._export_columns
        if name in columns
        and isinstance(columns[name].type, String)
        and not isinstance(columns[name].type, Enum)
    }


def write_formulas(view, record, start: str) -> dict[str, str]:
    """Give each text column of the record a value a spreadsheet would run; return them by column."""
    values = {name: (start + "SUM(1+1)")[:length] for name, length in text_columns(view).items()}
    if view.model is AuditEvent:
        db.session.add(AuditEvent(**values))
    else:
        for name, value in values.items():
            setattr(record, name, value)
    return values


def test_every_export_quotes_text_that_a_spreadsheet_would_run_as_a_formula(app, login_as):
    records = exported_records()
    admin = login_as("admin", "western")
    supervisor = login_as("supervisor", "national")
    exporting = [view for view in model_views(app) if view.can_export]
    missing = {view.model.__name__ for view in exporting if view.model not in records}
    assert not missing, f"give exported_records() a record of {missing}"
    for start in FORMULA_STARTS:
        written = {view.endpoint: write_formulas(view, records[view.model], start) for view in exporting}
        db.session.commit()
        for view in exporting:
            header, *rows = csv_rows(admin.get(f"/admin/{view.endpoint}/export/csv/"))
            cells = [cell for row in rows for cell in row]
            assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)], (view.endpoint, start)
            assert written[view.endpoint], f"{view.endpoint} exports no text column"
            for name, value in written[view.endpoint].items():
                column = header.index(str(view.column_labels.get(name, name)))
                assert "'" + value in [row[column] for row in rows], (view.endpoint, name, repr(start))
        dashboard = csv_rows(supervisor.get("/admin/dashboard/registrations/export/"))
        assert dashboard[1][0] == "'" + records[Counsel].full_name
