"""Staff members' named filters of a work queue, each their own, kept per person and per queue.

A saved filter keeps the queue page's normalised query string (what QueueFilters.as_args() gives), never
what was typed, and is read back through the same parsing as any query string. Saving a name again
replaces that filter. The audit events name the filters that were set, but never the search text, which
may be a counsel's name or a UCI, nor the name given, which is free text.
"""

from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from backoffice.extensions import db
from backoffice.models import SavedFilter, StaffUser
from backoffice.workflows.audit import record_event
from backoffice.workflows.refusals import Refused

MAX_PER_QUEUE = 20
MAX_NAME_LENGTH = 80
MAX_QUERY_LENGTH = 1000  # the column's length
SEARCH_ARG = "q"


def query_string(args: dict[str, Any]) -> str:
    """The query string kept for a queue's normalised filter arguments."""
    return urlencode(args)


def arguments_of(saved: SavedFilter) -> MultiDict:
    """The kept query string as request arguments, to be parsed again like any query string."""
    return MultiDict(parse_qsl(saved.query))


def filters_of(staff: StaffUser, queue: str) -> list[SavedFilter]:
    """The user's saved filters of a queue, by name: one statement."""
    query = select(SavedFilter).where(SavedFilter.staff_id == staff.id, SavedFilter.queue == queue)
    return list(db.session.scalars(query.order_by(func.lower(SavedFilter.name), SavedFilter.id)))


def find_filter(filter_id: int, queue: str) -> SavedFilter | None:
    """A saved filter of this queue, whoever it belongs to: the caller checks `belongs_to`."""
    return db.session.scalar(
        select(SavedFilter).where(SavedFilter.id == filter_id, SavedFilter.queue == queue)
    )


def belongs_to(saved: SavedFilter, staff: StaffUser) -> bool:
    return saved.staff_id == staff.id


def checked_name(name: str) -> str:
    """The name with its spaces tidied; refused when empty, too long or holding control characters."""
    name = " ".join(name.split())
    if not name:
        raise Refused(_l("Give the filter a name."))
    if len(name) > MAX_NAME_LENGTH:
        raise Refused(_l("A filter's name has at most %(count)d characters.", count=MAX_NAME_LENGTH))
    if not name.isprintable():
        raise Refused(_l("A filter's name cannot hold control characters."))
    return name


def save_filter(staff: StaffUser, queue: str, name: str, args: dict[str, Any]) -> tuple[SavedFilter, bool]:
    """Keep the filter under its name, replacing the user's filter of that name; True when it replaced one.

    Refused with Refused; the caller then rolls the transaction back.
    """
    name = checked_name(name)
    if not args:
        raise Refused(_l("Choose a filter first: the whole queue needs no saved filter."))
    query = query_string(args)
    if len(query) > MAX_QUERY_LENGTH:
        raise Refused(_l("This filter is too long to save; shorten the search."))
    existing = db.session.scalar(
        select(SavedFilter).where(
            SavedFilter.staff_id == staff.id, SavedFilter.queue == queue, SavedFilter.name == name
        )
    )
    if existing is not None:
        before = _described(queue, existing.query)
        existing.query = query
        record_event(
            "saved_filter.replaced",
            record=existing,
            actor=staff,
            office_id=staff.office_id,
            before=before,
            after=_described(queue, query),
        )
        return existing, True
    return _create(staff, queue, name, query), False


def _create(staff: StaffUser, queue: str, name: str, query: str) -> SavedFilter:
    count = db.session.scalar(
        select(func.count()).where(SavedFilter.staff_id == staff.id, SavedFilter.queue == queue)
    )
    if count >= MAX_PER_QUEUE:
        raise Refused(
            _l(
                "You have %(count)d saved filters in this queue, the most allowed: delete one first.",
                count=MAX_PER_QUEUE,
            )
        )
    saved = SavedFilter(staff_id=staff.id, queue=queue, name=name, query=query)
    db.session.add(saved)
    try:
        db.session.flush()
    except IntegrityError:  # the same name saved at the same moment, from another tab; the caller rolls back
        raise Refused(_l("A filter of this name was saved just now; try again.")) from None
    record_event(
        "saved_filter.created",
        record=saved,
        actor=staff,
        office_id=staff.office_id,
        after=_described(queue, query),
    )
    return saved


def delete_filter(staff: StaffUser, saved: SavedFilter) -> None:
    if not belongs_to(saved, staff):
        raise Refused(_l("This saved filter is not yours."))
    record_event(
        "saved_filter.deleted",
        record=saved,
        actor=staff,
        office_id=staff.office_id,
        before=_described(saved.queue, saved.query),
    )
    db.session.delete(saved)


def _described(queue: str, query: str) -> dict[str, Any]:
    """What the audit log keeps of a filter: its queue arguments, with the search text left out."""
    args = dict(parse_qsl(query))
    searched = args.pop(SEARCH_ARG, None) is not None
    return {"queue": queue, "filters": args, "search": searched}
