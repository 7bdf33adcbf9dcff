"""A disclosure's pages must all carry a number, in sequence (RPD rule 31).

Numbers are read from the header and footer strips only, as PDF-SCREENING.md describes: the offset *printed
number − page position* stays constant within a document; a page showing 1 starts the next document of a
bundle; values repeated on neighbouring pages (years, file numbers, "50 MB") count only where they fit the
sequence; pages without a text layer cannot be verified, which is not the same as unnumbered.
"""

import functools
import re
from dataclasses import dataclass, field
from typing import Any

from backoffice.screening.checks.base import (
    CheckContext,
    CheckResult,
    DocumentFacts,
    Outcome,
    PageFacts,
    page_ranges,
)

CODE = "page_numbering"
DETAILS_LIMIT = 500  # entries kept in each list of the details; the counts stay exact
MESSAGE_RANGES_LIMIT = 40  # ranges printed in a message before "…"

_NUMBER = r"0*(\d{1,5})"
DIGIT = re.compile(r"\d")
_FRAME = r"[\s\-–—|.()\[\]]*"  # what may surround a lone number: "- 3 -", "[3]", "(3)"
LONE_NUMBER = re.compile(rf"{_FRAME}{_NUMBER}{_FRAME}")
ROMAN_NUMBER = re.compile(
    rf"{_FRAME}(?:(?:page|p\.)\s*)?(?=[ivx])x{{0,3}}(?:ix|iv|v?i{{0,3}}){_FRAME}", re.IGNORECASE
)
# "Page 3", "p. 3", "Pg. 3", "Page 3 of 120", "page 3 sur 120"; or "3/120", which must not be a date
# (15/01/2024) nor a case number (2401234/2024): see _labelled_numbers
LABELLED_NUMBER = re.compile(
    rf"\b(?:page|pg|p)\.?\s*{_NUMBER}(?:\s*(?:of|de|sur|/)\s*\d{{1,5}})?(?![\d/])"
    r"|(?<![\w/.\-])(\d{1,7})\s*/\s*(\d{1,7})(?![\w/.\-])",
    re.IGNORECASE,
)
EDGE_START = re.compile(rf"^{_NUMBER}(?!\w|[/.,:\-–]\d)")
EDGE_END = re.compile(rf"(?<![\w/.,:\-–]){_NUMBER}$")


@dataclass(frozen=True)
class Candidates:
    """The numbers on one page that could be its page number."""

    numbers: frozenset[int]
    strong: frozenset[int]  # those in a page-number format, not merely at the edge of a line
    roman: bool


@dataclass
class Numbering:
    """What reading the whole sequence found; page lists are page positions."""

    without_number: list[int] = field(default_factory=list)
    out_of_sequence: list[dict[str, int]] = field(default_factory=list)  # {"page", "expected", "found"}
    document_starts: list[int] = field(default_factory=list)  # where a document after the first starts at 1
    not_verifiable: list[int] = field(default_factory=list)
    roman: list[int] = field(default_factory=list)
    read: dict[int, int] = field(default_factory=dict)  # the number read on each page where one was


def read_candidates(page: PageFacts) -> Candidates:
    strong: set[int] = set()
    weak: set[int] = set()
    roman = False
    for line in f"{page.header}\n{page.footer}".splitlines():
        line_strong, line_weak, line_roman = _line_candidates(line.strip())
        strong |= line_strong
        weak |= line_weak
        roman = roman or line_roman
    if page.ocr:
        weak |= _slash_read_as_one(strong | weak)
    return Candidates(frozenset(strong | weak), frozenset(strong), roman)


def _slash_read_as_one(numbers: set[int]) -> set[int]:
    """What OCR may have read from "1/4" as "114" (a slanted slash looks like a 1): each possible first
    number, as a weak candidate that only the sequence of the following pages can confirm."""
    possible = set()
    for number in numbers:
        digits = str(number)
        for position in range(1, len(digits) - 1):
            if digits[position] == "1" and 0 < int(digits[:position]) <= int(digits[position + 1 :]):
                possible.add(int(digits[:position]))
    return possible


@functools.lru_cache(maxsize=4096)  # running headers repeat on page after page
def _line_candidates(line: str) -> tuple[frozenset[int], frozenset[int], bool]:
    """Numbers in a page-number format, numbers at the edge of the line, and whether it is a roman numeral."""
    if not DIGIT.search(line):
        return frozenset(), frozenset(), ROMAN_NUMBER.fullmatch(line) is not None
    if lone := LONE_NUMBER.fullmatch(line):
        return frozenset({int(lone[1])}) - {0}, frozenset(), False
    labelled = list(LABELLED_NUMBER.finditer(line))
    rest = LABELLED_NUMBER.sub(" ", line).strip() if labelled else line
    return frozenset(_labelled_numbers(labelled) - {0}), frozenset(_edge_numbers(rest) - {0}), False


def _labelled_numbers(matches: list[re.Match[str]]) -> set[int]:
    numbers: set[int] = set()
    for match in matches:
        if match[1]:
            numbers.add(int(match[1]))
        elif int(match[2]) <= int(match[3]) and int(match[2]) < 100_000:
            numbers.add(int(match[2]))
    return numbers


def _edge_numbers(line: str) -> set[int]:
    return {int(match[1]) for pattern in (EDGE_START, EDGE_END) if (match := pattern.search(line))}


class _SequenceReader:
    """Walks the text pages once, keeping the current document's offset (printed number − position)."""

    def __init__(self, pages: list[PageFacts]) -> None:
        self.pages = [page for page in pages if page.has_text]
        self.candidates = [read_candidates(page) for page in self.pages]
        self.numbering = Numbering(not_verifiable=[page.number for page in pages if not page.has_text])
        self.offset: int | None = None
        self.taken: int | None = None  # the number read on the previous text page
        self.last_numbered = 0  # position of the last page where a number was read
        self.tentative: dict[str, int] | None = None  # a first number that no page has confirmed yet

    def read(self) -> Numbering:
        for index, page in enumerate(self.pages):
            self.taken = self._read_page(index)
            if self.taken is not None:
                self.last_numbered = page.number
                self.numbering.read[page.number] = self.taken
        return self.numbering

    def _read_page(self, index: int) -> int | None:
        page, candidates = self.pages[index], self.candidates[index]
        if self.offset is not None and page.number + self.offset in candidates.numbers:
            self.tentative = None
            return page.number + self.offset
        if start := self._new_document_number(index):
            if self.offset is not None:
                self.numbering.document_starts.append(page.number - start + 1)
            self.offset, self.tentative = start - page.number, None
            return start
        usable = candidates.numbers - self._repeated(index)
        confirmed = self._confirmed_by_next_page(index, usable)
        plausible = confirmed or usable & candidates.strong
        if candidates.roman or not plausible:
            pages = self.numbering.roman if candidates.roman else self.numbering.without_number
            pages.append(page.number)
            return None
        return self._take_number_out_of_sequence(index, confirmed, plausible)

    def _new_document_number(self, index: int) -> int | None:
        """The number this page shows if it starts the next document: 1, followed by 2 (or by 1).

        After pages with no number read (scans, a cover without a number), the document may have started
        on one of them: 3 after two such pages is its third page. "1, then 1" (a one-page document) needs the
        1 in a page-number format, so that "Volume 1" in every header cannot start documents.
        """
        candidates, position = self.candidates[index], self.pages[index].number
        starts = frozenset(value for value in candidates.numbers if value <= position - self.last_numbered)
        if confirmed := self._confirmed_by_next_page(index, starts):
            return min(confirmed)
        following = self._following(index)
        if following is None or 1 in following:
            return min(starts & candidates.strong, default=None)
        return None

    def _repeated(self, index: int) -> frozenset[int]:
        """Values also seen on a neighbouring text page, other than the number read there."""
        previous = self.candidates[index - 1].numbers - {self.taken} if index else frozenset()
        return previous | (self._following(index) or frozenset())

    def _following(self, index: int) -> frozenset[int] | None:
        return self.candidates[index + 1].numbers if index + 1 < len(self.pages) else None

    def _confirmed_by_next_page(self, index: int, values: frozenset[int]) -> frozenset[int]:
        if index + 1 == len(self.pages):
            return frozenset()
        gap = self.pages[index + 1].number - self.pages[index].number
        following = self.candidates[index + 1].numbers
        return frozenset(value for value in values if value + gap in following)

    def _take_number_out_of_sequence(
        self, index: int, confirmed: frozenset[int], plausible: frozenset[int]
    ) -> int:
        """Report the page (or the unconfirmed first number before it) and follow the next page's lead.

        A number at the edge of a line counts here only if the next page carries on from it; a number in a
        page-number format counts anyway.
        """
        page = self.pages[index]
        expected = None if self.offset is None else page.number + self.offset
        number = min(plausible, key=lambda value: (0 if expected is None else abs(value - expected), value))
        if self.offset is None:
            self.tentative = None if confirmed else {"page": page.number, "found": number}
        elif confirmed and self.tentative:
            mistaken = self.tentative["page"]
            self.numbering.out_of_sequence.append(
                {**self.tentative, "expected": mistaken + number - page.number}
            )
            self.tentative = None
        else:
            self.numbering.out_of_sequence.append(
                {"page": page.number, "expected": expected, "found": number}
            )
        if confirmed or self.offset is None:
            self.offset = number - page.number
        return number


def read_numbering(pages: list[PageFacts]) -> Numbering:
    return _SequenceReader(pages).read()


def document_starts(pages: list[PageFacts]) -> list[int]:
    """Positions of the pages where a document after the first starts again at 1 (a bundle)."""
    return read_numbering(pages).document_starts


def listed_pages(pages: list[int]) -> str:
    """page_ranges(), cut short so that a message stays readable (the details keep the list)."""
    ranges = page_ranges(pages).split(", ")
    if len(ranges) <= MESSAGE_RANGES_LIMIT:
        return ", ".join(ranges)
    return f"{', '.join(ranges[:MESSAGE_RANGES_LIMIT])}, … ({len(pages)} pages)"


def check_page_numbering(document: DocumentFacts, context: CheckContext) -> CheckResult | None:
    if context.document_kind != "disclosure" or not document.pages:
        return None
    numbering = read_numbering(document.pages)
    details = _details(numbering, len(document.pages))
    if numbering.without_number or numbering.out_of_sequence:
        return CheckResult(CODE, Outcome.FAILURE, *_failure_messages(numbering), details)
    if numbering.not_verifiable:
        return CheckResult(
            CODE, Outcome.WARNING, *_not_verifiable_messages(numbering, len(document.pages)), details
        )
    return CheckResult(CODE, Outcome.PASS, *_pass_messages(numbering, len(document.pages)), details)


def _details(numbering: Numbering, page_count: int) -> dict[str, Any]:
    lists = {
        "pages_without_number": numbering.without_number,
        "pages_out_of_sequence": [entry["page"] for entry in numbering.out_of_sequence],
        "numbers_out_of_sequence": numbering.out_of_sequence,
        "document_starts": numbering.document_starts,
        "not_verifiable": numbering.not_verifiable,
        "roman_numbered": numbering.roman,
    }
    return {
        "page_count": page_count,
        "documents": len(numbering.document_starts) + 1,
        **{key: values[:DETAILS_LIMIT] for key, values in lists.items()},
        "counts": {key: len(values) for key, values in lists.items()},
    }


def _failure_messages(numbering: Numbering) -> tuple[str, str]:
    english = ["The pages of a disclosure must be numbered in sequence."]
    french = ["Les pages d'une communication de documents doivent être numérotées dans l'ordre."]
    if numbering.without_number:
        english.append(f"Pages without a number: {listed_pages(numbering.without_number)}.")
        french.append(f"Pages sans numéro : {listed_pages(numbering.without_number)}.")
    if numbering.out_of_sequence:
        pages = listed_pages([entry["page"] for entry in numbering.out_of_sequence])
        english.append(f"Pages out of sequence: {pages}.")
        french.append(f"Pages dont le numéro ne suit pas l'ordre : {pages}.")
    if numbering.not_verifiable:
        english.append(_not_verifiable_en(numbering.not_verifiable))
        french.append(_not_verifiable_fr(numbering.not_verifiable))
    return " ".join(english), " ".join(french)


def _not_verifiable_messages(numbering: Numbering, page_count: int) -> tuple[str, str]:
    if len(numbering.not_verifiable) == page_count:
        return (
            "None of the pages could be verified: they have no text layer (probably scanned images) and were "
            "not read by OCR. Check that they carry page numbers.",
            "Aucune page n'a pu être vérifiée : les pages n'ont pas de couche texte (probablement des images "
            "numérisées) et n'ont pas été lues par reconnaissance de caractères. Vérifiez qu'elles portent un "
            "numéro.",
        )
    return (
        f"The pages that could be read are numbered in sequence. {_not_verifiable_en(numbering.not_verifiable)} "
        "Check that they carry page numbers.",
        f"Les pages lisibles sont numérotées dans l'ordre. {_not_verifiable_fr(numbering.not_verifiable)} "
        "Vérifiez qu'elles portent un numéro.",
    )


def _not_verifiable_en(pages: list[int]) -> str:
    return (
        "Pages that could not be verified because they have no text layer (probably scanned images) and "
        f"were not read by OCR: {listed_pages(pages)}."
    )


def _not_verifiable_fr(pages: list[int]) -> str:
    return (
        "Pages qui n'ont pas pu être vérifiées parce qu'elles n'ont pas de couche texte (probablement des "
        f"images numérisées) et n'ont pas été lues par reconnaissance de caractères : {listed_pages(pages)}."
    )


def _pass_messages(numbering: Numbering, page_count: int) -> tuple[str, str]:
    if page_count == 1:
        return "The page is numbered.", "La page est numérotée."
    french_count = f"{page_count:,}".replace(",", "\u00a0")  # 5 000 pages
    english = f"All {page_count:,} pages are numbered in sequence."
    french = f"Les {french_count} pages sont numérotées dans l'ordre."
    if numbering.document_starts:
        documents, starts = len(numbering.document_starts) + 1, listed_pages(numbering.document_starts)
        english += f" The PDF holds {documents} documents, each numbered from 1 (the next ones start at pages {starts})."
        french += (
            f" Le PDF regroupe {documents} documents numérotés chacun à partir de 1 (les suivants commencent "
            f"aux pages {starts})."
        )
    return english, french
