"""Other documents go one PDF per subject: a change of address and a request to change a hearing date are two.

Subjects are read from titles at the top of pages: first the Board's usual titles (English and French map to
one subject, so a bilingual form counts once), then any short line that reads like a title ("Application
to …", "Request for …", "Notice of …", "Demande de …", "Avis de …").
"""

import re
from dataclasses import dataclass

from backoffice.screening.checks.base import (
    CheckContext,
    CheckResult,
    DocumentFacts,
    Outcome,
    fold,
    listed,
    page_tops,
    pages_named,
)

CODE = "one_subject"
TOP_LINES = 8  # non-empty lines read at the top of each page
MAX_TITLE_LENGTH = 90
MAX_TITLE_WORDS = 14
LISTED_LIMIT = 10


@dataclass(frozen=True)
class Title:
    english: str
    french: str
    aliases: tuple[str, ...] = ()  # other wordings met in forms, in either language


CATALOGUE = (
    Title(
        "Notice of change of address",
        "Avis de changement d'adresse",
        ("Notice of change of contact information", "Avis de changement des coordonnées"),
    ),
    Title(
        "Application to change the date or time of a proceeding",
        "Demande de changement de la date ou de l'heure d'une procédure",
    ),
    Title("Notice of change of counsel", "Avis de changement de conseil"),
    Title("Notice of withdrawal of counsel", "Avis de retrait du conseil"),
    Title("Basis of Claim Form", "Formulaire Fondement de la demande d'asile"),
    Title("Application to withdraw", "Demande de retrait", ("Notice of withdrawal", "Avis de désistement")),
    Title("Application to reopen", "Demande de réouverture"),
    Title(
        "Notice of intent to intervene",
        "Avis d'intention d'intervenir",
        ("Notice of intervention", "Avis d'intervention"),
    ),
    Title(
        "Application for a change of venue",
        "Demande de changement de lieu",
        ("Application to change the venue",),
    ),
    Title("Request for an interpreter", "Demande d'interprète", ("Demande de services d'interprétation",)),
    Title("Application to join claims", "Demande de jonction", ("Application to join",)),
    Title("Application to separate claims", "Demande de séparation", ("Application to separate",)),
    Title("Application to designate a representative", "Demande de désignation d'un représentant"),
    Title("Notice of constitutional question", "Avis de question constitutionnelle"),
)
# Board documents that counsel attach as evidence to an application; they are not a second subject.
ATTACHED_NOTICES = (
    "notice to appear",
    "notice of decision",
    "notice of hearing",
    "avis de convocation",
    "avis de decision",
)

GENERIC_TITLE = re.compile(
    r"(?:application (?:to|for)|request (?:to|for)|notice of|demande (?:de|d'|du|des)|avis (?:de|d'|du|des))\b.*"
)
BRACKETS = re.compile(r"\([^()]*\)")
# Longest wording first, so that "application to withdraw" cannot shadow a longer title.
_WORDINGS = sorted(
    (
        (fold(wording), title)
        for title in CATALOGUE
        for wording in (title.english, title.french, *title.aliases)
    ),
    key=lambda pair: -len(pair[0]),
)


def subject_of(line: str, next_line: str = "") -> Title | None:
    """The subject a title line announces; the next line helps when a long title wraps."""
    folded = fold(line)
    if (
        len(folded) > MAX_TITLE_LENGTH
        or folded.endswith((".", ",", ";"))
        or folded.startswith(ATTACHED_NOTICES)
    ):
        return None
    wrapped = f"{folded} {fold(next_line)}"
    for wording, title in _WORDINGS:
        if _starts_with(folded, wording) or _starts_with(wrapped, wording):
            return title
    if not GENERIC_TITLE.fullmatch(folded) or len(folded.split()) > MAX_TITLE_WORDS:
        return None
    # The first line of a catalogue title cut short by the end of the lead
    if len(folded.split()) >= 3 and (title := next((t for w, t in _WORDINGS if w.startswith(folded)), None)):
        return title
    heading = line.strip().rstrip(":")
    return Title(heading, heading)


def subject_key(title: Title) -> str:
    """The same subject, whatever its case, accents, spacing or rule number in brackets."""
    return BRACKETS.sub(" ", fold(title.english)).strip(" .:-–—/")


def _starts_with(text: str, wording: str) -> bool:
    return text.startswith(wording) and not text[len(wording) : len(wording) + 1].isalpha()


def subjects(document: DocumentFacts) -> dict[Title, list[int]]:
    """Every subject announced at the top of a page, with its pages (a title repeated counts once)."""
    found: dict[str, tuple[Title, set[int]]] = {}
    for number, lines in page_tops(document, TOP_LINES):
        if not lines:  # a scanned or blank page announces nothing
            continue
        for line, next_line in zip(lines, [*lines[1:], ""], strict=True):
            if title := subject_of(line, next_line):
                found.setdefault(subject_key(title), (title, set()))[1].add(number)
    return {title: sorted(pages) for title, pages in found.values()}


def check_one_subject(document: DocumentFacts, context: CheckContext) -> CheckResult | None:
    if context.document_kind == "disclosure" or document.pages is None:
        return None
    found = subjects(document)
    details = {
        "subjects": [{"en": t.english, "fr": t.french, "pages": pages[:500]} for t, pages in found.items()]
    }
    if len(found) < 2:
        return CheckResult(CODE, Outcome.PASS, *_one_subject_messages(found), details)
    english = listed(
        [f"{t.english} ({pages_named(pages)})" for t, pages in found.items()], "; ", LISTED_LIMIT
    )
    french = listed([f"{t.french} ({pages_named(pages)})" for t, pages in found.items()], " ; ", LISTED_LIMIT)
    return CheckResult(
        CODE,
        Outcome.WARNING,
        f"This PDF seems to hold several subjects: {english}. Send one PDF per subject.",
        f"Ce PDF semble porter sur plusieurs sujets : {french}. Envoyez un PDF par sujet.",
        details,
    )


def _one_subject_messages(found: dict[Title, list[int]]) -> tuple[str, str]:
    if not found:
        return (
            "No sign of several subjects in this PDF.",
            "Rien n'indique que ce PDF porte sur plusieurs sujets.",
        )
    title = next(iter(found))
    return (
        f"This PDF holds one subject: {title.english}.",
        f"Ce PDF porte sur un seul sujet : {title.french}.",
    )
