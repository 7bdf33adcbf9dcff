"""A submission must not mix unrelated files: other file numbers or UCIs in the text are worth a look.

The page probe collects strings shaped like identifiers; only the exact forms count here (TB5-12345,
0003-B5-01234, 1234-5678, 12-3456-7890), so that a date such as 2024-01-15 is never taken for a UCI.
"""

import re

from backoffice.screening.checks.base import (
    CheckContext,
    CheckResult,
    DocumentFacts,
    Outcome,
    listed,
    pages_named,
)

CODE = "unrelated_files"
LISTED_LIMIT = 20
YEARS_IN_A_SPAN = 20

FILE_NUMBER = re.compile(r"([A-Z]{2}\d)\s*-\s*(\d{5})")
ID_FILE_NUMBER = re.compile(r"(\d{4})\s*-\s*([A-Z]\d)\s*-\s*(\d{5})")
UCI = re.compile(r"(\d{4})[ -](\d{4})|(\d{2})[ -](\d{4})[ -](\d{4})")
DIGITS_ONLY_UCI = re.compile(r"\d{8}|\d{10}")  # as the case may store it, never as read in a text


def normal_file_number(value: str) -> str | None:
    value = value.strip().upper()
    if match := FILE_NUMBER.fullmatch(value):
        return "-".join(match.groups())
    if match := ID_FILE_NUMBER.fullmatch(value):
        return "-".join(match.groups())
    return None


def normal_uci(value: str) -> str | None:
    """A UCI as read in a text: 1234-5678 or 12-3456-7890 (dashes or spaces), nothing else.

    "2023-2024" has the shape of a UCI but is a span of years in country reports far more often.
    """
    match = UCI.fullmatch(value.strip())
    if match is None or _span_of_years(match[1], match[2]):
        return None
    return "-".join(part for part in match.groups() if part)


def _span_of_years(first: str | None, second: str | None) -> bool:
    if first is None or second is None:
        return False
    start, end = int(first), int(second)
    return 1900 <= start <= 2099 and 0 <= end - start <= YEARS_IN_A_SPAN


def _own_uci(value: str) -> str | None:
    """The case's UCI, which may be stored as bare digits."""
    value = value.strip()
    if DIGITS_ONLY_UCI.fullmatch(value):
        value = f"{value[:-8]} {value[-8:-4]} {value[-4:]}".strip()
    return normal_uci(value)


def other_identifiers(
    identifiers: dict[str, list[int]], context: CheckContext
) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """File numbers and UCIs found in the text that are not the submission's, with their pages."""
    own_files = {normal_file_number(value) or value.strip().upper() for value in context.file_numbers}
    own_ucis = {normal for value in context.ucis if (normal := _own_uci(value))}
    files: dict[str, set[int]] = {}
    ucis: dict[str, set[int]] = {}
    for value, pages in identifiers.items():
        if (file_number := normal_file_number(value)) and file_number not in own_files:
            files.setdefault(file_number, set()).update(pages)
        elif (uci := normal_uci(value)) and uci not in own_ucis:
            ucis.setdefault(uci, set()).update(pages)
    return _sorted(files), _sorted(ucis)


def _sorted(found: dict[str, set[int]]) -> dict[str, list[int]]:
    return {value: sorted(pages) for value, pages in sorted(found.items())}


def check_unrelated_files(document: DocumentFacts, context: CheckContext) -> CheckResult | None:
    if document.pages is None:
        return None
    files, ucis = other_identifiers(document.identifiers, context)
    if not files and not ucis:
        return CheckResult(
            CODE,
            Outcome.PASS,
            "No other file number or UCI is mentioned.",
            "Aucun autre numéro de dossier ni IUC n'est mentionné.",
        )
    english = [f"file {value} ({pages_named(pages)})" for value, pages in files.items()]
    english += [f"UCI {value} ({pages_named(pages)})" for value, pages in ucis.items()]
    french = [f"dossier {value} ({pages_named(pages)})" for value, pages in files.items()]
    french += [f"IUC {value} ({pages_named(pages)})" for value, pages in ucis.items()]
    return CheckResult(
        CODE,
        Outcome.WARNING,
        f"Other files are mentioned: {listed(english, '; ', LISTED_LIMIT)}. Check that this document belongs to this case.",
        f"D'autres dossiers sont mentionnés : {listed(french, ' ; ', LISTED_LIMIT)}. Vérifiez que ce document se rapporte bien à "
        "ce dossier.",
        {"file_numbers": files, "ucis": ucis},
    )
