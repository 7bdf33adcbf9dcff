"""One small state machine engine: allowed transitions, who may fire them, and the audit event of each.

Registrations and submissions each declare their transitions with it; nothing else sets their status.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from backoffice.models import Role, StaffUser
from backoffice.models.types import utcnow
from backoffice.workflows.audit import SYSTEM, record_event
from backoffice.workflows.concurrency import compare_and_set


@dataclass(frozen=True)
class Transition:
    sources: frozenset
    target: Any  # the status reached; None when the caller names it (going back after a hold)
    roles: frozenset[Role]  # empty: only the system (a job, the portal API) fires it


class TransitionRefused(Exception):
    pass


class ChangedMeanwhile(TransitionRefused):
    """The record's status changed between reading it and moving it (someone else moved it first)."""


class StateMachine:
    def __init__(
        self,
        name: str,
        transitions: dict[str, Transition],
        on_change: Callable | None = None,
        version: str | None = None,
    ) -> None:
        self.name = name
        self.transitions = transitions
        self.on_change = on_change
        self.version = version  # a timestamp column set at every move: moves to the same status differ too

    def may_fire(self, record: Any, transition: str, actor: StaffUser | None) -> bool:
        rule = self.transitions[transition]
        if record.status not in rule.sources:
            return False
        return actor.role in rule.roles if actor is not None else not rule.roles

    def allowed(self, record: Any, actor: StaffUser) -> list[str]:
        return [name for name in self.transitions if self.may_fire(record, name, actor)]

    def fire(
        self,
        record: Any,
        transition: str,
        actor: StaffUser | None = None,
        *,
        actor_label: str | None = None,
        target: Any = None,
        **details: Any,
    ) -> None:
        """Move `record` along one allowed transition, with its audit event in the same transaction.

        The move is a compare-and-set on the status read (and on `version`, a column that every move
        changes, when the machine has one), so that of two requests moving the same record at once, the
        second is refused with ChangedMeanwhile whatever the engine and whatever the caller locked.
        """
        if not self.may_fire(record, transition, actor):
            raise TransitionRefused(f"{self.name}.{transition} is not allowed from {record.status.value}")
        before = record.status
        expected, values = (
            {"status": before},
            {"status": self.transitions[transition].target if target is None else target},
        )
        if self.version is not None:
            expected[self.version], values[self.version] = getattr(record, self.version), utcnow()
        if not compare_and_set(record, expected, **values):
            raise ChangedMeanwhile(f"{self.name}.{transition}: {record.status.value} changed meanwhile")
        if self.on_change is not None:
            self.on_change(record, before)
        record_event(
            f"{self.name}.{transition}",
            record=record,
            actor=actor or actor_label or SYSTEM,
            before={"status": before.value},
            after={"status": record.status.value, **details},
        )
