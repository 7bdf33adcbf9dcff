"""Base classes for every staff screen: sign-in required, role checked, records scoped to the user.

Scoping is applied to the queries Flask-Admin runs (list, count, detail, edit, delete, export), so a
record outside the user's office or division is never listed and cannot be opened by its URL. A model
screen must declare its scope: one that forgets is refused when its class is defined, not left unlimited.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import abort, current_app, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_admin import AdminIndexView, BaseView
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.filters import FilterConverter
from flask_admin.model.filters import BaseIntFilter, BaseIntListFilter
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import inspect, select

from backoffice.admin.formatters import DETAIL_TYPE_FORMATTERS, LIST_TYPE_FORMATTERS, csv_cell
from backoffice.auth.sessions import ask_for_step_up, factor_is_recent
from backoffice.edge import INT32, MAX_PAGE, odd_character, record_id
from backoffice.extensions import db
from backoffice.models import Role, StaffUser
from backoffice.workflows.access import AREAS, may_open
from backoffice.workflows.audit import record_event, record_event_now
from backoffice.workflows.refusals import Refused


@dataclass(frozen=True)
class Outcome:
    """What `run_action` did: `ok` when the action was committed, with what the action returned."""

    ok: bool
    value: Any = None


def run_action(action: Callable[[], Any], done: Any = None) -> Outcome:
    """Run one workflow call for a staff view, which owns the transaction: commit it and say `done` (a text, or
    a function of what the action returned), or, when a rule refuses it, roll back all it began and say why."""
    try:
        value = action()
    except Refused as refused:
        db.session.rollback()
        flash(refused.message, "error")
        return Outcome(False)
    db.session.commit()
    if done is not None:
        flash(done(value) if callable(done) else done, "success")
    return Outcome(True, value)


def render_staff_page(template: str, **context: Any) -> str:
    """Render a page of another blueprint (the person's own sign-in and security) in the staff screens' layout,
    with the menu: Flask-Admin's views give their templates its context, so the home view renders it."""
    (admin,) = current_app.extensions["admin"]
    return admin.index_view.render(template, **context)


def reader() -> StaffUser:
    """The staff member acting in this request: the one the audit log names for what a view does itself."""
    return current_user._get_current_object()


def record_refusal(reason: str, **details: Any) -> None:
    """Record in the audit log, at once, that this request was refused for `reason`."""
    record_event_now(
        "permission.refused",
        actor=reader(),
        after={"endpoint": request.endpoint, "path": request.path, "reason": reason, **details},
    )


def refuse(reason: str, *, status: int = 403, **details: Any) -> None:
    """Record a refusal in the audit log, then answer it (404 hides whether a record exists)."""
    record_refusal(reason, **details)
    abort(status)


class GuardedView:
    """Mixed into every admin view: `area` names the permission (see workflows.access.AREAS)."""

    area: str = ""

    def is_accessible(self) -> bool:
        return current_user.is_authenticated and may_open(current_user, self.area)

    def inaccessible_callback(self, name: str, **kwargs: Any) -> ResponseReturnValue:
        if not current_user.is_authenticated:
            return redirect(url_for("auth.sign_in_page", next=request.full_path))
        refuse("role", area=self.area)


class StaffIndexView(AdminIndexView):
    """The home page: any signed-in staff member."""

    def is_accessible(self) -> bool:
        return current_user.is_authenticated

    def inaccessible_callback(self, name: str, **kwargs: Any) -> ResponseReturnValue:
        return redirect(url_for("auth.sign_in_page", next=request.full_path))


class StaffPage(GuardedView, BaseView):
    """A custom screen (not a model list)."""


def national_scope(view: "ScopedModelView", query):
    """The scope of a screen that only administrators open (reference data, staff, portal clients): no limit.

    Declared with `scope = national_scope`; refused for an area that staff of an office may open."""
    return query


def scope_by(rule: Callable[[Any, StaffUser], Any]) -> Callable[["ScopedModelView", Any], Any]:
    """The scope of a screen whose records a rule of workflows.access keeps to the user's own, declared with
    `scope = scope_by(access.scope_cases)`."""

    def scope(view: "ScopedModelView", query):
        return rule(query, current_user)

    return scope


class _TolerantEnumFilter:
    """Flask-Admin ignores a filter value it cannot read when reading it raises ValueError; its enum filters
    raise KeyError for a name that is no member, which would end the list in a 500."""

    def clean(self, value: Any) -> Any:
        try:
            return super().clean(value)
        except KeyError:
            raise ValueError(value) from None


class StaffFilterConverter(FilterConverter):
    enum = tuple(type(kind.__name__, (_TolerantEnumFilter, kind), {}) for kind in FilterConverter.enum)


# What every screen calls a column that several screens show, in one word for all.
COLUMN_LABELS = {
    "case": _l("Case"),
    "channel": _l("Channel"),
    "code": _l("Code"),
    "counsel": _l("Counsel"),
    "created_at": _l("Created"),
    "division": _l("Division"),
    "email": _l("Email"),
    "full_name": _l("Name"),
    "name_en": _l("Name (English)"),
    "name_fr": _l("Name (French)"),
    "office": _l("Regional office"),
    "role": _l("Role"),
    "status": _l("Status"),
}


def shared_labels(*names: str) -> dict[str, Any]:
    """The labels of these columns as every screen names them (COLUMN_LABELS), for a screen's column_labels."""
    return {name: COLUMN_LABELS[name] for name in names}


# A model screen's views that change records.
EDIT_VIEWS = frozenset({"create_view", "edit_view", "delete_view", "action_view"})


class ScopedModelView(GuardedView, ModelView):
    """A model screen whose queries only ever return records in the user's scope, and whose CSV export
    writes no cell that a spreadsheet would run as a formula."""

    can_create = False
    can_edit = False
    can_delete = False
    can_view_details = True
    can_export = True
    export_types = ["csv"]
    page_size = 50
    can_set_page_size = True
    column_type_formatters = LIST_TYPE_FORMATTERS
    column_type_formatters_detail = DETAIL_TYPE_FORMATTERS
    filter_converter = StaffFilterConverter()
    details_modal = False
    list_template = "admin/staff_list.html"

    # Views that change who may do what, or what counsel are told (staff users, portal clients, reasons,
    # service targets, received times): their forms and actions first ask for a factor proved within
    # STEP_UP_MINUTES (auth/sessions.py).
    step_up_views: frozenset[str] = frozenset()

    # The names of column_filters, in order: a filter's position is its number in list URLs.
    FILTER_ORDER: tuple[str, ...] = ()

    # What the list's search finds, when a screen finds more than Flask-Admin's search of its
    # column_searchable_list: a function of the text searched giving the condition the records meet.
    search_condition: Callable[[str], Any] | None = None

    @classmethod
    def list_url(cls, **filters: str) -> str:
        """This view's list with filters applied, e.g. CaseView.list_url(status="active")."""
        endpoint = cls.__name__.removesuffix("View").lower()
        args = {
            f"flt{n}_{cls.FILTER_ORDER.index(name)}": value for n, (name, value) in enumerate(filters.items())
        }
        return url_for(f"{endpoint}.index_view", **args)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Fail closed: a screen that does not say whose records it shows would show everyone's."""
        super().__init_subclass__(**kwargs)
        if cls.scope is ScopedModelView.scope:
            raise TypeError(f"{cls.__name__} must declare its scope (a scope() method, or national_scope)")
        if cls.scope is national_scope and AREAS[cls.area] - {Role.ADMIN}:
            raise TypeError(f"{cls.__name__} is opened by staff of an office: it cannot be national")

    def _handle_view(self, name: str, **kwargs: Any) -> ResponseReturnValue | None:
        """Flask-Admin's check before each view, then the confirmation that sensitive views ask for."""
        answered = super()._handle_view(name, **kwargs)
        if answered is None and name in self.step_up_views and not factor_is_recent():
            return ask_for_step_up()
        return answered

    def scope(self, query):
        """Restrict `query` (selecting this view's model) to the user's scope: every subclass says how."""
        raise NotImplementedError

    def render(self, template: str, **kwargs: Any) -> str:
        record = kwargs.get("model")
        if template == self.details_template and record is not None:
            kwargs.update(self.details_context(record))
        return super().render(template, **kwargs)

    def details_context(self, record: Any) -> dict[str, Any]:
        """What the details page of `record` shows beyond its columns: each screen says what."""
        return {}

    def get_export_value(self, model: Any, name: str) -> Any:
        return csv_cell(super().get_export_value(model, name))

    def get_query(self):
        return self.scope(super().get_query())

    def get_count_query(self):
        return self.scope(super().get_count_query())

    def _apply_search(self, query, count_query, joins, count_joins, search: str):
        """The screen's own search, if it has one, of the text given (its first 100 characters), among the
        records the list already keeps to the user's scope."""
        if self.search_condition is None:
            return super()._apply_search(query, count_query, joins, count_joins, search)
        text = search.strip()[:100]
        if text:
            condition = self.search_condition(text)
            query = query.filter(condition)
            count_query = count_query.filter(condition) if count_query is not None else None
        return query, count_query, joins, count_joins

    def _get_list_extra_args(self):
        """Flask-Admin's list arguments, with the page kept to what a list can have: a page past that, or
        below 0, would ask the database for an offset it refuses."""
        view_args = super()._get_list_extra_args()
        view_args.page = min(max(view_args.page or 0, 0), MAX_PAGE)
        return view_args

    def _get_list_filter_args(self):
        """Flask-Admin's filters from the query string, less an integer one that no INTEGER column can hold
        (PostgreSQL refuses to compare it): like a value Flask-Admin cannot read, it filters nothing."""
        filters = super()._get_list_filter_args()
        if filters is None:
            return None
        return [item for item in filters if _fits_integer_column(self._filters[item[0]], item[2])]

    def _get_filter_groups(self):
        """Draw filter options (offices, divisions, labels) per request, in the user's language."""
        self._refresh_filters_cache()
        return super()._get_filter_groups()

    def get_one(self, id: Any) -> Any:
        """Load a record in scope; a record out of scope is refused, audited, and answered 404."""
        record = self.get_query().filter(self.model.id == _as_int(id)).one_or_none()
        if record is None:
            exists = db.session.scalar(select(self.model.id).where(self.model.id == _as_int(id)))
            if exists is not None:
                refuse("out_of_scope", status=404, record_type=self.model.__tablename__, record_id=str(id))
            abort(404)
        return record


def _fits_integer_column(flt: Any, value: str) -> bool:
    if not isinstance(flt, (BaseIntFilter, BaseIntListFilter)):
        return True
    cleaned = flt.clean(value)
    return all(number in INT32 for number in (cleaned if isinstance(cleaned, list) else [cleaned]))


def _as_int(value: Any) -> int:
    try:
        return record_id(value)
    except (TypeError, ValueError):
        abort(404)


def audit_model_change(record: Any, is_created: bool) -> None:
    """Record what a staff screen changed on `record`, before and after, in the same transaction."""
    before, after = model_changes(record)
    db.session.flush()  # gives a new record its id; the change history must be read before this
    action = f"{record.__tablename__}.{'created' if is_created else 'updated'}"
    record_event(action, actor=reader(), record=record, before=None if is_created else before, after=after)


def model_changes(record: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The columns of `record` changed in this transaction: (before, after), JSON-safe."""
    before, after = {}, {}
    state = inspect(record)
    for attribute in state.mapper.column_attrs:
        history = state.attrs[attribute.key].history
        if not history.has_changes() or attribute.key == "updated_at":
            continue
        if attribute.key == "password_hash":
            after["password"] = "changed"  # noqa: S105  (a marker, never the value)
        else:
            before[attribute.key] = _json_safe(history.deleted[0] if history.deleted else None)
            after[attribute.key] = _json_safe(history.added[0] if history.added else None)
    # A form sets relationships (office, division); their keys are only written at the flush.
    for relationship in state.mapper.relationships:
        history = state.attrs[relationship.key].history
        if relationship.direction.name == "MANYTOONE" and history.has_changes():
            before[relationship.key] = _reference(history.deleted[0] if history.deleted else None)
            after[relationship.key] = _reference(history.added[0] if history.added else None)
    return before, after


def _reference(record: Any) -> Any:
    return None if record is None else getattr(record, "code", None) or str(record)


def _json_safe(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return getattr(value, "value", None) or str(value)


def way_back(value: Any, *pages: str) -> str | None:
    """`value` when it is the address of one of `pages` of this site (a queue page with its filters and page
    number, say), to go back to; None for anything else: another site, another screen, a fragment, a control
    character even %-encoded, or more than 2,000 characters."""
    if not isinstance(value, str) or not value or len(value) > 2000:
        return None
    plain = unquote(value)
    if odd_character(plain) or any(char in plain for char in "\\\t\r\n"):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme or parts.netloc or parts.fragment or parts.path not in pages:
        return None
    return value
