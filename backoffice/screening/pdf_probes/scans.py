"""Reading scanned pages (no text layer) by OCR, in a sandboxed child.

Usage: python -I scans.py FILE PAGES WHOLE_PAGES SECONDS
  PAGES        page numbers whose header and footer strips are read ("3,4,9")
  WHOLE_PAGES  those among them read whole (the first pages: table of contents, notice of appeal)
  SECONDS      this child's budget; the pages it has no time left for are listed in "not_read"
Prints one JSON object: pages (number, header, footer, lead), whole_pages_text ({number: text}),
not_read, identifiers, seconds, peak_kb.

Only the top and bottom strips are rendered (PDF-SCREENING.md, "OCR of margins"): text boxes are found
with OpenCV and only those boxes are recognised, with RapidOCR's recogniser and no detector, one thread.
Only ever run on a file that structure.py cleared.
"""

import os
import re
import sys
import time
import unicodedata
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import cv2  # noqa: E402 - the thread limit is read when OpenCV and onnxruntime load
import numpy as np  # noqa: E402
import pypdfium2 as pdfium  # noqa: E402
import rapidocr_onnxruntime  # noqa: E402
import yaml  # noqa: E402
from rapidocr_onnxruntime.ch_ppocr_rec import TextRecognizer  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))  # python -I leaves the probes' folder off the path
from probe_output import collect_identifiers, print_answer  # noqa: E402

cv2.setNumThreads(1)

STRIP = 0.08  # top and bottom 8 % of the page, as for text pages
STRIP_DPI = 250  # pages that are not a single scanned image are rendered at this resolution
WHOLE_PAGE_DPI = 200
WHOLE_PAGE_LINES = 16  # lines read from the top of a first page
REOPEN_EVERY = 50  # PDFium's memory grows with the pages a document has held
LEAD_CHARACTERS = 400
WHOLE_PAGE_CHARACTERS = 20_000
# Finding text: a pixel this much darker than the paper is ink; letters closer than GAP (in pixels at
# 250 dpi) are one box; a box must be this tall, at most this tall, and this wide (pixels at 250 dpi).
INK_BELOW_PAPER = 60
MIN_INK_PIXELS = 12
GAP = 26
MIN_BOX_HEIGHT, MAX_BOX_HEIGHT, MIN_BOX_WIDTH = 11, 90, 6
LONG_BOX = 8  # a box this many times wider than tall is a line of text, long enough to show the skew
MAX_DOT = 10  # ink no wider and no taller than this is a speck or a dot
LETTER_WIDTH_AT_250_DPI = 2125
# Recognising: boxes scaled to this height (36 reads as well as the model's 48 here, at half the cost),
# widths rounded up to a step; below this confidence a box is noise.
REC_HEIGHT = 36
WIDTH_STEP = 16
MIN_SCORE = 0.5
# A scanner's page: one upright image covering the page, at a plausible resolution, on light paper.
COVERS = 0.95
MIN_SCAN_DPI, MAX_SCAN_DPI = 140, 400
PAPER_AT_LEAST = 128
GREY_FROM = {"BGR": cv2.COLOR_BGR2GRAY, "BGRA": cv2.COLOR_BGRA2GRAY, "BGRX": cv2.COLOR_BGRA2GRAY}

Box = tuple[int, int, int, int]  # x0, y0, x1, y1


def main(path: str, numbers: list[int], whole: set[int], seconds: float) -> dict:
    started = time.monotonic()
    reader = MarginReader()
    pages, whole_text, identifiers, not_read = [], {}, {}, []
    pdf = None
    for index, number in enumerate(numbers):
        if time.monotonic() - started > seconds:
            not_read = numbers[index:]
            break
        if index % REOPEN_EVERY == 0:
            if pdf is not None:
                pdf.close()
            pdf = pdfium.PdfDocument(path)
        header, footer, text = reader.read_page(pdf, number, whole=number in whole)
        pages.append(
            {"number": number, "header": header, "footer": footer, "lead": text.strip()[:LEAD_CHARACTERS]}
        )
        if number in whole:
            whole_text[str(number)] = text[:WHOLE_PAGE_CHARACTERS]
        collect_identifiers(f"{header}\n{footer}\n{text}", number, identifiers)
    return {
        "pages": pages,
        "whole_pages_text": whole_text,
        "not_read": not_read,
        "identifiers": identifiers,
        "seconds": round(time.monotonic() - started, 3),
    }


class MarginReader:
    """RapidOCR's recogniser alone (its detector pads and upscales wide strips: seconds a page), on one
    thread, fed the boxes that OpenCV finds."""

    def __init__(self) -> None:
        package = Path(rapidocr_onnxruntime.__file__).parent
        config = yaml.safe_load((package / "config.yaml").read_text())["Rec"]
        config.update(
            model_path=str(package / config["model_path"]), intra_op_num_threads=1, inter_op_num_threads=1
        )
        self.recogniser = TextRecognizer(config)

    def read_page(self, pdf: pdfium.PdfDocument, number: int, whole: bool) -> tuple[str, str, str]:
        """The header strip's text, the footer strip's, and the first lines of the page when `whole`."""
        page = pdf[number - 1]
        try:
            header, footer, whole_page = page_images(page, whole)
        finally:
            page.close()
        text = self.read(whole_page, first_lines=WHOLE_PAGE_LINES) if whole_page is not None else ""
        return self.read(header, cut_at="bottom"), self.read(footer, cut_at="top"), text

    def read(self, image: np.ndarray, cut_at: str | None = None, first_lines: int | None = None) -> str:
        """The lines of text in a greyscale image, top to bottom. `cut_at` is the side where a strip meets the
        body of the page (boxes touching it are body text cut in two)."""
        boxes = find_text_boxes(image, cut_at, without_dots=first_lines is not None)
        slope = skew_slope(image, boxes)
        if first_lines is not None:
            boxes = boxes_of_first_lines(boxes, first_lines, slope)
        words = []
        for box, (text, score) in zip(boxes, self.recognise(image, boxes), strict=True):
            if score >= MIN_SCORE and (text := clean(text)):
                words.append((box, text))
        return "\n".join(_lines(words, slope))

    def recognise(self, image: np.ndarray, boxes: list[Box]) -> list[tuple[str, float]]:
        """Text and confidence of each crop, one at a time. On one thread a batch costs more than its lines
        read apart (and the recogniser's own batching pads every line to 320 pixels, where a lone "12"
        needs 48); widths are rounded up to a step, so that few distinct shapes reach the model."""
        results = []
        for x0, y0, x1, y1 in boxes:
            crop = image[y0:y1, x0:x1]
            width = max(WIDTH_STEP, round(REC_HEIGHT * crop.shape[1] / max(1, crop.shape[0])))
            resized = cv2.resize(crop, (width, REC_HEIGHT), interpolation=cv2.INTER_AREA)
            batch = np.zeros((1, 3, REC_HEIGHT, -(-width // WIDTH_STEP) * WIDTH_STEP), dtype=np.float32)
            batch[0, :, :, :width] = resized.astype(np.float32) / 127.5 - 1.0
            text, score = self.recogniser.postprocess_op(self.recogniser.session(batch)[0])[0][:2]
            results.append((text, float(score)))
        return results


def page_images(page: pdfium.PdfPage, whole: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The header strip, the footer strip and (when asked) the whole page, in grey levels. A scanner's page
    is one image covering the page: its own pixels are taken, decoded once (rendering each strip would
    decode the image twice and resample it); any other page is rendered."""
    image = _page_scan(page)
    if image is not None:
        strip = round(image.shape[0] * STRIP)
        return image[:strip], image[-strip:], image if whole else None
    _, height = page.get_size()
    strip = height * STRIP
    header = _render(page, STRIP_DPI, (0, height - strip, 0, 0))
    footer = _render(page, STRIP_DPI, (0, 0, 0, height - strip))
    return header, footer, _render(page, WHOLE_PAGE_DPI, (0, 0, 0, 0)) if whole else None


def _page_scan(page: pdfium.PdfPage) -> np.ndarray | None:
    """The pixels of the one upright image that covers the page, when that is all the page holds."""
    if page.get_rotation() != 0:
        return None
    objects = list(page.get_objects(max_depth=1))
    if len(objects) != 1 or not isinstance(objects[0], pdfium.PdfImage):
        return None
    matrix = objects[0].get_matrix()
    width, height = page.get_size()
    upright = matrix.b == 0 and matrix.c == 0 and matrix.a > 0 and matrix.d > 0
    if not upright or matrix.a < width * COVERS or matrix.d < height * COVERS:
        return None
    pixel_width, _ = objects[0].get_px_size()
    if not MIN_SCAN_DPI <= pixel_width * 72 / matrix.a <= MAX_SCAN_DPI:
        return None  # a thumbnail, or an image too large to decode whole: let PDFium draw the strips
    bitmap = objects[0].get_bitmap(render=False)  # the image's own buffer: copied, never closed here
    pixels, mode = np.array(bitmap.to_numpy(), copy=True), bitmap.mode
    if mode in GREY_FROM:
        pixels = cv2.cvtColor(pixels, GREY_FROM[mode])
    elif mode != "L" or pixels.ndim != 2:
        return None
    if paper_level(pixels) < PAPER_AT_LEAST:
        return None  # a negative, or a mask: let PDFium draw it
    return np.ascontiguousarray(pixels)


def _render(page: pdfium.PdfPage, dpi: int, crop: tuple[float, float, float, float]) -> np.ndarray:
    bitmap = page.render(scale=dpi / 72, crop=crop, grayscale=True)
    try:
        return np.array(bitmap.to_numpy(), copy=True).reshape(bitmap.height, bitmap.width)
    finally:
        bitmap.close()


def paper_level(image: np.ndarray) -> int:
    """The grey level of the paper: most pixels of a page are paper (a sample of them is enough)."""
    return int(np.percentile(image[::4, ::4], 90))


def find_text_boxes(image: np.ndarray, cut_at: str | None, without_dots: bool = False) -> list[Box]:
    """Boxes around runs of words: ink found by a threshold under the paper's level, specks removed, letters
    joined along the line but not across a wide gap ("File No.: VB1-28756      3" gives two boxes).

    On whole pages dots go too (`without_dots`): a table of contents' dot leaders would join each title
    to its page number. Not in the margins, where a small italic digit may break into dot-sized pieces.
    Boxes are cut from the image itself, so a full stop inside a box is still read."""
    paper = paper_level(image)
    ink = (image < paper - INK_BELOW_PAPER).astype(np.uint8)
    if int(ink.sum()) < MIN_INK_PIXELS:
        return []
    scale = image.shape[1] / LETTER_WIDTH_AT_250_DPI
    if without_dots:
        ink = _without_dots(ink, MAX_DOT * scale)
    else:
        ink = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    gap = max(3, round(GAP * scale))
    joined = cv2.dilate(ink, np.ones((3, gap), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    height, width = image.shape
    boxes = []
    for x, y, w, h, _ in stats[1:count]:
        if h < MIN_BOX_HEIGHT * scale or h > MAX_BOX_HEIGHT * scale or w < MIN_BOX_WIDTH * scale:
            continue  # specks, rules and pictures
        if cut_at == "top" and y <= 1 or cut_at == "bottom" and y + h >= height - 1:
            continue  # body text cut by the strip
        pad = max(2, round(4 * scale))
        boxes.append((max(0, x - pad), max(0, y - pad), min(width, x + w + pad), min(height, y + h + pad)))
    return boxes


def _without_dots(ink: np.ndarray, size: float) -> np.ndarray:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    kept = (stats[:, cv2.CC_STAT_WIDTH] > size) | (stats[:, cv2.CC_STAT_HEIGHT] > size)
    kept[0] = False  # the paper
    return kept[labels].astype(np.uint8)


def skew_slope(image: np.ndarray, boxes: list[Box]) -> float:
    """How far a line of text drops per pixel across (a scan is skewed by up to a degree or two): the median,
    over the long boxes, of the slope between the ink's middle in their left and right halves."""
    threshold = paper_level(image) - INK_BELOW_PAPER
    slopes = []
    for x0, y0, x1, y1 in boxes:
        if x1 - x0 < LONG_BOX * (y1 - y0):
            continue
        middle = (x0 + x1) // 2
        left, right = (
            _ink_middle(image[y0:y1, x0:middle], threshold),
            _ink_middle(image[y0:y1, middle:x1], threshold),
        )
        if left is not None and right is not None:
            slopes.append((right - left) / ((x1 - x0) / 2))
    return float(np.median(slopes)) if slopes else 0.0


def _ink_middle(part: np.ndarray, threshold: int) -> float | None:
    rows = np.nonzero(part < threshold)[0]
    return float(rows.mean()) if rows.size else None


def _level(box: Box, slope: float) -> float:
    """The height of a box's middle, as if the page were straight."""
    return (box[1] + box[3]) / 2 - slope * (box[0] + box[2]) / 2


def boxes_of_first_lines(boxes: list[Box], count: int, slope: float) -> list[Box]:
    """The boxes of the first `count` lines of a page: where titles, headings and the start of a table of
    contents stand (reading every line of a scanned page would cost seconds)."""
    lines = _grouped([(box, "") for box in boxes], slope)[:count]
    return [box for line in lines for box, _ in line]


def _lines(words: list[tuple[Box, str]], slope: float) -> list[str]:
    """The words' texts as lines, each read left to right, gaps kept as spaces."""
    return ["   ".join(text for _, text in line) for line in _grouped(words, slope)]


def _grouped(words: list[tuple[Box, str]], slope: float) -> list[list[tuple[Box, str]]]:
    """Boxes grouped into lines by the level of their middle, top to bottom, each line left to right."""
    lines: list[list[tuple[Box, str]]] = []
    for box, text in sorted(words, key=lambda item: _level(item[0], slope)):
        if lines and abs(_level(box, slope) - _line_level(lines[-1], slope)) < (box[3] - box[1]) / 2:
            lines[-1].append((box, text))
        else:
            lines.append([(box, text)])
    return [sorted(line, key=lambda item: item[0][0]) for line in lines]


def _line_level(line: list[tuple[Box, str]], slope: float) -> float:
    return sum(_level(box, slope) for box, _ in line) / len(line)


# Digits a small italic face turns into letters, after a page label: "Page lof 216", "Page llof 216"
DIGITS_AS_LETTERS = re.compile(r"(?i:\b(page|pg|p\.))\s*([\dlI|O]{1,5})(?=\s*(?:of|de|sur)(?:\b|\d)|\s*/)")
ZERO_FOR_O = re.compile(r"(?<=\d)0f(?=\s*\d)")  # "10 of" read as "100f"


def clean(text: str) -> str:
    """Full-width punctuation made plain (the recogniser's dictionary is also Chinese); spaces it dropped
    between a word and a number put back ("Page7of10"); digits read as letters after a page label."""
    text = unicodedata.normalize("NFKC", text)
    text = ZERO_FOR_O.sub(" of", text)
    text = DIGITS_AS_LETTERS.sub(lambda match: f"{match[1]} {_as_digits(match[2])}", text)
    text = re.sub(r"(?<=[a-z]{2}|.\.)(?=\d)|(?<=\d)(?=(?:of|de|sur)(?:\b|\d))|(?<=of|de)(?=\d)", " ", text)
    return " ".join(text.split())


def _as_digits(text: str) -> str:
    return text.translate(str.maketrans("lI|O", "1110"))


def _numbers(value: str) -> list[int]:
    return [int(item) for item in value.split(",") if item]


if __name__ == "__main__":
    print_answer(main(sys.argv[1], _numbers(sys.argv[2]), set(_numbers(sys.argv[3])), float(sys.argv[4])))
