"""A background job as staff see it: what was asked, by whom, how far it got and what went wrong."""

import enum
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.extensions import db
from backoffice.models.staff import StaffUser
from backoffice.models.types import UTCDateTime, str_enum, utcnow


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return str(JOB_STATUS_LABELS[self])


JOB_STATUS_LABELS = {
    JobStatus.QUEUED: _l("Queued"),
    JobStatus.RUNNING: _l("Running"),
    JobStatus.FINISHED: _l("Finished"),
    JobStatus.FAILED: _l("Failed"),
}

JOB_KIND_LABELS = {"case_import": _l("Case import")}


class JobRun(db.Model):
    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[JobStatus] = mapped_column(str_enum(JobStatus, "job_status"), default=JobStatus.QUEUED)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    requested_by_label: Mapped[str] = mapped_column(String(100))
    # The office of the staff member who started the run (none from the command line): regional
    # supervisors see the runs of their office, and the rows they refused.
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"), index=True)
    source_name: Mapped[str | None] = mapped_column(String(255))
    # Key of the input in the document store (imports/…); the job reads it by this name, never from the request.
    input_path: Mapped[str | None] = mapped_column(String(500))
    rq_job_id: Mapped[str | None] = mapped_column(String(64))
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    succeeded: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    requested_by: Mapped[StaffUser | None] = relationship(lazy="joined")

    @property
    def kind_label(self) -> str:
        return str(JOB_KIND_LABELS.get(self.kind, self.kind))

    @property
    def percent_done(self) -> int:
        return int(100 * self.done / self.total) if self.total else 0

    def __str__(self) -> str:
        return f"{self.kind_label} #{self.id}"
