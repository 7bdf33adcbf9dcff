"""Typed SQLAlchemy models, one module per aggregate."""

from backoffice.models.audit import AuditEvent
from backoffice.models.case import Case, CaseStatus, CounselOfRecord
from backoffice.models.counsel import Counsel, CounselKind, Language
from backoffice.models.job import JobRun, JobStatus
from backoffice.models.notification import (
    Channel,
    Notification,
    NotificationEvent,
    NotificationStatus,
)
from backoffice.models.reference import Division, Office
from backoffice.models.staff import Role, StaffUser

__all__ = [
    "AuditEvent",
    "Case",
    "CaseStatus",
    "Channel",
    "Counsel",
    "CounselKind",
    "CounselOfRecord",
    "Division",
    "JobRun",
    "JobStatus",
    "Language",
    "Notification",
    "NotificationEvent",
    "NotificationStatus",
    "Office",
    "Role",
    "StaffUser",
]
