"""Demonstration data: staff of every role in every office, cases in every division, and counsel.

Loaded once; running it again adds nothing and prints the same sign-ins. Refused in production.
"""

from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from backoffice.devservices import sample_pdfs
from backoffice.extensions import db
from backoffice.integrations.storage import document_store
from backoffice.models import (
    Case,
    CaseStatus,
    Channel,
    Counsel,
    CounselKind,
    CounselOfRecord,
    Division,
    IdentityDocument,
    InvitationChannel,
    InvitationCode,
    Language,
    Office,
    PortalAccount,
    PortalClient,
    Registration,
    RegistrationStatus,
    Role,
    StaffUser,
    Submission,
)
from backoffice.models.types import utcnow
from backoffice.workflows import submissions
from backoffice.workflows.accounts import create_staff_user
from backoffice.workflows.audit import COMMAND_LINE, record_event
from backoffice.workflows.intake import KeptAttachment
from backoffice.workflows.message_templates import TEMPLATES
from backoffice.workflows.notifications import counsel_values, queue_message
from backoffice.workflows.portal import cases_of_account, create_portal_client, revoke_portal_client
from backoffice.workflows.registration import machine as registration
from backoffice.workflows.registration import meetings, returned_form
from backoffice.workflows.registration.invitation_codes import issue_invitation_code

DEMO_PASSWORD = "Demo-password-2026"  # noqa: S105  (demonstration accounts, refused in production)
DEMO_DOMAIN = "demo.irb-backoffice.example"
OFFICE_LETTERS = {"western": "V", "central": "T", "eastern": "M"}
DIVISION_LETTERS = {"RPD": "B", "RAD": "C", "IAD": "A"}

DEMO_COUNSEL = [
    ("C-1001", "Amélie Tremblay", CounselKind.LAWYER, "Barreau du Québec", "BQ-204518", Language.FRENCH),
    ("C-1002", "Daniel Okafor", CounselKind.LAWYER, "Law Society of Ontario", "LSO-58211K", Language.ENGLISH),
    ("C-1003", "Priya Sandhu", CounselKind.LICENSED_CONSULTANT, "CICC", "R512345", Language.ENGLISH),
    (
        "C-1004",
        "Jean-François Roy",
        CounselKind.QUEBEC_NOTARY,
        "Chambre des notaires du Québec",
        "CNQ-88123",
        Language.FRENCH,
    ),
    (
        "C-1005",
        "Grace Li",
        CounselKind.LAWYER,
        "Law Society of British Columbia",
        "LSBC-30412",
        Language.ENGLISH,
    ),
    ("C-1006", "Samuel Mensah", CounselKind.UNPAID, None, None, None),
    ("C-1007", "Nadia Haddad", CounselKind.LICENSED_CONSULTANT, "CICC", "R498877", Language.FRENCH),
    ("C-1008", "Robert MacLeod", CounselKind.LAWYER, "Law Society of Alberta", "LSA-77120", Language.ENGLISH),
]


def demo_email(role: Role, office: str, division: str | None = None) -> str:
    name = role.value.replace("_", "-") + (f"-{division.lower()}" if division else "")
    return f"{name}.{office}@{DEMO_DOMAIN}"


def _demo_staff_plan() -> list[dict[str, Any]]:
    plan = [{"role": Role.SUPERVISOR, "office": "national", "division": None}]
    for office in OFFICE_LETTERS:
        plan += [
            {"role": Role.CLERK, "office": office, "division": None},
            {"role": Role.SUPERVISOR, "office": office, "division": None},
            {"role": Role.ADMIN, "office": office, "division": None},
        ]
        plan += [
            {"role": Role.DIVISION_MEMBER, "office": office, "division": code}
            for code in ("RPD", "RAD", "ID", "IAD")
        ]
    return plan


def load_demo_data() -> dict[str, Any]:
    """Create the demonstration data unless it is there, and return what a tester needs."""
    if not current_app.config["ALLOW_DEMO_DATA"]:
        raise RuntimeError("Demonstration data is refused in production.")
    plan = _demo_staff_plan()
    if db.session.scalar(select(StaffUser.id).where(StaffUser.email == demo_email(**plan[1]))) is None:
        _create_staff(plan)
        _create_cases_and_counsel()
        _queue_demo_messages()
        _create_portal_accounts()
        _create_demo_registrations()
        record_event("demo_data.loaded", actor=COMMAND_LINE)
        db.session.commit()
    token = _fresh_portal_token()
    if db.session.scalar(select(Submission.id).limit(1)) is None:
        _create_demo_submissions()
    codes = _fresh_invitation_codes()
    db.session.commit()
    return {"portal_token": token, **_summary(plan), "invitation_codes": codes}


# One demonstration registration at each stage of the pipeline, for counsel who are not yet registered.
DEMO_STAGES = [
    "requested",
    "invited",
    "form_incomplete",
    "form_received",
    "verification_scheduled",
    "verification_missed",
    "identity_verified",
    "identity_not_confirmed",
    "code_issued",
    "code_issued",
    "code_expired",
    "withdrawn",
    "on_hold",
]
STAGE_NAMES = [
    ("Hélène", "Lavoie"),
    ("Omar", "Farouk"),
    ("Siobhan", "Kelly"),
    ("Thanh", "Pham"),
    ("Lucas", "Pelletier"),
    ("Zainab", "Yusuf"),
    ("Marie-Ève", "Dubé"),
    ("Arjun", "Mehta"),
    ("Chloé", "Girard"),
    ("Ben", "Okonkwo"),
    ("Isabelle", "Moreau"),
    ("Tomasz", "Nowak"),
    ("Rachel", "Cohen"),
]


def _create_demo_registrations() -> None:
    from datetime import datetime

    offices = ["western", "central", "eastern"]
    active_cases = db.session.scalars(
        select(Case).where(Case.status == CaseStatus.ACTIVE).order_by(Case.id)
    ).all()
    for number, (stage, (first, last)) in enumerate(zip(DEMO_STAGES, STAGE_NAMES, strict=True)):
        office = offices[number % 3]
        case = next(case for case in active_cases[number:] + active_cases if case.office.code == office)
        counsel = _create_counsel(
            f"C-2{number:03d}",
            f"{first} {last}",
            CounselKind.LAWYER,
            "Law Society",
            f"LS-{7100 + number}",
            Language.ENGLISH if number % 2 else Language.FRENCH,
        )
        db.session.add(
            CounselOfRecord(case=case, counsel=counsel, started_on=utcnow().date() - timedelta(days=60))
        )
        db.session.flush()
        clerk = db.session.scalar(select(StaffUser).where(StaffUser.email == demo_email(Role.CLERK, office)))
        requested = stage == "requested"
        record = registration.start_registration(
            counsel,
            InvitationChannel.PHONE if requested else InvitationChannel.EMAIL,
            clerk,
            requested=requested,
        )
        if stage in ("requested", "invited"):
            continue
        values = registration_form_values(counsel, case)
        if stage == "form_incomplete":
            returned_form.record_form(record, {**values, "mobile": ""}, clerk)
            continue
        returned_form.record_form(record, values, clerk)
        if stage == "withdrawn":
            meetings.withdraw(record, clerk)
            continue
        if stage in ("form_received", "on_hold"):
            if stage == "on_hold":
                meetings.put_on_hold(record, clerk)
            continue
        local = datetime.combine(
            utcnow().date() + timedelta(days=2 + number % 5), datetime.min.time()
        ).replace(hour=10)
        meetings.schedule_meeting(record, local, clerk)
        if stage == "verification_scheduled":
            continue  # the worker makes it in Webex (the emulator under `make run`)
        meetings.enter_link_by_hand(record, f"https://irb-cisr.webex.example/meet/demo-{number}", "", clerk)
        outcome = {"verification_missed": "missed", "identity_not_confirmed": "not_confirmed"}.get(
            stage, "verified"
        )
        # The demo's meetings are days away: their outcomes are recorded as made up ahead of time.
        meetings.record_identity(record, clerk, outcome, IdentityDocument.PASSPORT, "Demonstration data.")
        if stage in ("code_issued", "code_expired"):
            issue_invitation_code(record, clerk, demo=True)
        if stage == "code_expired":
            code = db.session.scalar(
                select(InvitationCode).where(InvitationCode.registration_id == record.id)
            )
            code.revoked_at = code.expired_at = utcnow()
            registration.MACHINE.fire(record, "expire_invitation_code")
    for account in db.session.scalars(select(PortalAccount)):
        db.session.add(
            Registration(
                counsel_id=account.counsel_id,
                office=account.counsel.cases_of_record[0].case.office,
                channel=InvitationChannel.EMAIL,
                status=registration.R.ACTIVE,
            )
        )


def _ascii(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def registration_form_values(counsel: Counsel, case: Case) -> dict[str, str]:
    return {
        "full_name": counsel.full_name,
        "regulator": counsel.regulator or "",
        "membership_number": counsel.membership_number or "",
        "email": counsel.email or "",
        "mobile": counsel.mobile or "",
        "postal_address": counsel.postal_address or "",
        "preferred_language": counsel.preferred_language.value if counsel.preferred_language else "en",
        "file_numbers": case.file_number,
    }


def _fresh_invitation_codes() -> list[dict[str, str]]:
    """Only hashes are kept, so each run issues new demo codes (revoking the earlier ones) and returns them."""

    waiting = db.session.scalars(
        select(Registration)
        .where(
            Registration.status == RegistrationStatus.CODE_ISSUED,
            Registration.invitation_codes.any(InvitationCode.is_demo.is_(True)),
        )
        .order_by(Registration.id)
    ).all()
    fresh = []
    for record in waiting:
        clerk = db.session.scalar(
            select(StaffUser).where(StaffUser.email == demo_email(Role.CLERK, record.office.code))
        )
        fresh.append(
            {
                "code": issue_invitation_code(record, clerk, reissue=True, demo=True),
                "counsel": record.counsel.full_name,
            }
        )
    return fresh


DEMO_CLIENT = "My Case portal (demo)"


def _fresh_portal_token() -> str:
    """Only hashes of tokens are kept, so each run revokes the earlier demo clients and issues a new token."""

    earlier = db.session.scalars(select(PortalClient).where(PortalClient.name.startswith(DEMO_CLIENT))).all()
    for client in earlier:
        revoke_portal_client(client)
    _client, token = create_portal_client(f"{DEMO_CLIENT} {len(earlier) + 1}")
    return token


def _create_portal_accounts() -> None:
    """Every demo counsel already has a portal account, as if they had registered."""
    for counsel in db.session.scalars(select(Counsel).order_by(Counsel.id)):
        db.session.add(
            PortalAccount(
                counsel=counsel, sign_in_provider="gckey", sign_in_subject=f"demo-{counsel.external_id}"
            )
        )
    db.session.flush()


# Kind, subject and the document: a clean disclosure, one missing its table of contents, a notice of appeal
# sent by mistake, and a letter mentioning another file, so that the checks show each outcome.
DEMO_SUBMISSIONS = [
    (
        "disclosure",
        "Country conditions evidence",
        lambda: sample_pdfs.disclosure_bundle([("NDP item 2.1", 6), ("NDP item 7.3", 4)]),
    ),
    (
        "disclosure",
        "Identity documents",
        lambda: sample_pdfs.disclosure_bundle([("Passport", 2), ("Birth certificate", 2)], with_toc=False),
    ),
    ("written_submission", "Notice of appeal", lambda: sample_pdfs.notice_of_appeal("fr")),
    (
        "disclosure",
        "Disclosure in three files",  # for the division's decision file by file
        lambda: [
            ("psychological-report.pdf", sample_pdfs.disclosure_bundle([("Psychological report", 5)])),
            ("police-report.pdf", sample_pdfs.disclosure_bundle([("Police report", 3)])),
            ("news-articles.pdf", sample_pdfs.disclosure_bundle([("News articles", 4)])),
        ],
    ),
    (
        "application",
        "Change of address",
        lambda: sample_pdfs.form_document(
            ["Notice of change of address", "Application to change the date or time of a proceeding"]
        ),
    ),
]


def _create_demo_submissions() -> None:

    store = document_store()
    client = db.session.scalar(select(PortalClient).where(PortalClient.revoked_at.is_(None)))
    cases = db.session.scalars(
        select(Case)
        .join(Division)
        .where(Case.status == CaseStatus.ACTIVE, Division.code == "RPD")
        .order_by(Case.id)
    ).all()
    for (kind, subject, make), case in zip(DEMO_SUBMISSIONS, cases * 2, strict=False):
        files = make()
        if isinstance(files, bytes):
            files = [(f"{subject.lower().replace(' ', '-')}.pdf", files)]
        kept = []
        for filename, content in files:
            incoming = store.receive()
            incoming.write(content)
            kept.append(KeptAttachment(filename, incoming.keep()))
        account = db.session.scalar(
            select(PortalAccount).where(PortalAccount.counsel_id == case.counsel_of_record[0].counsel_id)
        )
        request = submissions.check_submission_request(
            {
                "portal_account_id": account.public_id,
                "case_file_number": case.file_number,
                "document_kind": kind,
                "subject": subject,
            }
        )
        submissions.record_submission(request, kept, client, submissions.now())


FIRST_NAMES = (
    "Claire",
    "Marc",
    "Aisha",
    "Kevin",
    "Sophie",
    "Jonathan",
    "Mei",
    "Olivier",
    "Fatima",
    "Ravi",
    "Julie",
)
LAST_NAMES = (
    "Gagnon",
    "Singh",
    "Wong",
    "Bouchard",
    "Campbell",
    "Nguyen",
    "Côté",
    "Ahmed",
    "Martin",
    "Roy",
    "Fraser",
)


def demo_staff_name(number: int) -> str:
    """The name of the demo's staff member `number`: a name of its own for the first 121, since testers tell
    people apart by name (the last name steps on by one each time the first names come round again)."""
    first, rounds = number % len(FIRST_NAMES), number // len(FIRST_NAMES)
    return f"{FIRST_NAMES[first]} {LAST_NAMES[(first * 4 + rounds) % len(LAST_NAMES)]}"


def demo_names() -> list[str]:
    """Every person the demo makes up: its staff, its counsel and the counsel of its registrations."""
    staff = [demo_staff_name(number) for number in range(len(_demo_staff_plan()))]
    return staff + [row[1] for row in DEMO_COUNSEL] + [f"{first} {last}" for first, last in STAGE_NAMES]


def _create_staff(plan: list[dict[str, Any]]) -> None:
    for number, person in enumerate(plan):
        office, division, role = person["office"], person["division"], person["role"]
        create_staff_user(
            email=demo_email(role, office, division),
            full_name=demo_staff_name(number),
            password=DEMO_PASSWORD,
            role=role,
            office_code=office,
            division_code=division,
            preferred_language="fr" if office == "eastern" else "en",
            created_by=COMMAND_LINE,
        )


def _create_cases_and_counsel() -> None:
    offices = {office.code: office for office in db.session.scalars(select(Office))}
    divisions = list(db.session.scalars(select(Division).order_by(Division.id)))
    counsel = [_create_counsel(*row) for row in DEMO_COUNSEL]
    today = utcnow().date()
    serial = 1000
    for office_code, letter in OFFICE_LETTERS.items():
        for division in divisions:
            for index in range(3):
                serial += 1
                case = Case(
                    file_number=_file_number(letter, division.code, serial),
                    division=division,
                    office=offices[office_code],
                    status=CaseStatus.CLOSED if index == 2 else CaseStatus.ACTIVE,
                    uci=f"{serial:04d}-{serial * 7 % 10000:04d}",
                    next_hearing_on=today + timedelta(days=7 + 9 * index + serial % 11),
                    appeal_filed_on=(today - timedelta(days=40))
                    if division.is_appeal and index != 1
                    else None,
                )
                db.session.add(case)
                for person in (counsel[serial % len(counsel)], counsel[(serial + 3) % len(counsel)])[
                    : 1 + index % 2
                ]:
                    db.session.add(
                        CounselOfRecord(case=case, counsel=person, started_on=today - timedelta(days=90))
                    )


def _queue_demo_messages() -> None:
    """A few messages, so that the outbox shows each channel: emails and an SMS are sent by the
    worker as soon as it runs; a letter waits to be printed."""

    db.session.flush()
    first_case_per_office = {}
    for case in db.session.scalars(select(Case).order_by(Case.id)):
        first_case_per_office.setdefault(case.office_id, case)
    for case in first_case_per_office.values():
        counsel = case.counsel_of_record[0].counsel
        values = counsel_values(counsel, case.office)
        queue_message("invitation", values, counsel=counsel, case=case)
        if case.office.code == "western":
            queue_message("invitation", values, counsel=counsel, case=case, channel=Channel.MAIL)
            queue_message("access_code", TEMPLATES["access_code"].sample, counsel=counsel, case=case)


def _file_number(office_letter: str, division_code: str, serial: int) -> str:
    if division_code == "ID":
        return f"000{'3' if office_letter == 'T' else '1'}-{office_letter}5-{serial:05d}"
    return f"{office_letter}{DIVISION_LETTERS[division_code]}5-{serial:05d}"


def _create_counsel(external_id, name, kind, regulator, membership, language) -> Counsel:
    number = int(external_id[-4:])
    person = Counsel(
        external_id=external_id,
        full_name=name,
        kind=kind,
        regulator=regulator,
        membership_number=membership,
        email=f"{_ascii(name.split()[0].lower())}.{number}@counsel.{DEMO_DOMAIN}",
        mobile=f"+1514555{number:04d}",
        postal_address=f"{number} rue Principale, Montréal QC H2X 1Y{number % 10}",
        fax=f"+1514555{number + 1000:04d}" if number % 2 else None,
        preferred_language=language,
    )
    db.session.add(person)
    return person


def _summary(plan: list[dict[str, Any]]) -> dict[str, Any]:
    cases = db.session.scalars(select(Case).order_by(Case.file_number)).all()
    names = dict(db.session.execute(select(StaffUser.email, StaffUser.full_name)).all())
    return {
        "staff": [
            {
                "email": demo_email(p["role"], p["office"], p["division"]),
                "name": names.get(demo_email(p["role"], p["office"], p["division"]), ""),
                "password": DEMO_PASSWORD,
                "role": p["role"].value,
                "office": p["office"],
                "division": p["division"],
            }
            for p in plan
        ],
        "portal_accounts": _portal_accounts_summary(),
        "cases": [
            {
                "file_number": case.file_number,
                "division": case.division.code,
                "office": case.office.code,
                "active": case.is_active,
                "appeal_filed": case.appeal_filed_on is not None,
            }
            for case in cases
        ],
    }


def _portal_accounts_summary() -> list[dict[str, Any]]:

    accounts = db.session.scalars(select(PortalAccount).order_by(PortalAccount.id)).all()
    return [
        {
            "id": account.public_id,
            "counsel": account.counsel.full_name,
            "cases": [
                {
                    "file_number": case.file_number,
                    "division": case.division.code,
                    "office": case.office.code,
                    "appeal_filed": case.appeal_filed_on is not None,
                }
                for case in cases_of_account(account)
            ],
        }
        for account in accounts
    ]
