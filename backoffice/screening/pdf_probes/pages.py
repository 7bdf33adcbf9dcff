"""Page-by-page reading of a PDF with PDFium (pypdfium2), run in a sandboxed child.

Usage: python -I pages.py FILE FIRST_PAGE LAST_PAGE   (1-based, inclusive)
Prints one JSON object: page_count, pages (header and footer strips, characters, the start of the text),
first_pages_text (full text of pages 1-5 when in range), bookmarks, identifiers (strings shaped like IRB
file numbers or UCIs, with the pages where they appear).

Only ever run on a file that structure.py cleared.
"""

import json
import re
import resource
import sys

import pypdfium2 as pdfium

STRIP = 0.08  # top and bottom 8 % of the page
LEAD_CHARACTERS = 400
FIRST_PAGES = 5
FIRST_PAGE_CHARACTERS = 20_000
MAX_IDENTIFIERS = 200
MAX_PAGES_PER_IDENTIFIER = 50
MAX_BOOKMARKS = 500
IDENTIFIER = re.compile(
    r"(?<![\w-])(?:[A-Z]{2}\d-\d{5}|\d{4}-[A-Z]\d-\d{5}|\d{2}-\d{4}-\d{4}|\d{4}-\d{4})(?![\w-])"
)


def main(path: str, first: int, last: int) -> dict:
    pdf = pdfium.PdfDocument(path)
    page_count = len(pdf)
    pages, first_pages_text, identifiers = [], [], {}
    for number in range(first, min(last, page_count) + 1):
        facts, text = _read_page(pdf, number)
        pages.append(facts)
        if number <= FIRST_PAGES:
            first_pages_text.append(text[:FIRST_PAGE_CHARACTERS])
        _collect_identifiers(text, number, identifiers)
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


def _collect_identifiers(text: str, number: int, identifiers: dict[str, list[int]]) -> None:
    for value in set(IDENTIFIER.findall(text)):
        pages = identifiers.get(value)
        if pages is None:
            if len(identifiers) >= MAX_IDENTIFIERS:
                continue
            pages = identifiers[value] = []
        if len(pages) < MAX_PAGES_PER_IDENTIFIER:
            pages.append(number)


def _count_bookmarks(pdf: pdfium.PdfDocument) -> int:
    count = 0
    for _ in pdf.get_toc(max_depth=3):
        count += 1
        if count >= MAX_BOOKMARKS:
            break
    return count


def _with_peak_memory(answer: dict) -> dict:
    """This process's own peak (VmHWM starts afresh at exec; ru_maxrss would carry the parent's)."""
    try:
        with open("/proc/self/status") as status:
            answer["peak_kb"] = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        answer["peak_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return answer


if __name__ == "__main__":
    print(json.dumps(_with_peak_memory(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))))
