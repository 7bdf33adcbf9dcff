"""What every automated check on a document takes and gives back.

Checks are small pure functions: they read the facts that the sandboxed probes gathered from a PDF
(`backoffice/screening/pdf_probes/`) and the context of the submission, and return one result with its
message in English and French. They never open the file themselves and never touch the database.
"""

import enum
import unicodedata
from dataclasses import dataclass, field
from typing import Any


class Outcome(enum.StrEnum):
    PASS = "pass"  # noqa: S105 - an outcome, not a password
    WARNING = "warning"
    FAILURE = "failure"


@dataclass(frozen=True)
class CheckResult:
    code: str
    outcome: Outcome
    message_en: str
    message_fr: str
    details: dict[str, Any] = field(default_factory=dict)
    # Shown to counsel through the portal API; a few results are for staff only.
    for_counsel: bool = True


@dataclass(frozen=True)
class PageFacts:
    """What the page probe read from one page (numbers start at 1)."""

    number: int
    header: str  # text in the top ~8 % of the page
    footer: str  # text in the bottom ~8 % of the page
    chars: int  # characters in the text layer; 0 means no text layer (a scan)
    lead: str = ""  # the first few hundred characters of the page's text
    ocr: bool = False  # a scan whose header, footer and lead were read by OCR

    @property
    def has_text(self) -> bool:
        """Whether the checks that read text can judge this page: a text layer, or a scan read by OCR."""
        return self.chars > 0 or self.ocr


@dataclass(frozen=True)
class DocumentFacts:
    """Everything the checks may know about one attachment.

    `structure` is the first probe's verdict (always present). `pages` is None when the first probe did
    not clear the file, so the page-by-page reading never ran.
    """

    filename: str
    size: int
    structure: dict[str, Any]
    pages: list[PageFacts] | None = None
    first_pages_text: list[str] = field(default_factory=list)  # full text of pages 1-5
    bookmarks: int = 0
    # Candidate identifiers seen anywhere in the text: {"TB5-12345": [3, 4], "1234-5678": [9]}
    identifiers: dict[str, list[int]] = field(default_factory=dict)
    pages_error: str | None = None  # why the page probe gave no verdict (killed, timed out, ...)
    # How the reading went: seconds and peak memory of each sandboxed child (for the clerk and benchmarks).
    reading: dict[str, Any] = field(default_factory=dict)

    @property
    def page_count(self) -> int | None:
        if self.pages is not None:
            return len(self.pages)
        return self.structure.get("page_count")

    @property
    def pages_without_text(self) -> list[int]:
        """Pages with no text layer (scans), whether OCR read them or not."""
        return [page.number for page in self.pages or [] if page.chars == 0]

    @property
    def pages_read_by_ocr(self) -> list[int]:
        return [page.number for page in self.pages or [] if page.ocr]

    @property
    def pages_not_verifiable(self) -> list[int]:
        """Pages the checks that read text could not judge: scans that OCR did not read."""
        return [page.number for page in self.pages or [] if not page.has_text]


@dataclass(frozen=True)
class CheckContext:
    """The submission around a document."""

    document_kind: str  # division_form, application, disclosure, written_submission
    division: str  # RPD, RAD, ID, IAD
    file_numbers: frozenset[str]  # the case(s) of this submission
    ucis: frozenset[str] = frozenset()
    proof_of_service_declared: bool = False
    proof_of_service_required: bool = False
    attachment_count: int = 1


def page_ranges(pages: list[int]) -> str:
    """1, 2, 3, 5, 7, 8 → "1-3, 5, 7-8": how a clerk reads a list of pages."""
    parts: list[str] = []
    start = previous = None
    for page in sorted(set(pages)):
        if start is None:
            start = previous = page
        elif page == previous + 1:
            previous = page
        else:
            parts.append(str(start) if start == previous else f"{start}-{previous}")
            start = previous = page
    if start is not None:
        parts.append(str(start) if start == previous else f"{start}-{previous}")
    return ", ".join(parts)


def pages_named(pages: list[int]) -> str:
    """ "page 4" or "pages 1-3, 7": the pages a message points to."""
    return f"{'page' if len(pages) == 1 else 'pages'} {page_ranges(pages)}"


def listed(items: list[str], separator: str, limit: int) -> str:
    """Items joined by `separator` ("; ", or " ; " in French), cut short after `limit` with the full count."""
    shown = separator.join(items[:limit])
    return shown if len(items) <= limit else f"{shown}{separator}… ({len(items)})"


def page_tops(document: DocumentFacts, count: int) -> list[tuple[int, list[str]]]:
    """(page number, its first `count` non-empty lines) of where titles stand: the first pages in full, then the
    start (lead) of every page."""
    tops = [(index + 1, text) for index, text in enumerate(document.first_pages_text)]
    tops += [(page.number, page.lead) for page in document.pages or []]
    return [(number, [line for line in text.splitlines() if line.strip()][:count]) for number, text in tops]


def fold(text: str) -> str:
    """Lower case, no accents, straight apostrophes, single spaces: how checks compare words in EN and FR."""
    decomposed = unicodedata.normalize("NFKD", text.replace("’", "'").replace("‘", "'"))
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(plain.casefold().split())
