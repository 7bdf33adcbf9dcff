"""Model screens: cases, counsel, staff users, offices, divisions, audit log and jobs."""

from typing import Any

from flask import redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.fields import QuerySelectField
from flask_admin.contrib.sqla.filters import (
    BooleanEqualFilter,
    FilterEqual,
    FilterLike,
    IntEqualFilter,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from backoffice.admin import audit_words
from backoffice.admin import formatters as fmt
from backoffice.admin.base import (
    EDIT_VIEWS,
    ScopedModelView,
    audit_model_change,
    national_scope,
    reader,
    run_action,
    scope_by,
    shared_labels,
)
from backoffice.extensions import db
from backoffice.models import (
    AuditEvent,
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
    Reason,
    ReasonUse,
    Role,
    SsoGroupMapping,
    StaffUser,
)
from backoffice.reports.dashboard import TARGET_LABELS
from backoffice.reports.timeline import who_acted
from backoffice.workflows import access
from backoffice.workflows.accounts import (
    AccountError,
    check_role_scope,
    find_staff_by_email,
    reset_factors,
    set_password,
)
from backoffice.workflows.audit import record_event
from backoffice.workflows.factors import describe_factors as describe_factors_of


def _messages_url(**filters: int) -> str | None:
    """The outbox filtered to a case or a counsel, for those who may see messages."""
    from backoffice.admin.messages import NotificationView

    return NotificationView.list_url(**filters) if access.may_open(current_user, "messages") else None


class CaseView(ScopedModelView):
    area = "cases"
    scope = scope_by(access.scope_cases)
    details_template = "admin/case_details.html"
    column_list = ("file_number", "division", "office", "status", "next_hearing_on", "appeal_filed_on")
    column_details_list = (
        "file_number",
        "uci",
        "division",
        "office",
        "status",
        "appeal_filed_on",
        "next_hearing_on",
        "created_at",
        "updated_at",
    )
    column_export_list = column_details_list
    column_labels = shared_labels("division", "office", "status", "created_at") | {
        "file_number": _l("File number"),
        "uci": _l("UCI"),
        "next_hearing_on": _l("Next hearing"),
        "appeal_filed_on": _l("Appeal filed on"),
        "updated_at": _l("Updated"),
    }
    column_searchable_list = ("file_number", "uci")
    column_default_sort = "file_number"
    column_sortable_list = ("file_number", "status", "next_hearing_on", "appeal_filed_on")
    column_formatters = {
        "status": fmt.label,
        "office": fmt.related_name,
        "created_at": fmt.instant,
        "updated_at": fmt.instant,
    }

    FILTER_ORDER = ("division", "office", "status", "next_hearing")

    @property
    def column_filters(self):
        return [
            IntEqualFilter(Case.division_id, _l("Division"), options=fmt.division_choices),
            IntEqualFilter(Case.office_id, _l("Regional office"), options=fmt.office_choices),
            FilterEqual(Case.status, _l("Status"), options=fmt.enum_choices(CaseStatus)),
            fmt.DayRangeFilter(Case.next_hearing_on, _l("Next hearing")),
        ]

    def details_context(self, case: Case) -> dict[str, Any]:
        return {
            "messages_url": _messages_url(case=case.id),
            "counsel_of_record": sorted(
                case.counsel_of_record, key=lambda link: (not link.is_current, link.counsel.full_name)
            ),
        }


class CounselView(ScopedModelView):
    area = "counsel"
    details_template = "admin/counsel_details.html"
    column_list = ("full_name", "kind", "regulator", "membership_number", "email", "preferred_language")
    column_details_list = (
        "external_id",
        "full_name",
        "kind",
        "regulator",
        "membership_number",
        "email",
        "mobile",
        "fax",
        "postal_address",
        "preferred_language",
    )
    column_export_list = column_details_list
    column_labels = shared_labels("full_name", "email") | {
        "external_id": _l("Case management id"),
        "kind": _l("Kind of counsel"),
        "regulator": _l("Regulator"),
        "membership_number": _l("Membership number"),
        "mobile": _l("Mobile (SMS)"),
        "fax": _l("Fax"),
        "postal_address": _l("Postal address"),
        "preferred_language": _l("Preferred official language"),
    }
    column_searchable_list = ("full_name", "email", "membership_number", "external_id")
    column_default_sort = "full_name"
    column_sortable_list = ("full_name", "kind", "regulator")
    column_formatters = {"kind": fmt.label, "preferred_language": fmt.label}

    @property
    def column_filters(self):
        return [
            FilterEqual(Counsel.kind, _l("Kind of counsel"), options=fmt.enum_choices(CounselKind)),
            FilterEqual(
                Counsel.preferred_language,
                _l("Preferred official language"),
                options=fmt.enum_choices(Language),
            ),
            FilterLike(Counsel.regulator, _l("Regulator")),
        ]

    def scope(self, query):
        return access.scope_counsel(query, current_user, Counsel.id)

    def details_context(self, counsel: Counsel) -> dict[str, Any]:
        visible = access.visible_case_ids(current_user)
        return {
            "messages_url": _messages_url(counsel=counsel.id),
            "cases_of_record": db.session.scalars(
                select(CounselOfRecord)
                .join(Case)
                .where(CounselOfRecord.counsel_id == counsel.id, Case.id.in_(visible))
                .order_by(CounselOfRecord.ended_on.is_not(None), Case.file_number)
            ).all(),
        }


def role_and_scope_fields() -> tuple[SelectField, QuerySelectField, QuerySelectField]:
    """A staff member's role, regional office and division, as the staff user and group mapping forms ask them."""
    return (
        SelectField(_l("Role"), choices=fmt.enum_choices(Role), coerce=Role),
        QuerySelectField(
            _l("Regional office"),
            query_factory=lambda: db.session.scalars(select(Office).order_by(Office.code)).all(),
            allow_blank=True,
            blank_text=_l("National (supervisors only)"),
        ),
        QuerySelectField(
            _l("Division"),
            query_factory=lambda: db.session.scalars(select(Division).order_by(Division.id)).all(),
            allow_blank=True,
            blank_text=_l("None (division members only)"),
        ),
    )


# A staff member's role, regional office and division in a list, as the staff user and group mapping
# screens show them.
ROLE_AND_SCOPE_FORMATTERS = {
    "role": fmt.label,
    "office": lambda v, c, m, n: m.office.name if m.office else _("National"),
    "division": lambda v, c, m, n: m.division.local_code if m.division else "",
}


class StaffUserView(ScopedModelView):
    area = "staff"
    scope = national_scope
    step_up_views = EDIT_VIEWS | {"reset_factors_view"}
    can_create = True
    can_edit = True
    column_list = (
        "full_name",
        "email",
        "role",
        "office",
        "division",
        "is_active_account",
        "factors",
        "last_sign_in_at",
        "last_sign_in_method",
        "locked_until",
    )
    column_details_list = column_list + ("preferred_language", "created_at")
    details_template = "admin/staff_details.html"
    column_export_list = column_details_list
    column_labels = shared_labels("full_name", "email", "role", "office", "division", "created_at") | {
        "is_active_account": _l("Active"),
        "last_sign_in_at": _l("Last sign-in"),
        "last_sign_in_method": _l("Signed in with"),
        "factors": _l("Second factors"),
        "locked_until": _l("Locked until"),
        "preferred_language": _l("Language"),
    }
    column_searchable_list = ("full_name", "email")
    column_default_sort = "email"
    column_sortable_list = ("full_name", "email", "last_sign_in_at")
    column_formatters = {
        **ROLE_AND_SCOPE_FORMATTERS,
        "last_sign_in_at": fmt.instant,
        "last_sign_in_method": fmt.label,
        "factors": lambda v, c, m, n: describe_factors(m),
        "locked_until": fmt.instant,
        "created_at": fmt.instant,
    }
    form_columns = (
        "email",
        "full_name",
        "role",
        "office",
        "division",
        "preferred_language",
        "is_active_account",
        "new_password",
    )

    @property
    def column_filters(self):
        return [
            FilterEqual(StaffUser.role, _l("Role"), options=fmt.enum_choices(Role)),
            IntEqualFilter(StaffUser.office_id, _l("Regional office"), options=fmt.office_choices),
        ]

    def scaffold_form(self):
        class Form(self.form_base_class):
            email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
            full_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
            role, office, division = role_and_scope_fields()
            preferred_language = SelectField(_l("Language"), choices=[("en", "English"), ("fr", "Français")])
            is_active_account = BooleanField(_l("Active"), default=True)
            new_password = PasswordField(
                _l("New password"),
                validators=[Optional(), Length(min=12, max=1000)],
                description=_l("At least 12 characters. Leave empty to keep the current password."),
            )

        return Form

    def create_form(self, obj=None):
        """A new staff user starts as a registry clerk of the administrator's own office, which saves as it is
        once named; the password field asks for the first password, not a change of it."""
        form = super().create_form(obj)
        if request.method == "GET":
            form.role.data = Role.CLERK
            form.office.data = current_user.office
            form.preferred_language.data = current_user.preferred_language
        form.new_password.label.text = _("Password")
        form.new_password.description = _("At least 12 characters. Give it to the person in confidence.")
        form.new_password.validators = [DataRequired(), Length(min=12, max=1000)]
        form.new_password.flags.required = True
        return form

    def on_model_change(self, form, model: StaffUser, is_created: bool) -> None:
        model.email = model.email.strip().lower()
        with db.session.no_autoflush:  # the new user has no password hash until the checks pass
            other = find_staff_by_email(model.email)
        if other is not None and other is not model:
            raise ValidationError(_("A staff user with this email already exists."))
        try:
            check_role_scope(model.role, model.office, model.division)
            if form.new_password.data:
                set_password(model, form.new_password.data)
            elif is_created:
                raise AccountError(_l("A new staff user needs a password."))
        except AccountError as error:
            raise ValidationError(str(error.args[0])) from error
        audit_model_change(model, is_created)

    def get_query(self):
        """Each row says the person's factors: read them with the page, not a query a row."""
        return (
            super()
            .get_query()
            .options(selectinload(StaffUser.passkeys), selectinload(StaffUser.recovery_codes))
        )

    def details_context(self, user: StaffUser) -> dict[str, Any]:
        return {"reset_form": self.action_form(), "has_factors": any(describe_factors_of(user).values())}

    @expose("/reset-factors/", methods=("POST",))
    def reset_factors_view(self):
        """Remove a person's second factors (a lost phone): audited; they enrol again at their next sign-in."""
        user = self.get_one(request.form.get("id", ""))
        if self.action_form().validate():
            run_action(
                lambda: reset_factors(user, actor=reader()),
                _(
                    "The second factors of %(name)s were removed. They set up new ones at their next sign-in.",
                    name=user.full_name,
                ),
            )
        return redirect(url_for(".details_view", id=user.id))


def describe_factors(user: StaffUser) -> str:
    """The person's second factors in words, for the staff list."""
    parts = []
    if user.oidc_subject:
        parts.append(_("Departmental account"))
    if user.has_totp:
        parts.append(_("Authenticator app"))
    if user.passkeys:
        parts.append(ngettext("%(num)d passkey", "%(num)d passkeys", len(user.passkeys)))
    if user.has_second_factor:
        parts.append(ngettext("%(num)d recovery code", "%(num)d recovery codes", user.recovery_codes_left))
    if user.must_enrol:
        parts.append(_("must enrol again"))
    return ", ".join(parts) or _("None")


class SsoGroupMappingView(ScopedModelView):
    """The identity provider's groups (values of OIDC_ROLE_CLAIM) and the role, office and division each gives
    to those who sign in with their departmental account. Used only when OIDC_ROLE_CLAIM is set."""

    area = "staff"
    scope = national_scope
    step_up_views = EDIT_VIEWS
    can_create = True
    can_edit = True
    can_delete = True
    column_list = ("group", "role", "office", "division", "created_at")
    column_labels = shared_labels("role", "office", "division", "created_at") | {
        "group": _l("Group of the identity provider")
    }
    column_formatters = {
        **ROLE_AND_SCOPE_FORMATTERS,
        "created_at": fmt.instant,
    }
    form_columns = ("group", "role", "office", "division")

    def scaffold_form(self):
        class Form(self.form_base_class):
            group = StringField(
                _l("Group of the identity provider"), validators=[DataRequired(), Length(max=255)]
            )
            role, office, division = role_and_scope_fields()

        return Form

    def on_model_change(self, form, model: SsoGroupMapping, is_created: bool) -> None:
        model.group = model.group.strip()
        with db.session.no_autoflush:
            other = db.session.scalar(select(SsoGroupMapping).where(SsoGroupMapping.group == model.group))
        if other is not None and other is not model:
            raise ValidationError(_("This group already has a role."))
        try:
            check_role_scope(model.role, model.office, model.division)
        except AccountError as error:
            raise ValidationError(str(error.args[0])) from error
        audit_model_change(model, is_created)

    def on_model_delete(self, model: SsoGroupMapping) -> None:
        record_event(
            "sso_group_mappings.deleted",
            actor=reader(),
            record=model,
            before={"group": model.group, "role": model.role.value},
        )


class OfficeView(ScopedModelView):
    area = "reference_data"
    scope = national_scope
    can_edit = True
    can_create = True
    column_list = ("code", "name_en", "name_fr", "city", "time_zone", "mailbox")
    form_columns = column_list
    column_labels = shared_labels("code", "name_en", "name_fr") | {
        "city": _l("City"),
        "time_zone": _l("Time zone"),
        "mailbox": _l("My Case mailbox"),
    }
    column_formatters = {
        "name_en": fmt.written_in("en"),
        "name_fr": fmt.written_in("fr"),
        "time_zone": fmt.zone_column,
    }
    column_formatters_export = {"time_zone": fmt.zone_column}  # text, without the language marks
    form_args = {
        "time_zone": {"validators": [DataRequired()]},
        "mailbox": {"validators": [DataRequired(), Email()]},
    }

    def on_model_change(self, form, model: Office, is_created: bool) -> None:
        from zoneinfo import available_timezones

        if model.time_zone not in available_timezones():
            raise ValidationError(_("Unknown time zone; use an IANA name such as America/Vancouver."))
        audit_model_change(model, is_created)


class DivisionView(ScopedModelView):
    area = "reference_data"
    scope = national_scope
    can_edit = True
    column_list = ("code", "code_fr", "name_en", "name_fr", "is_appeal")
    form_columns = ("name_en", "name_fr")
    column_labels = shared_labels("code", "name_en", "name_fr") | {
        "code_fr": _l("French code"),
        "is_appeal": _l("Appeal division"),
    }
    column_formatters = {"name_en": fmt.written_in("en"), "name_fr": fmt.written_in("fr")}
    column_formatters_export: dict = {}  # text, without the language marks

    def on_model_change(self, form, model: Division, is_created: bool) -> None:
        audit_model_change(model, is_created)


class AuditView(ScopedModelView):
    area = "audit"
    scope = scope_by(access.scope_audit_events)
    details_template = "admin/audit_details.html"
    column_list = ("occurred_at", "actor_label", "action", "record_type", "record_id", "office")
    column_details_list = column_list + ("request_id", "before", "after")
    column_export_list = column_details_list
    column_labels = shared_labels("office") | {
        "occurred_at": _l("When"),
        "actor_label": _l("Who"),
        "action": _l("What"),
        "record_type": _l("Record type"),
        "record_id": _l("Record"),
        "request_id": _l("Request"),
        "before": _l("Before"),
        "after": _l("After"),
    }
    column_default_sort = ("occurred_at", True)
    column_sortable_list = ("occurred_at", "action", "actor_label")
    column_searchable_list = ("action", "actor_label", "record_id")
    column_formatters_export = {"occurred_at": fmt.instant, "office": fmt.related_name}
    column_formatters = {
        **column_formatters_export,
        "actor_label": lambda v, c, m, n: audit_words.actor_label(m),
        "action": lambda v, c, m, n: audit_words.action_label(m.action),
        "record_type": lambda v, c, m, n: audit_words.record_type_label(m.record_type),
    }

    @property
    def column_filters(self):
        return [
            FilterLike(AuditEvent.action, _l("What")),
            FilterEqual(AuditEvent.record_type, _l("Record type")),
            IntEqualFilter(AuditEvent.office_id, _l("Regional office"), options=fmt.office_choices),
            fmt.InstantDateBetweenFilter(AuditEvent.occurred_at, _l("When")),
        ]

    def details_context(self, event: AuditEvent) -> dict[str, Any]:
        return {"audit_changed_values": audit_words.changed_values}


class JobRunView(ScopedModelView):
    area = "jobs"
    scope = scope_by(access.scope_job_runs)
    details_template = "admin/job_details.html"
    can_export = False
    column_list = (
        "id",
        "kind",
        "status",
        "progress",
        "source_name",
        "requested_by_label",
        "created_at",
        "finished_at",
    )
    column_labels = shared_labels("status") | {
        "id": _l("Number"),
        "kind": _l("Job"),
        "progress": _l("Progress"),
        "source_name": _l("File"),
        "requested_by_label": _l("Requested by"),
        "created_at": _l("Queued at"),
        "finished_at": _l("Finished at"),
    }
    column_default_sort = ("id", True)
    column_sortable_list = ("id", "created_at")
    column_formatters = {
        "kind": lambda v, c, m, n: m.kind_label,
        "requested_by_label": lambda v, c, m, n: who_acted(m.requested_by, m.requested_by_label),
        "status": fmt.label,
        "progress": lambda v, c, m, n: _("%(done)d of %(total)d rows", done=m.done, total=m.total),
        "created_at": fmt.instant,
        "finished_at": fmt.instant,
    }

    @property
    def column_filters(self):
        return [FilterEqual(JobRun.status, _l("Status"), options=fmt.enum_choices(JobStatus))]

    def details_context(self, job_run: JobRun) -> dict[str, Any]:
        return {"refresh": job_run.status in (JobStatus.QUEUED, JobStatus.RUNNING)}


class ReasonView(ScopedModelView):
    """The catalogue of coded reasons for decisions; a reason in use is retired (inactive), never deleted."""

    area = "reference_data"
    step_up_views = EDIT_VIEWS
    scope = national_scope
    can_edit = True
    can_create = True
    column_list = ("code", "used_by", "text_en", "text_fr", "rule_en", "active")
    column_searchable_list = ("code", "text_en", "text_fr")
    form_columns = ("code", "used_by", "text_en", "text_fr", "rule_en", "rule_fr", "active")
    column_labels = shared_labels("code") | {
        "used_by": _l("Used by"),
        "text_en": _l("Text for counsel (English)"),
        "text_fr": _l("Text for counsel (French)"),
        "rule_en": _l("Rule cited (English)"),
        "rule_fr": _l("Rule cited (French)"),
        "active": _l("In use"),
    }
    column_formatters = {
        "used_by": fmt.label,
        "text_en": fmt.written_in("en"),
        "text_fr": fmt.written_in("fr"),
        "rule_en": fmt.written_in("en"),
        "rule_fr": fmt.written_in("fr"),
    }
    column_formatters_export = {"used_by": fmt.label}  # text, without the language marks
    form_args = {
        "code": {"validators": [DataRequired(), Length(max=40)]},
        "text_en": {"validators": [DataRequired()]},
        "text_fr": {"validators": [DataRequired()]},
    }

    @property
    def column_filters(self):
        return [
            FilterEqual(Reason.used_by, _l("Used by"), options=fmt.enum_choices(ReasonUse)),
            BooleanEqualFilter(Reason.active, _l("In use")),
        ]

    def create_form(self, obj=None):
        return _with_uses_in_words(super().create_form(obj), obj)

    def edit_form(self, obj=None):
        return _with_uses_in_words(super().edit_form(obj), obj)

    def on_model_change(self, form, model, is_created: bool) -> None:
        model.code = model.code.strip().upper()
        audit_model_change(model, is_created)


def _with_uses_in_words(form, reason: Reason | None):
    """Who uses a reason, in words (Flask-Admin offers the codes), the reason's own selected when editing."""
    form.used_by.choices = [(use.value, use.label) for use in ReasonUse]
    if request.method == "GET" and reason is not None and reason.used_by is not None:
        form.used_by.data = reason.used_by.value
    return form


def _target_queue(view, context, model, name: str) -> str:

    label = TARGET_LABELS.get(model.queue)
    return str(label) if label is not None else model.queue


def _days_validators() -> list:
    """Between a day and a year."""
    from wtforms.validators import NumberRange

    return [DataRequired(), NumberRange(min=1, max=365)]


class ServiceTargetView(ScopedModelView):
    """How many days an item may wait in each queue before supervisors' dashboards count it as over target.

    The queues are fixed (loaded by a migration): administrators change the days, audited, and nothing else.
    """

    area = "reference_data"
    step_up_views = EDIT_VIEWS
    scope = national_scope
    can_edit = True
    can_export = False
    can_view_details = False
    column_list = ("queue", "days")
    form_columns = ("days",)
    column_labels = {"queue": _l("Queue"), "days": _l("Days")}
    column_formatters = {"queue": _target_queue}
    column_default_sort = "id"
    form_args = {"days": {"validators": _days_validators()}}

    def edit_form(self, obj=None):
        """The form names the queue whose target it changes (the form has only the days)."""
        form = super().edit_form(obj)
        if obj is not None:
            form.days.label.text = _(
                "Days in the queue: %(queue)s", queue=_target_queue(self, None, obj, "queue")
            )
            form.days.description = _(
                "How many days an item may wait in this queue before the dashboards count it as over target."
            )
        return form

    def on_model_change(self, form, model, is_created: bool) -> None:
        audit_model_change(model, is_created)
