"""The staff screens, built on Flask-Admin with the Bootstrap 4 theme."""

from flask import Flask
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from flask_babel import lazy_gettext as _l

from backoffice.admin import formatters as fmt
from backoffice.admin.dashboard import DashboardView
from backoffice.admin.messages import MessageTemplatesView, NotificationView
from backoffice.admin.pages import CaseImportView, HomeView
from backoffice.admin.queues import DivisionQueueView, RegistryQueueView
from backoffice.admin.registrations import (
    RegistrationInviteView,
    RegistrationPipelineView,
    RegistrationView,
)
from backoffice.admin.submissions import PortalClientView, SubmissionView
from backoffice.admin.views import (
    AuditView,
    CaseView,
    CounselView,
    DivisionView,
    JobRunView,
    OfficeView,
    ReasonView,
    ServiceTargetView,
    StaffUserView,
)
from backoffice.content_policy import csp_nonce
from backoffice.extensions import db
from backoffice.models import (
    AuditEvent,
    Case,
    Counsel,
    Division,
    JobRun,
    Notification,
    Office,
    PortalClient,
    Reason,
    Registration,
    ServiceTarget,
    StaffUser,
    Submission,
)


def init_admin(app: Flask) -> Admin:
    admin = Admin(
        app,
        name=_l("My Case back office"),
        index_view=HomeView(name=_l("Home"), url="/admin"),
        theme=Bootstrap4Theme(base_template="admin/backoffice_base.html", swatch="default", fluid=True),
        csp_nonce_generator=csp_nonce,
    )
    app.add_template_filter(fmt.in_zone, "in_zone")
    admin.add_view(CaseView(Case, db, name=_l("Cases"), endpoint="case"))
    admin.add_view(SubmissionView(Submission, db, name=_l("Submissions"), endpoint="submission"))
    queues = _l("Work queues")
    admin.add_view(RegistryQueueView(name=_l("Registry queue"), endpoint="registry_queue", category=queues))
    admin.add_view(DivisionQueueView(name=_l("Division queue"), endpoint="division_queue", category=queues))
    admin.add_view(
        DashboardView(
            name=_l("Supervisors' dashboard"), endpoint="dashboard", url="/admin/dashboard", category=queues
        )
    )
    admin.add_view(CounselView(Counsel, db, name=_l("Counsel"), endpoint="counsel"))
    registration = _l("Registration of counsel")
    admin.add_view(
        RegistrationView(
            Registration, db, name=_l("Registrations"), endpoint="registration", category=registration
        )
    )
    admin.add_view(
        RegistrationPipelineView(
            name=_l("Registration pipeline"), endpoint="registration_pipeline", category=registration
        )
    )
    admin.add_view(
        RegistrationInviteView(
            name=_l("Invite counsel"), endpoint="registration_invite", category=registration
        )
    )
    admin.add_view(JobRunView(JobRun, db, name=_l("Jobs"), endpoint="jobrun", category=_l("Operations")))
    admin.add_view(CaseImportView(name=_l("Import cases"), endpoint="case_import", category=_l("Operations")))
    operations = _l("Operations")
    admin.add_view(
        NotificationView(
            Notification, db, name=_l("Messages to counsel"), endpoint="notification", category=operations
        )
    )
    admin.add_view(
        MessageTemplatesView(name=_l("Message templates"), endpoint="message_templates", category=operations)
    )
    admin.add_view(
        AuditView(AuditEvent, db, name=_l("Audit log"), endpoint="audit", category=_l("Operations"))
    )
    admin.add_view(
        PortalClientView(
            PortalClient,
            db,
            name=_l("Portal clients"),
            endpoint="portalclient",
            category=_l("Administration"),
        )
    )
    admin.add_view(
        StaffUserView(StaffUser, db, name=_l("Staff users"), endpoint="staff", category=_l("Administration"))
    )
    admin.add_view(
        OfficeView(Office, db, name=_l("Regional offices"), endpoint="office", category=_l("Administration"))
    )
    admin.add_view(
        ReasonView(
            Reason, db, name=_l("Reasons for decisions"), endpoint="reason", category=_l("Administration")
        )
    )
    admin.add_view(
        DivisionView(Division, db, name=_l("Divisions"), endpoint="division", category=_l("Administration"))
    )
    admin.add_view(
        ServiceTargetView(
            ServiceTarget,
            db,
            name=_l("Service targets"),
            endpoint="servicetarget",
            category=_l("Administration"),
        )
    )
    return admin
