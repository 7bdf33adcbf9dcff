"""Read an untrusted PDF into the facts the checks need, in the order PDF-SCREENING.md derives.

First a sandboxed pikepdf child checks the structure (encryption, damage, page count, active content,
capped inflation of every stream). Only a file it cleared goes to PDFium, in one sandboxed child per part of
the document when there are cores to spare; then the pages without a text layer are read by OCR
(scan_reading.py). A file it found damaged but not dangerous (repaired by qpdf, a
corrupt stream, or not parsable but with nothing hostile in its bytes) is PDFium's to judge, as it is any
reader's: PDFium opening it with the page count qpdf saw makes it readable, repaired on reading.
"""

import os
from dataclasses import dataclass
from pathlib import Path

from backoffice.screening.checks.base import DocumentFacts, PageFacts
from backoffice.screening.sandbox import ChildVerdict, Limits, SandboxedChild, run_sandboxed
from backoffice.screening.scan_reading import OcrSettings, read_scanned_pages

PROBES = Path(__file__).parent / "pdf_probes"
PAGES_PER_CHILD_AT_LEAST = 200


@dataclass(frozen=True)
class ReadingSettings:
    max_pages: int = 10_000
    processes: int = 2
    limits: Limits = Limits()
    ocr: OcrSettings = OcrSettings()


def read_document(path: Path, filename: str, size: int, settings: ReadingSettings) -> DocumentFacts:
    structure, reading = read_structure(path, settings)
    if not structure.get("readable"):
        return DocumentFacts(filename=filename, size=size, structure=structure, reading=reading)
    return _read_pages(path, filename, size, structure, settings, reading)


def read_structure(path: Path, settings: ReadingSettings) -> tuple[dict, dict]:
    """The structural verdict (with PDFium's word on a file qpdf found damaged but safe), and how the reading
    went. Whatever else reads the file (the pages, a returned form's fields) runs only if it is readable."""
    verdict = run_sandboxed(PROBES / "structure.py", [str(path), str(settings.max_pages)], settings.limits)
    structure = verdict.answer if verdict.ok else _unsafe(verdict)
    reading = {"structure_seconds": round(verdict.seconds, 3), "structure_peak_kb": _peak(verdict)}
    if verdict.last_error:
        reading["reader_error"] = verdict.last_error
    if structure.get("reader_decides"):
        structure = _let_the_reader_decide(path, structure, settings, reading)
    return structure, reading


def _unsafe(verdict: ChildVerdict) -> dict:
    return {"readable": False, "problem": "unsafe", "detail": verdict.failure or "", "encryption": "unknown"}


def _peak(verdict: ChildVerdict) -> int | None:
    return verdict.answer.get("peak_kb") if verdict.ok else None


def _let_the_reader_decide(path: Path, structure: dict, settings: ReadingSettings, reading: dict) -> dict:
    """Open the file in PDFium (no page read) and take its word on a file qpdf found damaged but safe."""
    verdict = run_sandboxed(PROBES / "pages.py", [str(path), "1", "0"], settings.limits)
    reading["reader_check_seconds"] = round(verdict.seconds, 3)
    if not verdict.ok:
        reading["reader_error"] = verdict.last_error or verdict.failure
        return {**structure, "page_count": None}  # qpdf's count of pages no reader opens
    if verdict.answer.get("refused") == "password":
        return _needs_password(structure)
    return _judged_by_page_count(structure, verdict.answer["page_count"], settings.max_pages)


def _judged_by_page_count(structure: dict, reader_pages: int, max_pages: int) -> dict:
    """Readable when PDFium finds pages, as many as qpdf listed when it could list them."""
    listed = structure.get("page_count")
    if listed is not None and listed != reader_pages:
        return {**structure, "problem": "page_count_differs", "reader_page_count": reader_pages}
    if reader_pages > max_pages:
        return {**structure, "problem": "too_many_pages", "detail": str(max_pages)}
    if reader_pages == 0:
        return structure
    return {**structure, "readable": True, "problem": None, "repaired": True, "page_count": reader_pages}


def _needs_password(structure: dict) -> dict:
    """PDFium, like Acrobat, asks for a password that qpdf did without (an empty owner password opens it)."""
    return {**structure, "readable": False, "problem": "user_password", "encryption": "user"}


def _read_pages(
    path: Path, filename: str, size: int, structure: dict, settings: ReadingSettings, reading: dict
) -> DocumentFacts:
    children = [
        SandboxedChild(PROBES / "pages.py", [str(path), str(first), str(last)], settings.limits)
        for first, last in page_ranges(structure["page_count"], settings.processes)
    ]
    verdicts = [child.wait() for child in children]
    reading["pages_seconds"] = round(max(verdict.seconds for verdict in verdicts), 3)
    reading["pages_peak_kb"] = max((_peak(verdict) or 0) for verdict in verdicts)
    reading["pages_children"] = len(verdicts)
    if any(verdict.ok and verdict.answer.get("refused") == "password" for verdict in verdicts):
        return DocumentFacts(
            filename=filename, size=size, structure=_needs_password(structure), reading=reading
        )
    failed = next((verdict for verdict in verdicts if not verdict.ok), None)
    if failed is not None:
        reading["reader_error"] = failed.last_error
        return DocumentFacts(
            filename=filename, size=size, structure=structure, pages_error=failed.failure, reading=reading
        )
    document = _merge(filename, size, structure, [verdict.answer for verdict in verdicts], reading)
    return read_scanned_pages(path, document, settings.ocr)


def page_ranges(page_count: int, processes: int) -> list[tuple[int, int]]:
    """Split 1..page_count into at most `processes` ranges, none shorter than it is worth a child for."""
    processes = max(1, min(processes, os.cpu_count() or 1, page_count // PAGES_PER_CHILD_AT_LEAST or 1))
    size = -(-page_count // processes) if page_count else 1
    return [(first, min(first + size - 1, page_count)) for first in range(1, max(page_count, 1) + 1, size)]


def _merge(filename: str, size: int, structure: dict, answers: list[dict], reading: dict) -> DocumentFacts:
    identifiers: dict[str, list[int]] = {}
    for answer in answers:
        for value, pages in answer["identifiers"].items():
            identifiers.setdefault(value, []).extend(pages)
    return DocumentFacts(
        filename=filename,
        size=size,
        structure=structure,
        pages=[PageFacts(**page) for answer in answers for page in answer["pages"]],
        first_pages_text=[text for answer in answers for text in answer["first_pages_text"]],
        bookmarks=answers[0]["bookmarks"],
        identifiers=identifiers,
        reading=reading,
    )
