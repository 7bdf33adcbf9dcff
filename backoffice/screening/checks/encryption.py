"""Rule 2: a PDF that needs a password to open is refused; restrictions set by an owner password are noted."""

from backoffice.screening.checks.base import CheckContext, CheckResult, DocumentFacts, Outcome

CODE = "encryption"


def check_encryption(document: DocumentFacts, context: CheckContext) -> CheckResult | None:
    encryption = document.structure.get("encryption", "none")
    if encryption == "user":
        return CheckResult(
            CODE,
            Outcome.FAILURE,
            "The PDF is protected by a password and cannot be opened. Remove the password and resubmit it.",
            "Le PDF est protégé par un mot de passe et ne peut pas être ouvert. Retirez le mot de passe, puis soumettez-le à nouveau.",
            {"encryption": "user_password"},
        )
    if encryption == "owner":
        return CheckResult(
            CODE,
            Outcome.PASS,
            "Noted: the PDF opens without a password but has an owner password restricting some uses (printing, copying).",
            "À noter : le PDF s'ouvre sans mot de passe, mais un mot de passe du propriétaire en restreint certains usages (impression, copie).",
            {"encryption": "owner_password"},
        )
    if encryption == "none":
        return CheckResult(
            CODE,
            Outcome.PASS,
            "The PDF is not password protected.",
            "Le PDF n'est pas protégé par un mot de passe.",
        )
    return None
