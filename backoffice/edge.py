"""What no request may carry, refused once at the edge before any view or query reads it.

PostgreSQL cannot store a NUL byte, and no text a person types holds other control characters (tab, CR and
LF aside) or half of a surrogate pair; an integer past 64 bits fits no database column, LIMIT or OFFSET. Left
to the views, each would end as a database error and a 500. The staff screens' guard is here; the portal
API's, which answers in its own error body, applies the same rules (backoffice/api/edge.py).
"""

import re
from collections.abc import Iterator

from flask import request
from werkzeug.exceptions import BadRequest, NotFound

INT64 = range(-(2**63), 2**63)
# C0 control characters but tab, LF and CR: a character class read alike by Python and JSON Schema.
CONTROL_CHARACTERS = r"\u0000-\u0008\u000b\u000c\u000e-\u001f"
CONTROL_CHARACTER = re.compile(f"[{CONTROL_CHARACTERS}]")
RECORD_ID = "id"
INT32 = range(-(2**31), 2**31)  # an INTEGER column: 4 bytes in PostgreSQL
RECORD_IDS = range(1, 2**31)
MAX_PAGE = 100_000  # far past any list anyone pages through; its offset stays far inside 64 bits


class OddInput(BadRequest):
    """A value no staff screen accepts: a control character, or an integer past 64 bits."""


def odd_character(text: str) -> str | None:
    """The first character of `text` that no field accepts, or None."""
    found = CONTROL_CHARACTER.search(text)
    if found:
        return found.group()
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        return text[error.start]
    return None


def integer_past_64_bits(text: str) -> bool:
    """Whether `text`, or a piece of a comma-separated list, reads as an integer (as `int()` reads it, the
    way `request.args.get(..., type=int)` and Flask-Admin's filters do) that 64 bits cannot hold."""
    for piece in text.split(","):
        try:
            number = int(piece)
        except ValueError:
            continue
        if number not in INT64:
            return True
    return False


def record_id(text: str) -> int:
    """A record's id, for `request.args.get("office", type=record_id)` and the like: a number no record can
    have (ids are 32-bit INTEGER keys in PostgreSQL, which refuses to compare them with more) is no id."""
    number = int(text)
    if number not in RECORD_IDS:
        raise ValueError(f"no record has the id {number}")
    return number


def page_number(text: str) -> int:
    """A list's page for `request.args.get("page", 1, type=page_number)`: 0 to MAX_PAGE, else the default."""
    number = int(text)
    if not 0 <= number <= MAX_PAGE:
        raise ValueError(f"no page {number}")
    return number


def refuse_odd_staff_input() -> None:
    """Before any staff view: 400 for an odd value anywhere in the query string, the form or the path, and
    404 for a record id past 64 bits (no record has it). The API has its own guard and error body."""
    if request.path.startswith("/api/"):
        return
    for name, value in _staff_values():
        if odd_character(name) or odd_character(value):
            raise OddInput()
        if integer_past_64_bits(value):
            raise NotFound() if name == RECORD_ID else OddInput()


def _staff_values() -> Iterator[tuple[str, str]]:
    yield from request.args.items(multi=True)
    yield from (request.view_args or {}).items()
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        yield from request.form.items(multi=True)
        for name, upload in request.files.items(multi=True):
            yield name, upload.filename or ""
