"""Custom staff pages: the home page and the case import upload."""

import tempfile
from datetime import timedelta
from pathlib import Path

from flask import flash, redirect, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from sqlalchemy import func, select

from backoffice.admin.base import StaffIndexView, StaffPage, reader
from backoffice.admin.views import CaseView
from backoffice.extensions import db
from backoffice.models import Case, CaseStatus, Counsel, JobRun
from backoffice.models.types import utcnow
from backoffice.workflows import access
from backoffice.workflows.case_import import COLUMNS, REQUIRED_COLUMNS, ImportFileError, start_case_import


class HomeView(StaffIndexView):
    @expose("/")
    def index(self):
        return self.render("admin/home.html", figures=work_in_scope(), recent_jobs=_recent_jobs())


def work_in_scope() -> list[dict]:
    """The figures on the home page, each counted with the same scoping as the lists."""
    today = utcnow().date()
    month = f"{today.isoformat()} to {(today + timedelta(days=30)).isoformat()}"
    active = access.scope_cases(select(func.count(Case.id)), current_user).where(
        Case.status == CaseStatus.ACTIVE
    )
    hearings = active.where(Case.next_hearing_on.between(today, today + timedelta(days=30)))
    counsel = access.scope_counsel(select(func.count(Counsel.id)), current_user, Counsel.id)
    return [
        {
            "label": _("Active cases"),
            "count": db.session.scalar(active),
            "url": CaseView.list_url(status=CaseStatus.ACTIVE.value),
        },
        {
            "label": _("Hearings in the next 30 days"),
            "count": db.session.scalar(hearings),
            "url": CaseView.list_url(status=CaseStatus.ACTIVE.value, next_hearing=month),
        },
        {"label": _("Counsel"), "count": db.session.scalar(counsel), "url": url_for("counsel.index_view")},
    ]


def _recent_jobs() -> list[JobRun]:
    if not access.may_open(current_user, "jobs"):
        return []
    recent = access.scope_job_runs(select(JobRun), current_user)
    return db.session.scalars(recent.order_by(JobRun.id.desc()).limit(5)).all()


class CaseImportForm(FlaskForm):
    file = FileField(
        _l("CSV export from the case management system"),
        validators=[FileRequired(), FileAllowed(["csv"], _l("Choose a .csv file."))],
    )


class CaseImportView(StaffPage):
    area = "case_import"

    @expose("/", methods=("GET", "POST"))
    def index(self):
        form = CaseImportForm()
        if form.validate_on_submit():
            run = _start_import_from_upload(form.file.data)
            if run is not None:
                flash(_("Import queued. Its progress shows below."), "success")
                return redirect(url_for("jobrun.details_view", id=run.id))
        return self.render("admin/case_import.html", form=form, columns=COLUMNS, required=REQUIRED_COLUMNS)


def _start_import_from_upload(upload) -> JobRun | None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "upload.csv"
        upload.save(path)
        try:
            return start_case_import(path, upload.filename or "upload.csv", requested_by=reader())
        except ImportFileError as error:
            db.session.rollback()
            flash(str(error.args[0]), "error")
            return None
