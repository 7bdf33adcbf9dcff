"""The automated checks run on every attachment, in one list, and the one run on the submission as a whole.

Each check is a small pure function in its own module (see `base.py` for what it takes and gives back).
Their order is the order a clerk reads them in.
"""

from collections.abc import Callable

from backoffice.screening.checks.active_content import check_active_content
from backoffice.screening.checks.base import CheckContext, CheckResult, DocumentFacts, Outcome, PageFacts
from backoffice.screening.checks.encryption import check_encryption
from backoffice.screening.checks.notice_of_appeal import check_notice_of_appeal
from backoffice.screening.checks.one_subject import check_one_subject
from backoffice.screening.checks.page_count import check_page_count
from backoffice.screening.checks.page_numbering import check_page_numbering
from backoffice.screening.checks.proof_of_service import check_proof_of_service
from backoffice.screening.checks.readable import check_readable
from backoffice.screening.checks.table_of_contents import check_table_of_contents
from backoffice.screening.checks.text_layer import check_text_layer
from backoffice.screening.checks.unrelated_files import check_unrelated_files

DocumentCheck = Callable[[DocumentFacts, CheckContext], CheckResult | None]

DOCUMENT_CHECKS: list[DocumentCheck] = [
    check_readable,
    check_encryption,
    check_active_content,
    check_page_count,
    check_text_layer,
    check_page_numbering,
    check_table_of_contents,
    check_notice_of_appeal,
    check_unrelated_files,
    check_one_subject,
]


def run_document_checks(document: DocumentFacts, context: CheckContext) -> list[CheckResult]:
    results = (check(document, context) for check in DOCUMENT_CHECKS)
    return [result for result in results if result is not None]


def worst_outcome(results: list[CheckResult]) -> Outcome:
    order = list(Outcome)
    return max((result.outcome for result in results), key=order.index, default=Outcome.PASS)


__all__ = [
    "DOCUMENT_CHECKS",
    "CheckContext",
    "CheckResult",
    "DocumentFacts",
    "Outcome",
    "PageFacts",
    "check_proof_of_service",
    "run_document_checks",
    "worst_outcome",
]
