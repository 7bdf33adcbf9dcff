"""Rule 4: the page count, with a ceiling, and a warning on voluminous country-conditions evidence."""

from backoffice.screening.checks.base import CheckContext, CheckResult, DocumentFacts, Outcome

CODE = "page_count"
VOLUMINOUS_PAGES = 100


def check_page_count(document: DocumentFacts, context: CheckContext) -> CheckResult | None:
    structure = document.structure
    if structure.get("problem") == "too_many_pages":
        ceiling = structure.get("detail")
        return CheckResult(
            CODE,
            Outcome.FAILURE,
            f"The PDF has more than {ceiling} pages, the most a document may have. Split it into several submissions.",
            f"Le PDF compte plus de {ceiling} pages, le maximum permis. Divisez-le en plusieurs soumissions.",
            {"ceiling": ceiling, "claimed_page_count": structure.get("claimed_page_count")},
        )
    count = document.page_count
    if count is None:
        return None
    claimed = structure.get("claimed_page_count")
    if claimed is not None and claimed != count:
        return CheckResult(
            CODE,
            Outcome.WARNING,
            f"The PDF declares {claimed:,} pages but holds {count:,}: its structure is inconsistent, and some readers may show it differently.",
            f"Le PDF déclare {claimed:,} pages, mais en contient {count:,} : sa structure est incohérente et certains lecteurs pourraient l'afficher autrement.".replace(
                ",", "\u00a0"
            ),
            {"page_count": count, "claimed_page_count": claimed},
        )
    if count == 0:
        return CheckResult(
            CODE, Outcome.FAILURE, "The PDF has no pages.", "Le PDF ne compte aucune page.", {"page_count": 0}
        )
    if context.division == "RPD" and context.document_kind == "disclosure" and count > VOLUMINOUS_PAGES:
        return CheckResult(
            CODE,
            Outcome.WARNING,
            f"{count} pages: voluminous evidence (over {VOLUMINOUS_PAGES} pages). Check that only the relevant extracts of country-conditions documents are disclosed.",
            f"{count} pages : preuve volumineuse (plus de {VOLUMINOUS_PAGES} pages). Vérifiez que seuls les extraits pertinents des documents sur la situation dans le pays sont communiqués.",
            {"page_count": count, "voluminous_over": VOLUMINOUS_PAGES},
        )
    return CheckResult(CODE, Outcome.PASS, f"{count} page(s).", f"{count} page(s).", {"page_count": count})
