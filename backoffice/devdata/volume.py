"""Volume data, to measure the screens against a database of realistic size.

Counsel (most with a portal account and a registration at some stage), cases in every office and division
with their counsel of record, and submissions received over the last two years, each with its attachments'
metadata, the results of the automated checks, its decisions with coded reasons, internal notes and the
audit events of its timeline. Old submissions are decided; recent ones wait in the registry and division
queues (some claimed, some on hold); some are late, some resubmit a rejected one.

The rows are written as the workflows would have left them, in bulk (COPY on PostgreSQL, batched inserts
elsewhere), not through the state machines one by one: this is data for measurement and demonstration, and
it is refused in production like the demonstration data. The check results come from the real checks, run
on made-up facts about each document. Staff of every role in every office are created; they all sign in
with VOLUME_PASSWORD.
"""

import json
import math
import random
import time
import uuid
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import JSON, Connection, Table, func, select, text

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
    Division,
    DocumentRule,
    Office,
    PortalAccount,
    PortalClient,
    Reason,
    Registration,
    StaffUser,
    Submission,
    SubmissionNote,
)
from backoffice.models import RegistrationStatus as R
from backoffice.models.submission import attachment_decision_reasons, decision_reasons
from backoffice.models.types import utcnow
from backoffice.screening.checks import (
    CheckContext,
    CheckResult,
    DocumentFacts,
    PageFacts,
    check_proof_of_service,
    run_document_checks,
)
from backoffice.workflows import tallies
from backoffice.workflows.accounts import hash_password
from backoffice.workflows.audit import SYSTEM
from backoffice.workflows.review_aids import REASONS_FOR_CHECKS
from backoffice.workflows.timeliness import EASTERN, judge

VOLUME_DOMAIN = "volume.irb-backoffice.example"
VOLUME_PASSWORD = "Volume-password-2026"  # noqa: S105  (volume data is refused in production)
VOLUME_CLIENT = "My Case portal (volume data)"
COUNSEL_PREFIX = "VOL-"
HISTORY_DAYS = 730
CHUNK = 5_000  # submissions written at a time
Progress = Callable[[str], None]


class VolumeRefused(Exception):
    pass


@dataclass(frozen=True)
class VolumeRequest:
    submissions: int = 200_000
    counsel: int = 20_000
    cases: int = 60_000
    seed: int | None = None
    add: bool = False


class JsonText(str):
    """A JSON document already serialised, shared by many rows (the details of a check result)."""


# ------------------------------------------------------------------------------------------ bulk writing


class BulkWriter:
    """Writes rows on the session's connection, in its transaction: COPY on PostgreSQL, batches elsewhere."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.postgres = connection.dialect.name == "postgresql"
        self.written: dict[str, int] = {}
        self._next_ids: dict[str, int] = {}

    def reserve_ids(self, table: Table, count: int) -> list[int]:
        """Ids for rows written later: from the table's sequence (PostgreSQL), or after its highest id."""
        if count <= 0:
            return []
        if self.postgres:
            rows = self.connection.execute(
                text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :count)"),
                {"table": table.name, "count": count},
            )
            return sorted(row[0] for row in rows)
        start = self._next_ids.get(table.name)
        if start is None:
            start = (self.connection.scalar(select(func.max(table.c.id))) or 0) + 1
        self._next_ids[table.name] = start + count
        return list(range(start, start + count))

    def write(self, table: Table, columns: Sequence[str], rows: list[tuple]) -> None:
        if not rows:
            return
        json_positions = [n for n, name in enumerate(columns) if isinstance(table.c[name].type, JSON)]
        if self.postgres:
            self._copy(table, columns, rows, json_positions)
        else:
            self._insert(table, columns, rows, json_positions)
        self.written[table.name] = self.written.get(table.name, 0) + len(rows)

    def _copy(
        self, table: Table, columns: Sequence[str], rows: list[tuple], json_positions: list[int]
    ) -> None:
        raw = self.connection.connection.driver_connection
        statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                if json_positions:
                    row = list(row)
                    for position in json_positions:
                        value = row[position]
                        if value is not None and not isinstance(value, JsonText):
                            row[position] = json.dumps(value)
                copy.write_row(row)

    def _insert(
        self, table: Table, columns: Sequence[str], rows: list[tuple], json_positions: list[int]
    ) -> None:
        for start in range(0, len(rows), 2_000):
            batch = []
            for row in rows[start : start + 2_000]:
                values = dict(zip(columns, row, strict=True))
                for position in json_positions:
                    value = row[position]
                    if isinstance(value, JsonText):
                        values[columns[position]] = json.loads(value)
                batch.append(values)
            self.connection.execute(table.insert(), batch)


# ------------------------------------------------------------------------------------ what is made up

FIRST_NAMES = (
    "Amélie Daniel Priya Jean-François Grace Samuel Nadia Robert Claire Marc Aisha Kevin Sophie Jonathan "
    "Mei Olivier Fatima Ravi Julie Hélène Omar Siobhan Thanh Lucas Zainab Marie-Ève Arjun Chloé Ben "
    "Isabelle Tomasz Rachel Mathieu Leila Patrick Ana Dmitri Yasmin Gabriel Ngozi Étienne Hana Carlos "
    "Simone Tariq Louise Viktor Esther Mohammed Catherine Felipe Anjali Pierre-Luc Bronwyn Kwame Sarah "
    "Hugo Mariam"
).split()
LAST_NAMES = (
    "Tremblay Okafor Sandhu Roy Li Mensah Haddad MacLeod Gagnon Singh Wong Bouchard Campbell Nguyen Côté "
    "Ahmed Martin Fraser Lavoie Farouk Kelly Pham Pelletier Yusuf Dubé Mehta Girard Okonkwo Moreau Nowak "
    "Cohen Bélanger Chen Kaur Gill Morin Lapointe Hassan Rahman Smith Brown Wilson Taylor Leblanc Fortin "
    "Gauthier Ouellet Poirier Bergeron Sharma Patel Kim Park Ali Khan Ibrahim Diallo Traoré Rossi Silva "
    "Santos Ferreira Kowalski Novak Horvat Papadopoulos Murphy O'Brien Walsh Stewart Robertson Thomson "
    "Cloutier Desjardins Leclerc Nadeau Boucher Caron Simard Lefebvre"
).split()
COUNSEL_KINDS = (  # kind, weight, regulator, membership prefix
    ("lawyer", 58, "Law Society of Ontario", "LSO"),
    ("lawyer", 8, "Barreau du Québec", "BQ"),
    ("lawyer", 6, "Law Society of British Columbia", "LSBC"),
    ("licensed_consultant", 18, "College of Immigration and Citizenship Consultants", "R"),
    ("quebec_notary", 2, "Chambre des notaires du Québec", "CNQ"),
    ("unpaid", 8, None, None),
)
STREETS = ("King St W, Toronto ON", "rue Sherbrooke O, Montréal QC", "Granville St, Vancouver BC")
OFFICE_WEIGHTS = {"western": 3, "central": 4, "eastern": 3}
OFFICE_LETTERS = {"western": "V", "central": "T", "eastern": "M"}
DIVISION_WEIGHTS = {"RPD": 55, "RAD": 15, "ID": 10, "IAD": 20}
DIVISION_LETTERS = {"RPD": "B", "RAD": "C", "IAD": "A", "ID": "B"}
KIND_WEIGHTS = {"disclosure": 45, "written_submission": 20, "application": 20, "division_form": 15}
ATTACHMENT_WEIGHTS = {1: 50, 2: 25, 3: 13, 4: 7, 5: 5}
SUBJECTS = {
    "disclosure": (
        "Country conditions evidence",
        "Identity documents",
        "Medical report",
        "Psychological assessment",
        "Police report and court documents",
        "Witness statements",
        "Personal documents",
        "Documents in support of the claim",
        "Preuve sur la situation dans le pays",
        "Documents d'identité",
    ),
    "written_submission": (
        "Written submissions on credibility",
        "Post-hearing submissions",
        "Memorandum of argument",
        "Reply to the Minister's submissions",
        "Observations écrites après l'audience",
    ),
    "application": (
        "Application to change the date or time of a proceeding",
        "Change of address",
        "Application to withdraw",
        "Request for an interpreter",
        "Application to reopen",
        "Demande de changement de la date d'une procédure",
    ),
    "division_form": (
        "Basis of Claim Form",
        "Notice of change of counsel",
        "Notice of change of contact information",
        "Counsel contact information",
        "Formulaire Fondement de la demande d'asile",
    ),
}
HOLD_NOTES = (
    "Waiting for the member's instructions on this late disclosure.",
    "Asked counsel by phone whether the documents were served on the Minister.",
    "Counsel says a corrected version follows; keep this one until it arrives.",
    "Translation of the attachments is being checked with the interpreter unit.",
    "En attente d'une réponse du commissaire sur la recevabilité.",
)
INTERNAL_NOTES = (
    "Counsel called about this submission; told them it is in the queue.",
    "Same documents were sent by fax on the same day.",
    "Le conseil a téléphoné pour confirmer la réception.",
)
DECISION_NOTES = (
    "Please send each document as a separate PDF.",
    "Number every page of the disclosure and add a table of contents, then resubmit.",
    "Veuillez soumettre de nouveau le document une fois la preuve de signification jointe.",
    "The hearing is in a few days: resubmit as soon as possible.",
)
# Registration stages of counsel without a portal account yet, and how common each is.
PIPELINE_WEIGHTS = {
    "invited": 30,
    "requested": 5,
    "form_received": 12,
    "form_incomplete": 6,
    "verification_scheduled": 10,
    "verification_missed": 4,
    "identity_verified": 3,
    "identity_not_confirmed": 2,
    "code_issued": 14,
    "code_expired": 5,
    "withdrawn": 5,
    "on_hold": 4,
}
# Every stage but those before counsel's form came back, and withdrawn (made up here without a form).
AFTER_FORM = frozenset(R) - {R.INVITED, R.REQUESTED, R.FORM_INCOMPLETE, R.WITHDRAWN}
AFTER_IDENTITY = {"identity_verified", "code_issued", "code_expired", "active"}


# ----------------------------------------------------------------------------------- check profiles


@dataclass(frozen=True)
class CheckRow:
    code: str
    outcome: str
    message_en: str
    message_fr: str
    details: JsonText
    for_counsel: bool


@dataclass(frozen=True)
class Profile:
    """What screening found in one attachment: its page count and the results of the checks."""

    page_count: int | None
    outcome: str
    results: tuple[CheckRow, ...]
    failures: int
    warnings: int


VARIANTS = (  # name, weight, the kinds of document it applies to (None: every kind)
    ("clean", 68, None),
    ("links", 4, None),
    ("owner_password", 2, None),
    ("scanned", 7, {"disclosure"}),  # a page without text stops check_one_subject on other kinds
    ("unnumbered", 5, {"disclosure"}),
    ("bundle_without_toc", 4, {"disclosure"}),
    ("bundle_with_toc", 10, {"disclosure"}),
    ("other_file", 4, None),
    ("several_subjects", 4, {"application", "division_form", "written_submission"}),
    ("notice_of_appeal", 1, {"written_submission", "division_form"}),
    ("user_password", 0.6, None),
    ("damaged", 0.4, None),
    ("active_content", 0.6, None),
    ("page_count_mismatch", 0.5, None),
)
POOL_SIZE = 240
PAGE_LEAD = "The claimant relies on the following in support of the claim."
DAMAGE = ("xref table not found", "file is damaged", "unexpected end of file while reading object 12 0")
TOC_TITLES = (
    "Passport",
    "Birth certificate",
    "Police report",
    "Medical report",
    "Affidavit",
    "Letter",
    "Photos",
)


def _to_row(result: CheckResult) -> CheckRow:
    return CheckRow(
        result.code,
        result.outcome.value,
        result.message_en,
        result.message_fr,
        JsonText(json.dumps(result.details)),
        result.for_counsel,
    )


def _profile(results: list[CheckResult], page_count: int | None) -> Profile:
    outcomes = [result.outcome.value for result in results]
    worst = "failure" if "failure" in outcomes else "warning" if "warning" in outcomes else "pass"
    return Profile(
        page_count,
        worst,
        tuple(_to_row(result) for result in results),
        outcomes.count("failure"),
        outcomes.count("warning"),
    )


def _page_count(kind: str, rng: random.Random) -> int:
    if kind == "disclosure":
        return max(1, min(900, int(rng.lognormvariate(math.log(18), 1.0))))
    if kind == "written_submission":
        return rng.randint(2, 40)
    return rng.randint(1, 12)


def _structure(variant: str, pages: int, rng: random.Random) -> dict[str, Any]:
    structure: dict[str, Any] = {
        "readable": True,
        "problem": None,
        "detail": "",
        "encryption": "owner" if variant == "owner_password" else "none",
        "page_count": pages,
        "claimed_page_count": pages + rng.randint(1, 20) if variant == "page_count_mismatch" else pages,
        "active_content": {"javascript": rng.randint(1, 3)} if variant == "active_content" else {},
        "links": rng.randint(1, 12) if variant == "links" else 0,
    }
    if variant == "user_password":
        structure |= {"readable": False, "problem": "user_password", "encryption": "user", "page_count": None}
    if variant == "damaged":
        structure |= {
            "readable": False,
            "problem": "damaged",
            "detail": rng.choice(DAMAGE),
            "page_count": None,
        }
    return structure


def _pages(variant: str, kind: str, count: int, rng: random.Random) -> list[PageFacts]:
    scanned: set[int] = set()
    unnumbered: set[int] = set()
    if variant == "scanned":
        first = rng.randint(1, count)
        scanned = set(range(first, min(count, first + rng.randint(0, 6)) + 1))
    if variant == "unnumbered":
        unnumbered = set(rng.sample(range(1, count + 1), k=max(1, min(count, rng.randint(1, 4)))))
    pages = []
    for number in range(1, count + 1):
        footer = f"Page {number} of {count}" if kind != "disclosure" else f"{number}"
        if number in scanned:
            pages.append(PageFacts(number, "", "", 0))
        else:
            footer = "" if number in unnumbered else footer
            pages.append(PageFacts(number, "", footer, rng.randint(400, 3200), PAGE_LEAD))
    if variant == "several_subjects":
        titles = ("Notice of change of address", "Application to change the date or time of a proceeding")
        pages[:2] = [
            PageFacts(page.number, "", page.footer, page.chars, title)
            for page, title in zip(pages[:2], titles, strict=True)
        ]
    return pages


def _first_pages_text(variant: str, count: int, documents: int) -> list[str]:
    if variant == "notice_of_appeal":
        return ["NOTICE OF APPEAL\nTo the Refugee Appeal Division\nAppellant: ..."]
    if variant != "bundle_with_toc":
        return []
    lines = ["Table of contents"]
    for number in range(documents):
        lines.append(f"{TOC_TITLES[number % len(TOC_TITLES)]} ........ {1 + number * count // documents + 1}")
    return ["\n".join(lines)]


def _facts(variant: str, kind: str, rng: random.Random) -> DocumentFacts:
    minimum = {"several_subjects": 2, "bundle_with_toc": 8, "bundle_without_toc": 8}.get(variant, 1)
    count = max(minimum, _page_count(kind, rng))
    structure = _structure(variant, count, rng)
    if not structure["readable"]:
        return DocumentFacts("document.pdf", 0, structure)
    documents = rng.randint(3, 7) if variant.startswith("bundle") else 1
    other = f"{rng.choice('VTM')}B{rng.randint(3, 5)}-{rng.randint(0, 99999):05d}"
    return DocumentFacts(
        "document.pdf",
        0,
        structure,
        _pages(variant, kind, count, rng),
        _first_pages_text(variant, count, documents),
        bookmarks=documents if documents > 1 else 0,
        identifiers={other: [rng.randint(1, count)]} if variant == "other_file" else {},
    )


def build_profiles(kind: str, division: str, rng: random.Random) -> list[Profile]:
    """A pool of attachments of this kind, with every variant in proportion to its weight."""
    context = CheckContext(document_kind=kind, division=division, file_numbers=frozenset({"XX0-00000"}))
    applicable = [(name, weight) for name, weight, kinds in VARIANTS if kinds is None or kind in kinds]
    total = sum(weight for _name, weight in applicable)
    pool = []
    for name, weight in applicable:
        for _ in range(max(1, round(POOL_SIZE * weight / total))):
            facts = _facts(name, kind, rng)
            pool.append(_profile(run_document_checks(facts, context), facts.page_count))
    return pool


# ------------------------------------------------------------------------------------- the world


@dataclass
class CaseInfo:
    id: int
    office_id: int
    division_id: int
    opened_at: datetime
    file_number: str
    counsel_id: int  # the counsel of record who files, with a portal account
    account_id: int
    hearing_on: date | None


@dataclass
class Staff:
    clerks: dict[int, list[tuple[int, str]]] = field(default_factory=dict)  # office id: [(id, email)]
    members: dict[tuple[int, int], list[tuple[int, str]]] = field(default_factory=dict)  # (office, division)


@dataclass
class Volume:
    """Everything the steps share: the random generator, the clock, the writer and the reference data."""

    rng: random.Random
    now: datetime
    writer: BulkWriter
    offices: list[Office]
    divisions: list[Division]
    rules: dict[tuple[int, str, str], DocumentRule]
    reasons: dict[str, list[tuple[int, str]]]  # "registry" / "division": [(id, code)]
    staff: Staff = field(default_factory=Staff)
    client: tuple[int, str] = (0, "")
    filers: list[tuple[int, int]] = field(default_factory=list)  # (counsel id, account id)
    new_counsel: list[int] = field(default_factory=list)  # made by this run
    cases: list[CaseInfo] = field(default_factory=list)
    profiles: dict[tuple[str, bool], list[Profile]] = field(default_factory=dict)
    clean_profiles: dict[tuple[str, bool], list[Profile]] = field(default_factory=dict)
    service_results: dict[tuple[int, bool], CheckRow | None] = field(default_factory=dict)

    def office(self, office_id: int) -> Office:
        return next(office for office in self.offices if office.id == office_id)

    def division(self, division_id: int) -> Division:
        return next(division for division in self.divisions if division.id == division_id)


def volume_loaded() -> int:
    """How many staff of the volume data exist (0 when it was never loaded)."""
    return db.session.scalar(
        select(func.count(StaffUser.id)).where(StaffUser.email.like(f"%@{VOLUME_DOMAIN}"))
    )


def load_volume(request: VolumeRequest, progress: Progress | None = None) -> dict[str, Any]:
    """Create the volume data (or add to it, with request.add) and return what was made."""
    if not current_app.config["ALLOW_DEMO_DATA"]:
        raise VolumeRefused("Volume data is refused in production.")
    existing = volume_loaded()
    if existing and not request.add:
        raise VolumeRefused("Volume data is already loaded here; give --add to add more to it.")
    say = progress or (lambda message: None)
    seed = request.seed if request.seed is not None else random.SystemRandom().randrange(2**32)
    started = time.perf_counter()
    volume = _prepare(random.Random(seed))
    _step(say, "staff and portal client", lambda: _staff_and_client(volume))
    _step(say, f"{request.counsel:,} counsel", lambda: _counsel(volume, request.counsel))
    _step(say, f"{request.cases:,} cases", lambda: _cases(volume, request.cases))
    _step(say, "registrations", lambda: _registrations(volume))
    if request.submissions and not volume.cases:
        raise VolumeRefused("There are no volume cases to file submissions on: give --cases.")
    planned = _step(
        say, f"plan of {request.submissions:,} submissions", lambda: _plan(volume, request.submissions)
    )
    _step(say, "submissions and their records", lambda: _write_submissions(volume, planned, say))
    _step(say, "daily tallies of decisions", tallies.recount)
    db.session.commit()
    _step(say, "statistics (VACUUM ANALYZE on PostgreSQL, ANALYZE elsewhere)", lambda: _analyze(volume))
    return {
        "seed": seed,
        "seconds": round(time.perf_counter() - started, 1),
        "rows": dict(sorted(volume.writer.written.items())),
        "password": VOLUME_PASSWORD,
        "staff": _sign_ins(),
    }


def _step(say: Progress, what: str, action: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    result = action()
    say(f"{what}: {time.perf_counter() - started:.1f} s")
    return result


def _prepare(rng: random.Random) -> Volume:
    rules = {
        (rule.division_id, rule.document_kind.value, rule.purpose): rule
        for rule in db.session.scalars(select(DocumentRule).order_by(DocumentRule.id))
    }
    reasons: dict[str, list[tuple[int, str]]] = {"registry": [], "division": []}
    for reason in db.session.scalars(select(Reason).where(Reason.active.is_(True)).order_by(Reason.code)):
        reasons[reason.used_by.value].append((reason.id, reason.code))
    volume = Volume(
        rng=rng,
        now=utcnow(),
        writer=BulkWriter(db.session.connection()),
        offices=list(db.session.scalars(select(Office).order_by(Office.id))),
        divisions=list(db.session.scalars(select(Division).order_by(Division.id))),
        rules=rules,
        reasons=reasons,
    )
    _prepare_checks(volume)
    return volume


def _prepare_checks(volume: Volume) -> None:
    for kind in KIND_WEIGHTS:
        for rpd in (True, False):
            pool = build_profiles(kind, "RPD" if rpd else "IAD", volume.rng)
            volume.profiles[kind, rpd] = pool
            volume.clean_profiles[kind, rpd] = [profile for profile in pool if not profile.failures]
    for rule in volume.rules.values():
        for declared in (True, False):
            context = CheckContext(
                document_kind=rule.document_kind.value,
                division="",
                file_numbers=frozenset(),
                proof_of_service_declared=declared,
                proof_of_service_required=rule.proof_of_service_required,
            )
            result = check_proof_of_service(context, (rule.citation_en, rule.citation_fr))
            volume.service_results[rule.id, declared] = _to_row(result) if result else None


def _analyze(volume: Volume) -> None:
    if volume.writer.postgres:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM (ANALYZE)"))
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def _sign_ins() -> list[dict[str, str]]:
    """The first staff member of each role, office and division, to sign in with."""
    users = db.session.execute(
        select(StaffUser.email, StaffUser.role, Office.code, Division.code)
        .outerjoin(Office, StaffUser.office_id == Office.id)
        .outerjoin(Division, StaffUser.division_id == Division.id)
        .where(
            StaffUser.email.like(f"%01.%@{VOLUME_DOMAIN}")
            | StaffUser.email.like(f"%.national@{VOLUME_DOMAIN}")
        )
        .order_by(StaffUser.id)
    )
    return [
        {"email": email, "role": role.value, "office": office or "national", "division": division or ""}
        for email, role, office, division in users
    ]


# ---------------------------------------------------------------------------------- staff and counsel

STAFF_PLAN = (("clerk", 10), ("supervisor", 2))
MEMBERS_PER_DIVISION = 3


def staff_email(role: str, office: str, number: int, division: str = "") -> str:
    name = role.replace("_", "-") + (f"-{division.lower()}" if division else "")
    return f"{name}-{number:02d}.{office}@{VOLUME_DOMAIN}"


def _staff_and_client(volume: Volume) -> None:
    if not volume_loaded():
        _create_staff(volume)
        _create_client(volume)
    rows = db.session.execute(
        select(StaffUser.id, StaffUser.email, StaffUser.role, StaffUser.office_id, StaffUser.division_id)
        .where(StaffUser.email.like(f"%@{VOLUME_DOMAIN}"))
        .order_by(StaffUser.id)
    )
    staff = volume.staff
    for staff_id, email, role, office_id, division_id in rows:
        if role.value == "clerk":
            staff.clerks.setdefault(office_id, []).append((staff_id, email))
        elif role.value == "division_member":
            staff.members.setdefault((office_id, division_id), []).append((staff_id, email))
    client = db.session.execute(
        select(PortalClient.id, PortalClient.name).where(PortalClient.name == VOLUME_CLIENT)
    )
    volume.client = tuple(client.one())


STAFF_COLUMNS = tuple(
    (
        "email full_name password_hash role office_id division_id preferred_language is_active_account "
        "failed_sign_ins session_token created_at"
    ).split()
)


def _staff_plan(volume: Volume) -> list[tuple[str, Office | None, Division | None]]:
    """A national supervisor; in each office, clerks, supervisors and members of each division."""
    people: list[tuple[str, Office | None, Division | None]] = [("supervisor", None, None)]
    for office in volume.offices:
        for role, count in STAFF_PLAN:
            people += [(role, office, None)] * count
        for division in volume.divisions:
            people += [("division_member", office, division)] * MEMBERS_PER_DIVISION
    return people


def _create_staff(volume: Volume) -> None:
    """One password hash for all (hashing is slow on purpose); sessions and names of their own."""
    password_hash = hash_password(VOLUME_PASSWORD)
    created = volume.now - timedelta(days=HISTORY_DAYS + 30)
    numbers: dict[tuple, int] = {}
    rows = []
    for role, office, division in _staff_plan(volume):
        key = (role, office, division)
        numbers[key] = numbers.get(key, 0) + 1
        if office is None:
            email = f"supervisor.national@{VOLUME_DOMAIN}"
        else:
            email = staff_email(role, office.code, numbers[key], division.code if division else "")
        language = "fr" if office is not None and office.code == "eastern" else "en"
        rows.append(
            (email, _person(volume.rng), password_hash, role, office.id if office else None)
            + (
                division.id if division else None,
                language,
                True,
                0,
                f"{volume.rng.getrandbits(192):048x}",
                created,
            )
        )
    volume.writer.write(StaffUser.__table__, STAFF_COLUMNS, rows)


def _create_client(volume: Volume) -> None:
    columns = ("name", "token_hash", "created_at")
    row = (
        VOLUME_CLIENT,
        f"{volume.rng.getrandbits(256):064x}",
        volume.now - timedelta(days=HISTORY_DAYS + 30),
    )
    volume.writer.write(PortalClient.__table__, columns, [row])


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def _counsel(volume: Volume, count: int) -> None:
    """New counsel, three in four with a portal account (they may file); then every filer, new or not."""
    start = db.session.scalar(
        select(func.count(Counsel.id)).where(Counsel.external_id.like(f"{COUNSEL_PREFIX}%"))
    )
    ids = volume.writer.reserve_ids(Counsel.__table__, count)
    volume.new_counsel = ids
    holders = [counsel_id for counsel_id in ids if volume.rng.random() < 0.75]
    account_ids = volume.writer.reserve_ids(PortalAccount.__table__, len(holders))
    rows = [_counsel_row(volume, counsel_id, start + n + 1) for n, counsel_id in enumerate(ids)]
    volume.writer.write(Counsel.__table__, COUNSEL_COLUMNS, rows)
    accounts = []
    for account_id, counsel_id in zip(account_ids, holders, strict=True):
        subject = f"vol-{counsel_id}-{volume.rng.getrandbits(64):016x}"
        created = volume.now - timedelta(days=HISTORY_DAYS + volume.rng.randint(1, 60))
        accounts.append((account_id, _uuid(volume.rng), counsel_id, "gckey", subject, "active", created))
    columns = ("id", "public_id", "counsel_id", "sign_in_provider", "sign_in_subject", "status", "created_at")
    volume.writer.write(PortalAccount.__table__, columns, accounts)
    volume.filers = [
        tuple(row)
        for row in db.session.execute(
            select(PortalAccount.counsel_id, PortalAccount.id)
            .join(Counsel, Counsel.id == PortalAccount.counsel_id)
            .where(Counsel.external_id.like(f"{COUNSEL_PREFIX}%"))
            .order_by(PortalAccount.id)
        )
    ]


COUNSEL_COLUMNS = tuple(
    (
        "id external_id full_name kind regulator membership_number email mobile postal_address "
        "preferred_language created_at updated_at"
    ).split()
)


def _counsel_row(volume: Volume, counsel_id: int, number: int) -> tuple:
    rng = volume.rng
    kind, _weight, regulator, prefix = rng.choices(COUNSEL_KINDS, weights=[k[1] for k in COUNSEL_KINDS])[0]
    name = _person(rng)
    french = regulator in ("Barreau du Québec", "Chambre des notaires du Québec") or rng.random() < 0.15
    email_name = "".join(char for char in name.lower() if char.isascii() and char.isalpha())
    created = volume.now - timedelta(days=HISTORY_DAYS + rng.randint(1, 400))
    return (
        counsel_id,
        f"{COUNSEL_PREFIX}{number:06d}",
        name,
        kind,
        regulator,
        f"{prefix}-{rng.randint(10000, 99999)}" if prefix else None,
        f"{email_name}.{number}@counsel.{VOLUME_DOMAIN}",
        f"+1{rng.choice(('416', '514', '604', '613', '438'))}555{rng.randint(0, 9999):04d}",
        f"{rng.randint(1, 9999)} {rng.choice(STREETS)}",
        "fr" if french else "en",
        created,
        created,
    )


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


# --------------------------------------------------------------------------------------------- cases


def _cases(volume: Volume, count: int) -> None:
    """New cases with their counsel of record; then every volume case, new or not, sorted by opening."""
    if count and not volume.filers:
        raise VolumeRefused(
            "There is no volume counsel with a portal account to act on cases: give --counsel."
        )
    taken = set(db.session.scalars(select(Case.file_number)))
    ids = volume.writer.reserve_ids(Case.__table__, count)
    offices = [(office, OFFICE_WEIGHTS.get(office.code, 3)) for office in volume.offices]
    divisions = [(division, DIVISION_WEIGHTS.get(division.code, 10)) for division in volume.divisions]
    filer_weights = list(_cumulative(1 / (rank + 20) ** 0.8 for rank in range(len(volume.filers))))
    order = volume.rng.sample(volume.filers, len(volume.filers))  # who acts on the most cases, at random
    rows, of_record = [], []
    for case_id in ids:
        office = volume.rng.choices([o for o, _ in offices], weights=[w for _, w in offices])[0]
        division = volume.rng.choices([d for d, _ in divisions], weights=[w for _, w in divisions])[0]
        filer = volume.rng.choices(order, cum_weights=filer_weights)[0]
        rows.append(_case_row(volume, case_id, office, division, taken))
        of_record += _of_record(volume, case_id, filer, rows[-1][-2])
    volume.writer.write(Case.__table__, CASE_COLUMNS, rows)
    volume.writer.write(
        CounselOfRecord.__table__, ("case_id", "counsel_id", "started_on", "ended_on"), of_record
    )
    volume.cases = _volume_cases()


def _cumulative(weights) -> list[float]:
    total, cumulative = 0.0, []
    for weight in weights:
        total += weight
        cumulative.append(total)
    return cumulative


CASE_COLUMNS = tuple(
    (
        "id file_number division_id office_id status uci appeal_filed_on next_hearing_on created_at "
        "updated_at"
    ).split()
)


def _case_row(volume: Volume, case_id: int, office: Office, division: Division, taken: set[str]) -> tuple:
    rng, now = volume.rng, volume.now
    # A third of the cases were opened before the two years of submissions; the rest during them.
    days_ago = (
        rng.uniform(HISTORY_DAYS, HISTORY_DAYS + 400) if rng.random() < 0.35 else rng.uniform(2, HISTORY_DAYS)
    )
    opened = now - timedelta(days=days_ago)
    active = days_ago < 400 or rng.random() < 0.55
    hearing = (now + timedelta(days=rng.randint(3, 240))).date() if active and rng.random() < 0.8 else None
    uci = f"{rng.randint(0, 9999):04d}-{rng.randint(0, 9999):04d}" if rng.random() < 0.6 else None
    if uci is None and rng.random() < 0.5:
        uci = f"{rng.randint(10, 99)}-{rng.randint(0, 9999):04d}-{rng.randint(0, 9999):04d}"
    return (
        case_id,
        _file_number(volume, office, division, opened, taken),
        division.id,
        office.id,
        "active" if active else "closed",
        uci,
        opened.date() if division.is_appeal else None,
        hearing,
        opened,
        opened,
    )


def _file_number(
    volume: Volume, office: Office, division: Division, opened: datetime, taken: set[str]
) -> str:
    letter = OFFICE_LETTERS.get(office.code, office.code[0].upper())
    year = opened.year % 10
    while True:
        serial = volume.rng.randint(0, 99999)
        if division.code == "ID":
            number = f"000{'3' if letter == 'T' else '1'}-{letter}{year}-{serial:05d}"
        else:
            number = f"{letter}{DIVISION_LETTERS.get(division.code, 'B')}{year}-{serial:05d}"
        if number not in taken:
            taken.add(number)
            return number


def _of_record(volume: Volume, case_id: int, filer: tuple[int, int], opened: datetime) -> list[tuple]:
    rows = [(case_id, filer[0], opened.date(), None)]
    if volume.rng.random() < 0.25:
        other = volume.rng.choice(volume.filers)[0]
        if other != filer[0]:
            ended = (opened + timedelta(days=volume.rng.randint(30, 300))).date()
            rows.append((case_id, other, opened.date(), ended if volume.rng.random() < 0.2 else None))
    return rows


def _volume_cases() -> list[CaseInfo]:
    """Every case with a volume counsel of record who has a portal account, oldest opened first."""
    filer = (
        select(CounselOfRecord.case_id, func.min(PortalAccount.id).label("account_id"))
        .join(PortalAccount, PortalAccount.counsel_id == CounselOfRecord.counsel_id)
        .join(Counsel, Counsel.id == CounselOfRecord.counsel_id)
        .where(Counsel.external_id.like(f"{COUNSEL_PREFIX}%"), CounselOfRecord.ended_on.is_(None))
        .group_by(CounselOfRecord.case_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Case.id, Case.office_id, Case.division_id, Case.created_at, Case.file_number)
        .add_columns(PortalAccount.counsel_id, PortalAccount.id, Case.next_hearing_on)
        .join(filer, filer.c.case_id == Case.id)
        .join(PortalAccount, PortalAccount.id == filer.c.account_id)
        .order_by(Case.created_at, Case.id)
    )
    return [CaseInfo(*row) for row in rows]


# ------------------------------------------------------------------------------------- registrations


def _registrations(volume: Volume) -> None:
    """For the counsel made by this run: an active registration for those with an account, a stage of the
    pipeline for half the others."""
    if not volume.new_counsel:
        return
    with_registration = select(Registration.counsel_id)
    rows = db.session.execute(
        select(Counsel.id, PortalAccount.id, func.min(Case.office_id))
        .outerjoin(PortalAccount, PortalAccount.counsel_id == Counsel.id)
        .outerjoin(CounselOfRecord, CounselOfRecord.counsel_id == Counsel.id)
        .outerjoin(Case, Case.id == CounselOfRecord.case_id)
        .where(Counsel.id.between(volume.new_counsel[0], volume.new_counsel[-1]))
        .where(Counsel.external_id.like(f"{COUNSEL_PREFIX}%"), Counsel.id.not_in(with_registration))
        .group_by(Counsel.id, PortalAccount.id)
        .order_by(Counsel.id)
    ).all()
    stages, weights = list(PIPELINE_WEIGHTS), list(PIPELINE_WEIGHTS.values())
    records = []
    for counsel_id, account_id, office_id in rows:
        if account_id is None and volume.rng.random() < 0.45:
            continue
        status = "active" if account_id is not None else volume.rng.choices(stages, weights=weights)[0]
        office_id = office_id or volume.rng.choice(volume.offices).id
        records.append(_registration_row(volume, counsel_id, office_id, status))
    volume.writer.write(Registration.__table__, REGISTRATION_COLUMNS, records)


REGISTRATION_COLUMNS = tuple(
    (
        "counsel_id office_id status status_before_hold channel form_received_at verified_mobile "
        "identity_document identity_checked_by_id identity_checked_at flag status_changed_at created_at "
        "updated_at"
    ).split()
)


def _registration_row(volume: Volume, counsel_id: int, office_id: int, status: str) -> tuple:
    rng, now = volume.rng, volume.now
    age = rng.uniform(HISTORY_DAYS, HISTORY_DAYS + 60) if status == "active" else rng.expovariate(1 / 25)
    created = now - timedelta(days=age + rng.uniform(2, 40))
    changed = now - timedelta(days=age)
    verified = status in AFTER_IDENTITY or (status == "on_hold" and rng.random() < 0.3)
    clerk = rng.choice(volume.staff.clerks[office_id])[0] if verified else None
    flag = (
        "Webex could not be reached after 5 attempts."
        if status == "verification_scheduled" and rng.random() < 0.05
        else None
    )
    return (
        counsel_id,
        office_id,
        status,
        rng.choice(("form_received", "invited")) if status == "on_hold" else None,
        "phone" if status == "requested" else rng.choice(("email", "email", "email", "mail", "fax")),
        created + timedelta(days=rng.uniform(1, 10)) if status in AFTER_FORM else None,
        f"+1416555{rng.randint(0, 9999):04d}" if status in AFTER_FORM else None,
        rng.choice(("passport", "drivers_licence", "provincial_id")) if verified else None,
        clerk,
        changed - timedelta(hours=rng.uniform(1, 48)) if verified else None,
        flag,
        changed,
        created,
        changed,
    )


# ------------------------------------------------------------------------------- submissions: the plan


@dataclass(slots=True)
class Step:
    """A queue's work on a submission: who decided, when, and how; or who holds it now."""

    staff: tuple[int, str]
    at: datetime
    accepted: bool = True
    reasons: list[tuple[int, str]] = field(default_factory=list)
    note: str | None = None
    held_before: bool = False  # put on hold, then decided
    remark: str | None = None  # an internal note written while working on it
    by_file: list[bool] | None = None  # the division's decision on each file


@dataclass(slots=True)
class Planned:
    received_at: datetime
    case: CaseInfo
    kind: str = ""
    purpose: str = ""
    subject: str = ""
    profiles: list[Profile] = field(default_factory=list)
    rule: DocumentRule | None = None
    proof: dict | None = None
    hearing_on: date | None = None
    deadline_on: date | None = None
    timeliness: str = "no_deadline"
    status: str = "with_registry"
    screened_at: datetime | None = None
    registry: Step | None = None
    division: Step | None = None
    claim: Step | None = None  # held in a queue now
    hold: Step | None = None  # on hold now
    resubmission_of: "Planned | None" = None
    replaced: bool = False  # a later submission resubmits this one
    id: int = 0
    public_id: str = ""

    def failures(self, volume: Volume) -> int:
        row = _service_result(volume, self)
        return sum(p.failures for p in self.profiles) + (row is not None and row.outcome == "failure")

    def warnings(self) -> int:
        return sum(p.warnings for p in self.profiles)

    def screening_outcome(self, volume: Volume) -> str | None:
        if self.screened_at is None:
            return None
        return "failure" if self.failures(volume) else "warning" if self.warnings() else "pass"

    def steps(self) -> list[Step]:
        return [step for step in (self.registry, self.division, self.claim, self.hold) if step is not None]


def _service_result(volume: Volume, planned: Planned) -> CheckRow | None:
    if planned.rule is None or planned.screened_at is None:
        return None
    return volume.service_results.get((planned.rule.id, planned.proof is not None))


def _plan(volume: Volume, count: int) -> list[Planned]:
    if count <= 0:
        return []
    planned = [_planned(volume, received) for received in _received_times(volume, count)]
    _screening(volume, planned)
    _registry(volume, planned, _registry_backlog(count, len(volume.offices)))
    _resubmissions(volume, planned)
    _division(volume, planned, _division_backlog(count, len(volume.offices)))
    _claims_and_holds(volume, planned)
    return planned


def _registry_backlog(count: int, offices: int) -> int:
    """A few percent of all submissions, and a full queue page in every office when there are enough."""
    return max(round(0.025 * count), min(count // 6, 80 * offices))


def _division_backlog(count: int, offices: int) -> int:
    return max(round(0.035 * count), min(count // 6, 60 * offices))


# Submissions per hour of the day (Eastern time): office hours, and a rush before midnight.
HOURLY_WEIGHTS = tuple(
    float(weight)
    for weight in (
        "0.2 0.1 0.05 0.05 0.05 0.1 0.3 0.8 2 3 3.2 3 2.4 2.8 3 3 2.6 1.8 1 0.9 1 1.1 1.3 1.6"
    ).split()
)


def _received_times(volume: Volume, count: int) -> list[datetime]:
    """Two years of submissions, growing as the portal is adopted; weekdays and office hours busiest, and a
    rush before midnight (deadlines end at midnight local time)."""
    today = volume.now.astimezone(EASTERN).date()
    buckets, weights = [], []
    for days_ago in range(HISTORY_DAYS, -1, -1):
        day = today - timedelta(days=days_ago)
        growth = 0.55 + 0.65 * (HISTORY_DAYS - days_ago) / HISTORY_DAYS
        weekday = 1.0 if day.weekday() < 5 else 0.22
        for hour, weight in enumerate(HOURLY_WEIGHTS):
            start = datetime(day.year, day.month, day.day, hour, tzinfo=EASTERN).astimezone(UTC)
            if start < volume.now:
                buckets.append(start)
                weights.append(growth * weekday * weight)
    chosen = volume.rng.choices(buckets, weights=weights, k=count)
    latest = volume.now - timedelta(seconds=1)
    times = [min(latest, start + timedelta(seconds=volume.rng.uniform(0, 3600))) for start in chosen]
    return sorted(times)


def _planned(volume: Volume, received: datetime) -> Planned:
    rng = volume.rng
    opened = bisect_right(volume.cases, received, key=lambda case: case.opened_at)
    case = volume.cases[rng.randrange(opened)] if opened else volume.cases[0]
    kind = rng.choices(list(KIND_WEIGHTS), weights=list(KIND_WEIGHTS.values()))[0]
    planned = Planned(received, case, kind)
    _choose_document(volume, planned)
    return planned


def _choose_document(volume: Volume, planned: Planned, clean: bool = False) -> None:
    """Purpose, subject, attachments and deadline of a submission of `planned.kind` on `planned.case`."""
    rng, division = volume.rng, volume.division(planned.case.division_id)
    purpose = ""
    if planned.kind == "disclosure" and division.code == "RPD" and rng.random() < 0.15:
        purpose = "reply"
    elif planned.kind == "disclosure" and division.code == "IAD" and rng.random() < 0.1:
        purpose = "witness_information"
    planned.purpose = purpose
    planned.subject = rng.choice(SUBJECTS[planned.kind])
    pools = volume.clean_profiles if clean else volume.profiles
    pool = pools[planned.kind, division.code == "RPD"]
    count = rng.choices(list(ATTACHMENT_WEIGHTS), weights=list(ATTACHMENT_WEIGHTS.values()))[0]
    planned.profiles = [rng.choice(pool) for _ in range(count)]
    _deadline(volume, planned)


def _deadline(volume: Volume, planned: Planned) -> None:
    """A hearing date that makes about one document in ten late, judged as the intake judges it."""
    rng, case = volume.rng, planned.case
    key = (case.division_id, planned.kind)
    rule = volume.rules.get((*key, planned.purpose)) or volume.rules.get((*key, ""))
    zone = ZoneInfo(volume.office(case.office_id).time_zone)
    local_day = planned.received_at.astimezone(zone).date()
    days = rule.days_before_hearing if rule is not None else None
    coming = case.hearing_on is not None and 0 < (case.hearing_on - local_day).days <= 120
    if planned.hearing_on is None and coming:
        planned.hearing_on = case.hearing_on  # the case's next hearing: late or not as it falls
    elif planned.hearing_on is None:
        if days is not None and rng.random() < 0.1:
            planned.hearing_on = local_day + timedelta(days=days - rng.randint(1, min(days, 6)))
        elif days is not None or rng.random() < 0.7:
            planned.hearing_on = local_day + timedelta(days=(days or 0) + rng.randint(0, 60))
    deadline = judge(rule, planned.hearing_on, planned.received_at, zone)
    planned.rule = rule
    planned.deadline_on = deadline.last_day
    planned.timeliness = deadline.timeliness.value
    planned.proof = _proof_of_service(volume, planned)


def _proof_of_service(volume: Volume, planned: Planned) -> dict | None:
    """Declared nine times in ten when the rule requires it (the check fails the tenth)."""
    rng, rule = volume.rng, planned.rule
    if rule is None or not rule.proof_of_service_required or rng.random() >= 0.9:
        return None
    served_at = planned.received_at - timedelta(hours=rng.uniform(1, 72))
    method = rng.choice(("email to the Minister's counsel", "courier", "fax", "en main propre"))
    return {"served_on": ["minister"], "method": method, "served_at": served_at.isoformat()}


def _screening(volume: Volume, planned: list[Planned]) -> None:
    """The newest few are still received or being screened; every other one was screened within minutes."""
    pending = max(2, len(planned) // 20_000)
    for position, item in enumerate(planned):
        if position >= len(planned) - pending:
            item.status = "received" if position % 2 else "screening"
            continue
        pages = sum(profile.page_count or 1 for profile in item.profiles)
        item.screened_at = item.received_at + timedelta(seconds=volume.rng.uniform(15, 40) + 0.4 * pages)


def _mixed_waits(ages: list[float], mean: float) -> float:
    """How many of these items (their ages in days, sorted) still wait, on average, when most are handled
    after `mean` days and one in ten after eight times as long. Items far older count for nothing."""
    recent = ages[: bisect_right(ages, 320 * mean)]
    return sum(0.9 * math.exp(-age / mean) + 0.1 * math.exp(-age / (8 * mean)) for age in recent)


def _calibrated_mean(ages: list[float], target: int) -> float:
    """The mean wait (days) that leaves `target` of these items waiting, on average."""
    ages = sorted(ages)
    if target >= len(ages):
        return 1e9
    low, high = 1e-4, 1e4
    for _ in range(30):
        middle = math.sqrt(low * high)
        if _mixed_waits(ages, middle) > target:
            high = middle
        else:
            low = middle
    return math.sqrt(low * high)


def _wait(rng: random.Random, mean: float) -> timedelta:
    return timedelta(days=rng.expovariate(1 / (mean if rng.random() < 0.9 else 8 * mean)))


def _registry(volume: Volume, planned: list[Planned], backlog: int) -> None:
    screened = [item for item in planned if item.screened_at is not None]
    now, rng = volume.now, volume.rng
    mean = _calibrated_mean([(now - item.screened_at).total_seconds() / 86400 for item in screened], backlog)
    for item in screened:
        decided_at = _office_hours(volume, item.screened_at + _wait(rng, mean))
        if decided_at >= now:
            continue
        item.registry = Step(rng.choice(volume.staff.clerks[item.case.office_id]), decided_at)
        _registry_outcome(volume, item)


def _office_hours(volume: Volume, instant: datetime) -> datetime:
    """Decisions are made between 8:00 and 17:00 Eastern: a time outside moves to the next working hours."""
    local = instant.astimezone(EASTERN)
    if 8 <= local.hour < 17 and local.weekday() < 5:
        return instant
    day = local.date() + timedelta(days=1 if local.hour >= 17 else 0)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    start = datetime(day.year, day.month, day.day, 8, tzinfo=EASTERN)
    return start.astimezone(UTC) + timedelta(minutes=volume.rng.uniform(0, 540))


def _registry_outcome(volume: Volume, item: Planned) -> None:
    rng, step = volume.rng, item.registry
    failures, warnings = item.failures(volume), item.warnings()
    step.accepted = rng.random() >= (0.55 if failures else 0.12 if warnings else 0.04)
    step.held_before = rng.random() < 0.04
    step.remark = rng.choice(INTERNAL_NOTES) if rng.random() < 0.05 else None
    step.reasons = [] if step.accepted else _registry_reasons(volume, item)
    step.note = rng.choice(DECISION_NOTES) if not step.accepted and rng.random() < 0.25 else None
    item.status = "with_division" if step.accepted else "rejected"


def _registry_reasons(volume: Volume, item: Planned) -> list[tuple[int, str]]:
    by_code = {code: (reason_id, code) for reason_id, code in volume.reasons["registry"]}
    failed = {row.code for profile in item.profiles for row in profile.results if row.outcome == "failure"}
    service = _service_result(volume, item)
    if service is not None and service.outcome == "failure":
        failed.add(service.code)
    chosen = {
        by_code[REASONS_FOR_CHECKS[code]] for code in failed if REASONS_FOR_CHECKS.get(code) in by_code
    }  # as the screen suggests
    others = [reason for reason in volume.reasons["registry"] if reason not in chosen]
    wanted = volume.rng.randint(1, 3) if not chosen else len(chosen) + (volume.rng.random() < 0.2)
    chosen |= set(volume.rng.sample(others, k=min(len(others), max(0, wanted - len(chosen)))))
    return sorted(chosen, key=lambda reason: reason[1])[:3]


def _resubmissions(volume: Volume, planned: list[Planned]) -> None:
    """Four in ten rejections by registry are followed, within two weeks, by a resubmission on the same case
    (a later submission is made into it): same kind and subject, the problem mostly fixed."""
    times = [item.received_at for item in planned]
    for item in planned:
        step = item.registry
        if step is None or step.accepted or volume.rng.random() >= 0.4:
            continue
        first = bisect_left(times, step.at + timedelta(hours=1))
        last = bisect_left(times, step.at + timedelta(days=14))
        for _ in range(5):
            if first >= last:
                break
            later = planned[volume.rng.randrange(first, last)]
            if later.screened_at is not None and later.resubmission_of is None and not later.replaced:
                _make_resubmission(volume, later, item)
                break


def _make_resubmission(volume: Volume, later: Planned, rejected: Planned) -> None:
    later.case, later.kind, later.hearing_on = rejected.case, rejected.kind, rejected.hearing_on
    later.resubmission_of, rejected.replaced = rejected, True
    _choose_document(volume, later, clean=True)
    later.subject = rejected.subject
    if later.registry is not None:
        later.registry.staff = volume.rng.choice(volume.staff.clerks[later.case.office_id])
        _registry_outcome(volume, later)


def _division(volume: Volume, planned: list[Planned], backlog: int) -> None:
    accepted = [item for item in planned if item.registry is not None and item.registry.accepted]
    now, rng = volume.now, volume.rng
    mean = _calibrated_mean([(now - item.registry.at).total_seconds() / 86400 for item in accepted], backlog)
    for item in accepted:
        decided_at = _office_hours(volume, item.registry.at + _wait(rng, mean))
        if decided_at >= now:
            continue
        members = volume.staff.members[item.case.office_id, item.case.division_id]
        late = item.timeliness == "late"
        step = Step(rng.choice(members), decided_at, accepted=rng.random() >= (0.35 if late else 0.04))
        if len(item.profiles) > 1 and rng.random() < 0.15:
            step.by_file = [rng.random() < 0.7 for _ in item.profiles]
            step.accepted = any(step.by_file)
        if not step.accepted or step.by_file and not all(step.by_file):
            step.reasons = _division_reasons(volume, late)
        step.remark = rng.choice(INTERNAL_NOTES) if rng.random() < 0.03 else None
        step.note = rng.choice(DECISION_NOTES) if not step.accepted and rng.random() < 0.2 else None
        item.division, item.status = step, "accepted" if step.accepted else "rejected"


def _division_reasons(volume: Volume, late: bool) -> list[tuple[int, str]]:
    reasons = volume.reasons["division"]
    late_reason = [reason for reason in reasons if reason[1] == "D-LATE"]
    if late and late_reason:
        return late_reason
    return [volume.rng.choice(reasons)] if reasons else []


def _claims_and_holds(volume: Volume, planned: list[Planned]) -> None:
    """In each queue, one in twenty is claimed by someone now and about one in thirty is on hold."""
    rng, now = volume.rng, volume.now
    for item in planned:
        if item.status == "with_registry":
            people = volume.staff.clerks[item.case.office_id]
            since = item.screened_at
        elif item.status == "with_division":
            people = volume.staff.members[item.case.office_id, item.case.division_id]
            since = item.registry.at
        else:
            continue
        draw = rng.random()
        if draw < 0.05:
            item.claim = Step(rng.choice(people), now - timedelta(minutes=rng.uniform(1, 25)))
        elif draw < 0.08:
            held_at = since + (now - since) * rng.uniform(0.1, 0.9)
            item.hold = Step(rng.choice(people), held_at, note=rng.choice(HOLD_NOTES))


# ---------------------------------------------------------------------------- submissions: the rows

SUBMISSION_COLUMNS = tuple(
    (
        "id public_id case_id office_id division_id counsel_id portal_account_id portal_client_id "
        "document_kind purpose subject proof_of_service resubmission_of_id status received_at "
        "received_at_original hearing_on deadline_rule_id deadline_on timeliness screening_outcome "
        "screening_finished_at claimed_by_id claimed_at held_at held_by_id failed_checks warning_checks "
        "created_at updated_at"
    ).split()
)
ATTACHMENT_COLUMNS = (
    "id",
    "public_id",
    "submission_id",
    "position",
    "filename",
    "size",
    "sha256",
    "page_count",
    "screening_outcome",
    "screened_at",
    "screening_seconds",
)
CHECK_COLUMNS = tuple(
    ("submission_id attachment_id code outcome message_en message_fr details for_counsel created_at").split()
)
DECISION_COLUMNS = (
    "id",
    "submission_id",
    "made_by",
    "accepted",
    "note",
    "staff_id",
    "decided_at",
    "office_id",
    "division_id",
    "received_at",
)
NOTE_COLUMNS = ("id", "submission_id", "staff_id", "body", "is_hold", "created_at")
AUDIT_COLUMNS = tuple(
    ("occurred_at actor_id actor_label action record_type record_id office_id before after").split()
)


@dataclass
class Rows:
    """The rows of one chunk of submissions, table by table, in the order they are written."""

    submissions: list[tuple] = field(default_factory=list)
    attachments: list[tuple] = field(default_factory=list)
    checks: list[tuple] = field(default_factory=list)
    notes: list[tuple] = field(default_factory=list)
    events: list[tuple] = field(default_factory=list)

    def write(self, writer: BulkWriter) -> None:
        writer.write(Submission.__table__, SUBMISSION_COLUMNS, self.submissions)
        writer.write(Attachment.__table__, ATTACHMENT_COLUMNS, self.attachments)
        writer.write(CheckResultRecord.__table__, CHECK_COLUMNS, self.checks)
        writer.write(SubmissionNote.__table__, NOTE_COLUMNS, self.notes)
        writer.write(AuditEvent.__table__, AUDIT_COLUMNS, self.events)


class Ids:
    """Ids taken ahead for one chunk, handed out in order."""

    def __init__(self, writer: BulkWriter, table: Table, count: int) -> None:
        self._ids = iter(writer.reserve_ids(table, count))

    def next(self) -> int:
        return next(self._ids)


def _write_submissions(volume: Volume, planned: list[Planned], say: Progress) -> None:
    for position, submission_id in enumerate(volume.writer.reserve_ids(Submission.__table__, len(planned))):
        planned[position].id, planned[position].public_id = submission_id, _uuid(volume.rng)
    decisions: list[DecisionMade] = []
    for start in range(0, len(planned), CHUNK):
        chunk = planned[start : start + CHUNK]
        _chunk_rows(volume, chunk, decisions).write(volume.writer)
        if (start // CHUNK) % 10 == 9:
            say(f"  {start + len(chunk):,} submissions written")
    _write_decisions(volume, decisions)


@dataclass(frozen=True, slots=True)
class DecisionMade:
    decided_at: datetime
    submission_id: int
    made_by: str
    accepted: bool
    note: str | None
    staff_id: int
    reason_ids: tuple[int, ...]
    files: tuple[tuple[int, bool], ...]  # (attachment id, accepted) when decided file by file
    office_id: int
    division_id: int
    received_at: datetime


def _write_decisions(volume: Volume, decisions: list[DecisionMade]) -> None:
    """Decisions in the order they were made, as the table grows in production (the dashboards read the
    last 30 days of them by `decided_at`)."""
    decisions.sort(key=lambda decision: (decision.decided_at, decision.submission_id))
    writer = volume.writer
    for start in range(0, len(decisions), 10 * CHUNK):
        batch = decisions[start : start + 10 * CHUNK]
        ids = writer.reserve_ids(Decision.__table__, len(batch))
        file_ids = Ids(writer, AttachmentDecision.__table__, sum(len(decision.files) for decision in batch))
        rows, reasons, files, file_reasons = [], [], [], []
        for decision_id, made in zip(ids, batch, strict=True):
            rows.append(
                (decision_id, made.submission_id, made.made_by, made.accepted, made.note, made.staff_id)
            )
            rows[-1] += (made.decided_at, made.office_id, made.division_id, made.received_at)
            reasons += [(decision_id, reason_id) for reason_id in made.reason_ids]
            for attachment_id, accepted in made.files:
                files.append((file_ids.next(), decision_id, attachment_id, accepted))
                file_reasons += [(files[-1][0], reason_id) for reason_id in made.reason_ids if not accepted]
        writer.write(Decision.__table__, DECISION_COLUMNS, rows)
        writer.write(decision_reasons, ("decision_id", "reason_id"), reasons)
        writer.write(AttachmentDecision.__table__, ("id", "decision_id", "attachment_id", "accepted"), files)
        writer.write(attachment_decision_reasons, ("attachment_decision_id", "reason_id"), file_reasons)


def _chunk_rows(volume: Volume, chunk: list[Planned], decisions: list[DecisionMade]) -> Rows:
    writer = volume.writer
    attachment_ids = Ids(writer, Attachment.__table__, sum(len(item.profiles) for item in chunk))
    steps = [step for item in chunk for step in (item.registry, item.division) if step is not None]
    notes = sum(bool(step.held_before) + bool(step.remark) for step in steps)
    note_ids = Ids(writer, SubmissionNote.__table__, notes + sum(item.hold is not None for item in chunk))
    rows = Rows()
    for item in chunk:
        attachments = _attachment_rows(volume, item, attachment_ids, rows)
        _submission_row(volume, item, rows)
        timeline = Timeline(volume, item, rows, note_ids)
        timeline.intake(attachments)
        for step, queue in ((item.registry, "registry"), (item.division, "division")):
            if step is not None:
                decisions.append(timeline.decision(step, queue, attachments))
        timeline.now_in_queue()
    return rows


def _attachment_rows(volume: Volume, item: Planned, ids: Ids, rows: Rows) -> list[tuple[int, str, str]]:
    """The attachments (id, public id, sha256) and their check results; the submission's own result too."""
    made = []
    stem = "".join(char if char.isalnum() else "-" for char in item.subject.lower())[:40].strip("-")
    for position, profile in enumerate(item.profiles, start=1):
        row = _attachment_row(
            volume, item, profile, ids.next(), position, f"{stem or 'document'}-{position}.pdf"
        )
        rows.attachments.append(row)
        attachment_id, public_id, sha256 = row[0], row[1], row[6]
        made.append((attachment_id, public_id, sha256))
        if item.screened_at is not None:
            checks = [
                (item.id, attachment_id, *_check_values(result), item.screened_at)
                for result in profile.results
            ]
            rows.checks += checks
    service = _service_result(volume, item)
    if service is not None:
        rows.checks.append((item.id, None, *_check_values(service), item.screened_at))
    return made


def _attachment_row(
    volume: Volume, item: Planned, profile: Profile, attachment_id: int, position: int, filename: str
) -> tuple:
    rng, screened_at, pages = volume.rng, item.screened_at, profile.page_count
    size = min(50_000_000, (pages or 20) * rng.randint(25_000, 160_000))
    seconds = round(rng.uniform(0.4, 3.0) + 0.02 * (pages or 1), 3) if screened_at else None
    return (attachment_id, _uuid(rng), item.id, position, filename, size, f"{rng.getrandbits(256):064x}") + (
        pages if screened_at else None,
        profile.outcome if screened_at else None,
        screened_at,
        seconds,
    )


def _check_values(row: CheckRow) -> tuple:
    return (row.code, row.outcome, row.message_en, row.message_fr, row.details, row.for_counsel)


def _submission_row(volume: Volume, item: Planned, rows: Rows) -> None:
    case, screened = item.case, item.screened_at is not None
    failures, warnings = (item.failures(volume), item.warnings()) if screened else (0, 0)
    outcome = item.screening_outcome(volume)
    last = max((step.at for step in item.steps()), default=item.screened_at or item.received_at)
    claim, hold = item.claim, item.hold
    rows.submissions.append(
        (item.id, item.public_id, case.id, case.office_id, case.division_id, case.counsel_id, case.account_id)
        + (volume.client[0], item.kind, item.purpose, item.subject, item.proof)
        + (
            item.resubmission_of.id if item.resubmission_of else None,
            item.status,
            item.received_at,
            item.received_at,
        )
        + (item.hearing_on, item.rule.id if item.rule else None, item.deadline_on, item.timeliness, outcome)
        + (item.screened_at, claim.staff[0] if claim else None, claim.at if claim else None)
        + (
            hold.at if hold else None,
            hold.staff[0] if hold else None,
            failures,
            warnings,
            item.received_at,
            last,
        )
    )


class Timeline:
    """The audit events of one submission, and the notes and decisions they refer to."""

    TRANSITIONS = {
        ("registry", True): ("accept_to_division", "with_registry", "with_division"),
        ("registry", False): ("reject_by_registry", "with_registry", "rejected"),
        ("division", True): ("accept_by_division", "with_division", "accepted"),
        ("division", False): ("reject_by_division", "with_division", "rejected"),
    }

    def __init__(self, volume: Volume, item: Planned, rows: Rows, note_ids: Ids) -> None:
        self.volume, self.item, self.rows, self.note_ids = volume, item, rows, note_ids
        self.record_id = str(item.id)

    def event(self, at: datetime, action: str, staff=None, before=None, after=None, label: str = "") -> None:
        actor_id, email = staff if staff else (None, None)
        self.rows.events.append(
            (at, actor_id, label or email or SYSTEM, action, "submissions", self.record_id)
            + (self.item.case.office_id, before, after)
        )

    def intake(self, attachments: list[tuple[int, str, str]]) -> None:
        item, rng = self.item, self.volume.rng
        received = {
            "case": item.case.file_number,
            "kind": item.kind,
            "attachments": [sha256 for _id, _public, sha256 in attachments],
            "received_at": item.received_at.isoformat(),
            "resubmission_of": item.resubmission_of.public_id if item.resubmission_of else None,
        }
        self.event(
            item.received_at, "submission.received", after=received, label=f"portal: {self.volume.client[1]}"
        )
        if item.status == "received":
            return
        started = item.received_at + timedelta(seconds=rng.uniform(2, 12))
        self.event(
            started,
            "submission.start_screening",
            before={"status": "received"},
            after={"status": "screening"},
        )
        if item.screened_at is not None:
            outcome = {"status": "with_registry", "outcome": item.screening_outcome(self.volume)}
            self.event(
                item.screened_at, "submission.finish_screening", before={"status": "screening"}, after=outcome
            )

    def decision(self, step: Step, queue: str, attachments: list) -> DecisionMade:
        rng = self.volume.rng
        claimed = step.at - timedelta(minutes=rng.uniform(3, 45))
        self.claimed(claimed, step.staff)
        if step.held_before:
            self.hold(claimed + (step.at - claimed) / 3, step.staff, rng.choice(HOLD_NOTES))
            self.claimed(claimed + 2 * (step.at - claimed) / 3, step.staff)
        if queue == "registry" and rng.random() < 0.7:
            after = {"attachment": attachments[0][1]}
            self.event(claimed + timedelta(minutes=1), "attachment.viewed", step.staff, after=after)
        if step.remark:
            self.note(claimed + timedelta(minutes=2), step.staff, step.remark, is_hold=False)
        decided = list(
            zip(attachments, step.by_file or (), strict=False)
        )  # [((id, public id, sha), accepted)]
        details: dict[str, Any] = {"reasons": [code for _id, code in step.reasons], "note": bool(step.note)}
        if decided:
            details["files"] = {attachment[1]: accepted for attachment, accepted in decided}
        if step.held_before:
            details["hold_ended"] = True
        action, before, after = self.TRANSITIONS[queue, step.accepted]
        self.event(
            step.at, f"submission.{action}", step.staff, {"status": before}, {"status": after, **details}
        )
        reason_ids = tuple(reason_id for reason_id, _code in step.reasons)
        files = tuple((attachment[0], accepted) for attachment, accepted in decided)
        item = self.item
        return DecisionMade(
            step.at,
            item.id,
            queue,
            step.accepted,
            step.note,
            step.staff[0],
            reason_ids,
            files,
            item.case.office_id,
            item.case.division_id,
            item.received_at,
        )

    def claimed(self, at: datetime, staff: tuple[int, str]) -> None:
        self.event(at, "submission.claimed", staff, {"claimed_by": None}, {"claimed_by": staff[1]})

    def hold(self, at: datetime, staff: tuple[int, str], body: str) -> None:
        note_id = self.note(at, staff, body, is_hold=True, audited=False)
        self.event(at, "submission.put_on_hold", staff, after={"note": note_id})

    def note(
        self, at: datetime, staff: tuple[int, str], body: str, is_hold: bool, audited: bool = True
    ) -> int:
        note_id = self.note_ids.next()
        self.rows.notes.append((note_id, self.item.id, staff[0], body, is_hold, at))
        if audited:
            self.event(at, "submission.note_added", staff, after={"note": note_id})
        return note_id

    def now_in_queue(self) -> None:
        item = self.item
        if item.claim is not None:
            self.claimed(item.claim.at, item.claim.staff)
        if item.hold is not None:
            self.claimed(item.hold.at - timedelta(minutes=self.volume.rng.uniform(5, 60)), item.hold.staff)
            self.hold(item.hold.at, item.hold.staff, item.hold.note)
