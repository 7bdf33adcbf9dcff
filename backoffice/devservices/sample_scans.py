"""Scanned pages with their ground truth, for reading the margins of scans by OCR (tests, tuning, benchmarks).

Every page is a greyscale JPEG of a US Letter page at 150 to 300 dpi, one image per page and no text layer:
body text in the middle; header and footer rows at the left, centre or right holding a page number in one
of seven styles ("Page 12 of 340", "12", "- 12 -", "p. 12", "Page 12 de 340", "Page 12", "12/340"), a file
number or client id labelled in English or French, and distractors (telephone and fax numbers, dates, form
numbers, running titles); then what a scanner does: skew, blur, grain, uneven paper, JPEG at 60-85. Each
`ScanPage` holds both how it is drawn and what is printed on it (`ScanPage.truth()`).

Same seed, same bytes on any machine: the randomness is seeded and the only fonts are those inside the
reportlab wheel (Bitstream Vera, and the Type 1 Times, Helvetica and Courier clones), drawn by Pillow.

Speed: the body text and the paper are made once per resolution (a few variants), and only the margin
strips, which OCR reads, are drawn, skewed, blurred and grained for each page; pages are spread over
processes. Margin rows are laid out so that the text path reads them (`text_document`): a bare number sits
at one end of its row, "- 12 -" alone on its row, and a distractor ends in a loose number ("Télec. : 514 555
0199") only on pages numbered in a labelled style ("Page 12", "p. 12", "12/340"...).
"""

import io
import json
import math
import os
import random
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pikepdf
import reportlab
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen.canvas import Canvas

from backoffice.devservices.sample_pdfs import body_lines

PAGE_WIDTH, PAGE_HEIGHT = letter  # points
FONTS = Path(reportlab.__file__).parent / "fonts"
FACES = (
    "Vera.ttf",
    "VeraBd.ttf",
    "VeraIt.ttf",
    "VeraBI.ttf",
    "_er_____.pfb",  # Times
    "_eb_____.pfb",
    "_ei_____.pfb",
    "_a______.pfb",  # Helvetica
    "_ab_____.pfb",
    "_ai_____.pfb",
    "com_____.pfb",  # Courier
    "cob_____.pfb",
)
# The same faces as PDF base fonts, for the text twin of a scanned document.
TEXT_FACES = {
    "Vera.ttf": "Helvetica",
    "VeraBd.ttf": "Helvetica-Bold",
    "VeraIt.ttf": "Helvetica-Oblique",
    "VeraBI.ttf": "Helvetica-BoldOblique",
    "_er_____.pfb": "Times-Roman",
    "_eb_____.pfb": "Times-Bold",
    "_ei_____.pfb": "Times-Italic",
    "_a______.pfb": "Helvetica",
    "_ab_____.pfb": "Helvetica-Bold",
    "_ai_____.pfb": "Helvetica-Oblique",
    "com_____.pfb": "Courier",
    "cob_____.pfb": "Courier-Bold",
}
NUMBER_STYLES = {
    "page_of": "Page {n} of {total}",
    "bare": "{n}",
    "dashes": "- {n} -",
    "p": "p. {n}",
    "page_de": "Page {n} de {total}",
    "page": "Page {n}",
    "slash": "{n}/{total}",
}
LABELLED_STYLES = ("page_of", "p", "page_de", "page", "slash")  # read as a page number wherever they stand
DPIS = (150, 200, 250, 300)
DPI_DECK = (150, 200, 200, 250, 250, 250, 300, 300)  # mostly 200-300
EDGES = ("top", "bottom")
ALIGNS = ("left", "centre", "right")
SIZES = (8, 8.5, 9, 9.5, 10, 10.5, 11, 11.5, 12)
ROW_PITCH = 1.3  # line spacing of margin rows, in font sizes
EFFECT_STRIP = 0.10  # share of the page height, top and bottom, drawn afresh for each page
BODY_TOP, BODY_BOTTOM = 100.0, 92.0  # points from the top and bottom edges: clear of the margin strips
BODY_SIZE, HEADING_SIZE = 10.5, 14.0
# (body face, skew in degrees): the body images made once per resolution; a page takes the nearest skew.
BODY_VARIANTS = (("_er_____.pfb", -1.1), ("Vera.ttf", -0.4), ("_a______.pfb", 0.4), ("_er_____.pfb", 1.1))
PAPERS = ((240, 5), (229, 9), (214, 14))  # (level, unevenness) of the paper textures
PAGES_WORTH_A_PROCESS = 40

FILE_NUMBER_LABELS = ("File No.: ", "No de dossier : ")
CLIENT_ID_LABELS = ("UCI: ", "IUC : ", "Client ID: ", "ID client : ")
RUNNING_TITLES = (
    "Immigration and Refugee Board of Canada",
    "Commission de l'immigration et du statut de réfugié du Canada",
    "Refugee Protection Division",
    "Section de la protection des réfugiés",
    "Certified translation / Traduction certifiée",
    "Protected B / Protégé B when completed",
    "Country of origin information",
)
KINDS = ("body", "blank", "table_of_contents", "notice_of_appeal")

Row = tuple[tuple[str, str], ...]  # one line of a margin: (alignment, text) pairs


@dataclass(frozen=True)
class Scanning:
    """How the scanner treated one page."""

    dpi: int
    skew: float  # degrees, counter-clockwise
    blur: float  # Gaussian radius in pixels
    grain: float  # standard deviation of the noise in the margins, in grey levels
    paper: int  # index in PAPERS
    ink: int  # grey level of the margin text (0 is black)
    quality: int  # JPEG quality
    seed: int  # for the grain and the specks of dust


@dataclass(frozen=True)
class ScanPage:
    """One scanned page: what is printed on it (the truth) and how it is drawn and scanned.

    `number` is the printed page number (None if the page shows none), `identifiers` the file numbers and
    client ids printed on it, exactly as printed.
    """

    kind: str  # one of KINDS
    number: int | None
    identifiers: tuple[str, ...]
    header: tuple[Row, ...]  # top to bottom
    footer: tuple[Row, ...]  # top to bottom
    face: str  # of the margin text, one of FACES
    size: float  # of the margin text, in points
    scanning: Scanning
    number_style: str | None = None  # key of NUMBER_STYLES
    number_place: tuple[str, str] | None = None  # (edge, alignment)
    edge_distance: float = 18.0  # points from the page's edge to the nearest margin row
    indent: float = 54.0  # points from the side edges to left- and right-aligned margin text
    heading: str = ""  # a whole page (table of contents, notice of appeal): its title and lines;
    lines: tuple[str, ...] = ()  # "text\tpage" is an entry with dot leaders to a right-aligned page

    def truth(self) -> dict:
        return {
            "kind": self.kind,
            "number": self.number,
            "identifiers": list(self.identifiers),
            "number_style": self.number_style,
            "number_place": list(self.number_place) if self.number_place else None,
            "dpi": self.scanning.dpi,
            "face": self.face,
            "size": self.size,
            "header": [[list(item) for item in row] for row in self.header],
            "footer": [[list(item) for item in row] for row in self.footer],
        }


# --------------------------------------------------------------------------------------------- documents


def scanned_document(path: Path, pages: Sequence[ScanPage], processes: int | None = None) -> Path:
    """A PDF of `pages`, each one greyscale JPEG covering the page and nothing else (no text layer)."""
    if not pages:
        raise ValueError("a PDF needs at least one page")
    processes = processes or os.cpu_count() or 1
    if processes == 1 or len(pages) < PAGES_WORTH_A_PROCESS:
        _write_scans(path, pages, map(scan_page, pages))
        return path
    with ProcessPoolExecutor(processes) as pool:
        _write_scans(path, pages, pool.map(scan_page, pages, chunksize=8))
    return path


def _write_scans(path: Path, pages: Sequence[ScanPage], jpegs: Iterable[bytes]) -> None:
    pdf = pikepdf.new()
    for page, jpeg in zip(pages, jpegs, strict=True):
        width, height = _page_pixels(page.scanning.dpi)
        image = pikepdf.Stream(pdf, jpeg)
        image.stream_dict = pikepdf.Dictionary(
            Type=pikepdf.Name.XObject,
            Subtype=pikepdf.Name.Image,
            Width=width,
            Height=height,
            ColorSpace=pikepdf.Name.DeviceGray,
            BitsPerComponent=8,
            Filter=pikepdf.Name.DCTDecode,
        )
        content = pikepdf.Stream(pdf, f"q {PAGE_WIDTH:g} 0 0 {PAGE_HEIGHT:g} 0 0 cm /Scan Do Q".encode())
        pdf.pages.append(
            pikepdf.Page(
                pikepdf.Dictionary(
                    Type=pikepdf.Name.Page,
                    MediaBox=[0, 0, PAGE_WIDTH, PAGE_HEIGHT],
                    Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(Scan=image)),
                    Contents=content,
                )
            )
        )
    pdf.save(path, deterministic_id=True)


def text_document(path: Path, pages: Sequence[ScanPage]) -> Path:
    """The same pages as a text PDF (base fonts, no skew): what the text path reads, to compare with OCR."""
    canvas = Canvas(str(path), pagesize=letter, invariant=1, pageCompression=1)
    for page in pages:
        _draw_text_page(canvas, page)
        canvas.showPage()
    canvas.save()
    return path


def _draw_text_page(canvas: Canvas, page: ScanPage) -> None:
    if page.kind == "body":
        text = canvas.beginText(72, PAGE_HEIGHT - BODY_TOP - BODY_SIZE)
        text.setFont("Times-Roman", BODY_SIZE, BODY_SIZE * 1.4)
        text.textLines(body_lines(38, seed=page.scanning.seed % 1000), trim=0)
        canvas.drawText(text)
    elif page.heading:
        _draw_whole_page_text(canvas, page)
    canvas.setFont(TEXT_FACES[page.face], page.size)
    for align, text, x, baseline in _margin_items(page):
        y = PAGE_HEIGHT - baseline
        {"left": canvas.drawString, "centre": canvas.drawCentredString, "right": canvas.drawRightString}[
            align
        ](x, y, text)


def _draw_whole_page_text(canvas: Canvas, page: ScanPage) -> None:
    canvas.setFont("Helvetica-Bold", HEADING_SIZE)
    canvas.drawString(72, PAGE_HEIGHT - BODY_TOP - HEADING_SIZE, page.heading)
    canvas.setFont("Times-Roman", 11)
    for index, line in enumerate(page.lines):
        y = PAGE_HEIGHT - BODY_TOP - 2.5 * HEADING_SIZE - index * 11 * 1.6
        title, _, number = line.partition("\t")
        canvas.drawString(72, y, title + (" " + "." * 40 if number else ""))
        if number:
            canvas.drawRightString(PAGE_WIDTH - 72, y, number)


def truth(pages: Sequence[ScanPage]) -> list[dict]:
    """The ground truth of each page (position from 1), ready for JSON."""
    return [{"page": index, **page.truth()} for index, page in enumerate(pages, start=1)]


# --------------------------------------------------------------------------------------------- random pages


def random_pages(seed: int, count: int) -> list[ScanPage]:
    """`count` pages in runs of 3 to 14 that look like one document each (same face, size, place and style
    of number, file number or client id, resolution), numbered in sequence; about one run in ten is
    unnumbered, and within runs a few pages lost their number or are blank sheets.

    Styles, places of the number, faces and resolutions are dealt from shuffled decks, so that any 200
    pages cover every one of them.
    """
    rng = random.Random(seed)
    decks = _Decks(rng)
    pages: list[ScanPage] = []
    while len(pages) < count:
        pages += _run(rng, decks, min(rng.randint(3, 14), count - len(pages)))
    return pages


class _Decks:
    """Values dealt in shuffled rounds: every value comes up once per round."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._values = {
            "style": list(NUMBER_STYLES),
            "place": [(edge, align) for edge in EDGES for align in ALIGNS],
            "face": list(FACES),
            "dpi": list(DPI_DECK),
            "numbered": [True] * 9 + [False],
        }
        self._left: dict[str, list] = {name: [] for name in self._values}

    def deal(self, name: str):
        if not self._left[name]:
            self._left[name] = self._rng.sample(self._values[name], len(self._values[name]))
        return self._left[name].pop()


@dataclass
class _Margins:
    """Rows being filled: two per edge, the first the nearest to the edge; items of a row never touch."""

    size: float
    indent: float
    rows: dict[str, list[dict[str, str]]] = field(default_factory=lambda: {edge: [{}, {}] for edge in EDGES})
    alone: set[tuple[str, int]] = field(default_factory=set)  # rows where nothing else may go
    widths: dict[str, float] = field(default_factory=dict)  # points; the number's is its widest in the run

    def place(self, text: str, edge: str, aligns: Sequence[str]) -> bool:
        for index, row in enumerate(self.rows[edge]):
            free = [align for align in aligns if align not in row and self._fits(row, align, text)]
            if free and (edge, index) not in self.alone:
                row[free[0]] = text
                return True
        return False

    def place_number(self, text: str, widest: str, style: str, edge: str, align: str) -> None:
        """The number takes the row nearest the edge; "- 12 -" and a lone centred number keep it alone."""
        self.rows[edge][0][align] = text
        self.widths[text] = self._width(widest)
        if style == "dashes" or (style == "bare" and align == "centre"):
            self.alone.add((edge, 0))

    def _width(self, text: str) -> float:
        return self.widths.get(text, 0.62 * self.size * len(text))  # Courier's advance, the widest face

    def _span(self, align: str, text: str) -> tuple[float, float]:
        width = self._width(text)
        start = {
            "left": self.indent,
            "centre": (PAGE_WIDTH - width) / 2,
            "right": PAGE_WIDTH - self.indent - width,
        }
        return start[align], start[align] + width

    def _fits(self, row: dict[str, str], align: str, text: str) -> bool:
        start, end = self._span(align, text)
        if start < self.indent - 1 or end > PAGE_WIDTH - self.indent + 1:
            return False
        gap = 2 * self.size
        return all(
            end + gap <= other_start or other_end + gap <= start
            for other_start, other_end in (self._span(other, row[other]) for other in row)
        )

    def frozen(self, edge: str, lost_number: str | None) -> tuple[Row, ...]:
        """The rows top down, without `lost_number` (a page whose number did not print)."""
        ordered = self.rows[edge] if edge == "top" else self.rows[edge][::-1]
        rows = (
            tuple((align, cells[align]) for align in ALIGNS if align in cells and cells[align] != lost_number)
            for cells in ordered
        )
        return tuple(row for row in rows if row)


def _run(rng: random.Random, decks: _Decks, length: int) -> list[ScanPage]:
    """One document's pages: shared layout, numbering and identifiers; each page scanned on its own."""
    face, size, dpi = decks.deal("face"), rng.choice(SIZES), decks.deal("dpi")
    style = decks.deal("style") if decks.deal("numbered") else None
    edge, align = decks.deal("place")
    first = 1 if rng.random() < 0.6 else rng.randint(2, 900)
    total = first + length - 1 + (0 if rng.random() < 0.5 else rng.randint(1, 300))
    identifiers, labelled = _identifiers(rng)
    layout = {"face": face, "size": size, "edge_distance": rng.uniform(14, 22), "indent": rng.uniform(40, 72)}
    ink = rng.randint(15, 80)
    # A distractor ending in a loose number ("514 555 0199") stands only where a labelled page number always
    # prints, as the reading would take it for the number of a page that shows none.
    loose_ending = style in LABELLED_STYLES
    distractors = [
        (make(rng, loose_ending), rng.choice(EDGES), rng.sample(ALIGNS, 3))
        for make in rng.sample(DISTRACTORS, rng.randint(0, 3))
    ]
    pages = []
    for index in range(length):
        number = first + index
        text = NUMBER_STYLES[style].format(n=number, total=total) if style else None
        margins = _Margins(size, layout["indent"])
        if text:
            widest = NUMBER_STYLES[style].format(n=total, total=total)
            margins.place_number(text, widest, style, edge, align)
        printed = tuple(
            value
            for value, item in zip(identifiers, labelled, strict=True)
            if margins.place(item, "top", ("left", "right", "centre"))
        )
        for item, item_edge, aligns in distractors:
            margins.place(item, item_edge, aligns)
        kind = "blank" if rng.random() < 0.02 else "body"
        lost = bool(text) and not loose_ending and index > 0 and rng.random() < 0.04
        shows_number = text is not None and not lost and kind == "body"
        pages.append(
            ScanPage(
                kind=kind,
                number=number if shows_number else None,
                identifiers=printed if kind == "body" else (),
                header=margins.frozen("top", text if lost else None) if kind == "body" else (),
                footer=margins.frozen("bottom", text if lost else None) if kind == "body" else (),
                scanning=_scanning(rng, dpi, ink),
                number_style=style if shows_number else None,
                number_place=(edge, align) if shows_number else None,
                **layout,
            )
        )
    return pages


def _scanning(rng: random.Random, dpi: int, ink: int) -> Scanning:
    return Scanning(
        dpi=dpi,
        skew=round(rng.uniform(-1.5, 1.5), 2),
        blur=round(rng.uniform(0.3, 1.2) * dpi / 200, 2),
        grain=round(rng.uniform(2, 7), 1),
        paper=rng.randrange(len(PAPERS)),
        ink=ink,
        quality=rng.randint(60, 85),
        seed=rng.getrandbits(32),
    )


def _identifiers(rng: random.Random) -> tuple[tuple[str, ...], list[str]]:
    """About four runs in ten carry a file number, a client id, or both, labelled in English or French."""
    roll = rng.random()
    values, labelled = [], []
    if roll < 0.3 or roll > 0.92:
        values.append(file_number(rng))
        labelled.append(rng.choice(FILE_NUMBER_LABELS) + values[-1])
    if 0.3 <= roll < 0.42 or roll > 0.92:
        values.append(client_id(rng))
        labelled.append(rng.choice(CLIENT_ID_LABELS) + values[-1])
    return tuple(values), labelled


def file_number(rng: random.Random) -> str:
    """An IRB file number: TB5-12345, MB4-01234, VB1-28756, or the long form 2024-B1-01234."""
    if rng.random() < 0.2:
        return f"{rng.randint(2015, 2026)}-B{rng.randint(0, 9)}-{rng.randint(0, 99999):05d}"
    return f"{rng.choice('TMV')}B{rng.randint(0, 9)}-{rng.randint(0, 99999):05d}"


def client_id(rng: random.Random) -> str:
    """A client id (UCI): 11-2345-6789 or 1234-5678, never a span of years such as 2019-2024."""
    if rng.random() < 0.5:
        return f"{rng.randint(10, 99)}-{rng.randint(1000, 9999)}-{rng.randint(0, 9999):04d}"
    first = rng.choice([rng.randint(1000, 1899), rng.randint(2100, 9999)])
    return f"{first}-{rng.randint(0, 9999):04d}"


def _phone(rng: random.Random, loose_ending: bool) -> str:
    """Tel. 416-555-0123, or Télec. : 514 555 0199 where a loose number at the end of a line may stand."""
    area, line = rng.choice(("416", "514", "613", "604", "403")), f"555-{rng.randint(100, 199):04d}"
    label = rng.choice(("Tel. ", "Tél. : ", "Fax: ", "Télec. : ", "Telephone / Téléphone : "))
    return label + (
        f"{area} {line.replace('-', ' ')}" if loose_ending and rng.random() < 0.4 else f"{area}-{line}"
    )


def _date(rng: random.Random, _loose_ending: bool) -> str:
    year, month, day = rng.randint(2018, 2026), rng.randint(1, 12), rng.randint(1, 28)
    label = rng.choice(("Date: ", "Reçu le ", "Printed on ", "Date : ", ""))
    return label + (
        f"{year}-{month:02d}-{day:02d}" if rng.random() < 0.5 else f"{day:02d}/{month:02d}/{year}"
    )


def _form_number(rng: random.Random, _loose_ending: bool) -> str:
    form = rng.choice(("IMM 5669", "IMM 0008", "IMM 5257", "CIT 0002", "IMM 5406"))
    return f"{form} ({rng.randint(1, 12):02d}-{rng.randint(2019, 2025)}) {rng.choice('EF')}"


def _running_title(rng: random.Random, _loose_ending: bool) -> str:
    return rng.choice(RUNNING_TITLES)


DISTRACTORS = (_phone, _phone, _date, _form_number, _running_title)


# --------------------------------------------------------------------------------------------- whole pages


TOC_TITLES = (
    ("Basis of Claim Form and narrative", "Formulaire Fondement de la demande d'asile et exposé"),
    ("Passport and identity documents", "Passeport et pièces d'identité"),
    ("Police report and translation", "Rapport de police et traduction"),
    ("Medical report", "Rapport médical"),
    ("Psychological assessment", "Évaluation psychologique"),
    ("Letters of support from family", "Lettres d'appui de la famille"),
    ("Membership card of the political party", "Carte de membre du parti politique"),
    ("Threat letters and translations", "Lettres de menaces et traductions"),
    ("Affidavit of the claimant", "Affidavit du demandeur d'asile"),
    ("Country condition evidence", "Preuve documentaire sur la situation du pays"),
    ("Press articles", "Articles de presse"),
    ("Counsel's written submissions", "Observations écrites du conseil"),
)


def table_of_contents_page(
    seed: int = 0,
    language: str = "en",
    dpi: int = 250,
    starts: Sequence[int] = (2, 5, 9, 14, 22, 27, 31, 40),
    *,
    numbered: tuple[int, int] | None = None,
    file_number: str | None = None,
) -> ScanPage:
    """A scanned table of contents: its heading, then one entry per first page in `starts` ("Title .... 14");
    `numbered` (number, total) prints "Page 1 of 340" in the footer, `file_number` goes in the header."""
    titles = [pair[language == "fr"] for pair in TOC_TITLES]
    heading = "Table des matières" if language == "fr" else "Table of contents"
    lines = tuple(f"{title}\t{start}" for title, start in zip(titles, starts, strict=False))
    return _whole_page(
        random.Random(seed), "table_of_contents", heading, lines, dpi, language, numbered, file_number
    )


NOTICE_OF_APPEAL = {
    "en": (
        "NOTICE OF APPEAL",
        (
            "Immigration Appeal Division / Immigration and Refugee Board of Canada",
            "Appellant: Jane Doe        Respondent: The Minister of Citizenship and Immigration",
            "I appeal the decision made against me. The reasons for my appeal are the following:",
            "the decision is wrong in law and in fact, and there are humanitarian and compassionate",
            "considerations that warrant special relief in light of all the circumstances of the case.",
            "A copy of the decision being appealed is attached to this notice.",
        ),
    ),
    "fr": (
        "AVIS D'APPEL",
        (
            "Section d'appel de l'immigration / Commission de l'immigration et du statut de réfugié",
            "Appelante : Jeanne Dupont        Intimé : Le ministre de la Citoyenneté et de l'Immigration",
            "J'interjette appel de la décision rendue contre moi. Les motifs de mon appel sont les suivants :",
            "la décision est erronée en droit et en fait, et des considérations d'ordre humanitaire",
            "justifient la prise de mesures spéciales compte tenu de toutes les circonstances de l'affaire.",
            "Une copie de la décision portée en appel est jointe au présent avis.",
        ),
    ),
}


def notice_of_appeal_page(seed: int = 0, language: str = "en", dpi: int = 250) -> ScanPage:
    """The first page of a scanned notice of appeal, numbered "Page 1 of 2" (or "Page 1 de 2")."""
    heading, lines = NOTICE_OF_APPEAL[language]
    return _whole_page(random.Random(seed), "notice_of_appeal", heading, lines, dpi, language, (1, 2), None)


def _whole_page(
    rng: random.Random,
    kind: str,
    heading: str,
    lines: tuple[str, ...],
    dpi: int,
    language: str,
    numbered: tuple[int, int] | None,
    file_number: str | None,
) -> ScanPage:
    style = "page_de" if language == "fr" else "page_of"
    number, total = numbered or (None, None)
    footer = ((("centre", NUMBER_STYLES[style].format(n=number, total=total)),),) if numbered else ()
    header = ((("left", FILE_NUMBER_LABELS[language == "fr"] + file_number),),) if file_number else ()
    return ScanPage(
        kind=kind,
        number=number,
        identifiers=(file_number,) if file_number else (),
        header=header,
        footer=footer,
        face=rng.choice(FACES[:4]),
        size=10,
        scanning=_scanning(rng, dpi, ink=40),
        number_style=style if numbered else None,
        number_place=("bottom", "centre") if numbered else None,
        heading=heading,
        lines=lines,
    )


def disclosure_pages(
    seed: int,
    count: int,
    dpi: int = 200,
    *,
    file_number: str = "VB5-01234",
    foreign_file_number: str = "TB5-98765",
    lost_number_page: int | None = None,
    foreign_page: int | None = None,
) -> list[ScanPage]:
    """A scanned disclosure: a table of contents on page 1, then documents; every page numbered "Page n of
    N" in the footer and headed with the case's file number, except one page that lost its number (by
    default two thirds in) and one that carries another case's file number (one third in)."""
    if count < 4:
        raise ValueError("a scanned disclosure has at least 4 pages")
    rng = random.Random(seed)
    lost_number_page = lost_number_page or count * 2 // 3 + 1
    foreign_page = foreign_page or count // 3 + 1
    documents = min(len(TOC_TITLES), max(2, count // 25))
    starts = sorted(rng.sample(range(3, count + 1), documents - 1) + [2])
    pages = [table_of_contents_page(seed, "en", dpi, starts, numbered=(1, count), file_number=file_number)]
    for number in range(2, count + 1):
        identifier = foreign_file_number if number == foreign_page else file_number
        text = None if number == lost_number_page else f"Page {number} of {count}"
        pages.append(
            ScanPage(
                kind="body",
                number=None if text is None else number,
                identifiers=(identifier,),
                header=((("left", f"File No.: {identifier}"), ("right", "Date: 2026-03-14")),),
                footer=((("centre", text),),) if text else (),
                face="Vera.ttf",
                size=9,
                scanning=_scanning(rng, dpi, ink=45),
                number_style=None if text is None else "page_of",
                number_place=None if text is None else ("bottom", "centre"),
            )
        )
    return pages


# --------------------------------------------------------------------------------------------- scanning


def scan_page(page: ScanPage) -> bytes:
    """The JPEG of one page: body and paper from the per-resolution images, margins drawn for this page."""
    scanning = page.scanning
    width, height = _page_pixels(scanning.dpi)
    ink = _whole_page_ink(page) if page.heading else _body_ink(scanning.dpi, page.kind, scanning.skew).copy()
    strip = round(height * EFFECT_STRIP)
    for top in (0, height - strip):
        ink.paste(_margin_strip(page, top, strip), (0, top))
    image = ImageChops.multiply(ink, _paper(scanning.dpi, scanning.paper))
    rng = random.Random(scanning.seed)
    for top in (0, height - strip):
        region = image.crop((0, top, width, top + strip))
        image.paste(_grained(region, scanning.grain, rng), (0, top))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=scanning.quality, dpi=(scanning.dpi, scanning.dpi))
    return buffer.getvalue()


def _page_pixels(dpi: int) -> tuple[int, int]:
    return round(PAGE_WIDTH * dpi / 72), round(PAGE_HEIGHT * dpi / 72)


@lru_cache(maxsize=64)
def _font(face: str, pixels: float) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONTS / face), pixels)


def _margin_items(page: ScanPage) -> list[tuple[str, str, float, float]]:
    """(alignment, text, x, baseline) of every margin item, in points from the top-left corner."""
    pitch = ROW_PITCH * page.size
    x = {"left": page.indent, "centre": PAGE_WIDTH / 2, "right": PAGE_WIDTH - page.indent}
    items = []
    first_header = page.edge_distance + 0.75 * page.size
    for index, row in enumerate(page.header):
        items += [(align, text, x[align], first_header + index * pitch) for align, text in row]
    last_footer = PAGE_HEIGHT - page.edge_distance
    for index, row in enumerate(page.footer):
        baseline = last_footer - (len(page.footer) - 1 - index) * pitch
        items += [(align, text, x[align], baseline) for align, text in row]
    return items


def _margin_strip(page: ScanPage, top: int, height: int) -> Image.Image:
    """The page's ink between rows `top` and `top + height`: its margin text and a few specks of dust,
    turned about the page's centre by the page's skew (as the whole sheet turns) and blurred.

    Only the band that holds ink is turned and blurred, with room for the skew to move it: the rest of
    the strip is white either way.
    """
    scanning = page.scanning
    width, page_height = _page_pixels(scanning.dpi)
    strip = Image.new("L", (width, height), 255)
    _draw_margin_text(strip, page, top)
    ink = ImageChops.invert(strip).getbbox()
    if ink is None:
        return strip
    room = (
        math.ceil(width / 2 * math.tan(math.radians(abs(scanning.skew)))) + 4 * math.ceil(scanning.blur) + 2
    )
    band = (0, max(0, ink[1] - room), width, min(height, ink[3] + room))
    turned = strip.crop(band).rotate(
        scanning.skew,
        Image.Resampling.BILINEAR,
        center=(width / 2, page_height / 2 - top - band[1]),
        fillcolor=255,
    )
    strip.paste(turned.filter(ImageFilter.GaussianBlur(scanning.blur)), band[:2])
    return strip


def _draw_margin_text(strip: Image.Image, page: ScanPage, top: int) -> None:
    scanning = page.scanning
    scale = scanning.dpi / 72
    draw = ImageDraw.Draw(strip)
    font = _font(page.face, page.size * scale)
    anchors = {"left": "ls", "centre": "ms", "right": "rs"}
    for align, text, x, baseline in _margin_items(page):
        if top <= baseline * scale < top + strip.height:
            position = (x * scale, baseline * scale - top)
            draw.text(position, text, fill=scanning.ink, font=font, anchor=anchors[align])
    rng = random.Random(scanning.seed + top)
    for _ in range(rng.randint(0, 5)):
        x, y = rng.uniform(0, strip.width), rng.uniform(0, strip.height)
        radius = rng.uniform(0.5, 2) * scale / 3
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=rng.randint(60, 160))


def _grained(region: Image.Image, grain: float, rng: random.Random) -> Image.Image:
    """The scanner's noise on a margin strip: a window of a fixed noise field, at this page's strength."""
    field = _grain_field(region.width, region.height)
    top, left = rng.randrange(field.shape[0] - region.height), rng.randrange(field.shape[1] - region.width)
    window = field[top : top + region.height, left : left + region.width]
    noisy = np.asarray(region, dtype=np.float32) + grain * window
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


@lru_cache(maxsize=8)
def _grain_field(width: int, height: int) -> np.ndarray:
    return np.random.default_rng([width, height]).standard_normal((height + 97, width + 97), dtype=np.float32)


@lru_cache(maxsize=16)
def _body_ink(dpi: int, kind: str, skew: float) -> Image.Image:
    """The body text of a page (white for a blank sheet): a few images per resolution, one per skew."""
    width, height = _page_pixels(dpi)
    if kind == "blank":
        return Image.new("L", (width, height), 255)
    face, variant_skew = min(BODY_VARIANTS, key=lambda variant: abs(variant[1] - skew))
    return _body_variant(dpi, face, variant_skew)


@lru_cache(maxsize=16)
def _body_variant(dpi: int, face: str, skew: float) -> Image.Image:
    width, height = _page_pixels(dpi)
    scale = dpi / 72
    ink = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(ink)
    font = _font(face, BODY_SIZE * scale)
    lines = _paragraphs(font, (PAGE_WIDTH - 144) * scale, seed=BODY_VARIANTS.index((face, skew)))
    pitch = BODY_SIZE * 1.45 * scale
    y = (BODY_TOP + BODY_SIZE) * scale
    for line in lines:
        if y > height - BODY_BOTTOM * scale:
            break
        draw.text((72 * scale, y), line, fill=55, font=font, anchor="ls")
        y += pitch
    return _turned_and_blurred(ink, skew, 0.8 * dpi / 200)


def _paragraphs(font: ImageFont.FreeTypeFont, width: float, seed: int) -> list[str]:
    """Body lines wrapped to `width` pixels, in paragraphs of 3 to 8 lines ending in a shorter line, with
    a blank line between them."""
    rng = random.Random(seed)
    lines, line = [], ""
    for word in " ".join(body_lines(60, seed=seed)).split():
        if font.getlength(f"{line} {word}") <= width:
            line = f"{line} {word}".strip()
        else:
            lines.append(line)
            line = word
    paragraphs = []
    while lines:
        size = rng.randint(3, 8)
        paragraph, lines = lines[:size], lines[size:]
        last = paragraph[-1].split()
        paragraphs += [*paragraph[:-1], " ".join(last[: rng.randint(2, max(2, len(last) - 2))]), ""]
    return paragraphs


def _whole_page_ink(page: ScanPage) -> Image.Image:
    """A table of contents or notice of appeal: heading and lines drawn for this page alone."""
    dpi = page.scanning.dpi
    width, height = _page_pixels(dpi)
    scale = dpi / 72
    ink = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(ink)
    bold, regular = _font("VeraBd.ttf", HEADING_SIZE * scale), _font(page.face, 11 * scale)
    draw.text((72 * scale, (BODY_TOP + HEADING_SIZE) * scale), page.heading, fill=30, font=bold, anchor="ls")
    left, right = 72 * scale, width - 72 * scale
    for index, line in enumerate(page.lines):
        y = (BODY_TOP + 2.5 * HEADING_SIZE + 11 + index * 11 * 1.6) * scale
        title, _, number = line.partition("\t")
        draw.text((left, y), title, fill=45, font=regular, anchor="ls")
        if number:
            draw.text((right, y), number, fill=45, font=regular, anchor="rs")
            start, end = left + regular.getlength(title + " "), right - regular.getlength(number + " ")
            dots = "." * max(3, int((end - start) / regular.getlength(".")))
            draw.text((end, y), dots, fill=45, font=regular, anchor="rs")
    return _turned_and_blurred(ink, page.scanning.skew, page.scanning.blur)


def _turned_and_blurred(ink: Image.Image, skew: float, blur: float) -> Image.Image:
    turned = ink.rotate(skew, Image.Resampling.BILINEAR, fillcolor=255)
    return turned.filter(ImageFilter.GaussianBlur(blur))


@lru_cache(maxsize=12)
def _paper(dpi: int, index: int) -> Image.Image:
    """Paper at its level, unevenly lit (a smooth random field) and mottled (noise made at half the
    resolution, so that enlarging it blurs it)."""
    width, height = _page_pixels(dpi)
    level, unevenness = PAPERS[index]
    rng = np.random.default_rng([dpi, index])
    field = rng.normal(level, unevenness, size=(5, 4)).clip(0, 255).astype(np.uint8)
    light = Image.fromarray(field).resize((width, height), Image.Resampling.BICUBIC)
    mottle = rng.normal(128, 1.5, size=(height // 2, width // 2)).clip(0, 255).astype(np.uint8)
    mottled = Image.fromarray(mottle).resize((width, height), Image.Resampling.BILINEAR)
    return ImageChops.add(light, mottled, 1.0, -128)


def tuning_set(folder: Path, seed: int = 1, count: int = 150) -> list[Path]:
    """Three PDFs and their truth in `folder`: `count` random pages of `seed` at mixed resolutions, a
    table of contents page (French) and a notice of appeal's first page; truth.json lists every page."""
    folder.mkdir(parents=True, exist_ok=True)
    documents = {
        f"random-{count}-seed{seed}.pdf": random_pages(seed, count),
        "table-of-contents.pdf": [table_of_contents_page(seed, "fr", 250)],
        "notice-of-appeal.pdf": [notice_of_appeal_page(seed, "en", 200)],
    }
    paths = [scanned_document(folder / name, pages) for name, pages in documents.items()]
    (folder / "truth.json").write_text(
        json.dumps({name: truth(pages) for name, pages in documents.items()}, ensure_ascii=False, indent=1)
    )
    return paths
