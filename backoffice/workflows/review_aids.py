"""What the review of a submission draws from its automated checks: the rejection reasons a failed check
suggests, and the pages a check names, to open in the viewer; and the registry's rejection exactly as counsel
would receive it, to confirm before it is sent.

A suggestion is only that: the clerk sees it ticked, with the check that suggested it, and decides.
"""

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from backoffice.extensions import db
from backoffice.models import CheckOutcome, Reason, ReasonUse, Submission
from backoffice.workflows.decisions import decision_message
from backoffice.workflows.message_rendering import BILINGUAL, RenderedMessage, render_message
from backoffice.workflows.message_templates import EMAIL
from backoffice.workflows.refusals import Refused

# The registry's reason for a failed check, by the check's code (see screening/checks/ and the catalogue of
# reasons loaded by migration 0005).
REASONS_FOR_CHECKS: dict[str, str] = {
    "readable": "R-UNREADABLE",
    "encryption": "R-UNREADABLE",
    "active_content": "R-UNREADABLE",
    "page_count": "R-UNREADABLE",
    "page_numbering": "R-PAGES",
    "table_of_contents": "R-TOC",
    "notice_of_appeal": "R-NOTICE-OF-APPEAL",
    "proof_of_service": "R-NO-SERVICE",
    "unrelated_files": "R-UNRELATED-FILES",
    "one_subject": "R-SEVERAL-SUBJECTS",
}
CHECK_NAMES = {
    "readable": _l("Readable PDF"),
    "encryption": _l("No password"),
    "active_content": _l("No active content"),
    "page_count": _l("Number of pages"),
    "page_numbering": _l("Page numbering"),
    "table_of_contents": _l("Table of contents"),
    "notice_of_appeal": _l("Notice of appeal"),
    "proof_of_service": _l("Proof of service"),
    "unrelated_files": _l("Other files mentioned"),
    "one_subject": _l("One subject per PDF"),
    "text_layer": _l("Text layer"),
}
MOST_PAGE_LINKS = 12  # a message names more pages than that: the first ones are links, the rest are read


def check_name(code: str) -> str:
    """What a check is called, in the reader's language; an unknown check by its code."""
    name = CHECK_NAMES.get(code)
    return str(name) if name is not None else code


def suggested_reasons(
    results: Iterable[tuple[str, CheckOutcome]], offered: Iterable[str]
) -> dict[str, list[str]]:
    """The reasons offered to the clerk that the failed checks point to: reason code → the codes of the
    checks that suggest it, in the order the results came. Warnings and passes suggest nothing."""
    offered_codes = set(offered)
    suggestions: dict[str, list[str]] = {}
    for code, outcome in results:
        reason = REASONS_FOR_CHECKS.get(code)
        if outcome is not CheckOutcome.FAILURE or reason not in offered_codes:
            continue
        checks = suggestions.setdefault(reason, [])
        if code not in checks:
            checks.append(code)
    return suggestions


def pages_named(details: Any) -> list[int]:
    """The pages a check's details point to (pages without a number, out of sequence, unreadable, where a
    title or another file's number stands), in order, each once; nothing from details of an unknown shape."""
    if not isinstance(details, dict):
        return []
    found: list[Any] = []
    for key in ("pages", "pages_without_number", "pages_out_of_sequence", "not_verifiable"):
        found += _listed(details.get(key))
    found.append(details.get("table_of_contents_page"))
    for subject in _listed(details.get("subjects")):
        found += _listed(subject.get("pages")) if isinstance(subject, dict) else []
    for key in ("file_numbers", "ucis"):
        mentioned = details.get(key)
        for pages in mentioned.values() if isinstance(mentioned, dict) else ():
            found += _listed(pages)
    return sorted({page for page in found if _is_page(page)})


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _is_page(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 1_000_000


def chosen_reasons(codes: Iterable[str], used_by: ReasonUse) -> list[Reason]:
    """The active reasons of this queue's catalogue named by `codes`, by code; refused if any is not one."""
    wanted = sorted({code for code in codes if isinstance(code, str)})
    found = db.session.scalars(
        select(Reason)
        .where(Reason.code.in_(wanted), Reason.used_by == used_by, Reason.active.is_(True))
        .order_by(Reason.code)
    ).all()
    if len(found) != len(wanted):
        raise Refused(_l("Choose reasons from the catalogue for this queue."))
    if not found:
        raise Refused(_l("Give at least one reason for the rejection."))
    return list(found)


def rejection_preview(
    submission: Submission, used_by: ReasonUse, reasons: list[Reason], note: str
) -> RenderedMessage:
    """The email a rejection sends counsel, in counsel's language (English then French when it is not known),
    rendered by the code that sends it, from the values workflows.decisions gives it: the registry's request
    to resubmit, or the division's notice."""
    counsel = submission.counsel
    template, values = decision_message(
        submission,
        used_by,
        accepted=False,
        partial=False,
        files=[],
        reasons=[{"code": reason.code, "en": reason.text_en, "fr": reason.text_fr} for reason in reasons],
        note=note.strip()[:2000],
    )
    language = counsel.preferred_language.value if counsel.preferred_language else BILINGUAL
    return render_message(template, EMAIL, language, values)
