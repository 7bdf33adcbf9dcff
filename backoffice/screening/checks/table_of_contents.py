"""A disclosure that holds several documents needs a table of contents at the start (RPD rule 31).

A disclosure is a bundle when its page numbering restarts at 1 or its bookmarks have several entries. The
table of contents is looked for in the text of pages 1-5: a heading followed by at least three lines ending
in a page reference, mostly ascending.
"""

import re
from dataclasses import dataclass, field
from typing import Any

from backoffice.screening.checks.base import CheckContext, CheckResult, DocumentFacts, Outcome, fold
from backoffice.screening.checks.page_numbering import document_starts

CODE = "table_of_contents"
MIN_ENTRIES = 3
MIN_ASCENDING = 0.7  # share of consecutive references that do not go back
LISTED_LIMIT = 10

# Matched on fold()ed lines: lower case, no accents. A bilingual heading ("Contents / Table des matières") passes.
HEADING = re.compile(
    r"(?:table of contents|contents|index(?: of documents| des documents)?|list of (?:documents|exhibits)"
    r"|table des matieres|sommaire|liste des (?:documents|pieces)|bordereau des? pieces)[^a-z]*(?:\(.*\)|/.*)?"
)
HEADING_MAX_LENGTH = 80
# "…… 12", "p. 45", "pp. 7-12": a number (or range) ending the line, after a space or a leader
REFERENCE = re.compile(
    r"(?:(?<=[\s.…·_])|^)(?:(?:pp?|pages?)\.?\s*)?(\d{1,5})(?:\s*[-–]\s*(\d{1,5}))?\s*$", re.IGNORECASE
)
LETTER = re.compile(r"[^\W\d_]")


@dataclass(frozen=True)
class Entry:
    text: str
    first: int
    last: int


@dataclass
class TableOfContents:
    page: int  # 1-based, within the first pages
    entries: list[Entry] = field(default_factory=list)

    def beyond(self, page_count: int) -> list[Entry]:
        return [entry for entry in self.entries if entry.first < 1 or entry.last > page_count]


def read_entry(line: str) -> Entry | None:
    """A line naming something (it has a letter) and ending in a page reference."""
    line = line.strip()
    match = REFERENCE.search(line)
    if match is None or not LETTER.search(line[: match.start()]):
        return None
    first = int(match[1])
    return Entry(line[: match.start()].rstrip(" .,:;…·_-–\t"), first, int(match[2] or first))


def find_table_of_contents(pages_text: list[str], min_entries: int = MIN_ENTRIES) -> TableOfContents | None:
    for index, text in enumerate(pages_text):
        lines = text.splitlines()
        for position, line in enumerate(lines):
            if len(line.strip()) <= HEADING_MAX_LENGTH and HEADING.fullmatch(fold(line)):
                entries = _entries(lines[position + 1 :]) + _continued_entries(pages_text[index + 1 :])
                if len(entries) >= min_entries and _mostly_ascending(entries):
                    return TableOfContents(index + 1, entries)
    return None


def _entries(lines: list[str]) -> list[Entry]:
    return [entry for line in lines if (entry := read_entry(line))]


def _continued_entries(following_pages: list[str]) -> list[Entry]:
    """Pages after the heading's page whose lines are mostly entries carry on the table."""
    entries: list[Entry] = []
    for text in following_pages:
        lines = [line for line in text.splitlines() if line.strip()]
        page_entries = _entries(lines)
        if not lines or len(page_entries) * 2 < len(lines):
            break
        entries += page_entries
    return entries


def _mostly_ascending(entries: list[Entry]) -> bool:
    pairs = list(zip(entries, entries[1:], strict=False))
    ascending = sum(1 for before, after in pairs if after.first >= before.first)
    return ascending >= MIN_ASCENDING * len(pairs)


def count_documents(document: DocumentFacts) -> int:
    """How many documents the disclosure seems to hold: restarts of the numbering, else bookmarks."""
    starts = document_starts(document.pages or [])
    return len(starts) + 1 if starts else max(document.bookmarks, 1)


def check_table_of_contents(document: DocumentFacts, context: CheckContext) -> CheckResult | None:
    if context.document_kind != "disclosure" or not document.pages:
        return None
    documents = count_documents(document)
    details: dict[str, Any] = {"documents": documents, "bookmarks": document.bookmarks}
    # A bundle of two documents lists two entries; three are asked for otherwise, as a heading alone proves little.
    table = find_table_of_contents(document.first_pages_text, max(2, min(MIN_ENTRIES, documents)))
    if table is None:
        return _without_table(documents, details)
    details |= {"table_of_contents_page": table.page, "entries": len(table.entries)}
    beyond = table.beyond(len(document.pages))
    if beyond:
        details["references_beyond_last_page"] = [{"entry": e.text[:120], "page": e.last} for e in beyond]
        return CheckResult(
            CODE, Outcome.WARNING, *_beyond_messages(table, beyond, len(document.pages)), details
        )
    return CheckResult(
        CODE,
        Outcome.PASS,
        f"Table of contents found on page {table.page} ({len(table.entries)} entries).",
        f"Table des matières trouvée à la page {table.page} ({len(table.entries)} entrées).",
        details,
    )


def _without_table(documents: int, details: dict[str, Any]) -> CheckResult:
    if documents < 2:
        return CheckResult(
            CODE,
            Outcome.PASS,
            "This disclosure appears to hold a single document: it needs no table of contents.",
            "Cette communication de documents semble ne contenir qu'un document : aucune table des matières "
            "n'est requise.",
            details,
        )
    return CheckResult(
        CODE,
        Outcome.FAILURE,
        f"This disclosure holds {documents} documents but has no table of contents in its first 5 pages. "
        "Add one at the start that lists each document and its page.",
        f"Cette communication de documents contient {documents} documents, mais aucune table des matières "
        "ne figure dans ses 5 premières pages. Ajoutez-en une au début qui indique chaque document et sa page.",
        details,
    )


def _beyond_messages(table: TableOfContents, beyond: list[Entry], page_count: int) -> tuple[str, str]:
    items = [f"{entry.text[:60]} ({entry.last})" for entry in beyond[:LISTED_LIMIT]]
    if len(beyond) > LISTED_LIMIT:
        items.append(f"… ({len(beyond)})")
    return (
        f"The table of contents on page {table.page} refers to pages beyond the last page ({page_count}): "
        f"{'; '.join(items)}.",
        f"La table des matières de la page {table.page} renvoie à des pages au-delà de la dernière page "
        f"({page_count}) : {' ; '.join(items)}.",
    )
