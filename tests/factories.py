"""Test data: plain functions that create records the way the application would."""

import itertools
from datetime import date

from sqlalchemy import select

from backoffice.extensions import db
from backoffice.models import (
    Case,
    CaseStatus,
    Counsel,
    CounselKind,
    CounselOfRecord,
    Division,
    Language,
    Office,
    PortalAccount,
    Role,
    StaffUser,
    Submission,
)
from backoffice.workflows.accounts import create_staff_user

PASSWORD = "correct horse battery staple"
_serial = itertools.count(10000)


def office(code: str) -> Office:
    return db.session.scalar(select(Office).where(Office.code == code))


def division(code: str) -> Division:
    return db.session.scalar(select(Division).where(Division.code == code))


def create_staff(
    role: str, office_code: str = "western", division_code: str | None = None, **kwargs
) -> StaffUser:
    role = Role(role)
    if role is Role.DIVISION_MEMBER and division_code is None:
        division_code = "RPD"
    number = next(_serial)
    user = create_staff_user(
        email=kwargs.pop("email", f"{role.value}.{office_code}.{number}@staff.example"),
        full_name=kwargs.pop("full_name", f"Test {role.value} {number}"),
        password=kwargs.pop("password", PASSWORD),
        role=role,
        office_code=office_code,
        division_code=division_code,
        created_by="test",
        **kwargs,
    )
    db.session.commit()
    return user


OFFICE_LETTERS = {"western": "V", "central": "T", "eastern": "M"}


def create_case(office_code: str = "western", division_code: str = "RPD", **kwargs) -> Case:
    letter = OFFICE_LETTERS[office_code]
    case = Case(
        file_number=kwargs.pop("file_number", f"{letter}B5-{next(_serial) % 100000:05d}"),
        office=office(office_code),
        division=division(division_code),
        status=kwargs.pop("status", CaseStatus.ACTIVE),
        **kwargs,
    )
    db.session.add(case)
    db.session.commit()
    return case


def create_counsel(**kwargs) -> Counsel:
    number = next(_serial)
    counsel = Counsel(
        external_id=kwargs.pop("external_id", f"C-{number}"),
        full_name=kwargs.pop("full_name", f"Counsel {number}"),
        kind=kwargs.pop("kind", CounselKind.LAWYER),
        regulator=kwargs.pop("regulator", "Law Society of Ontario"),
        membership_number=kwargs.pop("membership_number", f"LSO-{number}"),
        email=kwargs.pop("email", f"counsel{number}@law.example"),
        preferred_language=kwargs.pop("preferred_language", Language.ENGLISH),
        **kwargs,
    )
    db.session.add(counsel)
    db.session.commit()
    return counsel


def make_counsel_of_record(case: Case, counsel: Counsel) -> CounselOfRecord:
    link = CounselOfRecord(case=case, counsel=counsel, started_on=date(2026, 1, 5))
    db.session.add(link)
    db.session.commit()
    return link


def create_portal_client(name: str | None = None) -> str:
    """A portal client; returns its bearer token."""
    from backoffice.workflows.portal import create_portal_client as create

    _client, token = create(name or f"Portal {next(_serial)}")
    db.session.commit()
    return token


def create_portal_account(counsel: Counsel) -> PortalAccount:
    account = PortalAccount(
        counsel=counsel, sign_in_provider="gckey", sign_in_subject=f"gckey-{next(_serial)}"
    )
    db.session.add(account)
    db.session.commit()
    return account


def create_filer(office_code: str = "western", division_code: str = "RPD", **case_fields) -> PortalAccount:
    """Counsel of record on a new active case, with a portal account: who submits documents."""
    case = create_case(office_code, division_code, **case_fields)
    counsel = create_counsel()
    make_counsel_of_record(case, counsel)
    account = create_portal_account(counsel)
    account.case = case  # for the test's convenience only
    return account


def pdf_bytes(pages: int = 1, text: str = "A document for the Board.") -> bytes:
    """A small real PDF made with reportlab, each page numbered in its footer."""
    from backoffice.devservices.sample_pdfs import PageSpec, build_pdf

    return build_pdf([PageSpec(footer=f"Page {n} of {pages}", lines=[text]) for n in range(1, pages + 1)])


def create_submission(
    account: PortalAccount,
    kind: str = "written_submission",
    files: list[tuple[str, bytes]] | None = None,
    **fields,
):
    """A submission received the way the API receives one: files made durable, then the rows."""

    from backoffice.integrations.storage import document_store
    from backoffice.models import PortalClient
    from backoffice.workflows import submissions
    from backoffice.workflows.intake import KeptAttachment

    store = document_store()
    kept = []
    for filename, content in files or [("document.pdf", pdf_bytes())]:
        incoming = store.receive()
        incoming.write(content)
        kept.append(KeptAttachment(filename, incoming.keep()))
    client = db.session.scalar(select(PortalClient).limit(1))
    if client is None:
        create_portal_client("Portal (tests)")
        client = db.session.scalar(select(PortalClient).limit(1))
    request = submissions.check_submission_request(
        {
            "portal_account_id": account.public_id,
            "case_file_number": account.case.file_number,
            "document_kind": kind,
            "subject": fields.pop("subject", "A subject"),
            **fields,
        }
    )
    submission = submissions.record_submission(request, kept, client, submissions.now())
    db.session.commit()
    return submission


FORM_VALUES = {
    "full_name": "Grace Li",
    "regulator": "Law Society of British Columbia",
    "membership_number": "LSBC-30412",
    "email": "grace.li@law.example",
    "mobile": "604-555-0199",
    "postal_address": "800 Hornby Street, Vancouver BC V6Z 2C5",
    "preferred_language": "en",
}


def registration_with_code(office_code: str = "western", **counsel_fields):
    """A registration taken through the real workflow to "code issued"; returns (registration, code)."""
    from datetime import datetime, timedelta

    from backoffice.models import IdentityDocument, InvitationChannel
    from backoffice.workflows.registration import machine as registration
    from backoffice.workflows.registration import meetings, returned_form
    from backoffice.workflows.registration.invitation_codes import issue_invitation_code

    case = create_case(office_code, "RPD")
    counsel = create_counsel(**counsel_fields)
    make_counsel_of_record(case, counsel)
    clerk = create_staff("clerk", office_code)
    record = registration.start_registration(counsel, InvitationChannel.EMAIL, clerk)
    values = {**FORM_VALUES, "email": counsel.email, "file_numbers": case.file_number}
    assert returned_form.record_form(record, values, clerk) == []
    meetings.schedule_meeting(record, datetime.now() + timedelta(days=3), clerk)
    meetings.enter_link_by_hand(record, "https://irb-cisr.webex.example/meet/factory", "2634 555 0100", clerk)
    meetings.record_identity(
        record, clerk, "verified", IdentityDocument.PASSPORT, "Recorded before the meeting's start."
    )
    code = issue_invitation_code(record, clerk)
    db.session.commit()
    return record, code


def with_registry(office: str = "western", division: str = "RPD", **case_fields) -> Submission:
    """A submission screened and waiting in the registry queue of its office."""
    from backoffice.models import CheckOutcome
    from backoffice.workflows import submissions

    submission = create_submission(create_filer(office, division, **case_fields))
    for transition in ("start_screening", "finish_screening"):
        submissions.fire(submission, transition)
    submission.screening_outcome = CheckOutcome.PASS  # as screening leaves it, with no result stored
    db.session.commit()
    return submission
