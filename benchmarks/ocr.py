"""How well screening reads scanned pages: page numbers, file numbers and client ids read by OCR from the
margins of generated scans whose truth is known, then a 1,000-page scanned disclosure screened in full.

The judge set is made with another seed than the tuning set (`sample_scans.tuning_set`, seed 1), so that
what was tuned on one is judged on the other.

    python -m benchmarks.ocr [--seed N] [--pages N]

A page number is read exactly when the page numbering check (which follows the sequence from page to page)
reads the printed number on that page; a page is given a wrong number when the check reads another number
on it, or any number on a page that shows none. An identifier is found when the document's identifiers list it on
its page; any other (identifier, page) is a false one.
"""

import argparse
import hashlib
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from backoffice.devservices import sample_scans
from backoffice.devservices.sample_scans import ScanPage
from backoffice.screening.checks.base import DocumentFacts, PageFacts
from backoffice.screening.checks.notice_of_appeal import pages_with_title
from backoffice.screening.checks.page_numbering import read_numbering
from backoffice.screening.checks.table_of_contents import find_table_of_contents
from backoffice.screening.checks.unrelated_files import normal_file_number, normal_uci
from backoffice.screening.pdf_reading import ReadingSettings, read_document
from benchmarks.screening import _screen_in_own_process

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CACHE = PROJECT_ROOT / "instance" / "benchmarks"
TUNING_SEED = 1
JUDGE_SEED = 2
JUDGE_PAGES = 360
JUDGE_DOCUMENTS = 4
DISCLOSURE_PAGES = 1000
DISCLOSURE_DPI = 200


@dataclass
class Tally:
    """Counts over a set of pages."""

    pages: int = 0
    numbered: int = 0
    exact: int = 0
    wrong: int = 0
    with_identifiers: int = 0
    identifiers_found: int = 0
    false_identifiers: int = 0

    def add(self, other: "Tally") -> None:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def line(self) -> str:
        return (
            f"page numbers read exactly {_percent(self.exact, self.numbered)} of {self.numbered} numbered "
            f"pages; wrong number {_percent(self.wrong, self.pages)} of {self.pages} pages ({self.wrong}); "
            f"identifiers found on {_percent(self.identifiers_found, self.with_identifiers)} of "
            f"{self.with_identifiers} pages that carry one; false identifiers: {self.false_identifiers}"
        )


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "n/a"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ocr", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seed", type=int, default=JUDGE_SEED, help=f"judge set's seed (default {JUDGE_SEED})"
    )
    parser.add_argument(
        "--pages", type=int, default=JUDGE_PAGES, help=f"judge set's pages (default {JUDGE_PAGES})"
    )
    arguments = parser.parse_args(argv)
    started = time.perf_counter()
    print(
        f"OCR of scanned margins: judge set of seed {arguments.seed} ({arguments.pages} pages in "
        f"{JUDGE_DOCUMENTS} documents); the tuning set is seed {TUNING_SEED}"
    )
    with tempfile.TemporaryDirectory() as folder:
        _bench_judge_set(Path(folder), arguments.seed, arguments.pages)
        _bench_whole_pages(Path(folder), arguments.seed)
    _bench_disclosure(arguments.seed)
    print(f"  (this section took {time.perf_counter() - started:.0f} s)")


def _bench_judge_set(folder: Path, seed: int, page_count: int) -> None:
    per_dpi: dict[int, Tally] = defaultdict(Tally)
    scans, text = Tally(), Tally()
    generating = reading = 0.0
    for index, size in enumerate(_document_sizes(page_count)):
        pages = sample_scans.random_pages(seed * 1000 + index, size)
        started = time.perf_counter()
        path = sample_scans.scanned_document(folder / f"judge-{index}.pdf", pages)
        generating += time.perf_counter() - started
        started = time.perf_counter()
        document = _read(path)
        reading += time.perf_counter() - started
        for page, tally in _page_tallies(pages, document):
            per_dpi[page.scanning.dpi].add(tally)
            scans.add(tally)
        text.add(
            _score_document(pages, _read(sample_scans.text_document(folder / f"text-{index}.pdf", pages)))
        )
    print(f"  scans, all: {scans.line()}")
    for dpi in sorted(per_dpi):
        print(f"  scans at {dpi} dpi: {per_dpi[dpi].line()}")
    print(f"  text layer, same pages (sanity): {text.line()}")
    print(
        f"  generating the scans took {generating:.1f} s ({1000 * generating / page_count:.0f} ms/page); "
        f"reading them {reading:.1f} s ({1000 * reading / page_count:.0f} ms/page, children included)"
    )


def _document_sizes(page_count: int) -> list[int]:
    size, extra = divmod(page_count, JUDGE_DOCUMENTS)
    return [size + (index < extra) for index in range(JUDGE_DOCUMENTS) if size + (index < extra)]


def _read(path: Path) -> DocumentFacts:
    return read_document(path, path.name, path.stat().st_size, ReadingSettings())


def _pages(document: DocumentFacts, count: int) -> list[PageFacts]:
    """The document's pages, or empty ones if it could not be read (every page then counts as missed)."""
    if document.pages is not None and len(document.pages) == count:
        return document.pages
    return [PageFacts(number, "", "", 0) for number in range(1, count + 1)]


def _score_document(pages: list[ScanPage], document: DocumentFacts) -> Tally:
    tally = Tally()
    for _, page_tally in _page_tallies(pages, document):
        tally.add(page_tally)
    return tally


def _page_tallies(pages: list[ScanPage], document: DocumentFacts) -> list[tuple[ScanPage, Tally]]:
    facts = _pages(document, len(pages))
    read = read_numbering(facts).read
    return [
        (page, score_page(page, page_facts, read.get(page_facts.number), document.identifiers))
        for page, page_facts in zip(pages, facts, strict=True)
    ]


def score_page(
    page: ScanPage, facts: PageFacts, read: int | None, identifiers: dict[str, list[int]]
) -> Tally:
    """One page's counts: the number the page numbering check read on it (`read`), right or wrong; its
    identifiers found, and false ones."""
    found = {_normal(value) for value, pages in identifiers.items() if facts.number in pages}
    printed = {_normal(value) for value in page.identifiers}
    return Tally(
        pages=1,
        numbered=page.number is not None,
        exact=page.number is not None and read == page.number,
        wrong=read is not None and read != page.number,
        with_identifiers=bool(printed),
        identifiers_found=bool(printed) and printed <= found,
        false_identifiers=len(found - printed),
    )


def _normal(value: str) -> str:
    return normal_file_number(value) or normal_uci(value) or value.strip()


def _bench_whole_pages(folder: Path, seed: int) -> None:
    """The first pages read in full: a scanned table of contents and a notice of appeal's first page."""
    for language in ("en", "fr"):
        page = sample_scans.table_of_contents_page(seed, language, 200)
        document = _read(sample_scans.scanned_document(folder / f"toc-{language}.pdf", [page]))
        table = find_table_of_contents(document.first_pages_text)
        entries = len(table.entries) if table else 0
        print(
            f"  scanned table of contents ({language}, 200 dpi): {entries} of {len(page.lines)} entries read"
        )
        page = sample_scans.notice_of_appeal_page(seed, language, 200)
        document = _read(sample_scans.scanned_document(folder / f"appeal-{language}.pdf", [page]))
        recognised = "recognised" if pages_with_title(document) == [1] else "not recognised"
        print(f"  scanned notice of appeal ({language}, 200 dpi): {recognised}")


def _bench_disclosure(seed: int) -> None:
    """A 1,000-page scanned disclosure screened as the worker does, in a process of its own."""
    pages = sample_scans.disclosure_pages(seed, DISCLOSURE_PAGES, DISCLOSURE_DPI)
    path = (
        CACHE
        / f"scanned-disclosure-{DISCLOSURE_PAGES}-{DISCLOSURE_DPI}dpi-seed{seed}-{_generator_version()}.pdf"
    )
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        sample_scans.scanned_document(path.with_suffix(".partial"), pages).rename(path)
        print(f"  generated {path.name} in {time.perf_counter() - started:.1f} s")
    figure = _screen_in_own_process(path)
    outcomes = ", ".join(f"{code} {outcome}" for code, outcome in sorted(figure["outcomes"].items()))
    reading = figure["reading"]
    ocr = [f"{key} {reading[key]}" for key in sorted(reading) if key.startswith("ocr_")]
    lost = next(index for index, page in enumerate(pages, start=1) if page.number is None)
    foreign = next(
        index for index, page in enumerate(pages, start=1) if page.identifiers != pages[0].identifiers
    )
    print(
        f"  screening, {DISCLOSURE_PAGES:,}-page scanned disclosure ({DISCLOSURE_DPI} dpi, "
        f"{path.stat().st_size / 2**20:.0f} MB): {figure['seconds']:.1f} s; peak memory: worker "
        f"{figure['worker_peak_mb']:.0f} MB, largest child {figure['child_peak_mb']:.0f} MB"
        + (f"; {', '.join(ocr)}" if ocr else "")
    )
    print(
        f"  its checks: {outcomes} (expected: page_numbering failure for page {lost} without a number, "
        f"unrelated_files warning for another file number on page {foreign}, table_of_contents pass)"
    )


def _generator_version() -> str:
    """The cached disclosure is made again when the generator changes."""
    return hashlib.sha256(Path(sample_scans.__file__).read_bytes()).hexdigest()[:8]


if __name__ == "__main__":
    main()
