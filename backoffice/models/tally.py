"""Daily tallies of decisions: how many registry and the divisions made each day, and with which reasons.

They are kept as each decision is made (`workflows.tallies`), so that the supervisors' dashboard reads a
row per day, office, division and queue (and reason) instead of every decision of its window. The day is
the decision's day in Eastern time, like every day on the dashboard.
"""

from datetime import date

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from backoffice.extensions import db
from backoffice.models.submission import ReasonUse
from backoffice.models.types import str_enum


class DayOfAQueue:
    """What a tally counts for: one day (Eastern), office, division and queue (who decided). These come
    first in each tally's columns and primary key (its counts have sort_order=1), as the migration made them."""

    day: Mapped[date] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), primary_key=True)
    division_id: Mapped[int] = mapped_column(ForeignKey("divisions.id"), primary_key=True)
    made_by: Mapped[ReasonUse] = mapped_column(str_enum(ReasonUse, "decision_maker"), primary_key=True)


class DecisionTally(DayOfAQueue, db.Model):
    """Decisions one queue made on one day for one office and division, accepted and rejected."""

    __tablename__ = "decision_tallies"

    accepted: Mapped[int] = mapped_column(default=0, sort_order=1)
    rejected: Mapped[int] = mapped_column(default=0, sort_order=1)


class ReasonTally(DayOfAQueue, db.Model):
    """How many of those decisions gave one reason (for the whole submission or for one of its files)."""

    __tablename__ = "reason_tallies"

    reason_id: Mapped[int] = mapped_column(ForeignKey("reasons.id"), primary_key=True, sort_order=1)
    decisions: Mapped[int] = mapped_column(default=0, sort_order=1)
