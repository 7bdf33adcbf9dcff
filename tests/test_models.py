"""Rules kept by the models and the database."""

from datetime import datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, StatementError

from backoffice.extensions import db
from backoffice.workflows.cases import file_number_problem, normalise_uci
from tests.factories import create_case


@pytest.mark.parametrize(
    ("file_number", "division", "valid"),
    [
        ("TB5-12345", "RPD", True),
        ("MB5-04801", "RAD", True),
        ("VB5-02246", "IAD", True),
        ("0003-B5-01234", "ID", True),
        ("0003-B5-01234", "RPD", False),
        ("TB5-1234", "RPD", False),
        ("tb5-12345", "RPD", False),
        ("TB5 12345", "RPD", False),
    ],
)
def test_file_numbers_are_validated_by_format(file_number, division, valid):
    assert (file_number_problem(file_number, division) is None) == valid


@pytest.mark.parametrize(
    ("given", "printed"),
    [
        ("12345678", "1234-5678"),
        ("1234-5678", "1234-5678"),
        ("1234567890", "12-3456-7890"),
        ("12-3456-7890", "12-3456-7890"),
        ("123456789", None),
        ("1234-567X", None),
    ],
)
def test_uci_is_8_or_10_digits_and_printed_with_hyphens(given, printed):
    assert normalise_uci(given) == printed


def test_instants_without_a_time_zone_are_refused(app):
    case = create_case()
    case.created_at = datetime(2026, 4, 2, 1, 0)
    with pytest.raises(StatementError, match="Naive datetimes"):
        db.session.commit()
    db.session.rollback()


def test_the_database_enforces_foreign_keys_on_every_engine(app):
    with pytest.raises(IntegrityError):
        db.session.execute(
            text("INSERT INTO counsel_of_record (case_id, counsel_id) VALUES (424242, 434343)")
        )
        db.session.commit()
    db.session.rollback()


def test_a_case_file_number_is_unique(app):
    create_case(file_number="TB5-55555")
    with pytest.raises(IntegrityError):
        create_case(file_number="TB5-55555")
    db.session.rollback()
