"""Volume data: consistent records in every office and division, and screens that open on them."""

from sqlalchemy import and_, exists, func, select

from backoffice.devdata.volume import VOLUME_PASSWORD, staff_email
from backoffice.extensions import db
from backoffice.models import (
    Attachment,
    AttachmentDecision,
    AuditEvent,
    Case,
    CheckResultRecord,
    Counsel,
    CounselOfRecord,
    Decision,
    DecisionTally,
    Division,
    Office,
    PortalAccount,
    ReasonTally,
    Registration,
    Submission,
    SubmissionNote,
)
from backoffice.models.submission import decision_reasons
from tests.helpers import sign_in

SMALL = ("--submissions", "300", "--counsel", "100", "--cases", "200", "--seed", "5")


def invoke(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def count(query) -> int:
    return db.session.scalar(select(func.count()).select_from(query.subquery()))


def seed(app, *args: str) -> None:
    result = invoke(app, "seed-volume", *(args or SMALL))
    assert result.exit_code == 0, result.output


def test_seed_volume_makes_the_numbers_asked_for_in_every_office_and_division(app):
    seed(app)
    assert count(select(Submission.id)) == 300
    assert count(select(Counsel.id)) == 100
    assert count(select(Case.id)) == 200
    offices = db.session.scalar(select(func.count(Office.id)))
    assert count(select(Case.office_id, Case.division_id).distinct()) == offices * count(select(Division.id))
    queued = select(Submission.office_id, Submission.status).where(
        Submission.status.in_(["with_registry", "with_division"])
    )
    assert count(queued.distinct()) == 2 * offices
    assert count(select(Registration.status).distinct()) > 5


def test_every_submission_is_filed_on_its_case_by_counsel_of_record(app):
    seed(app)
    elsewhere = select(Submission.id).join(Case, Case.id == Submission.case_id)
    elsewhere = elsewhere.where(
        (Case.office_id != Submission.office_id) | (Case.division_id != Submission.division_id)
    )
    assert count(elsewhere) == 0
    of_record = exists().where(
        CounselOfRecord.case_id == Submission.case_id, CounselOfRecord.counsel_id == Submission.counsel_id
    )
    assert count(select(Submission.id).where(~of_record)) == 0
    own_account = exists().where(
        PortalAccount.id == Submission.portal_account_id, PortalAccount.counsel_id == Submission.counsel_id
    )
    assert count(select(Submission.id).where(~own_account)) == 0
    appeals = (
        select(Case.id).join(Division).where(Division.is_appeal.is_(True), Case.appeal_filed_on.is_(None))
    )
    assert count(appeals) == 0


def test_attachments_and_checks_agree_with_the_counts_kept_on_submissions(app):
    seed(app)
    files = (
        select(func.count(Attachment.id)).where(Attachment.submission_id == Submission.id).scalar_subquery()
    )
    assert count(select(Submission.id).where(~files.between(1, 5))) == 0
    for column, outcome in ((Submission.failed_checks, "failure"), (Submission.warning_checks, "warning")):
        stored = (
            select(func.count(CheckResultRecord.id))
            .where(CheckResultRecord.submission_id == Submission.id, CheckResultRecord.outcome == outcome)
            .scalar_subquery()
        )
        assert count(select(Submission.id).where(column != stored)) == 0
    unchecked = select(Attachment.id).where(
        Attachment.screened_at.is_not(None),
        ~exists().where(CheckResultRecord.attachment_id == Attachment.id),
    )
    assert count(unchecked) == 0
    screened = select(Submission.id).where(Submission.screening_outcome.is_not(None))
    assert count(screened) > 250
    assert count(screened.where(Submission.failed_checks > 0, Submission.screening_outcome != "failure")) == 0


def test_decided_submissions_have_their_decisions_with_reasons(app):
    seed(app)
    decided = select(Submission.id).where(Submission.status.in_(["accepted", "rejected"]))
    assert count(decided) > 100
    accepted_by_division = exists().where(
        Decision.submission_id == Submission.id, Decision.made_by == "division", Decision.accepted.is_(True)
    )
    accepted = select(Submission.id).where(Submission.status == "accepted")
    assert count(accepted.where(~accepted_by_division)) == 0
    rejection_with_reasons = exists().where(
        Decision.submission_id == Submission.id,
        Decision.accepted.is_(False),
        exists().where(decision_reasons.c.decision_id == Decision.id),
    )
    rejected = select(Submission.id).where(Submission.status == "rejected")
    assert count(rejected.where(~rejection_with_reasons)) == 0
    before_receipt = select(Decision.id).join(Submission).where(Decision.decided_at <= Submission.received_at)
    assert count(before_receipt) == 0
    other_files = (
        select(AttachmentDecision.id)
        .join(Decision, Decision.id == AttachmentDecision.decision_id)
        .join(Attachment, Attachment.id == AttachmentDecision.attachment_id)
        .where(Attachment.submission_id != Decision.submission_id)
    )
    assert count(other_files) == 0
    waiting = select(Submission.id).where(Submission.status.in_(["with_registry", "with_division"]))
    undecided = ~exists().where(Decision.submission_id == Submission.id, Decision.made_by == "division")
    assert count(waiting.where(undecided)) == count(waiting)
    # The dashboard's daily tallies count every decision and every reason given.
    tallied = select(func.sum(DecisionTally.accepted + DecisionTally.rejected))
    assert db.session.scalar(tallied) == count(select(Decision.id))
    reasons_tallied = select(func.sum(ReasonTally.decisions))
    assert db.session.scalar(reasons_tallied) == count(select(decision_reasons.c.decision_id))


def test_timelines_holds_and_resubmissions_are_recorded(app):
    seed(app)
    received = exists().where(
        AuditEvent.record_type == "submissions",
        AuditEvent.record_id == func.cast(Submission.id, db.String),
        AuditEvent.action == "submission.received",
    )
    assert count(select(Submission.id).where(~received)) == 0
    assert db.session.scalar(select(func.count(AuditEvent.id))) > 5 * 300
    hold_note = exists().where(
        SubmissionNote.submission_id == Submission.id, SubmissionNote.is_hold.is_(True)
    )
    assert count(select(Submission.id).where(Submission.held_at.is_not(None), ~hold_note)) == 0
    earlier = Submission.__table__.alias("earlier")
    resubmissions = select(Submission.id).join(earlier, earlier.c.id == Submission.resubmission_of_id)
    assert count(resubmissions) > 0
    wrong = resubmissions.where(
        (earlier.c.case_id != Submission.case_id)
        | (earlier.c.status != "rejected")
        | (earlier.c.received_at >= Submission.received_at)
    )
    assert count(wrong) == 0
    assert count(select(Submission.id).where(Submission.timeliness == "late")) > 0


def test_a_second_load_is_refused_unless_added_to(app):
    seed(app)
    refused = invoke(app, "seed-volume", *SMALL)
    assert refused.exit_code != 0 and "--add" in refused.output
    seed(app, "--add", "--submissions", "50", "--counsel", "0", "--cases", "0", "--seed", "6")
    assert count(select(Submission.id)) == 350
    assert count(select(Case.id)) == 200
    no_records = and_(Submission.id > 0, ~exists().where(Attachment.submission_id == Submission.id))
    assert count(select(Submission.id).where(no_records)) == 0


def test_the_help_gives_the_password_and_production_refuses_the_data(app):
    assert VOLUME_PASSWORD in invoke(app, "seed-volume", "--help").output
    app.config["ALLOW_DEMO_DATA"] = False
    result = invoke(app, "seed-volume", *SMALL)
    assert result.exit_code != 0 and "refused in production" in result.output
    assert count(select(Submission.id)) == 0


def test_a_volume_clerk_opens_the_registry_queue_and_a_submission(app, client):
    seed(app)
    office = db.session.scalar(select(Office).where(Office.code == "central"))
    response = sign_in(client, staff_email("clerk", office.code, 1), VOLUME_PASSWORD)
    assert response.status_code == 302
    queue = client.get("/admin/registry_queue/")
    assert queue.status_code == 200
    assert 'data-testid="queue-row"' in queue.get_data(as_text=True)
    decided = db.session.scalar(
        select(Submission.id)
        .where(Submission.office_id == office.id, Submission.status == "accepted")
        .limit(1)
    )
    assert client.get(f"/admin/submission/details/?id={decided}").status_code == 200
