"""Rule 11: pages without a text layer (scans) are read by OCR in their margins and first pages; the pages
that OCR could not read cannot be verified by the checks that read text: say which."""

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
    read = document.pages_read_by_ocr
    not_read = document.pages_not_verifiable
    details = {
        "not_verifiable": not_read[:500],
        "count": len(not_read),
        "read_by_ocr": read[:500],
        "read_by_ocr_count": len(read),
        "without_text_layer_count": len(without_text),
    }
    if not not_read:
        listed = page_ranges(read)
        return CheckResult(
            CODE,
            Outcome.PASS,
            f"{len(read)} page(s) have no text layer (scanned images); their page numbers, headers and footers "
            f"were read by OCR: pages {listed}.",
            f"{len(read)} page(s) n'ont pas de couche texte (images numérisées); leurs numéros, en-têtes et "
            f"pieds de page ont été lus par reconnaissance de caractères : pages {listed}.",
            details,
        )
    listed = page_ranges(not_read)
    english = (
        f"{len(not_read)} page(s) have no text layer (scanned images) and could not be verified by the checks "
        f"that read text: pages {listed}."
    )
    french = (
        f"{len(not_read)} page(s) n'ont pas de couche texte (images numérisées) et n'ont pas pu être vérifiées "
        f"par les contrôles qui lisent le texte : pages {listed}."
    )
    if read:
        english += f" The other scanned pages were read by OCR: pages {page_ranges(read)}."
        french += (
            " Les autres pages numérisées ont été lues par reconnaissance de caractères : pages "
            f"{page_ranges(read)}."
        )
    return CheckResult(CODE, Outcome.WARNING, english, french, details)
