"""Whether a document came in on time: the division's deadline before the hearing, in the office's local time.

The rules are rows of `document_rules` (with their citations). A document is on time when it is received,
in the handling office's local time, no later than the last day the rule allows (N days before the hearing).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from backoffice.extensions import db
from backoffice.models import DocumentKind, DocumentRule, Timeliness

EASTERN = ZoneInfo("America/Toronto")


@dataclass(frozen=True)
class Deadline:
    rule: DocumentRule | None
    last_day: date | None
    timeliness: Timeliness


def find_rule(division_id: int, kind: DocumentKind, purpose: str) -> DocumentRule | None:
    """The narrowest rule for this kind of document: its purpose's rule, else the general one."""
    rules = db.session.scalars(
        select(DocumentRule).where(
            DocumentRule.division_id == division_id,
            DocumentRule.document_kind == kind,
            DocumentRule.purpose.in_({purpose, ""}),
        )
    ).all()
    return next((rule for rule in rules if rule.purpose == purpose), None) or next(
        (rule for rule in rules if rule.purpose == ""), None
    )


def judge(
    rule: DocumentRule | None, hearing_on: date | None, received_at: datetime, zone: ZoneInfo
) -> Deadline:
    if rule is None or rule.days_before_hearing is None or hearing_on is None:
        return Deadline(rule, None, Timeliness.NO_DEADLINE)
    last_day = hearing_on - timedelta(days=rule.days_before_hearing)
    on_time = received_at.astimezone(zone).date() <= last_day
    return Deadline(rule, last_day, Timeliness.ON_TIME if on_time else Timeliness.LATE)


def end_of_day(day: date, zone: ZoneInfo) -> datetime:
    """The last instant of a local day (for showing a deadline as a time)."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=zone) - timedelta(microseconds=1)


def in_eastern(instant: datetime) -> datetime:
    return instant.astimezone(EASTERN)


def eastern_day(instant: datetime) -> date:
    """The day an instant falls on in Eastern time, the day of the My Case timestamp."""
    return instant.astimezone(EASTERN).date()


def eastern_midnight(day: date) -> datetime:
    """The instant an Eastern day begins."""
    return datetime.combine(day, time(), tzinfo=EASTERN)
