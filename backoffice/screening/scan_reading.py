"""Scanned pages, those without a text layer, read by OCR in sandboxed children (pdf_probes/scans.py).

Only the header and footer strips of each scanned page are read, and the first pages whole (table of
contents, notice of appeal): enough for the checks that read page numbers, titles, file numbers and client
ids. The pages are spread over the screening processes, and the document has a budget of seconds: a page
the budget did not reach stays "not verifiable" and is listed as such.
"""

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path

from backoffice.screening.checks.base import DocumentFacts, PageFacts
from backoffice.screening.sandbox import Limits, SandboxedChild

PROBE = Path(__file__).parent / "pdf_probes" / "scans.py"
WHOLE_PAGES = 3  # scanned pages among the first ones read whole
STARTUP_SECONDS = 15.0  # what a child may take on top of its budget: starting Python, loading the model
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OcrSettings:
    seconds: float = 60.0  # the whole document's budget; 0 turns OCR off
    processes: int = 2
    memory_bytes: int = 1024 * 1024 * 1024


def read_scanned_pages(path: Path, document: DocumentFacts, settings: OcrSettings) -> DocumentFacts:
    """The document with its scanned pages' margins (and first pages) read, as far as the budget went."""
    scanned = document.pages_without_text
    if not scanned or settings.seconds <= 0:
        return document
    children = [
        _start(path, part, settings) for part in split_pages(scanned, max(1, settings.processes)) if part
    ]
    verdicts = [child.wait() for child in children]
    answers = [verdict.answer for verdict in verdicts if verdict.ok]
    reading = dict(document.reading)
    reading["ocr_seconds"] = round(max(verdict.seconds for verdict in verdicts), 3)
    reading["ocr_peak_kb"] = max((answer.get("peak_kb") or 0) for answer in answers) if answers else None
    reading["ocr_children"] = len(verdicts)
    stopped = [verdict for verdict in verdicts if not verdict.ok]
    if stopped:
        reading["ocr_error"] = stopped[0].failure
        last_line = (stopped[0].stderr_tail.strip().splitlines() or [""])[-1][:200]
        log.warning("OCR stopped on a document: %s %s", stopped[0].failure, last_line)
    return _merge(document, answers, reading)


def split_pages(pages: list[int], processes: int) -> list[list[int]]:
    """Runs of pages of about equal length, one per process: each child walks its own part of the file."""
    size = -(-len(pages) // processes)
    return [pages[start : start + size] for start in range(0, len(pages), size)]


def _start(path: Path, pages: list[int], settings: OcrSettings) -> SandboxedChild:
    whole = [number for number in pages if number <= WHOLE_PAGES]
    limits = Limits(
        memory_bytes=settings.memory_bytes,
        cpu_seconds=int(settings.seconds + STARTUP_SECONDS),
        wall_seconds=settings.seconds + STARTUP_SECONDS,
    )
    arguments = [str(path), _listed(pages), _listed(whole), str(settings.seconds)]
    return SandboxedChild(PROBE, arguments, limits)


def _listed(numbers: list[int]) -> str:
    return ",".join(map(str, numbers))


def _merge(document: DocumentFacts, answers: list[dict], reading: dict) -> DocumentFacts:
    read = {page["number"]: page for answer in answers for page in answer["pages"]}
    pages = [_read_page(page, read.get(page.number)) for page in document.pages or []]
    first_pages_text = list(document.first_pages_text)
    identifiers = {value: list(numbers) for value, numbers in document.identifiers.items()}
    for answer in answers:
        for number, text in answer["whole_pages_text"].items():
            if int(number) <= len(first_pages_text):
                first_pages_text[int(number) - 1] = text
        for value, numbers in answer["identifiers"].items():
            identifiers.setdefault(value, []).extend(numbers)
    reading["ocr_pages"] = len(read)
    reading["ocr_not_read"] = sorted(number for answer in answers for number in answer["not_read"])
    return dataclasses.replace(
        document, pages=pages, first_pages_text=first_pages_text, identifiers=identifiers, reading=reading
    )


def _read_page(page: PageFacts, read: dict | None) -> PageFacts:
    if read is None:
        return page
    return dataclasses.replace(
        page, header=read["header"], footer=read["footer"], lead=read["lead"], ocr=True
    )
