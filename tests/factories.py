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
    Role,
    StaffUser,
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
