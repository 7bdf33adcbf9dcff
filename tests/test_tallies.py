"""Daily tallies of decisions: each decision counted on its day in Eastern time, with its reasons, in its own
transaction; decisions at the same moment all counted; and the tallies made again from the decisions match
those kept along the way."""

import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from backoffice.extensions import db
from backoffice.models import DecisionTally, Reason, ReasonTally, ReasonUse, StaffUser
from backoffice.workflows import decisions, tallies
from backoffice.workflows.decisions import FileOutcome
from tests.factories import create_staff, division, office, with_registry
from tests.helpers import race_as_staff, signalled_before_each_statement, with_division


def decide_at(instant: datetime, accepted: bool, reasons: list[str], office_code: str = "western") -> None:
    submission = with_registry(office_code)
    clerk = create_staff("clerk", office_code)
    decisions.claim(submission.id, clerk)
    decisions.decide(submission.id, clerk, accepted, reasons, now=instant)
    db.session.commit()


def counts() -> dict[tuple, tuple[int, int]]:
    rows = db.session.scalars(select(DecisionTally))
    return {
        (row.day, row.office_id, row.division_id, row.made_by): (row.accepted, row.rejected) for row in rows
    }


def reason_counts() -> dict[tuple, int]:
    rows = db.session.execute(
        select(ReasonTally, Reason.code).join(Reason, Reason.id == ReasonTally.reason_id)
    )
    return {
        (tally.day, tally.office_id, tally.division_id, tally.made_by, code): tally.decisions
        for tally, code in rows
    }


def test_a_decision_counts_on_its_day_in_eastern_time_with_each_of_its_reasons(app):
    # 03:30 UTC on 12 March is 23:30 on 11 March in Toronto (still standard time, UTC-5).
    decide_at(datetime(2026, 3, 12, 3, 30, tzinfo=UTC), False, ["R-TOC", "R-PAGES"])
    decide_at(datetime(2026, 3, 12, 4, 30, tzinfo=UTC), False, ["R-TOC"])
    decide_at(datetime(2026, 3, 12, 15, 0, tzinfo=UTC), True, [])
    decide_at(datetime(2026, 3, 12, 15, 0, tzinfo=UTC), True, [], office_code="central")

    western, central, rpd = office("western").id, office("central").id, division("RPD").id
    registry = ReasonUse.REGISTRY
    assert counts() == {
        (date(2026, 3, 11), western, rpd, registry): (0, 1),
        (date(2026, 3, 12), western, rpd, registry): (1, 1),
        (date(2026, 3, 12), central, rpd, registry): (1, 0),
    }
    assert reason_counts() == {
        (date(2026, 3, 11), western, rpd, registry, "R-TOC"): 1,
        (date(2026, 3, 11), western, rpd, registry, "R-PAGES"): 1,
        (date(2026, 3, 12), western, rpd, registry, "R-TOC"): 1,
    }


def test_a_decision_file_by_file_counts_once_with_the_reasons_of_its_rejected_files(app):
    submission = with_division(files=3)
    member = create_staff("division_member", "western", "RPD")
    decisions.claim(submission.id, member)
    first, second, third = submission.attachments
    outcomes = [
        FileOutcome(first.id, True),
        FileOutcome(second.id, False, ("D-LATE",)),
        FileOutcome(third.id, False, ("D-LATE",)),
    ]
    decisions.decide_by_file(submission.id, member, outcomes, now=datetime(2026, 7, 2, 16, 0, tzinfo=UTC))
    db.session.commit()

    division_counts = {key: value for key, value in counts().items() if key[3] is ReasonUse.DIVISION}
    assert division_counts == {
        (date(2026, 7, 2), office("western").id, division("RPD").id, ReasonUse.DIVISION): (1, 0)
    }
    assert [(key[4], n) for key, n in reason_counts().items() if key[3] is ReasonUse.DIVISION] == [
        ("D-LATE", 1)
    ]


def test_a_decision_refused_counts_nothing(app):
    submission = with_registry()
    clerk = create_staff("clerk", "western")
    decisions.claim(submission.id, clerk)
    with pytest.raises(decisions.Refused):
        decisions.decide(submission.id, clerk, False, [])
    db.session.rollback()
    assert counts() == {} and reason_counts() == {}


def test_the_tallies_made_again_from_the_decisions_are_those_kept_along_the_way(app):
    for instant, accepted, reasons in (
        (datetime(2026, 3, 12, 3, 30, tzinfo=UTC), False, ["R-TOC", "R-PAGES"]),
        (datetime(2026, 3, 12, 15, 0, tzinfo=UTC), False, ["R-TOC"]),
        (datetime(2026, 3, 12, 15, 0, tzinfo=UTC), True, []),
        (datetime(2026, 11, 1, 5, 30, tzinfo=UTC), True, []),  # 01:30 EDT, the night the clocks go back
        (datetime(2026, 11, 1, 6, 30, tzinfo=UTC), False, ["R-PAGES"]),  # 01:30 EST, the same day
    ):
        decide_at(instant, accepted, reasons)
    kept, kept_reasons = counts(), reason_counts()
    assert sum(accepted + rejected for accepted, rejected in kept.values()) == 5

    assert tallies.recount() == 5
    db.session.commit()
    assert counts() == kept and reason_counts() == kept_reasons

    # From a day on: the days before are left as they are, the days after made again.
    db.session.execute(DecisionTally.__table__.update().values(accepted=99))
    assert tallies.recount(since=date(2026, 3, 12)) == 4
    db.session.commit()
    assert counts()[date(2026, 3, 11), *next(iter(kept))[1:]] == (99, 1)
    assert {key: value for key, value in counts().items() if key[0] >= date(2026, 3, 12)} == {
        key: value for key, value in kept.items() if key[0] >= date(2026, 3, 12)
    }


def test_clerks_deciding_at_the_same_moment_are_all_counted(app):
    clerks = {}
    for _ in range(4):
        submission = with_registry()
        clerk = create_staff("clerk", "western")
        decisions.claim(submission.id, clerk)
        clerks[clerk.id] = submission.id
    db.session.commit()

    def reject(staff: StaffUser) -> None:
        decisions.decide(clerks[staff.id], staff, False, ["R-PAGES", "R-TOC"])

    assert race_as_staff(app, reject, list(clerks)) == ["won"] * 4
    db.session.remove()
    assert list(counts().values()) == [(0, 4)]
    assert sorted((key[4], n) for key, n in reason_counts().items()) == [("R-PAGES", 4), ("R-TOC", 4)]


def test_the_tallies_are_made_again_from_the_command_line(app):
    decide_at(datetime(2026, 3, 12, 15, 0, tzinfo=UTC), False, ["R-TOC"])
    kept = counts()
    db.session.execute(DecisionTally.__table__.delete())
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["recount-decision-tallies", "--since", "2026-03-01"])
    assert result.exit_code == 0, result.output
    assert "Decisions counted: 1." in result.output
    db.session.remove()
    assert counts() == kept
    refused = app.test_cli_runner().invoke(args=["recount-decision-tallies", "--since", "12 March"])
    assert refused.exit_code == 2 and "--since" in refused.output


def test_a_recount_while_a_decision_is_being_recorded_loses_nothing(app):
    instant = datetime(2026, 3, 12, 15, 0, tzinfo=UTC)
    decide_at(instant, False, ["R-TOC"])
    submission, clerk = with_registry(), create_staff("clerk", "western")
    decisions.claim(submission.id, clerk)
    db.session.commit()
    submission_id, clerk_id = submission.id, clerk.id
    recorded, recount_asking = threading.Event(), threading.Event()

    def record_a_decision() -> None:
        with app.app_context():
            staff = db.session.get(StaffUser, clerk_id)
            decisions.decide(submission_id, staff, False, ["R-TOC"], now=instant)
            recorded.set()  # counted in its tallies, not committed yet
            recount_asking.wait(timeout=30)  # the recount asks for its lock while this one holds it
            db.session.commit()
            db.session.remove()

    def recount() -> None:
        with app.app_context():
            recorded.wait(timeout=30)
            with signalled_before_each_statement(recount_asking):
                tallies.recount()
            db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=record_a_decision), threading.Thread(target=recount)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session.remove()
    assert list(counts().values()) == [(0, 2)]
    assert [(key[4], n) for key, n in reason_counts().items()] == [("R-TOC", 2)]
