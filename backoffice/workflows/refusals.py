"""Refusals, the two kinds the back office answers with.

- `Refused`: a staff action refused by a rule (not your queue, wrong stage, changed meanwhile, no address for
  this channel ...), with the reason in the reader's language. Every workflow raises this one exception; a staff
  view runs a workflow call through `admin.base.run_action`, which rolls back and shows the reason.
- `Refusal`: a request of the portal refused, with a stable code, an HTTP status and a message in both
  languages (PORTAL-API.md).
"""

from typing import Any

MESSAGES: dict[str, tuple[int, str, str]] = {
    "malformed_request": (
        400,
        "The request is malformed: {reason}.",
        "La demande est mal formée : {reason}.",
    ),
    "missing_field": (
        400,
        "A required field is missing: {field}.",
        "Un champ obligatoire est absent : {field}.",
    ),
    "unauthorized": (
        401,
        "A valid portal client token is required (Authorization: Bearer …).",
        "Un jeton valide de client du portail est requis (Authorization: Bearer …).",
    ),
    "not_found": (404, "Nothing is found at this address.", "Rien ne se trouve à cette adresse."),
    "method_not_allowed": (
        405,
        "This method is not allowed here.",
        "Cette méthode n'est pas permise ici.",
    ),
    "attachment_too_large": (
        413,
        "An attachment is larger than 50 MB: {filename}.",
        "Une pièce jointe dépasse 50 Mo : {filename}.",
    ),
    "request_too_large": (
        413,
        "The request is larger than a submission can be.",
        "La demande est plus volumineuse qu'une soumission ne peut l'être.",
    ),
    "not_pdf": (
        415,
        "Only PDF files are accepted, and this one is not a complete PDF: {filename}.",
        "Seuls les fichiers PDF sont acceptés, et celui-ci n'est pas un PDF complet : {filename}.",
    ),
    "too_many_attachments": (
        422,
        "A submission has at most 5 attachments.",
        "Une soumission compte au plus 5 pièces jointes.",
    ),
    "no_attachments": (
        422,
        "A submission needs at least one PDF attachment.",
        "Une soumission doit comprendre au moins une pièce jointe PDF.",
    ),
    "unknown_portal_account": (
        422,
        "This portal account is unknown or not active.",
        "Ce compte du portail est inconnu ou n'est pas actif.",
    ),
    "unknown_case": (
        422,
        "No active case has this file number: {file_number}.",
        "Aucun dossier actif ne porte ce numéro : {file_number}.",
    ),
    "not_counsel_of_record": (
        422,
        "This counsel is not counsel of record on case {file_number}.",
        "Ce conseil n'est pas conseil inscrit au dossier {file_number}.",
    ),
    "no_appeal_filed": (
        422,
        "Documents can be exchanged on case {file_number} only once an appeal has been filed.",
        "Des documents ne peuvent être échangés au dossier {file_number} qu'une fois un appel interjeté.",
    ),
    "notice_of_appeal_not_accepted": (
        422,
        "A notice of appeal cannot be filed through My Case; file it directly with the division.",
        "Un avis d'appel ne peut pas être déposé par Mon dossier; déposez-le directement auprès de la section.",
    ),
    "unknown_document_kind": (
        422,
        "Unknown kind of document: {kind}. Use division_form, application, disclosure or written_submission.",
        "Genre de document inconnu : {kind}. Utilisez division_form, application, disclosure ou written_submission.",
    ),
    "unknown_purpose": (
        422,
        "Unknown purpose: {purpose}. Use reply or witness_information, or leave it out.",
        "Objet inconnu : {purpose}. Utilisez reply ou witness_information, ou omettez-le.",
    ),
    "invalid_subject": (
        422,
        "The subject is required and has at most 500 characters.",
        "L'objet est obligatoire et compte au plus 500 caractères.",
    ),
    "invalid_proof_of_service": (
        422,
        "The proof of service is not valid: {reason}.",
        "La preuve de signification n'est pas valide : {reason}.",
    ),
    "unknown_submission": (
        422,
        "The submission this one replaces is unknown: {submission_id}.",
        "La soumission que celle-ci remplace est inconnue : {submission_id}.",
    ),
    "not_rejected": (
        409,
        "Only a rejected submission of the same case can be replaced; this one is {status}.",
        "Seule une soumission rejetée du même dossier peut être remplacée; celle-ci est à l'état {status}.",
    ),
    "invalid_code": (
        422,
        "This invitation code is not valid. Check it, or ask the regional office for a new one.",
        "Ce code d'invitation n'est pas valide. Vérifiez-le ou demandez-en un nouveau au bureau régional.",
    ),
    "invalid_access_code": (
        422,
        "This access code is not valid. Check the code sent by text message.",
        "Ce code d'accès n'est pas valide. Vérifiez le code envoyé par texto.",
    ),
    "sign_in_already_linked": (
        409,
        "This GCKey or sign-in partner account is already linked to another counsel's My Case account.",
        "Ce compte CléGC ou de partenaire de connexion est déjà lié au compte Mon dossier d'un autre conseil.",
    ),
    "too_many_attempts": (
        429,
        "Too many attempts. Wait 15 minutes and try again, or call the My Case help desk.",
        "Trop de tentatives. Attendez 15 minutes avant de réessayer ou appelez le service d'assistance de Mon dossier.",
    ),
    "slow_down": (
        429,
        "This code is not valid, and a great many wrong codes are arriving at the moment. Check the code and "
        "try again in {retry_after_seconds} seconds.",
        "Ce code n'est pas valide, et un très grand nombre de codes erronés arrivent en ce moment. Vérifiez le "
        "code et réessayez dans {retry_after_seconds} secondes.",
    ),
    "storage_unavailable": (
        503,
        "The documents cannot be stored at the moment; nothing was received. Send the submission again in "
        "{retry_after_seconds} seconds.",
        "Les documents ne peuvent pas être enregistrés en ce moment; rien n'a été reçu. Envoyez de nouveau la "
        "soumission dans {retry_after_seconds} secondes.",
    ),
}


class Refused(Exception):
    """A staff action refused by a rule; `message` says why, in the reader's language."""

    def __init__(self, message: Any) -> None:
        # Made a plain string now, in the reader's language: a lazy string would pass as safe HTML.
        super().__init__(str(message))
        self.message = str(message)


class Refusal(Exception):
    """What was asked is refused; nothing has been stored."""

    def __init__(self, code: str, **details: Any) -> None:
        super().__init__(code)
        self.code = code
        self.details = details
        self.status, english, french = MESSAGES[code]
        self.message_en = english.format(**details)
        self.message_fr = french.format(**details)

    def as_json(self) -> dict[str, Any]:
        return {
            "error": self.code,
            "message_en": self.message_en,
            "message_fr": self.message_fr,
            "details": self.details,
        }
