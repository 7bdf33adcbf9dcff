"""The work queues: registry's screened submissions and each division's accepted ones, oldest first.

A queue page lists what waits, with the counts of failed checks and warnings drawn in the same query.
Its actions (claim, next, release, decide) check the role first, then the submission in scope, and call
one function of workflows.decisions; the submission page posts its decisions here too.
"""

from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from backoffice.admin import formatters as fmt
from backoffice.admin.base import StaffPage, reader, record_refusal, refuse, run_action, way_back
from backoffice.edge import page_number, record_id
from backoffice.extensions import db
from backoffice.models import (
    DocumentKind,
    Role,
    SavedFilter,
    StaffUser,
    Submission,
    SubmissionStatus,
)
from backoffice.reports.queues import QueueFilters, QueueItem, queue_page, queue_query
from backoffice.workflows import access, bulk_decisions, decisions, saved_filters
from backoffice.workflows.queue_actions import QUEUES
from backoffice.workflows.refusals import Refused
from backoffice.workflows.timeliness import EASTERN


class QueueView(StaffPage):
    """A work queue; `status` says which (see workflows.queue_actions.QUEUES)."""

    area = "submissions"
    status: SubmissionStatus
    viewers: frozenset[Role]
    title: Any = ""

    @property
    def worker(self) -> Role:
        return QUEUES[self.status][0]

    def is_accessible(self) -> bool:
        """Only the queue's viewers: Flask-Admin then shows it in their menu alone, and refuses it to others."""
        return super().is_accessible() and current_user.role in self.viewers

    def render(self, template: str, **kwargs: Any) -> str:
        """Every page of a queue is titled with the queue's name and gives times in Eastern time."""
        return super().render(template, title=self.title, eastern=EASTERN, **kwargs)

    def _require_worker(self) -> None:
        if current_user.role is not self.worker:
            refuse("role", area=self.area, queue=self.status.value)

    def _filters(self, args: Any = None) -> QueueFilters:
        """The filters of this request's query string, or of `args` (a saved filter's), normalised."""
        return QueueFilters.from_args(
            request.args if args is None else args, access.has_national_scope(reader())
        )

    @expose("/")
    def index(self):
        user = reader()
        national = access.has_national_scope(user)
        filters = self._filters()
        page = max(1, request.args.get("page", 1, type=page_number))
        items, pages = queue_page(queue_query(self.status, filters, user), page)
        may_work = user.role is self.worker
        filter_args = filters.as_args()
        here = url_for(".index", **filter_args, **({"page": page} if page > 1 else {}))
        return self.render(
            "admin/queue.html",
            here=here,
            sorts=[("received", _("Received, oldest first")), ("deadline", _("Deadline, nearest first"))],
            items=items,
            page=page,
            pages=pages,
            filters=filters,
            filter_args=filter_args,
            offices=fmt.office_choices() if national else None,
            divisions=fmt.division_choices(),
            kinds=[(kind.value, kind.label) for kind in DocumentKind],
            may_work=may_work,
            saved_filters=saved_filters.filters_of(user, self.status.value),
            current_query=saved_filters.query_string(filter_args),
            name_length=saved_filters.MAX_NAME_LENGTH,
            bulk_ids=self._clean_ids(items, user) if may_work else set(),
        )

    def _clean_ids(self, items: list[QueueItem], user: StaffUser) -> set[int]:
        """The rows that may be accepted together (a checkbox each), from what the page already loaded."""
        return {
            item.submission.id
            for item in items
            if bulk_decisions.is_clean(item.submission, user, self.status)
        }

    # ----------------------------------------------------------------------------------- actions

    def _submission_in_scope(self) -> int:
        submission_id = request.values.get("id", type=record_id)
        if submission_id is None:
            abort(404)
        query = access.scope_submissions(
            select(Submission.id).where(Submission.id == submission_id), reader()
        )
        if db.session.scalar(query) is None:
            if db.session.scalar(select(Submission.id).where(Submission.id == submission_id)) is not None:
                refuse("out_of_scope", status=404, record_type="submissions", record_id=str(submission_id))
            abort(404)
        return submission_id

    def _back(self) -> str | None:
        """The page of this queue the worker came from (`back`, with its filters and page), or None when it is
        anything else: another site, another screen, or not a plain local path."""
        return way_back(request.values.get("back"), url_for(".index"))

    def _opened(self, submission_id: int, back: str | None) -> ResponseReturnValue:
        """The submission page, which keeps the way back to the queue page the worker came from."""
        return redirect(url_for("submission.details_view", id=submission_id, back=back))

    @expose("/claim/", methods=("POST",))
    def claim_view(self) -> ResponseReturnValue:
        self._require_worker()
        submission_id = self._submission_in_scope()
        back = self._back()
        if run_action(
            lambda: decisions.claim(submission_id, reader()), _("You hold this submission now.")
        ).ok:
            return self._opened(submission_id, back)
        return redirect(back or request.referrer or url_for(".index"))

    @expose("/next/", methods=("POST",))
    def next_view(self) -> ResponseReturnValue:
        """Claim the oldest unclaimed submission in the current filter, and open it."""
        self._require_worker()
        filters = self._filters()
        return self._open_next(
            filters, url_for(".index", **filters.as_args()), _("Nothing left to claim in this queue.")
        )

    def _open_next(self, filters: QueueFilters, back: str, nothing_left: str) -> ResponseReturnValue:
        """Claim and open the next submission for the reader in the queue filtered by `filters`; back to the
        queue page `back`, saying `nothing_left`, when there is none."""
        user = reader()
        following = decisions.next_to_work(queue_query(self.status, filters, user), user)
        if following is None:
            flash(nothing_left, "info")
            return redirect(back)
        submission_id = following.id
        if run_action(lambda: decisions.claim(submission_id, user), _("You hold this submission now.")).ok:
            return self._opened(submission_id, back)
        return redirect(back)

    @expose("/release/", methods=("POST",))
    def release_view(self) -> ResponseReturnValue:
        self._require_worker()
        submission_id = self._submission_in_scope()
        back = self._back()
        run_action(
            lambda: decisions.release(submission_id, reader()), _("The submission is back in the queue.")
        )
        return self._opened(submission_id, back)

    @expose("/decide/", methods=("POST",))
    def decide_view(self) -> ResponseReturnValue:
        """Decide, then go back to the queue page the worker came from (`back`), or with `then=next` open the
        next submission of that page's filter. Without `back` in the form, the submission's page is shown."""
        self._require_worker()
        submission_id = self._submission_in_scope()
        accepted = request.form.get("decision") == "accept"
        reasons = request.form.getlist("reason")
        note = request.form.get("note", "")
        done = (
            _("The submission is accepted.")
            if accepted
            else _("The submission is rejected; counsel is told.")
        )
        back = self._back()
        decided = run_action(lambda: decisions.decide(submission_id, reader(), accepted, reasons, note), done)
        if not decided.ok:
            return self._opened(submission_id, back)
        if request.form.get("then") == "next":
            filters = QueueFilters.of_page(back, access.has_national_scope(reader()))
            return self._open_next(filters, back or url_for(".index"), _("Nothing left in this queue."))
        if back or "back" in request.form:
            return redirect(back or url_for(".index"))
        return self._opened(submission_id, None)

    # ------------------------------------------------------------------------------ saved filters

    def _own_filter(self) -> SavedFilter:
        """The user's saved filter named by `id`; someone else's is refused, audited, and answered 404."""
        filter_id = request.values.get("id", type=record_id)
        saved = saved_filters.find_filter(filter_id, self.status.value) if filter_id is not None else None
        if saved is None:
            abort(404)
        if not saved_filters.belongs_to(saved, reader()):
            refuse("not_owner", status=404, record_type="saved_filters", record_id=str(filter_id))
        return saved

    @expose("/filters/save/", methods=("POST",))
    def save_filter_view(self) -> ResponseReturnValue:
        """Save the filter in this URL's query string (normalised), under the name given in the form."""
        filter_args = self._filters().as_args()
        name = request.form.get("name", "")
        run_action(
            lambda: saved_filters.save_filter(reader(), self.status.value, name, filter_args),
            done=_saved_message,
        )
        return redirect(url_for(".index", **filter_args))

    @expose("/filters/apply/")
    def apply_filter_view(self) -> ResponseReturnValue:
        saved = self._own_filter()
        filters = self._filters(saved_filters.arguments_of(saved))
        return redirect(url_for(".index", **filters.as_args()))

    @expose("/filters/delete/", methods=("POST",))
    def delete_filter_view(self) -> ResponseReturnValue:
        saved = self._own_filter()
        done = _("Your filter “%(name)s” is deleted.", name=saved.name)
        run_action(lambda: saved_filters.delete_filter(reader(), saved), done)
        return redirect(url_for(".index", **self._filters().as_args()))

    # -------------------------------------------------------------------------------- bulk accept

    def _selected_ids(self) -> list[int] | None:
        try:
            return bulk_decisions.selected_ids(request.form.getlist("id", type=record_id))
        except Refused as error:
            flash(str(error.message), "error")
            return None

    def _audit_out_of_scope(self, submission_ids: list[int]) -> None:
        """Ids of submissions the user may not see were posted: recorded like any refusal, the rest goes on."""
        if submission_ids:
            record_refusal(
                "out_of_scope",
                record_type="submissions",
                record_ids=[str(submission_id) for submission_id in submission_ids],
            )

    def _on_selection(self, act: Callable[[dict[str, Any], list[int]], str]) -> ResponseReturnValue:
        """Hand the worker's posted selection to `act` with the queue's filters, or go back to the queue
        when the selection is refused."""
        self._require_worker()
        filter_args = self._filters().as_args()
        ids = self._selected_ids()
        if ids is None:
            return redirect(url_for(".index", **filter_args))
        return act(filter_args, ids)

    @expose("/bulk/confirm/", methods=("POST",))
    def bulk_confirm_view(self) -> ResponseReturnValue:
        """What "Accept selected" would do, to confirm: it changes nothing."""
        return self._on_selection(self._confirm_bulk)

    def _confirm_bulk(self, filter_args: dict[str, Any], ids: list[int]) -> str:
        selection = bulk_decisions.screen_selection(self.status, ids, reader())
        page = self._render_bulk(filter_args, selection=selection)
        self._audit_out_of_scope(selection.out_of_scope)  # after drawing: its commit expires the rows
        return page

    @expose("/bulk/accept/", methods=("POST",))
    def bulk_accept_view(self) -> ResponseReturnValue:
        """Accept the confirmed selection, each submission on its own; the page says what was and was not."""
        return self._on_selection(self._accept_bulk)

    def _accept_bulk(self, filter_args: dict[str, Any], ids: list[int]) -> str:
        result = bulk_decisions.accept_in_bulk(self.status, ids, reader())
        self._audit_out_of_scope(result.out_of_scope)
        return self._render_bulk(filter_args, result=result)

    def _render_bulk(
        self,
        filter_args: dict[str, Any],
        selection: bulk_decisions.Selection | None = None,
        result: bulk_decisions.BulkResult | None = None,
    ) -> str:
        action, consequence = bulk_decisions.CONSEQUENCES[self.status]
        return self.render(
            "admin/queue_bulk_confirm.html",
            action=action,
            consequence=consequence,
            filter_args=filter_args,
            selection=selection,
            result=result,
        )


def _saved_message(result: tuple[SavedFilter, bool]) -> str:
    saved, replaced = result
    if replaced:
        return _("Your filter “%(name)s” now keeps the current filter instead.", name=saved.name)
    return _("Your filter “%(name)s” is saved.", name=saved.name)


class RegistryQueueView(QueueView):
    status = SubmissionStatus.WITH_REGISTRY
    viewers = frozenset({Role.CLERK, Role.SUPERVISOR})
    title = _l("Registry queue")


class DivisionQueueView(QueueView):
    status = SubmissionStatus.WITH_DIVISION
    viewers = frozenset({Role.DIVISION_MEMBER, Role.SUPERVISOR})
    title = _l("Division queue")
