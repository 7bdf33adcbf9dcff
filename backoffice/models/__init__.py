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
from backoffice.models.portal import PortalAccount, PortalAccountStatus, PortalClient
from backoffice.models.reference import Division, Office
from backoffice.models.registration import (
    AccessChallenge,
    CodeAttempt,
    IdentityDocument,
    InvitationChannel,
    InvitationCode,
    MeetingStatus,
    Registration,
    RegistrationStatus,
    VerificationMeeting,
)
from backoffice.models.staff import Role, StaffUser
from backoffice.models.submission import (
    Attachment,
    AttachmentDecision,
    CheckOutcome,
    CheckResultRecord,
    Decision,
    DocumentKind,
    DocumentRule,
    Reason,
    ReasonUse,
    ReceivedTimeCorrection,
    SavedFilter,
    ServiceTarget,
    Submission,
    SubmissionNote,
    SubmissionStatus,
    Timeliness,
)
from backoffice.models.tally import DecisionTally, ReasonTally

__all__ = [
    "AccessChallenge",
    "Attachment",
    "AttachmentDecision",
    "AuditEvent",
    "Case",
    "CaseStatus",
    "Channel",
    "CheckOutcome",
    "CheckResultRecord",
    "CodeAttempt",
    "Counsel",
    "CounselKind",
    "CounselOfRecord",
    "Decision",
    "DecisionTally",
    "Division",
    "DocumentKind",
    "DocumentRule",
    "IdentityDocument",
    "InvitationChannel",
    "InvitationCode",
    "JobRun",
    "JobStatus",
    "Language",
    "MeetingStatus",
    "Notification",
    "NotificationEvent",
    "NotificationStatus",
    "Office",
    "PortalAccount",
    "PortalAccountStatus",
    "PortalClient",
    "Reason",
    "ReasonTally",
    "ReasonUse",
    "ReceivedTimeCorrection",
    "Registration",
    "RegistrationStatus",
    "Role",
    "SavedFilter",
    "ServiceTarget",
    "StaffUser",
    "Submission",
    "SubmissionNote",
    "SubmissionStatus",
    "Timeliness",
    "VerificationMeeting",
]
