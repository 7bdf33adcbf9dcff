"""Read an untrusted PDF into the facts the checks need, in the order PDF-SCREENING.md derives.

First a sandboxed pikepdf child checks the structure (encryption, damage, page count, active content,
capped inflation of every stream). Only a file it cleared goes to PDFium, in one sandboxed child per part of
the document when there are cores to spare.
"""

import os
from dataclasses import dataclass
from pathlib import Path

from backoffice.screening.checks.base import DocumentFacts, PageFacts
from backoffice.screening.sandbox import ChildVerdict, Limits, SandboxedChild, run_sandboxed

PROBES = Path(__file__).parent / "pdf_probes"
PAGES_PER_CHILD_AT_LEAST = 200


@dataclass(frozen=True)
class ReadingSettings:
    max_pages: int = 10_000
    processes: int = 2
    limits: Limits = Limits()


def read_document(path: Path, filename: str, size: int, settings: ReadingSettings) -> DocumentFacts:
    verdict = run_sandboxed(PROBES / "structure.py", [str(path), str(settings.max_pages)], settings.limits)
    structure = verdict.answer if verdict.ok else _unsafe(verdict)
    reading = {"structure_seconds": round(verdict.seconds, 3), "structure_peak_kb": _peak(verdict)}
    if not structure.get("readable"):
        return DocumentFacts(filename=filename, size=size, structure=structure, reading=reading)
    return _read_pages(path, filename, size, structure, settings, reading)


def _unsafe(verdict: ChildVerdict) -> dict:
    return {"readable": False, "problem": "unsafe", "detail": verdict.failure or "", "encryption": "unknown"}


def _peak(verdict: ChildVerdict) -> int | None:
    return verdict.answer.get("peak_kb") if verdict.ok else None


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
    failed = next((verdict for verdict in verdicts if not verdict.ok), None)
    if failed is not None:
        return DocumentFacts(
            filename=filename, size=size, structure=structure, pages_error=failed.failure, reading=reading
        )
    return _merge(filename, size, structure, [verdict.answer for verdict in verdicts], reading)


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
