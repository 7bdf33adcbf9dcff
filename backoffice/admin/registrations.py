"""Screens of the registration of counsel: the list and the registration page with its actions, the
returned form beside the counsel record, the invitation code shown once, the page to invite counsel, and
the pipeline board.

Each action checks the role first (a role the state machine never lets fire it is refused and audited),
then the registration in scope, then its stage, and calls one workflow function.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_admin import expose
from flask_admin.babel import lazy_gettext as admin_lazy_gettext
from flask_admin.contrib.sqla.filters import BaseSQLAFilter, FilterEqual, IntEqualFilter
from flask_admin.model.filters import BaseBooleanFilter
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from markupsafe import Markup
from sqlalchemy import func, select
from wtforms import (
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from backoffice.admin import formatters as fmt
from backoffice.admin.base import (
    ScopedModelView,
    StaffPage,
    reader,
    refuse,
    run_action,
    scope_by,
    shared_labels,
)
from backoffice.edge import record_id
from backoffice.extensions import db
from backoffice.i18n import localised
from backoffice.integrations.storage import send_document
from backoffice.models import (
    Counsel,
    IdentityDocument,
    InvitationChannel,
    MeetingStatus,
    Registration,
    RegistrationStatus,
    Role,
    StaffUser,
)
from backoffice.models.types import utcnow
from backoffice.reports.timeline import registration_timeline
from backoffice.workflows import access
from backoffice.workflows.audit import record_event
from backoffice.workflows.concurrency import lock_again
from backoffice.workflows.refusals import Refused
from backoffice.workflows.registration import machine as workflow
from backoffice.workflows.registration import meetings as meeting_workflow
from backoffice.workflows.registration.form import (
    FIELD_LABELS,
    FIELD_NAMES,
    compare_with_counsel,
    file_numbers_not_of_record,
    form_values_for,
    normalise_language,
)
from backoffice.workflows.registration.invitation_codes import issue_invitation_code
from backoffice.workflows.registration.machine import (
    ACTION_LABELS,
    MACHINE,
    age_of,
    check_stage_seen,
    eligible_not_invited,
    invite_in_bulk,
    message_channel,
    send_invitation,
    start_registration,
)
from backoffice.workflows.registration.meetings import record_identity
from backoffice.workflows.registration.returned_form import record_form, store_returned_form

LETTER_CHANNELS = (InvitationChannel.EMAIL, InvitationChannel.MAIL, InvitationChannel.FAX)
REQUEST_CHANNELS = (InvitationChannel.PHONE, InvitationChannel.MAILBOX)
OUTCOMES = {
    "verified": "verify_identity",
    "not_confirmed": "record_identity_not_confirmed",
    "missed": "record_missed_verification",
}
MULTILINE_FIELDS = ("postal_address", "file_numbers")
NOT_NOW = _l("This action is not possible at this stage of the registration.")


# --------------------------------------------------------------------------------------------- forms


def _channel_choices(channels) -> Callable[[], list[SelectChoice]]:
    return lambda: [SelectChoice(channel.value, channel.label) for channel in channels]


def _document_choices() -> list[SelectChoice]:
    return [SelectChoice("", _("Choose the kind of photo ID"))] + [
        SelectChoice(item.value, item.label) for item in IdentityDocument
    ]


def _language_choices() -> list[SelectChoice]:
    return [SelectChoice("", "—"), SelectChoice("en", _("English")), SelectChoice("fr", _("French"))]


def _form_fields(registration: Registration) -> dict[str, Any]:
    """What a page needs to show the registration form's fields beside the counsel record."""
    return {
        "field_names": FIELD_NAMES,
        "field_labels": FIELD_LABELS,
        "language_names": {"en": _("English"), "fr": _("French")},
        "on_record": form_values_for(registration.counsel),
    }


class SendInvitationForm(FlaskForm):
    channel = SelectField(_l("Send by"), choices=_channel_choices(LETTER_CHANNELS))


class ReturnedFormUpload(FlaskForm):
    file = FileField(_l("The returned registration form (PDF)"), validators=[FileRequired()])


class FormValuesForm(FlaskForm):
    """The registration form's values as the clerk confirms them; labels come from the form itself."""

    full_name = StringField(validators=[Length(max=200)])
    regulator = StringField(validators=[Length(max=100)])
    membership_number = StringField(validators=[Length(max=40)])
    email = StringField(validators=[Length(max=254)])
    mobile = StringField(validators=[Length(max=40)])
    postal_address = TextAreaField(validators=[Length(max=2000)])
    preferred_language = SelectField(choices=_language_choices, default="")
    file_numbers = TextAreaField(validators=[Length(max=2000)])


class MeetingTimeForm(FlaskForm):
    starts_at = DateTimeLocalField(_l("Start of the meeting"), validators=[DataRequired()])


class MeetingLinkForm(FlaskForm):
    link = URLField(_l("Meeting link"), validators=[DataRequired(), Length(max=500)])
    number = StringField(_l("Meeting number"), validators=[Optional(), Length(max=40)])


class IdentityForm(FlaskForm):
    outcome = HiddenField(validators=[AnyOf(tuple(OUTCOMES))])
    document = SelectField(_l("Kind of government photo ID seen"), choices=_document_choices, default="")
    early_reason = StringField(
        _l("The meeting has not started yet: why record its outcome now?"),
        validators=[Optional(), Length(max=500)],
    )


class InviteForm(FlaskForm):
    counsel = SelectField(_l("Counsel of record"), coerce=int)
    channel = SelectField(_l("How"), choices=_channel_choices(LETTER_CHANNELS + REQUEST_CHANNELS))


class BulkInviteForm(FlaskForm):
    bulk_channel = SelectField(_l("Send by"), choices=_channel_choices(LETTER_CHANNELS))
    expected_count = IntegerField(validators=[DataRequired()])


# --------------------------------------------------------------------------------------------- list


class FlaggedFilter(BaseSQLAFilter, BaseBooleanFilter):
    """Registrations with (yes) or without (no) a flag for the clerk."""

    def apply(self, query, value, alias=None):
        column = self.get_column(alias)
        return query.filter(column.is_not(None) if value == "1" else column.is_(None))

    def operation(self):
        return admin_lazy_gettext("equals")


def _counsel_name(view, context, model: Registration, name: str) -> str:
    return model.counsel.full_name


def _days_in_stage(view, context, model: Registration, name: str) -> str:
    return str(int(age_of(model)))


def _flag_badge(view, context, model: Registration, name: str) -> Markup | str:
    if not model.flag:
        return ""
    return Markup('<span class="badge badge-danger" title="{}" data-testid="flag">{}</span>').format(
        model.flag, _("Flagged")
    )


def _flag_text(view, context, model: Registration, name: str) -> str:
    return model.flag or ""


@dataclass(frozen=True)
class Action:
    """An action of the registration page that asks the form for nothing but the registration (with
    `asks_start`, the meeting's start too): the transition it fires, its workflow call, what the page says once
    it is done."""

    transition: str
    call: Callable[..., Any]
    done: Any
    asks_start: bool = False


# The page's plain actions, each posted to /<path>/.
ACTIONS = {
    "schedule": Action(
        "schedule_verification",
        meeting_workflow.schedule_meeting,
        _l("The meeting is being arranged in Webex; counsel will receive the link."),
        asks_start=True,
    ),
    "reschedule": Action(
        "reschedule_verification",
        meeting_workflow.reschedule_meeting,
        _l("The meeting is moved; counsel will be told the new time."),
        asks_start=True,
    ),
    "cancel-meeting": Action(
        "cancel_verification", meeting_workflow.cancel_meeting, _l("The meeting is cancelled.")
    ),
    "retry-meeting": Action(
        "reschedule_verification", meeting_workflow.retry_meeting, _l("Webex will be tried again.")
    ),
    "hold": Action("put_on_hold", meeting_workflow.put_on_hold, _l("The registration is on hold.")),
    "resume": Action("resume", meeting_workflow.resume, _l("The registration is resumed.")),
    "withdraw": Action("withdraw", meeting_workflow.withdraw, _l("The registration is withdrawn.")),
}


def _action_view(path: str) -> Callable[["RegistrationView"], ResponseReturnValue]:
    """The view of ACTIONS[path]; its endpoint is the name the class gives it."""
    action = ACTIONS[path]

    @expose(f"/{path}/", methods=("POST",))
    def view(self: "RegistrationView") -> ResponseReturnValue:
        if not action.asks_start:
            return self._act(action.transition, action.call, str(action.done))
        form = MeetingTimeForm()
        return self._act(
            action.transition,
            lambda registration, clerk: action.call(registration, form.starts_at.data, clerk),
            str(action.done),
            form,
            _("Give the date and time of the meeting."),
        )

    return view


class RegistrationView(ScopedModelView):
    area = "registrations"
    scope = scope_by(access.scope_registrations)
    details_template = "admin/registration_details.html"
    column_list = ("counsel", "office", "status", "channel", "status_changed_at", "flag")
    column_labels = shared_labels("counsel", "office", "status", "channel") | {
        "counsel.full_name": _l("Counsel"),
        "status_changed_at": _l("Days in stage"),
        "flag": _l("Flag"),
    }
    column_default_sort = ("status_changed_at", False)
    column_sortable_list = ("status", "status_changed_at")
    column_searchable_list = ("counsel.full_name",)
    column_formatters = {
        "counsel": _counsel_name,
        "office": fmt.related_name,
        "status": fmt.label,
        "channel": fmt.label,
        "status_changed_at": _days_in_stage,
        "flag": _flag_badge,
    }
    column_formatters_export = {**column_formatters, "flag": _flag_text}

    FILTER_ORDER = ("status", "office", "channel", "flagged")

    @property
    def column_filters(self):
        return [
            FilterEqual(Registration.status, _l("Status"), options=fmt.enum_choices(RegistrationStatus)),
            IntEqualFilter(Registration.office_id, _l("Regional office"), options=fmt.office_choices),
            FilterEqual(Registration.channel, _l("Channel"), options=fmt.enum_choices(InvitationChannel)),
            FlaggedFilter(Registration.flag, _l("Flagged")),
        ]

    # ----------------------------------------------------------------------------------- the page

    def render(self, template, **kwargs):
        kwargs["stage_seen"] = workflow.stage_seen
        return super().render(template, **kwargs)

    def details_context(self, registration: Registration) -> dict[str, Any]:
        allowed = set(MACHINE.allowed(registration, reader()))
        meeting = registration.current_meeting
        return {
            "allowed": allowed,
            "action_labels": ACTION_LABELS,
            "status_label": _status_label,
            "days_in_stage": int(age_of(registration)),
            "meeting": meeting,
            "meeting_failed": meeting is not None and meeting.status is MeetingStatus.FAILED,
            **_form_fields(registration),
            "timeline": registration_timeline(registration, reader()),
            "action_form": FlaskForm(),
            "invitation_form": SendInvitationForm(),
            "upload_form": ReturnedFormUpload(),
            "meeting_form": MeetingTimeForm(),
            "link_form": MeetingLinkForm(),
            "identity_form": IdentityForm(),
            "meeting_not_begun": meeting is not None and not meeting_workflow.has_begun(meeting),
        }

    # ----------------------------------------------------------------------------------- actions

    def _require_role(self, transition: str) -> None:
        """A role the state machine never lets fire this transition is refused (403, audited)."""
        if current_user.role not in MACHINE.transitions[transition].roles:
            refuse("role", area=self.area, action=transition)

    def _registration_for(self, transition: str) -> Registration:
        self._require_role(transition)
        return self.get_one(request.values.get("id"))

    def _registration_to_change(self, transition: str) -> Registration:
        """The registration an action changes, read again under a lock held until the commit; an action sent
        from a page that showed an earlier stage is refused (`seen`, see workflows.registration)."""
        registration = self._registration_for(transition)
        lock_again(registration)
        return registration

    def _may_fire_now(self, registration: Registration, transition: str) -> bool:
        """Whether the registration's stage allows `transition` now; if not, the page says so."""
        if MACHINE.may_fire(registration, transition, reader()):
            return True
        flash(str(NOT_NOW), "error")
        return False

    def _back_to(self, registration: Registration) -> ResponseReturnValue:
        return redirect(url_for(".details_view", id=registration.id))

    def _act(
        self,
        transition: str,
        action: Callable[[Registration, StaffUser], Any],
        done: str,
        form: FlaskForm | None = None,
        invalid: str | None = None,
    ) -> ResponseReturnValue:
        """Check role, scope, form and stage, then apply one workflow action and show the registration."""
        registration = self._registration_to_change(transition)
        form = form or FlaskForm()
        if not form.validate_on_submit():
            flash(invalid or _("The form was not filled in correctly."), "error")
        elif self._may_fire_now(registration, transition):
            run_action(lambda: self._apply(registration, action), done)
        return self._back_to(registration)

    def _apply(self, registration: Registration, action: Callable[[Registration, StaffUser], Any]) -> Any:
        """The action, on the stage the page showed (a second click or a colleague's change is refused)."""
        check_stage_seen(registration, request.form.get("seen"))
        return action(registration, reader())

    @expose("/send-invitation/", methods=("POST",))
    def send_invitation_view(self):
        form = SendInvitationForm()
        return self._act(
            "send_invitation",
            lambda registration, clerk: send_invitation(
                registration, InvitationChannel(form.channel.data), clerk
            ),
            _("The invitation and the registration form are on their way to counsel."),
            form,
        )

    schedule_view = _action_view("schedule")
    reschedule_view = _action_view("reschedule")
    cancel_meeting_view = _action_view("cancel-meeting")

    @expose("/meeting-link/", methods=("POST",))
    def meeting_link_view(self):
        form = MeetingLinkForm()

        def enter(registration: Registration, clerk: StaffUser) -> None:
            _refuse_unless_meeting_failed(registration)
            meeting_workflow.enter_link_by_hand(registration, form.link.data, form.number.data or "", clerk)

        return self._act(
            "reschedule_verification",
            enter,
            _("The meeting link is recorded; counsel will receive it."),
            form,
            _("Enter the meeting link, starting with https://."),
        )

    retry_meeting_view = _action_view("retry-meeting")

    @expose("/identity/", methods=("POST",))
    def identity_view(self):
        form = IdentityForm()
        transition = OUTCOMES.get(request.form.get("outcome", ""), "verify_identity")

        def record(registration: Registration, clerk: StaffUser) -> None:
            document = IdentityDocument(form.document.data) if form.document.data else None
            record_identity(registration, clerk, form.outcome.data, document, form.early_reason.data or "")

        return self._act(transition, record, _("The outcome of the identity verification is recorded."), form)

    hold_view = _action_view("hold")
    resume_view = _action_view("resume")
    withdraw_view = _action_view("withdraw")

    # ----------------------------------------------------------------------------------- the code

    @expose("/invitation-code/", methods=("POST",))
    def invitation_code_view(self):
        """Issue a code and show it in this response only: never in a flash, the session, a URL or a log."""
        registration = self._registration_to_change("issue_invitation_code")
        if not FlaskForm().validate_on_submit():
            abort(400)
        if not self._may_fire_now(registration, "issue_invitation_code"):
            return self._back_to(registration)
        reissue = request.form.get("reissue") == "1"
        issued = run_action(
            lambda: self._apply(
                registration, lambda record, clerk: issue_invitation_code(record, clerk, reissue=reissue)
            )
        )
        if not issued.ok:
            return self._back_to(registration)
        return self.render(
            "admin/registration_code.html",
            registration=registration,
            code=issued.value,
            sent_by=message_channel(registration).label,
            expires_at=registration.current_code.expires_at if registration.current_code else None,
        )

    # ----------------------------------------------------------------------------------- the form

    @expose("/returned-form/", methods=("POST",))
    def upload_form_view(self):
        """Keep the returned form, read its fields, and show them beside the counsel record."""
        registration = self._registration_for("receive_form")
        form = ReturnedFormUpload()
        if not form.validate_on_submit():
            flash(_("Choose the returned form (a PDF file)."), "error")
            return self._back_to(registration)
        if not self._may_fire_now(registration, "receive_form"):
            return self._back_to(registration)
        stored = run_action(lambda: store_returned_form(registration, form.file.data.stream, reader()))
        if not stored.ok:
            return self._back_to(registration)
        reading = stored.value
        if reading.fields is None:
            flash(localised(reading.problem_en, reading.problem_fr), "error")
            return self._back_to(registration)
        return self._form_check(registration, reading.fields, uploaded=True, flattened=reading.flattened)

    @expose("/typed-form/")
    def typed_form_view(self):
        """The clerk types the form in (a form sent on paper, or one whose fields could not be read)."""
        registration = self._registration_for("receive_form")
        if not self._may_fire_now(registration, "receive_form"):
            return self._back_to(registration)
        return self._form_check(registration, {}, uploaded=False, flattened=False)

    def _form_check(
        self, registration: Registration, values: dict[str, str], *, uploaded: bool, flattened: bool
    ) -> ResponseReturnValue:
        form = FormValuesForm(formdata=None, data=_prefill(values))
        differences = compare_with_counsel(values, registration.counsel) if values else []
        return self.render(
            "admin/registration_form_check.html",
            registration=registration,
            form=form,
            uploaded=uploaded,
            flattened=flattened,
            multiline=MULTILINE_FIELDS,
            **_form_fields(registration),
            differing={difference.field for difference in differences},
            not_of_record=file_numbers_not_of_record(values, registration.counsel) if values else [],
        )

    @expose("/record-form/", methods=("POST",))
    def record_form_view(self):
        registration = self._registration_to_change("receive_form")
        form = FormValuesForm()
        if not form.validate_on_submit():
            flash(_("The form was not filled in correctly."), "error")
        elif self._may_fire_now(registration, "receive_form"):
            self._record_form(registration, {name: form[name].data or "" for name in FIELD_NAMES})
        return self._back_to(registration)

    def _record_form(self, registration: Registration, values: dict[str, str]) -> None:
        recorded = run_action(
            lambda: self._apply(registration, lambda record, clerk: record_form(record, values, clerk))
        )
        if not recorded.ok:
            return
        missing = recorded.value
        if not missing:
            flash(_("The form is recorded and the counsel record updated."), "success")
            return
        items = "; ".join(localised(item.en, item.fr) for item in missing)
        flash(
            _("The form is incomplete; counsel is sent a message listing: %(items)s", items=items), "warning"
        )

    @expose("/returned-form/download/")
    def download_form_view(self):
        """The returned form as received, to read a printed or flattened one; never shown inline."""
        registration = self._registration_for("receive_form")
        if registration.form_sha256 is None:
            abort(404)

        def record_download() -> None:  # once the form is found, before a byte is sent
            record_event("registration.form_downloaded", actor=reader(), record=registration)
            db.session.commit()

        response = send_document(
            registration.form_sha256,
            download_name=f"registration-form-{registration.id}.pdf",
            as_attachment=True,
            etag=registration.form_sha256,  # its content's own hash: the same form always, whichever store
            before_sending=record_download,
        )
        response.headers["Content-Security-Policy"] = "sandbox"
        return response


def _status_label(value: str) -> str:
    try:
        return RegistrationStatus(value).label
    except ValueError:
        return value


def _prefill(values: dict[str, str]) -> dict[str, str]:
    prefilled = {name: values.get(name, "") for name in FIELD_NAMES}
    prefilled["preferred_language"] = normalise_language(prefilled["preferred_language"]) or ""
    return prefilled


def _refuse_unless_meeting_failed(registration: Registration) -> None:
    meeting = registration.current_meeting
    if meeting is None or meeting.status is not MeetingStatus.FAILED:
        raise Refused(_l("A meeting link is entered by hand only when Webex could not arrange the meeting."))


# --------------------------------------------------------------------------------------------- invite


class RegistrationInviteView(StaffPage):
    """A clerk invites counsel of record of their office, one at a time or all at once."""

    area = "registrations"

    def is_accessible(self) -> bool:
        return super().is_accessible() and current_user.role is Role.CLERK

    @expose("/")
    def index(self):
        eligible = eligible_not_invited(current_user.office)
        form = InviteForm()
        form.counsel.choices = _counsel_choices(eligible)
        return self.render(
            "admin/registration_invite.html",
            eligible=eligible,
            form=form,
            bulk_form=BulkInviteForm(formdata=None, expected_count=len(eligible)),
        )

    @expose("/invite/", methods=("POST",))
    def invite_view(self):
        form = InviteForm()
        form.counsel.choices = _counsel_choices(eligible_not_invited(current_user.office))
        if not form.validate_on_submit():
            flash(_("Choose counsel of record not yet invited, and how to invite them."), "error")
            return redirect(url_for(".index"))
        counsel = db.session.get(Counsel, form.counsel.data)
        channel = InvitationChannel(form.channel.data)
        started = run_action(
            lambda: start_registration(counsel, channel, reader(), requested=channel in REQUEST_CHANNELS)
        )
        if not started.ok:
            return redirect(url_for(".index"))
        registration = started.value
        if channel in REQUEST_CHANNELS:
            flash(
                _("Counsel's request is recorded. Send them the invitation from the registration."), "success"
            )
        else:
            flash(_("The invitation and the registration form are on their way to counsel."), "success")
        return redirect(url_for("registration.details_view", id=registration.id))

    @expose("/bulk/", methods=("POST",))
    def bulk_view(self):
        form = BulkInviteForm()
        eligible = eligible_not_invited(current_user.office)
        if not form.validate_on_submit():
            flash(_("Choose how to send the invitations."), "error")
        elif form.expected_count.data != len(eligible):
            flash(
                _(
                    "The number of counsel to invite has changed (now %(count)d). Check it and confirm again.",
                    count=len(eligible),
                ),
                "warning",
            )
        else:
            self._invite_all(InvitationChannel(form.bulk_channel.data), len(eligible))
        return redirect(url_for(".index"))

    def _invite_all(self, channel: InvitationChannel, eligible: int) -> None:
        outcome = run_action(lambda: invite_in_bulk(current_user.office, channel, reader()))
        if not outcome.ok:
            return
        invited = outcome.value
        flash(_("Counsel invited: %(count)d.", count=len(invited)), "success")
        if len(invited) < eligible:
            flash(
                _(
                    "Not invited, for want of an address to send to: %(count)d.",
                    count=eligible - len(invited),
                ),
                "warning",
            )


def _counsel_choices(eligible: list[Counsel]) -> list[SelectChoice]:
    return [
        SelectChoice(counsel.id, f"{counsel.full_name} ({counsel.email or counsel.external_id})")
        for counsel in eligible
    ]


# --------------------------------------------------------------------------------------------- board


@dataclass(frozen=True)
class Stage:
    status: RegistrationStatus
    count: int
    oldest_days: int | None
    url: str


DONE = (RegistrationStatus.ACTIVE, RegistrationStatus.WITHDRAWN)


class RegistrationPipelineView(StaffPage):
    """One card per stage, with its count and the age of its oldest registration, in the user's scope."""

    area = "registrations"

    @expose("/")
    def index(self):
        national = access.has_national_scope(current_user)
        office_id = request.args.get("office", type=record_id) if national else None
        return self.render(
            "admin/registration_pipeline.html",
            stages=pipeline_stages(office_id),
            flagged=flagged_registrations(office_id),
            offices=fmt.office_choices() if national else None,
            office_id=office_id,
        )


def _in_scope(query, office_id: int | None):
    query = access.scope_registrations(query, current_user)
    return query.where(Registration.office_id == office_id) if office_id else query


def pipeline_stages(office_id: int | None) -> list[Stage]:
    query = _in_scope(
        select(Registration.status, func.count(Registration.id), func.min(Registration.status_changed_at)),
        office_id,
    ).group_by(Registration.status)
    found = {status: (count, oldest) for status, count, oldest in db.session.execute(query)}
    now = utcnow()
    filters = {"office": str(office_id)} if office_id else {}
    stages = []
    for status in RegistrationStatus:
        count, oldest = found.get(status, (0, None))
        days = (now - oldest).days if oldest is not None and status not in DONE else None
        stages.append(Stage(status, count, days, RegistrationView.list_url(status=status.value, **filters)))
    return stages


def flagged_registrations(office_id: int | None) -> list[Registration]:
    query = _in_scope(select(Registration), office_id).where(Registration.flag.is_not(None))
    return list(db.session.scalars(query.order_by(Registration.status_changed_at)))
