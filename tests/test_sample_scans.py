"""The generated scans that the OCR of margins is tuned and judged on: deterministic, image-only, covering
every style, place and resolution, and with a truth that matches what is printed."""

import re

import pikepdf
import pypdfium2 as pdfium
import pytest

from backoffice.devservices import sample_scans
from backoffice.screening.checks.base import PageFacts
from backoffice.screening.checks.page_numbering import read_candidates
from backoffice.screening.pdf_probes.probe_output import IDENTIFIER


def _small_pages() -> list[sample_scans.ScanPage]:
    """A few pages at the two cheapest resolutions, with a numbered page and one carrying an identifier."""
    pages = [page for page in sample_scans.random_pages(5, 200) if page.scanning.dpi in (150, 200)]
    numbered = next(page for page in pages if page.number is not None)
    with_identifier = next(page for page in pages if page.identifiers)
    return [numbered, with_identifier, sample_scans.table_of_contents_page(5, "fr", 150)]


def test_the_same_seed_gives_the_same_bytes_and_another_seed_other_pages(tmp_path):
    assert sample_scans.random_pages(7, 60) == sample_scans.random_pages(7, 60)
    assert sample_scans.random_pages(7, 60) != sample_scans.random_pages(8, 60)
    pages = _small_pages()
    first = sample_scans.scanned_document(tmp_path / "first.pdf", pages, processes=1)
    second = sample_scans.scanned_document(tmp_path / "second.pdf", pages, processes=1)
    assert first.read_bytes() == second.read_bytes()


def test_pages_are_one_image_each_with_no_text_layer(tmp_path):
    pages = _small_pages()
    path = sample_scans.scanned_document(tmp_path / "scans.pdf", pages, processes=1)
    pdf = pdfium.PdfDocument(path)
    assert len(pdf) == len(pages)
    for index in range(len(pdf)):
        textpage = pdf[index].get_textpage()
        assert textpage.count_chars() == 0
        textpage.close()
    with pikepdf.open(path) as document:
        for page, scan in zip(document.pages, pages, strict=True):
            (image,) = page.get_images().values()
            assert image.Filter == pikepdf.Name.DCTDecode
            assert (int(image.Width), int(image.Height)) == (
                round(8.5 * scan.scanning.dpi),
                round(11 * scan.scanning.dpi),
            )


def test_two_hundred_pages_cover_every_style_place_resolution_and_face():
    pages = sample_scans.random_pages(11, 200)
    assert {page.number_style for page in pages} - {None} == set(sample_scans.NUMBER_STYLES)
    assert {page.number_place for page in pages} - {None} == {
        (edge, align) for edge in sample_scans.EDGES for align in sample_scans.ALIGNS
    }
    assert {page.scanning.dpi for page in pages} == set(sample_scans.DPIS)
    assert {page.face for page in pages} == set(sample_scans.FACES)
    assert {page.size for page in pages} <= set(sample_scans.SIZES)
    assert any(page.number is None and page.kind == "body" for page in pages)
    labels = " ".join(text for page in pages for row in page.header for _, text in row)
    assert all(label in labels for label in sample_scans.FILE_NUMBER_LABELS + sample_scans.CLIENT_ID_LABELS)
    for page in pages:
        assert -1.5 <= page.scanning.skew <= 1.5 and 60 <= page.scanning.quality <= 85


def test_the_truth_is_what_the_margins_print():
    """Numbers, identifiers and style agree with the text, and the text path reads exactly the truth."""
    for page in sample_scans.random_pages(13, 200):
        items = [text for row in page.header + page.footer for _, text in row]
        printed = {value for text in items for value in IDENTIFIER.findall(text)}
        assert printed == set(page.identifiers)
        if page.number is None:
            assert page.number_style is None
        else:
            style = sample_scans.NUMBER_STYLES[page.number_style]
            pattern = re.escape(style).replace(r"\{n\}", str(page.number)).replace(r"\{total\}", r"\d+")
            assert any(re.fullmatch(pattern, text) for text in items)
        assert _read_as_text(page) == page.number


def _read_as_text(page: sample_scans.ScanPage) -> int | None:
    """The number the page-number reading takes from the margin rows, as a text layer would give them."""
    rows = [" ".join(text for _, text in row) for row in page.header + page.footer]
    candidates = read_candidates(PageFacts(1, "\n".join(rows), "", 1))
    if candidates.strong:
        (number,) = candidates.strong
        return number
    return next(iter(candidates.numbers), None) if len(candidates.numbers) == 1 else None


def test_a_disclosure_has_one_page_without_number_and_one_with_another_file_number():
    pages = sample_scans.disclosure_pages(3, 30)
    assert pages[0].kind == "table_of_contents" and pages[0].number == 1
    assert [index for index, page in enumerate(pages, 1) if page.number is None] == [21]
    assert [index for index, page in enumerate(pages, 1) if page.identifiers != ("VB5-01234",)] == [11]
    assert all(page.number == index for index, page in enumerate(pages, 1) if page.number is not None)
    table = sample_scans.truth(pages)
    assert table[10]["identifiers"] == ["TB5-98765"] and table[20]["number"] is None


@pytest.mark.parametrize("language", ["en", "fr"])
def test_whole_pages_carry_their_heading_and_lines(language):
    toc = sample_scans.table_of_contents_page(1, language)
    assert toc.heading in ("Table of contents", "Table des matières")
    assert len(toc.lines) >= 6 and all(re.search(r"\t\d+$", line) for line in toc.lines)
    appeal = sample_scans.notice_of_appeal_page(1, language)
    assert appeal.kind == "notice_of_appeal" and appeal.number == 1
    assert appeal.heading == ("AVIS D'APPEL" if language == "fr" else "NOTICE OF APPEAL")
