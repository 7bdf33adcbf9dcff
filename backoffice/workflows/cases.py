"""Rules about cases: file number and client id formats, and what makes a case active."""

import re

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

# Office letter, division letter, year digit, serial: TB5-12345, MB5-04801, VB5-02246.
FILE_NUMBER = re.compile(r"^[A-Z]{2}\d-\d{5}$")
# Immigration Division files: 0003-B5-01234.
ID_FILE_NUMBER = re.compile(r"^\d{4}-[A-Z]\d-\d{5}$")
# A UCI is 8 digits (0000-0000) or 10 (00-0000-0000).
UCI = re.compile(r"^(\d{4}-?\d{4}|\d{2}-?\d{4}-?\d{4})$")


def normalise_file_number(value: str) -> str:
    return value.strip().upper()


def file_number_problem(file_number: str, division_code: str | None) -> LazyString | None:
    """Why a file number is not valid for the division, or None when it is."""
    if FILE_NUMBER.match(file_number):
        return None
    if ID_FILE_NUMBER.match(file_number):
        if division_code in (None, "ID"):
            return None
        return _l("This file number format is used only by the Immigration Division.")
    return _l("A file number looks like TB5-12345 (or 0003-B5-01234 for the Immigration Division).")


def normalise_uci(value: str) -> str | None:
    """A UCI in its printed form (0000-0000 or 00-0000-0000), or None when it is not one."""
    value = value.strip()
    if not UCI.match(value):
        return None
    digits = value.replace("-", "")
    if len(digits) == 8:
        return f"{digits[:4]}-{digits[4:]}"
    return f"{digits[:2]}-{digits[2:6]}-{digits[6:]}"
