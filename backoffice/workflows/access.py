"""Who may see what. Scoping is applied to queries, so lists, counts, details and exports agree.

Clerks and supervisors see their region's records; division members see their division's records
in their region; a supervisor without an office, and administrators, see the whole country.
"""

from sqlalchemy import Select, exists, select

from backoffice.models import (
    AuditEvent,
    Case,
    CounselOfRecord,
    JobRun,
    Notification,
    Registration,
    Role,
    StaffUser,
    Submission,
)

# Which roles may open each area of the back office.
AREAS: dict[str, frozenset[Role]] = {
    "cases": frozenset(Role),
    "counsel": frozenset(Role),
    "jobs": frozenset({Role.SUPERVISOR, Role.ADMIN}),
    "case_import": frozenset({Role.ADMIN}),
    "audit": frozenset({Role.SUPERVISOR, Role.ADMIN}),
    "messages": frozenset({Role.CLERK, Role.SUPERVISOR, Role.ADMIN}),
    "submissions": frozenset(Role),
    "registrations": frozenset({Role.CLERK, Role.SUPERVISOR, Role.ADMIN}),
    "portal_clients": frozenset({Role.ADMIN}),
    "staff": frozenset({Role.ADMIN}),
    "reference_data": frozenset({Role.ADMIN}),
    "dashboard": frozenset({Role.SUPERVISOR}),
}


def may_open(user: StaffUser, area: str) -> bool:
    return user.is_authenticated and user.role in AREAS[area]


def has_national_scope(user: StaffUser) -> bool:
    return user.role is Role.ADMIN or user.office_id is None


def scope_by_office_and_division(query: Select, user: StaffUser, office_id, division_id) -> Select:
    """Restrict a query on records kept by office and division (`office_id`, `division_id`: their columns) to
    those the user may see: their region, and their division for division members."""
    if has_national_scope(user):
        return query
    query = query.where(office_id == user.office_id)
    if user.role is Role.DIVISION_MEMBER:
        query = query.where(division_id == user.division_id)
    return query


def scope_cases(query: Select, user: StaffUser) -> Select:
    """Restrict a query that selects cases to those the user may see."""
    return scope_by_office_and_division(query, user, Case.office_id, Case.division_id)


def visible_case_ids(user: StaffUser) -> Select:
    return scope_cases(select(Case.id), user)


def scope_counsel(query: Select, user: StaffUser, counsel_id_column) -> Select:
    """Counsel are visible where they are (or were) of record on a case the user may see."""
    if has_national_scope(user):
        return query
    of_record_in_scope = exists().where(
        CounselOfRecord.counsel_id == counsel_id_column,
        CounselOfRecord.case_id.in_(visible_case_ids(user)),
    )
    return query.where(of_record_in_scope)


def scope_audit_events(query: Select, user: StaffUser) -> Select:
    """Regional supervisors see the events of their office: an event belongs to the office of the record it
    touches (see workflows.audit.record_event), whoever acted, so an administrator's change to another
    office's record stays out of their log."""
    if has_national_scope(user):
        return query
    return query.where(AuditEvent.office_id == user.office_id)


def scope_job_runs(query: Select, user: StaffUser) -> Select:
    """Regional supervisors see the jobs run from their office, with the rows those refused."""
    if has_national_scope(user):
        return query
    return query.where(JobRun.office_id == user.office_id)


def scope_notifications(query: Select, user: StaffUser) -> Select:
    """Messages are seen by the office they concern (the case's office)."""
    if has_national_scope(user):
        return query
    return query.where(Notification.office_id == user.office_id)


def scope_submissions(query: Select, user: StaffUser) -> Select:
    """Submissions are seen like their case: by region, and by division for division members."""
    return scope_by_office_and_division(query, user, Submission.office_id, Submission.division_id)


def scope_registrations(query: Select, user: StaffUser) -> Select:
    """Registrations are handled by an office: its clerks and supervisors see them; national scope sees all."""
    if has_national_scope(user):
        return query
    return query.where(Registration.office_id == user.office_id)
