"""The work queues' pages: what waits in a queue for a reader, filtered, searched and paged, with each
submission's counts of failed checks and warnings drawn in the same query."""

from dataclasses import dataclass
from datetime import timedelta
from math import ceil
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import joinedload
from werkzeug.datastructures import MultiDict

from backoffice.edge import record_id
from backoffice.extensions import db
from backoffice.models import (
    Attachment,
    Case,
    Counsel,
    DocumentKind,
    StaffUser,
    Submission,
    SubmissionStatus,
    Timeliness,
)
from backoffice.models.types import utcnow
from backoffice.workflows import access
from backoffice.workflows.cases import normalise_uci

PAGE_SIZE = 50
SORTS = ("received", "deadline")  # the first is the default: oldest received first


@dataclass(frozen=True)
class QueueItem:
    submission: Submission
    failed: int
    warnings: int
    age_days: int
    files: int = 0
    pages: int = 0


@dataclass(frozen=True)
class QueueFilters:
    office: int | None = None
    division: int | None = None
    kind: str = ""
    failed_only: bool = False
    late_only: bool = False
    holder: str = ""  # "me", "unassigned", "claimed" or "" (anyone)
    held: str = ""  # "yes", "no" or "" (either)
    older_than_days: int = 0
    resubmissions_only: bool = False
    search: str = ""
    sort: str = SORTS[0]

    @classmethod
    def from_args(cls, args, national: bool) -> "QueueFilters":
        kind = args.get("kind", "")
        holder = args.get("holder", "")
        held = args.get("held", "")
        sort = args.get("sort", "")
        return cls(
            office=args.get("office", type=record_id) if national else None,
            division=args.get("division", type=record_id),
            kind=kind if kind in {item.value for item in DocumentKind} else "",
            failed_only=args.get("failed") == "1",
            late_only=args.get("late") == "1",
            holder=holder if holder in ("me", "unassigned", "claimed") else "",
            held=held if held in ("yes", "no") else "",
            older_than_days=min(max(args.get("older_than", 0, type=int), 0), 3650),
            resubmissions_only=args.get("resubmissions") == "1",
            search=args.get("q", "").strip()[:100],
            sort=sort if sort in SORTS else SORTS[0],
        )

    @classmethod
    def of_page(cls, address: str | None, national: bool) -> "QueueFilters":
        """The filters of a queue page's address (the page a worker came from), known names only."""
        return cls.from_args(MultiDict(parse_qsl(urlsplit(address).query if address else "")), national)

    def as_args(self) -> dict[str, Any]:
        values = {
            "office": self.office,
            "division": self.division,
            "kind": self.kind,
            "failed": "1" if self.failed_only else "",
            "late": "1" if self.late_only else "",
            "holder": self.holder,
            "held": self.held,
            "older_than": self.older_than_days,
            "resubmissions": "1" if self.resubmissions_only else "",
            "q": self.search,
            "sort": self.sort if self.sort != SORTS[0] else "",
        }
        return {name: value for name, value in values.items() if value}


def queue_query(status: SubmissionStatus, filters: QueueFilters, user: StaffUser) -> Select:
    """The queue's submissions in the user's scope, oldest received first, or the nearest deadline first
    (those without a deadline last, oldest received first)."""
    query = select(Submission).where(Submission.status == status).options(joinedload(Submission.claimed_by))
    query = _filtered(access.scope_submissions(query, user), filters, user)
    if filters.sort == "deadline":
        query = query.order_by(Submission.deadline_on.is_(None), Submission.deadline_on)
    return query.order_by(Submission.received_at, Submission.id)


def _filtered(query: Select, filters: QueueFilters, user: StaffUser) -> Select:
    if filters.office:
        query = query.where(Submission.office_id == filters.office)
    if filters.division:
        query = query.where(Submission.division_id == filters.division)
    if filters.kind:
        query = query.where(Submission.document_kind == DocumentKind(filters.kind))
    if filters.failed_only:
        query = query.where(Submission.failed_checks > 0)
    if filters.late_only:
        query = query.where(Submission.timeliness == Timeliness.LATE)
    if filters.holder == "me":
        query = query.where(Submission.claimed_by_id == user.id)
    elif filters.holder == "unassigned":
        query = query.where(Submission.claimed_by_id.is_(None))
    elif filters.holder == "claimed":
        query = query.where(Submission.claimed_by_id.is_not(None))
    if filters.held == "yes":
        query = query.where(Submission.held_at.is_not(None))
    elif filters.held == "no":
        query = query.where(Submission.held_at.is_(None))
    if filters.older_than_days:
        query = query.where(Submission.received_at <= utcnow() - timedelta(days=filters.older_than_days))
    if filters.resubmissions_only:
        query = query.where(Submission.resubmission_of_id.is_not(None))
    if filters.search:
        query = query.where(search_condition(filters.search))
    return query


def search_condition(text: str):
    """A file number or counsel's name, in part; or a whole UCI, with or without its dashes.

    On PostgreSQL, trigram indexes (migration 0008) find the parts without reading every case and counsel;
    the queue's rows are then kept when their case or counsel is among those found.
    """
    pattern = f"%{text}%"
    matches = [
        Submission.case_id.in_(select(Case.id).where(Case.file_number.ilike(pattern))),
        Submission.counsel_id.in_(select(Counsel.id).where(Counsel.full_name.ilike(pattern))),
    ]
    uci = normalise_uci(text) or normalise_uci(_grouped(text))
    if uci:
        matches.append(Submission.case_id.in_(select(Case.id).where(Case.uci == uci)))
    return or_(*matches)


def _grouped(text: str) -> str:
    """Typed digits without dashes, grouped as a UCI is printed."""
    digits = text.strip()
    if len(digits) == 8:
        return f"{digits[:4]}-{digits[4:]}"
    return f"{digits[:2]}-{digits[2:6]}-{digits[6:]}" if len(digits) == 10 else digits


def queue_page(query: Select, page: int) -> tuple[list[QueueItem], int]:
    """One page of the queue and the number of pages: three statements, whatever the number of rows."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    now = utcnow()
    rows = list(db.session.scalars(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).unique())
    files = _files_and_pages([submission.id for submission in rows])
    items = [
        QueueItem(
            submission,
            submission.failed_checks,
            submission.warning_checks,
            (now - submission.received_at).days,
            *files.get(submission.id, (0, 0)),
        )
        for submission in rows
    ]
    return items, max(1, ceil(total / PAGE_SIZE))


def _files_and_pages(submission_ids: list[int]) -> dict[int, tuple[int, int]]:
    """How many files each submission holds and their pages in all (pages not counted yet count as none)."""
    if not submission_ids:
        return {}
    rows = db.session.execute(
        select(Attachment.submission_id, func.count(Attachment.id), func.sum(Attachment.page_count))
        .where(Attachment.submission_id.in_(submission_ids))
        .group_by(Attachment.submission_id)
    )
    return {submission_id: (files, pages or 0) for submission_id, files, pages in rows}
