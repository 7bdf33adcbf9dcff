"""Scanned pages (no text layer) read by OCR: their margins feed the page numbering and the other files'
numbers, their first pages the table of contents and the notice of appeal; a budget that runs out leaves
the pages it did not reach "not verifiable", said plainly. The scans are generated with known truth
(backoffice/devservices/sample_scans.py) and read through the real sandboxed children."""

import dataclasses
from pathlib import Path

import pikepdf
import pytest

from backoffice.devservices import sample_scans
from backoffice.screening.checks import CheckContext, DocumentFacts, run_document_checks
from backoffice.screening.checks.table_of_contents import find_table_of_contents
from backoffice.screening.pdf_probes import scans
from backoffice.screening.pdf_reading import ReadingSettings, read_document
from backoffice.screening.scan_reading import OcrSettings, split_pages

CONTEXT = CheckContext("disclosure", "RPD", frozenset({"VB5-01234"}))
PAGES = 12
LOST_NUMBER_PAGE = 9
FOREIGN_PAGE = 5


def read(path: Path, ocr: OcrSettings = OcrSettings()) -> DocumentFacts:
    return read_document(path, path.name, path.stat().st_size, ReadingSettings(ocr=ocr))


def results(document: DocumentFacts) -> dict:
    return {result.code: result for result in run_document_checks(document, CONTEXT)}


def numbered_again(page: sample_scans.ScanPage, number: int) -> sample_scans.ScanPage:
    return dataclasses.replace(
        page,
        number=number,
        footer=((("centre", f"Page {number} of {PAGES}"),),),
        number_style="page_of",
        number_place=("bottom", "centre"),
    )


@pytest.fixture(scope="module")
def disclosure_pages() -> list[sample_scans.ScanPage]:
    return sample_scans.disclosure_pages(
        seed=3, count=PAGES, lost_number_page=LOST_NUMBER_PAGE, foreign_page=FOREIGN_PAGE
    )


@pytest.fixture(scope="module")
def disclosure(tmp_path_factory, disclosure_pages) -> Path:
    """A scanned disclosure: a table of contents, page 9 without its number, page 5 with another file's."""
    return sample_scans.scanned_document(
        tmp_path_factory.mktemp("scans") / "disclosure.pdf", disclosure_pages, processes=1
    )


@pytest.fixture(scope="module")
def screened(disclosure) -> tuple[DocumentFacts, dict]:
    document = read(disclosure)
    return document, results(document)


def test_the_generated_scans_have_no_text_layer_so_ocr_is_what_reads_them(screened):
    document, found = screened
    assert document.pages_without_text == list(range(1, PAGES + 1))
    assert document.pages_read_by_ocr == list(range(1, PAGES + 1))
    assert document.pages_not_verifiable == []
    assert found["text_layer"].outcome == "pass"
    assert "read by OCR: pages 1-12" in found["text_layer"].message_en
    assert "reconnaissance de caractères : pages 1-12" in found["text_layer"].message_fr


def test_a_scanned_page_that_lost_its_number_is_found(screened):
    _, found = screened
    numbering = found["page_numbering"]
    assert numbering.outcome == "failure"
    assert numbering.details["pages_without_number"] == [LOST_NUMBER_PAGE]
    assert numbering.details["pages_out_of_sequence"] == []
    assert numbering.details["not_verifiable"] == []
    assert "Pages without a number: 9." in numbering.message_en


def test_another_files_number_in_a_scanned_header_is_found(screened):
    document, found = screened
    assert document.identifiers["TB5-98765"] == [FOREIGN_PAGE]
    assert sorted(document.identifiers) == ["TB5-98765", "VB5-01234"]
    unrelated = found["unrelated_files"]
    assert unrelated.outcome == "warning"
    assert "TB5-98765 (page 5)" in unrelated.message_en


def test_a_scanned_table_of_contents_is_recognised(screened, disclosure_pages):
    document, _ = screened
    printed = [int(line.split("\t")[1]) for line in disclosure_pages[0].lines]
    table = find_table_of_contents(document.first_pages_text)
    assert table is not None and table.page == 1
    # the footer "Page 1 of 12" ends in a page reference too, as it does on a text page
    assert [entry.first for entry in table.entries][: len(printed)] == printed


def test_a_scanned_disclosure_numbered_throughout_passes(tmp_path, disclosure_pages):
    pages = list(disclosure_pages)
    pages[LOST_NUMBER_PAGE - 1] = numbered_again(pages[LOST_NUMBER_PAGE - 1], LOST_NUMBER_PAGE)
    document = read(sample_scans.scanned_document(tmp_path / "numbered.pdf", pages[:8], processes=1))
    numbering = results(document)["page_numbering"]
    assert numbering.outcome == "pass", numbering.message_en
    assert numbering.message_en == "All 8 pages are numbered in sequence."


def with_a_rule_drawn_on_every_page(path: Path) -> Path:
    """The same scans with a line drawn on each page too: no longer the scanner's one image, so each page is
    rendered by PDFium rather than its image taken as it is."""
    with pikepdf.open(path) as pdf:
        for page in pdf.pages:
            page.contents_add(pdf.make_stream(b"0.5 w 36 36 m 576 36 l S"), prepend=False)
        changed = path.with_name(f"ruled-{path.name}")
        pdf.save(changed)
    return changed


def test_scanned_pages_that_are_more_than_one_image_are_rendered_and_read(tmp_path, disclosure_pages):
    pages = list(disclosure_pages)[:6]
    path = with_a_rule_drawn_on_every_page(
        sample_scans.scanned_document(tmp_path / "six.pdf", pages, processes=1)
    )
    document = read(path)
    assert document.pages_read_by_ocr == list(range(1, 7))
    assert [page.footer for page in document.pages[1:]] == [
        f"Page {number} of {PAGES}" for number in range(2, 7)
    ]
    assert document.identifiers["TB5-98765"] == [FOREIGN_PAGE]


def test_a_scanned_notice_of_appeal_is_recognised(tmp_path):
    for language in ("en", "fr"):
        page = sample_scans.notice_of_appeal_page(seed=5, language=language, dpi=200)
        path = sample_scans.scanned_document(tmp_path / f"notice-{language}.pdf", [page], processes=1)
        notice = results(read(path))["notice_of_appeal"]
        assert notice.outcome == "failure", (language, notice.message_en)


def test_scanned_pages_are_shared_between_the_screening_processes(screened):
    document, _ = screened
    assert document.reading["ocr_children"] == 2
    assert document.reading["ocr_pages"] == PAGES
    assert document.reading["ocr_not_read"] == []
    assert document.reading["ocr_peak_kb"] < 400 * 1024
    assert split_pages(list(range(1, 8)), 2) == [[1, 2, 3, 4], [5, 6, 7]]
    assert split_pages([3], 2) == [[3]]


def test_pages_the_budget_did_not_reach_are_listed_as_not_verifiable(disclosure):
    document = read(disclosure, OcrSettings(seconds=1e-9))
    assert document.reading["ocr_not_read"] == list(range(1, PAGES + 1))
    assert document.pages_not_verifiable == list(range(1, PAGES + 1))
    found = results(document)
    assert found["text_layer"].outcome == "warning"
    assert "could not be verified by the checks that read text: pages 1-12" in found["text_layer"].message_en
    assert found["page_numbering"].outcome == "warning"
    assert "were not read by OCR" in found["page_numbering"].message_en
    assert "n'ont pas été lues par reconnaissance de caractères" in found["page_numbering"].message_fr


def test_with_ocr_turned_off_scans_stay_not_verifiable_and_no_child_starts(disclosure):
    document = read(disclosure, OcrSettings(seconds=0))
    assert "ocr_children" not in document.reading
    assert document.pages_not_verifiable == list(range(1, PAGES + 1))
    assert results(document)["page_numbering"].details["not_verifiable"] == list(range(1, PAGES + 1))


@pytest.mark.parametrize(
    ("read_as", "cleaned"),
    [
        ("Page7of10", "Page 7 of 10"),
        ("Pagelof216", "Page 1 of 216"),
        ("Page llof 216", "Page 11 of 216"),
        ("Page 100f216", "Page 10 of 216"),
        ("p.12", "p. 12"),
        ("ID client：1234-5678", "ID client:1234-5678"),
        ("File No.: TB5-12345", "File No.: TB5-12345"),
        ("Page design", "Page design"),
    ],
)
def test_what_the_recogniser_misreads_is_put_right(read_as, cleaned):
    assert scans.clean(read_as) == cleaned
