"""Screens for submissions from the portal: the list, a submission with its received times, deadline and
check results, its attachments to download, and a supervisor's correction of a received time; and the
portal clients allowed to call the API."""

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import FilterEqual, IntEqualFilter
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import or_
from sqlalchemy.orm import joinedload
from wtforms import DateTimeLocalField, TextAreaField
from wtforms.validators import DataRequired, Length

from backoffice.admin import formatters as fmt
from backoffice.admin.base import (
    EDIT_VIEWS,
    ScopedModelView,
    national_scope,
    reader,
    refuse,
    run_action,
    scope_by,
    shared_labels,
)
from backoffice.admin.submission_work import QUEUE_ENDPOINTS, queue_context, queue_page, review_context
from backoffice.edge import record_id
from backoffice.extensions import db
from backoffice.integrations.storage import send_document
from backoffice.models import (
    CheckOutcome,
    DocumentKind,
    PortalClient,
    Role,
    StaffUser,
    Submission,
    SubmissionStatus,
    Timeliness,
)
from backoffice.reports.queues import search_condition
from backoffice.workflows import access, decisions, review_aids
from backoffice.workflows.audit import record_event
from backoffice.workflows.portal import revoke_portal_client
from backoffice.workflows.queue_actions import NOTE_WRITERS, QUEUES, require_action
from backoffice.workflows.refusals import Refused
from backoffice.workflows.submissions import correct_received_time
from backoffice.workflows.timeliness import EASTERN


class CorrectionForm(FlaskForm):
    corrected_at = DateTimeLocalField(
        _l("Corrected My Case timestamp (Eastern time)"), validators=[DataRequired()], format="%Y-%m-%dT%H:%M"
    )
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])


def _shown(submission: Submission, asked: int | None) -> int | None:
    """The position of the file shown in the page: the one asked for; else the first that the checks found
    readable and safe (a file not screened yet, or failed, opens only when asked for)."""
    positions = [attachment.position for attachment in submission.attachments]
    if asked in positions:
        return asked
    clean = (CheckOutcome.PASS, CheckOutcome.WARNING)
    return next((item.position for item in submission.attachments if item.screening_outcome in clean), None)


def submissions_matching(text: str):
    """Submissions whose subject, file number or counsel's name holds `text`, or whose UCI is `text` (as the
    work queues find them)."""
    return or_(Submission.subject.ilike(f"%{text}%"), search_condition(text))


class SubmissionView(ScopedModelView):
    area = "submissions"
    scope = scope_by(access.scope_submissions)
    step_up_views = frozenset({"correct_view"})
    details_template = "admin/submission_details.html"
    column_list = (
        "received_at",
        "case",
        "document_kind",
        "subject",
        "counsel",
        "office",
        "status",
        "timeliness",
        "screening_outcome",
    )
    column_labels = shared_labels("case", "counsel", "office", "status") | {
        "received_at": _l("Received (Eastern)"),
        "document_kind": _l("Kind"),
        "subject": _l("Subject"),
        "timeliness": _l("On time?"),
        "screening_outcome": _l("Automated checks"),
    }
    column_default_sort = ("received_at", True)
    column_sortable_list = ("received_at", "status")
    column_searchable_list = (
        "subject",
    )  # and file numbers, counsel's names and UCIs: see submissions_matching
    column_formatters = {
        "received_at": fmt.instant,
        "document_kind": fmt.label,
        "status": fmt.label,
        "timeliness": fmt.label,
        "screening_outcome": fmt.label,
        "office": fmt.related_name,
    }

    FILTER_ORDER = ("status", "document_kind", "timeliness", "screening_outcome", "office", "case")
    search_condition = staticmethod(submissions_matching)

    @property
    def column_filters(self):
        return [
            FilterEqual(Submission.status, _l("Status"), options=fmt.enum_choices(SubmissionStatus)),
            FilterEqual(Submission.document_kind, _l("Kind"), options=fmt.enum_choices(DocumentKind)),
            FilterEqual(Submission.timeliness, _l("On time?"), options=fmt.enum_choices(Timeliness)),
            FilterEqual(
                Submission.screening_outcome, _l("Automated checks"), options=fmt.enum_choices(CheckOutcome)
            ),
            IntEqualFilter(Submission.office_id, _l("Regional office"), options=fmt.office_choices),
            IntEqualFilter(Submission.case_id, _l("Case")),
        ]

    def search_placeholder(self) -> str:
        return _("Subject, file number, counsel or UCI")

    def get_query(self):
        """With the deadline's rule and the replaced submission, so that a page issues the same statements
        whatever the submission holds."""
        return (
            super()
            .get_query()
            .options(joinedload(Submission.deadline_rule), joinedload(Submission.resubmission_of))
        )

    def details_context(self, submission: Submission) -> dict:
        by_attachment: dict[int | None, list] = {}
        for result in submission.check_results:
            by_attachment.setdefault(result.attachment_id, []).append(result)
        return {
            "eastern": EASTERN,
            "results_by_attachment": by_attachment,
            "shown": _shown(submission, request.args.get("show", type=int)),
            "correction_form": CorrectionForm() if self._may_correct() else None,
            **queue_context(submission, reader()),
            **review_context(submission, reader(), request.args),
        }

    def _may_correct(self) -> bool:
        return current_user.role is Role.SUPERVISOR

    @expose("/attachment/")
    def attachment_view(self):
        """Download an attachment of a submission in scope."""
        return self._send_attachment(inline=False)

    @expose("/attachment/view/")
    def attachment_inline_view(self):
        """Show an attachment to staff in scope: in the submission page's viewer, or in a tab of its own."""
        return self._send_attachment(inline=True)

    def _send_attachment(self, inline: bool):
        """The PDF may be hostile: sandboxed (no script), not sniffed, not cached, and every opening audited."""
        submission = self.get_one(request.args.get("id"))
        position = request.args.get("position", type=int)
        attachment = next((item for item in submission.attachments if item.position == position), None)
        if attachment is None:
            abort(404)
        action = "attachment.viewed" if inline else "attachment.downloaded"

        def record_opening() -> None:  # once the document is found, before a byte is sent
            record_event(
                action, actor=reader(), record=submission, after={"attachment": attachment.public_id}
            )
            db.session.commit()

        response = send_document(
            attachment.sha256,
            download_name=attachment.filename,
            as_attachment=not inline,
            before_sending=record_opening,
        )
        response.headers["Content-Security-Policy"] = "sandbox"
        if inline:  # shown in the submission page's frame: this site may frame it, no other site
            response.headers["Content-Security-Policy"] = "sandbox; frame-ancestors 'self'"
            response.headers["X-Frame-Options"] = "SAMEORIGIN"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        return response

    @expose("/correct-received-time/", methods=("POST",))
    def correct_view(self):
        submission = self.get_one(request.form.get("id"))
        if not self._may_correct():
            refuse("role", area=self.area)  # audited like every other refusal
        form = CorrectionForm()
        if not form.validate_on_submit():
            flash(_("Give the corrected time and the reason."), "error")
            return redirect(url_for(".details_view", id=submission.id))
        corrected = form.corrected_at.data.replace(tzinfo=EASTERN)
        run_action(
            lambda: correct_received_time(submission, corrected, form.reason.data, reader()),
            _("The received time is corrected; the original is kept."),
        )
        return redirect(url_for(".details_view", id=submission.id))

    # ----------------------------------------------------------------- work on a submission in its queue

    def _worked_on(self, roles: frozenset[Role], action: str) -> Submission:
        """The submission posted, after checking the reader's role (403, audited) and scope (404)."""
        if current_user.role not in roles:
            refuse("role", area=self.area, action=action)
        return self.get_one(request.form.get("id"))

    def _back_to(self, submission: Submission):
        """The submission's page again, keeping the way back to the queue page the reader came from."""
        return redirect(url_for(".details_view", id=submission.id, back=queue_page(request.form.get("back"))))

    @expose("/hold/", methods=("POST",))
    def hold_view(self):
        submission = self._worked_on(WORKERS, "hold")
        note = request.form.get("note", "")
        run_action(
            lambda: decisions.put_on_hold(submission.id, reader(), note),
            _("The submission is on hold, out of Next, with your note."),
        )
        return self._back_to(submission)

    @expose("/take-off-hold/", methods=("POST",))
    def take_off_hold_view(self):
        submission = self._worked_on(WORKERS | {Role.SUPERVISOR}, "take_off_hold")
        run_action(lambda: decisions.take_off_hold(submission.id, reader()), _("The submission is off hold."))
        return self._back_to(submission)

    @expose("/note/", methods=("POST",))
    def note_view(self):
        submission = self._worked_on(NOTE_WRITERS, "note")
        note = request.form.get("note", "")
        run_action(
            lambda: decisions.add_note(submission.id, reader(), note), _("Your note is kept on the timeline.")
        )
        return self._back_to(submission)

    @expose("/return-to-queue/", methods=("POST",))
    def return_view(self):
        submission = self._worked_on(SUPERVISORS, "return_to_queue")
        run_action(
            lambda: decisions.return_to_queue(submission.id, reader()),
            _("The submission is back in the queue for anyone to claim."),
        )
        return self._back_to(submission)

    @expose("/reassign/", methods=("POST",))
    def reassign_view(self):
        submission = self._worked_on(SUPERVISORS, "reassign")
        to = db.session.get(StaffUser, request.form.get("to", type=record_id) or 0)
        if to is None:
            flash(_("Choose who takes the submission."), "error")
            return self._back_to(submission)
        run_action(
            lambda: decisions.reassign(submission.id, reader(), to),
            _("%(name)s holds the submission now.", name=to.full_name),
        )
        return self._back_to(submission)

    @expose("/change-kind/", methods=("POST",))
    def change_kind_view(self):
        """Correct a mis-filed kind of document (rather than reject it); the deadline is judged again."""
        submission = self._worked_on(WORKERS, "change_kind")
        kind, why = request.form.get("kind", ""), request.form.get("why", "")
        run_action(
            lambda: decisions.change_document_kind(submission.id, reader(), kind, why),
            _("The kind of document is corrected and its deadline judged again."),
        )
        return self._back_to(submission)

    @expose("/reject/confirm/", methods=("POST",))
    def reject_confirm_view(self):
        """The rejection as counsel will receive it, to confirm before it is sent: it changes nothing. Its
        button posts the same form to the queue's decide action, which checks everything again."""
        submission = self._worked_on(WORKERS, "decide")
        note = request.form.get("note", "")
        try:
            require_action(submission, reader(), "decide")
            used_by = QUEUES[submission.status][1]
            reasons = review_aids.chosen_reasons(request.form.getlist("reason"), used_by)
        except Refused as refused:
            flash(refused.message, "error")
            back = queue_page(request.form.get("back"))
            return redirect(url_for(".details_view", id=submission.id, back=back))
        return self.render(
            "admin/submission_reject_confirm.html",
            submission=submission,
            reasons=reasons,
            note=note[:2000],
            message=review_aids.rejection_preview(submission, used_by, reasons, note),
            decide_endpoint=QUEUE_ENDPOINTS[submission.status] + ".decide_view",
            then=request.form.get("then") if request.form.get("then") == "next" else None,
            back=queue_page(request.form.get("back")),
        )

    @expose("/decide-by-file/", methods=("POST",))
    def decide_by_file_view(self):
        """The division's decision file by file: file-<id> is accept or reject, reason-<id> its reasons."""
        submission = self._worked_on(frozenset({Role.DIVISION_MEMBER}), "decide_by_file")
        outcomes = [
            decisions.FileOutcome(
                attachment.id,
                request.form.get(f"file-{attachment.id}") == "accept",
                tuple(request.form.getlist(f"reason-{attachment.id}")),
            )
            for attachment in submission.attachments
            if request.form.get(f"file-{attachment.id}") in ("accept", "reject")
        ]
        note = request.form.get("note", "")
        run_action(
            lambda: decisions.decide_by_file(submission.id, reader(), outcomes, note),
            _("The decision on each file is recorded; counsel is told."),
        )
        return self._back_to(submission)


WORKERS = frozenset({Role.CLERK, Role.DIVISION_MEMBER})
SUPERVISORS = frozenset({Role.SUPERVISOR})


class PortalClientView(ScopedModelView):
    """The systems allowed to call the portal API. Created with `flask portal-clients create`; revoked here."""

    area = "portal_clients"
    step_up_views = EDIT_VIEWS | {"revoke_view"}
    scope = national_scope
    can_export = False
    details_template = "admin/portal_client_details.html"
    column_list = ("name", "created_at", "last_used_at", "revoked_at")
    column_labels = {
        "name": _l("Name"),
        "created_at": _l("Created"),
        "last_used_at": _l("Last used"),
        "revoked_at": _l("Revoked"),
    }
    column_formatters = {"created_at": fmt.instant, "last_used_at": fmt.instant, "revoked_at": fmt.instant}
    column_details_list = column_list

    def details_context(self, client: PortalClient) -> dict[str, Any]:
        return {"action_form": FlaskForm()}

    @expose("/revoke/", methods=("POST",))
    def revoke_view(self):
        if not FlaskForm().validate_on_submit():
            abort(400)
        client: PortalClient = self.get_one(request.form.get("id"))
        run_action(
            lambda: revoke_portal_client(client, actor=reader()),
            _("The portal client is revoked: its token no longer works."),
        )
        return redirect(url_for(".details_view", id=client.id))
