"""The staff screens, built on Flask-Admin with the Bootstrap 4 theme."""

from flask import Flask
from flask_admin import Admin, BaseView
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
    SsoGroupMappingView,
    StaffUserView,
)
from backoffice.content_policy import csp_nonce
from backoffice.extensions import db
from backoffice.i18n import date_picker_words, read_flask_admin_words_from_our_catalogue
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
    SsoGroupMapping,
    StaffUser,
    Submission,
)
from backoffice.reports.timeline import who_acted


def init_admin(app: Flask) -> Admin:
    read_flask_admin_words_from_our_catalogue()
    admin = Admin(
        app,
        name=_l("My Case back office"),
        index_view=HomeView(name=_l("Home"), url="/admin"),
        theme=Bootstrap4Theme(base_template="admin/backoffice_base.html", swatch="default", fluid=True),
        csp_nonce_generator=csp_nonce,
    )
    app.add_template_filter(fmt.in_zone, "in_zone")
    app.add_template_filter(fmt.zone_name, "zone_name")
    app.add_template_global(date_picker_words)
    app.add_template_global(who_acted)
    admin.add_views(*_screens())
    return admin


def _screens() -> list[BaseView]:
    """Every staff screen, in the order of the menu."""
    queues = _l("Work queues")
    registration = _l("Registration of counsel")
    operations = _l("Operations")
    administration = _l("Administration")
    return [
        CaseView(Case, db, name=_l("Cases"), endpoint="case"),
        SubmissionView(Submission, db, name=_l("Submissions"), endpoint="submission"),
        RegistryQueueView(name=_l("Registry queue"), endpoint="registry_queue", category=queues),
        DivisionQueueView(name=_l("Division queue"), endpoint="division_queue", category=queues),
        DashboardView(
            name=_l("Supervisors' dashboard"), endpoint="dashboard", url="/admin/dashboard", category=queues
        ),
        CounselView(Counsel, db, name=_l("Counsel"), endpoint="counsel"),
        RegistrationView(
            Registration, db, name=_l("Registrations"), endpoint="registration", category=registration
        ),
        RegistrationPipelineView(
            name=_l("Registration pipeline"), endpoint="registration_pipeline", category=registration
        ),
        RegistrationInviteView(
            name=_l("Invite counsel"), endpoint="registration_invite", category=registration
        ),
        JobRunView(JobRun, db, name=_l("Jobs"), endpoint="jobrun", category=operations),
        CaseImportView(name=_l("Import cases"), endpoint="case_import", category=operations),
        NotificationView(
            Notification, db, name=_l("Messages to counsel"), endpoint="notification", category=operations
        ),
        MessageTemplatesView(name=_l("Message templates"), endpoint="message_templates", category=operations),
        AuditView(AuditEvent, db, name=_l("Audit log"), endpoint="audit", category=operations),
        PortalClientView(
            PortalClient, db, name=_l("Portal clients"), endpoint="portalclient", category=administration
        ),
        StaffUserView(StaffUser, db, name=_l("Staff users"), endpoint="staff", category=administration),
        SsoGroupMappingView(
            SsoGroupMapping,
            db,
            name=_l("Groups for single sign-on"),
            endpoint="ssogroup",
            category=administration,
        ),
        OfficeView(Office, db, name=_l("Regional offices"), endpoint="office", category=administration),
        ReasonView(Reason, db, name=_l("Reasons for decisions"), endpoint="reason", category=administration),
        DivisionView(Division, db, name=_l("Divisions"), endpoint="division", category=administration),
        ServiceTargetView(
            ServiceTarget, db, name=_l("Service targets"), endpoint="servicetarget", category=administration
        ),
    ]
