"""Rule 11: pages without a text layer (scans) cannot be verified by the checks that read text; say which."""

from backoffice.screening.checks.base import CheckContext, CheckResult, DocumentFacts, Outcome, page_ranges

CODE = "text_layer"


def check_text_layer(document: DocumentFacts, context: CheckContext) -> CheckResult | None:
    if document.pages is None:
        return None
    without_text = document.pages_without_text
    if not without_text:
        return CheckResult(
            CODE, Outcome.PASS, "Every page has a text layer.", "Chaque page a une couche texte."
        )
    listed = page_ranges(without_text)
    return CheckResult(
        CODE,
        Outcome.WARNING,
        f"{len(without_text)} page(s) have no text layer (scanned images) and could not be verified by the checks that read text: pages {listed}.",
        f"{len(without_text)} page(s) n'ont pas de couche texte (images numérisées) et n'ont pas pu être vérifiées par les contrôles qui lisent le texte : pages {listed}.",
        {"not_verifiable": without_text[:500], "count": len(without_text)},
    )
