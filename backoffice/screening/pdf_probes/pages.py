"""Page-by-page reading of a PDF with PDFium (pypdfium2), run in a sandboxed child.

Usage: python -I pages.py FILE FIRST_PAGE LAST_PAGE   (1-based, inclusive)
Prints one JSON object: page_count, pages (header and footer strips, characters, the start of the text),
first_pages_text (full text of pages 1-5 when in range), bookmarks, identifiers (strings shaped like IRB
file numbers or UCIs, with the pages where they appear). A LAST_PAGE of 0 reads no page: the page count only.
A file PDFium will not open without a password gives {"refused": "password"}; any other file it cannot load
ends the child with PDFium's error as the last line of stderr.

Only ever run on a file that structure.py cleared.
"""

import sys
from pathlib import Path

import pypdfium2 as pdfium

sys.path.insert(0, str(Path(__file__).resolve().parent))  # python -I leaves the probes' folder off the path
from probe_output import collect_identifiers, print_answer  # noqa: E402

STRIP = 0.08  # top and bottom 8 % of the page
LEAD_CHARACTERS = 400
FIRST_PAGES = 5
FIRST_PAGE_CHARACTERS = 20_000
MAX_BOOKMARKS = 500


def main(path: str, first: int, last: int) -> dict:
    try:
        pdf = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as error:
        # pikepdf may open a file with an empty owner password that PDFium, like Acrobat, asks a password for
        if error.err_code == pdfium.raw.FPDF_ERR_PASSWORD:
            return {"refused": "password"}
        raise
    page_count = len(pdf)
    pages, first_pages_text, identifiers = [], [], {}
    for number in range(first, min(last, page_count) + 1):
        facts, text = _read_page(pdf, number)
        pages.append(facts)
        if number <= FIRST_PAGES:
            first_pages_text.append(text[:FIRST_PAGE_CHARACTERS])
        collect_identifiers(text, number, identifiers)
    return {
        "page_count": page_count,
        "pages": pages,
        "first_pages_text": first_pages_text,
        "bookmarks": _count_bookmarks(pdf) if first == 1 else 0,
        "identifiers": identifiers,
    }


def _read_page(pdf: pdfium.PdfDocument, number: int) -> tuple[dict, str]:
    page = pdf[number - 1]
    try:
        width, height = page.get_size()
        textpage = page.get_textpage()
        try:
            chars = textpage.count_chars()
            if chars <= 0:
                return {"number": number, "header": "", "footer": "", "chars": 0, "lead": ""}, ""
            text = textpage.get_text_range()
            header = textpage.get_text_bounded(bottom=height * (1 - STRIP))
            footer = textpage.get_text_bounded(top=height * STRIP)
        finally:
            textpage.close()
    finally:
        page.close()
    lead = text.strip()[:LEAD_CHARACTERS]
    return {"number": number, "header": header, "footer": footer, "chars": chars, "lead": lead}, text


def _count_bookmarks(pdf: pdfium.PdfDocument) -> int:
    count = 0
    for _ in pdf.get_toc(max_depth=3):
        count += 1
        if count >= MAX_BOOKMARKS:
            break
    return count


if __name__ == "__main__":
    print_answer(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
