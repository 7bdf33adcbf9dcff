"""Screens for messages to counsel: the outbox (status, history, resend, letters) and a preview of
every template in both languages."""

from typing import Any

from flask import Response, abort, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import or_, select

from backoffice.admin import formatters as fmt
from backoffice.admin.base import ScopedModelView, StaffPage, reader, run_action, scope_by
from backoffice.extensions import db
from backoffice.models import Case, Channel, Counsel, Notification, NotificationStatus
from backoffice.workflows import access
from backoffice.workflows.audit import record_event
from backoffice.workflows.letters import letter_pdf
from backoffice.workflows.message_rendering import BILINGUAL, masked, render_message
from backoffice.workflows.message_templates import TEMPLATES, template_label
from backoffice.workflows.notifications import mark_letter_sent, resend


def _masked_content(notification: Notification):
    """The message as sent, codes hidden; None when it cannot be rendered (its failure says why)."""
    try:
        values = masked(notification.template, notification.values)
        return render_message(
            notification.template, notification.channel.value, notification.language, values
        )
    except Exception:  # noqa: BLE001  (the page must still show the history and the actions)
        return None


def messages_matching(text: str):
    """Messages to counsel whose name, case's file number, or kind of message (its label in English or
    French, or its template's name) holds `text`."""
    pattern, wanted = f"%{text}%", text.casefold()
    templates = [
        name
        for name, spec in TEMPLATES.items()
        if wanted in name.casefold() or any(wanted in label.casefold() for label in spec.label.values())
    ]
    return or_(
        Notification.counsel_id.in_(select(Counsel.id).where(Counsel.full_name.ilike(pattern))),
        Notification.case_id.in_(select(Case.id).where(Case.file_number.ilike(pattern))),
        Notification.template.in_(templates),
    )


class NotificationView(ScopedModelView):
    area = "messages"
    scope = scope_by(access.scope_notifications)
    details_template = "admin/notification_details.html"
    can_export = True
    column_list = ("created_at", "template", "channel", "counsel", "case", "status", "attempts", "sent_at")
    column_export_list = (
        "created_at",
        "template",
        "channel",
        "counsel",
        "case",
        "language",
        "status",
        "attempts",
        "sent_at",
        "last_error",
    )
    column_labels = {
        "created_at": _l("Queued at"),
        "template": _l("Message"),
        "channel": _l("Channel"),
        "counsel": _l("Counsel"),
        "case": _l("Case"),
        "language": _l("Language"),
        "status": _l("Status"),
        "attempts": _l("Attempts"),
        "sent_at": _l("Sent at"),
        "last_error": _l("Provider's reason"),
    }
    column_default_sort = ("created_at", True)
    column_sortable_list = ("created_at", "status", "sent_at")
    column_searchable_list = ("template",)  # and counsel's names and file numbers: see messages_matching
    column_formatters = {
        "created_at": fmt.instant,
        "sent_at": fmt.instant,
        "template": lambda v, c, m, n: template_label(m.template),
        "channel": fmt.label,
        "status": fmt.label,
    }

    FILTER_ORDER = ("status", "channel", "counsel", "case")
    search_condition = staticmethod(messages_matching)

    @property
    def column_filters(self):
        from flask_admin.contrib.sqla.filters import FilterEqual, IntEqualFilter

        return [
            FilterEqual(Notification.status, _l("Status"), options=fmt.enum_choices(NotificationStatus)),
            FilterEqual(Notification.channel, _l("Channel"), options=fmt.enum_choices(Channel)),
            IntEqualFilter(Notification.counsel_id, _l("Counsel")),
            IntEqualFilter(Notification.case_id, _l("Case")),
        ]

    def search_placeholder(self) -> str:
        return _("Counsel, file number or message")

    def details_context(self, notification: Notification) -> dict[str, Any]:
        return {
            "content": _masked_content(notification),
            "action_form": FlaskForm(),
            "template_label": template_label(notification.template),
            "event_label": _delivery_event_label,
        }

    @expose("/resend/", methods=("POST",))
    def resend_view(self):
        return self._act(resend, done=_("The message is queued to be sent again."))

    @expose("/mark-sent/", methods=("POST",))
    def mark_sent_view(self):
        return self._act(mark_letter_sent, done=_("The letter is recorded as sent."))

    def _act(self, action, *, done: str):
        """Apply a workflow action to the message named in the form, then show the message."""
        if not FlaskForm().validate_on_submit():
            abort(400)
        notification = self.get_one(request.form.get("id"))
        run_action(lambda: action(notification, reader()), done)
        return redirect(url_for(".details_view", id=notification.id))

    @expose("/letter/")
    def letter_view(self):
        notification = self.get_one(request.args.get("id"))
        if not notification.channel.is_letter:
            abort(404)
        record_event("notification.letter_opened", actor=reader(), record=notification)  # it may hold a code
        db.session.commit()
        response = Response(letter_pdf(notification), mimetype="application/pdf")
        response.headers["Content-Disposition"] = f'inline; filename="letter-{notification.id}.pdf"'
        return response


class MessageTemplatesView(StaffPage):
    """Every template, in English, in French and bilingual, with sample values."""

    area = "messages"

    @expose("/")
    def index(self):
        name = request.args.get("template") or next(iter(TEMPLATES))
        if name not in TEMPLATES:
            abort(404)
        spec = TEMPLATES[name]
        previews = [
            (language, channel, render_message(name, channel, language, spec.sample))
            for channel in spec.channels
            for language in ("en", "fr", BILINGUAL)
            if channel != "fax"
        ]
        return self.render(
            "admin/message_templates.html",
            templates=[(key, template_label(key)) for key in TEMPLATES],
            current=name,
            spec=spec,
            previews=previews,
            channel_label=lambda channel: Channel(channel).label,
        )


def _delivery_event_label(code: str) -> str:
    """A step of a message's history in words: most are the status it reached."""
    if code == "resent":
        return _("Queued to be sent again")
    try:
        return NotificationStatus(code).label
    except ValueError:
        return code
