"""A notice of appeal cannot come through My Case: documents are exchanged only once an appeal is filed.

Only a title counts: "Notice of Appeal" at the start of a line near the top of a page, alone on its line or
with a form number, a rule or the division's name. A sentence that mentions a notice of appeal ("the notice
of appeal was filed on …") does not.
"""

import re

from backoffice.screening.checks.base import (
    CheckContext,
    CheckResult,
    DocumentFacts,
    Outcome,
    fold,
    page_tops,
    pages_named,
)

CODE = "notice_of_appeal"
TOP_LINES = 12  # non-empty lines read at the top of each page
MAX_TITLE_LENGTH = 120

# Matched on fold()ed lines: lower case, no accents, straight apostrophes.
_TITLE = r"(?:notice of appeal|avis d'appel)"
_DIVISION = (
    r"(?:(?:to|before) the )?(?:refugee|immigration) appeal division"
    r"|(?:(?:a|aupres de|devant) la )?section d'appel (?:des refugies|de l'immigration)"
)
_KIND = (
    r"(?:(?:of a |d'une |for |en matiere de )?(?:sponsorship|removal order|residency obligation|parrainage"
    r"|mesure de renvoi|obligation de residence)|(?:by|of) the minister|du ministre)"
)
_FORM = r"(?:form|formulaire|rule|regle|section|article|no\.?|n°)\s*[a-z.\-]{0,6}\d[\w.\-]{0,8}"
TITLE = re.compile(rf"{_TITLE}(?:[\s:.,\-–—/]|\([^()]{{0,60}}\)|{_FORM}|{_TITLE}|{_DIVISION}|{_KIND})*")


def is_notice_of_appeal_title(line: str) -> bool:
    line = line.strip()
    return len(line) <= MAX_TITLE_LENGTH and TITLE.fullmatch(fold(line)) is not None


def pages_with_title(document: DocumentFacts) -> list[int]:
    """The pages with a notice of appeal's title at their top."""
    return sorted(
        {
            number
            for number, lines in page_tops(document, TOP_LINES)
            if any(map(is_notice_of_appeal_title, lines))
        }
    )


def check_notice_of_appeal(document: DocumentFacts, context: CheckContext) -> CheckResult | None:
    if document.pages is None:
        return None
    pages = pages_with_title(document)
    if not pages:
        return CheckResult(
            CODE,
            Outcome.PASS,
            "This document does not look like a notice of appeal.",
            "Ce document ne semble pas être un avis d'appel.",
        )
    listed = pages_named(pages)
    return CheckResult(
        CODE,
        Outcome.FAILURE,
        f"This document looks like a notice of appeal ({listed}). A notice of appeal cannot be filed through "
        "My Case: file it directly with the division.",
        f"Ce document semble être un avis d'appel ({listed}). Un avis d'appel ne peut pas être déposé au moyen "
        "de Mon dossier : déposez-le directement auprès de la section.",
        {"pages": pages[:500]},
    )
