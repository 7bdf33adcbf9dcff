"""Rule 10: when the division's rules require the document to be served, the submission declares proof of service."""

from backoffice.screening.checks.base import CheckContext, CheckResult, Outcome

CODE = "proof_of_service"


def check_proof_of_service(context: CheckContext, citation: tuple[str, str] | None) -> CheckResult | None:
    """A check on the submission as a whole, not on one attachment."""
    if not context.proof_of_service_required:
        return None
    english_rule, french_rule = citation or ("the division's rules", "règles de la section")
    if context.proof_of_service_declared:
        return CheckResult(
            CODE,
            Outcome.PASS,
            f"Proof of service declared (required by {english_rule}).",
            f"Preuve de signification déclarée (exigée par : {french_rule}).",
        )
    return CheckResult(
        CODE,
        Outcome.FAILURE,
        f"This document must be served on the other party ({english_rule}), but no proof of service was declared.",
        f"Ce document doit être signifié à l'autre partie (règle : {french_rule}), mais aucune preuve de signification n'a été déclarée.",
    )
