"""Messages to counsel: which templates exist, on which channels, with which values.

The texts live in backoffice/templates/messages/<template>/<language>/ as Jinja2 files:
subject.txt (email subject), body.txt (email and letter body) and sms.txt (SMS). The HTML version of
an email is body.txt laid out by messages/_layout.html, so the two can never say different things.
Values listed in `secret` (codes) appear in the message body only: they are masked everywhere else
and erased from the outbox once the message is delivered.
"""

from dataclasses import dataclass, field
from typing import Any

from backoffice.i18n import current_language

EMAIL, SMS, MAIL, FAX = "email", "sms", "mail", "fax"
HELP_DESK = "1-833-777-2433"


@dataclass(frozen=True)
class MessageTemplate:
    name: str
    channels: tuple[str, ...]
    sample: dict[str, Any]
    secret: tuple[str, ...] = ()
    label: dict[str, str] = field(default_factory=dict)
    # A document sent with the message (attached to an email, printed after a letter), made when it is sent.
    attachment: str | None = None


_COUNSEL = {
    "counsel_name": "Amélie Tremblay",
    "office_name": {"en": "Eastern Region", "fr": "Région de l'Est"},
    "office_mailbox": "irb.MyCaseEastern-mondossierEst.cisr@cisr-irb.gc.ca",
    "help_desk": HELP_DESK,
}
_MEETING = {
    "meeting_time": "2026-12-03 10:30",
    "meeting_time_zone": "America/Toronto",
    "meeting_zone_name": {"en": "Eastern Time", "fr": "heure de l'Est"},
    "meeting_link": "https://irb-cisr.webex.example/meet/j.php?MTID=m1234",
    "meeting_number": "2634 123 4567",
}
_SUBMISSION = {
    "file_number": "MB5-04801",
    "submission_id": "3f2b8c1e-7d4a-4e55-9a0b-2c6d1e8f4a70",
    "document_kind": {"en": "Disclosure", "fr": "Communication de documents"},
    "subject": "Exhibits for the hearing of 15 December",
    "filenames": ["disclosure.pdf", "proof-of-service.pdf"],
    "received_eastern": "2026-11-27 16:42 EST",
    "received_local": "2026-11-27 16:42 EST",
}
_REASONS = [
    {"code": "R-PAGES", "en": "The pages are not numbered.", "fr": "Les pages ne sont pas numérotées."},
    {
        "code": "R-TOC",
        "en": "The disclosure has no table of contents.",
        "fr": "La communication de documents n'a pas de table des matières.",
    },
]

TEMPLATES: dict[str, MessageTemplate] = {
    template.name: template
    for template in [
        MessageTemplate(
            "invitation",
            (EMAIL, MAIL, FAX),
            {**_COUNSEL},
            label={"en": "Invitation to register", "fr": "Invitation à s'inscrire"},
            attachment="registration_form",
        ),
        MessageTemplate(
            "form_incomplete",
            (EMAIL, MAIL, FAX),
            {
                **_COUNSEL,
                "missing_items": [
                    {"en": "Membership number", "fr": "Numéro de membre"},
                    {"en": "Mobile number for SMS", "fr": "Numéro de cellulaire pour les textos"},
                ],
            },
            label={"en": "Registration form incomplete", "fr": "Formulaire d'inscription incomplet"},
        ),
        MessageTemplate(
            "verification_meeting",
            (EMAIL,),
            {**_COUNSEL, **_MEETING},
            label={"en": "Identity verification meeting", "fr": "Rencontre de vérification de l'identité"},
        ),
        MessageTemplate(
            "verification_reminder",
            (EMAIL, SMS),
            {**_COUNSEL, **_MEETING},
            label={
                "en": "Reminder of the verification meeting",
                "fr": "Rappel de la rencontre de vérification",
            },
        ),
        MessageTemplate(
            "invitation_code",
            (EMAIL, MAIL, FAX),
            {
                **_COUNSEL,
                "invitation_code": "K7QM-3XPR-9TWD",
                "portal_url": "https://mycase-mondossier.irb-cisr.gc.ca/",
                "expires_on": "2026-12-28",
            },
            secret=("invitation_code",),
            label={"en": "Invitation code", "fr": "Code d'invitation"},
        ),
        MessageTemplate(
            "invitation_code_reminder",
            (EMAIL, MAIL, FAX),
            {
                **_COUNSEL,
                "portal_url": "https://mycase-mondossier.irb-cisr.gc.ca/",
                "expires_on": "2026-12-28",
            },
            label={"en": "Invitation code expiring soon", "fr": "Code d'invitation bientôt expiré"},
        ),
        MessageTemplate(
            "access_code",
            (SMS,),
            {"access_code": "482913", "valid_hours": 24},
            secret=("access_code",),
            label={"en": "SMS access code", "fr": "Code d'accès par texto"},
        ),
        MessageTemplate(
            "submission_receipt",
            (EMAIL,),
            {**_COUNSEL, **_SUBMISSION, "attachments": ["disclosure.pdf", "proof-of-service.pdf"]},
            label={"en": "Submission received", "fr": "Soumission reçue"},
        ),
        MessageTemplate(
            "submission_rejected",
            (EMAIL,),
            {
                **_COUNSEL,
                **_SUBMISSION,
                "reasons": _REASONS,
                "note": "Please combine the exhibits into one PDF.",
                "portal_url": "https://mycase-mondossier.irb-cisr.gc.ca/",
            },
            label={"en": "Submission rejected by registry", "fr": "Soumission rejetée par le greffe"},
        ),
        MessageTemplate(
            "division_decision",
            (EMAIL,),
            {
                **_COUNSEL,
                **_SUBMISSION,
                "accepted": False,
                "division_name": {
                    "en": "Refugee Protection Division",
                    "fr": "Section de la protection des réfugiés",
                },
                "reasons": _REASONS[:1],
                "note": "",
                # Set when the division decided file by file: each file's outcome and reasons.
                "partial": False,
                "files": [],
            },
            label={"en": "Decision of the division", "fr": "Décision de la section"},
        ),
    ]
}


def template_label(name: str) -> str:
    """What a template is called, in the reader's language (its name when it is not known)."""
    spec = TEMPLATES.get(name)
    return name if spec is None else spec.label.get(current_language(), name)
