"""Realistic sample PDFs made with reportlab, for the demo data, the tests and the benchmarks.

Everything here is deterministic: the randomness is seeded and reportlab runs in "invariant" mode (fixed
dates and document id), so the same call gives the same bytes. Every builder takes `path: Path | None`:
given a path it writes the file there and returns the path, otherwise it returns the PDF as bytes.

Page layout (US Letter, 612 x 792 pt), chosen to fit the screening checks described in
`design/PDF-SCREENING.md`, which read the top and bottom 8 % of each page as header and footer strips:

- the header is drawn in the top 5 % of the page, the footer (page numbers) in the bottom 5 %;
- the heading (bold) and the body text stay between 1 inch from the bottom and 1.25 inch from the top,
  so they never reach the header and footer strips;
- a scanned page (`PageSpec.scanned`) is a greyscale 150-dpi JPEG covering the page and nothing else: its
  heading, body, header and footer are pixels, so a text extractor finds 0 characters on it.

Streams are written without ASCII85 (reportlab's default would add 25 % to every stream, which real PDFs
do not): `rl_config.useA85` is switched off while a file is being generated, so do not generate PDFs with
reportlab from several threads at once in the same process.
"""

import io
import itertools
import math
import random
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont
from reportlab import rl_config
from reportlab.lib.pagesizes import letter
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

PAGE_WIDTH, PAGE_HEIGHT = letter
MARGIN = 54.0
HEADER_BASELINE = PAGE_HEIGHT - 26  # 9-pt text, entirely inside the top 5 % (39.6 pt)
FOOTER_BASELINE = 18.0  # 9-pt text, entirely inside the bottom 5 %
HEADING_BASELINE = PAGE_HEIGHT - 90
BODY_BOTTOM = 72.0
BODY_FONT, BODY_SIZE, MAX_LEADING = "Times-Roman", 10, 14.0
HEADING_FONT, HEADING_SIZE = "Helvetica-Bold", 14
MARGIN_FONT, MARGIN_SIZE = "Helvetica", 9

SCAN_DPI = 150
SCAN_SIZE = (round(PAGE_WIDTH * SCAN_DPI / 72), round(PAGE_HEIGHT * SCAN_DPI / 72))  # 1275 x 1650
SCAN_QUALITY = 25  # with the base images below: 40-50 KB per page
SCAN_TEXT_LINES = 26

TOC_HEADING = "Table of contents / Table des matières"
TOC_LINES_PER_PAGE = 40

_WORDS = (
    "the of and to in that is was for on with as by at from this which be are has have not an or it "
    "claimant appellant minister board panel member hearing decision reasons evidence testimony credibility "
    "refugee protection persecution risk return country state police authorities agent harm fear "
    "immigration appeal division section tribunal counsel representative interpreter identity documents "
    "passport birth certificate affidavit declaration submissions exhibit report medical psychological "
    "letter support witness family spouse children mother father brother sister village city region "
    "government army militia party member political religious ethnic minority threat arrest detention "
    "released tortured beaten threatened fled travelled arrived Canada claim removal order sponsorship "
    "le la les de des du un une et en pour dans par sur au aux est sont été avoir être que qui ne pas "
    "demandeur appelant ministre commissaire audience décision motifs preuve témoignage crédibilité "
    "réfugié protection persécution risque renvoi pays État autorités agent crainte mesure "
    "Section d'appel de l'immigration tribunal conseil représentant interprète identité pièces "
    "passeport acte naissance affidavit déclaration observations pièce rapport médical psychologique "
    "lettre appui témoin famille époux enfants mère père frère soeur région gouvernement parti menace"
).split()

_DOCUMENT_TITLES = (
    "Basis of Claim Form and narrative",
    "Passport and identity documents",
    "Port of entry notes",
    "Immigration history and previous applications",
    "National Documentation Package extracts",
    "Response to Information Request",
    "Police report and translation",
    "Medical report",
    "Psychological assessment",
    "Hospital records",
    "Letters of support from family",
    "Letters of support from community",
    "Membership card of the political party",
    "Threat letters and translations",
    "Witness statement",
    "Affidavit of the claimant",
    "Affidavit of the spouse",
    "Birth certificates of the children",
    "Marriage certificate",
    "School records",
    "Employment records",
    "Bank statements",
    "Travel itinerary and tickets",
    "Photographs with descriptions",
    "Press articles",
    "Court records from the country of origin",
    "Country condition evidence",
    "Human rights organisation report",
    "Government human rights report",
    "Expert report on country conditions",
    "Translator's declarations",
    "Minister's notice of intervention",
    "Minister's documents",
    "Previous decision of the Board",
    "Judgment of the Federal Court",
    "Counsel's written submissions",
    "Jurisprudence relied upon",
    "Correspondence with the Board",
    "Pièces déposées en français",
    "List of exhibits",
)


@dataclass
class PageSpec:
    """One page: header and footer strips, an optional bold heading, body lines; or a scan of all that."""

    header: str = ""
    footer: str = ""
    lines: list[str] = field(default_factory=list)
    scanned: bool = False
    heading: str = ""


# --------------------------------------------------------------------------------------------- text


@lru_cache(maxsize=8)
def _line_pool(seed: int, size: int = 2048) -> tuple[str, ...]:
    """Body lines up to the body width (Times 10 pt), made of a hundred bilingual legal-sounding phrases
    drawn with a Zipf-like bias, so that a page of 45 lines compresses about as well as real prose
    (~1.5 KB with the page's own objects)."""
    rng = random.Random(seed)
    phrases = [" ".join(rng.choices(_WORDS, k=rng.randint(3, 7))) for _ in range(100)]
    cum_weights = list(itertools.accumulate(1 / rank for rank in range(2, len(phrases) + 2)))
    width_limit = PAGE_WIDTH - 2 * MARGIN - 6
    lines = []
    for _ in range(size):
        words: list[str] = []
        width = 0.0
        while True:
            phrase = _random_phrase(rng, phrases, cum_weights)
            phrase_width = stringWidth(phrase + " ", BODY_FONT, BODY_SIZE)
            if width + phrase_width > width_limit:
                break
            words.append(phrase)
            width += phrase_width
        lines.append(" ".join(words))
    return tuple(lines)


def _random_phrase(rng: random.Random, phrases: list[str], cum_weights: list[float]) -> str:
    roll = rng.random()
    if roll < 0.02:
        return str(rng.randint(1, 999))
    if roll < 0.03:
        return f"{rng.randint(1, 28)}/{rng.randint(1, 12):02d}/{rng.randint(1990, 2024)}"
    phrase = rng.choices(phrases, cum_weights=cum_weights)[0]
    return phrase + "." if roll > 0.9 else phrase


def body_lines(count: int, seed: int = 0) -> list[str]:
    """`count` lines of filler body text (deterministic for a given seed)."""
    return random.Random(seed).choices(_line_pool(0), k=count)


def _toc_line(title: str, page: int) -> str:
    dots = "." * max(3, 80 - len(title) - len(str(page)))
    return f"{title} {dots} {page}"


def _roman(number: int) -> str:
    values = ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"))
    values += ((40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"))
    out = ""
    for value, letters in values:
        count, number = divmod(number, value)
        out += letters * count
    return out


# --------------------------------------------------------------------------------------------- scans


class _JpegReader(ImageReader):
    """Hands reportlab the JPEG bytes as they are (reportlab would otherwise decode every image to hash
    it, and re-encode images that are not files); the bytes themselves serve as the deduplication key."""

    def __init__(self, jpeg: bytes) -> None:
        super().__init__(io.BytesIO(jpeg))
        self._jpeg = jpeg
        self._dataA = None

    def getRGBData(self) -> bytes:  # noqa: N802 (reportlab's name)
        return self._jpeg

    def jpeg_fh(self) -> io.BytesIO:
        return io.BytesIO(self._jpeg)


class _ScanMaker:
    """Greyscale 150-dpi page scans. A few base images are drawn once; each page is then a cheap
    variation of one of them (shifted by a few pixels, a noise band at a page-dependent height, a
    stamp), so every JPEG is distinct without drawing a page from scratch."""

    def __init__(self, seed: int, variants: int = 3) -> None:
        self._rng = random.Random(seed)
        self._font = ImageFont.load_default(size=19)
        self._heading_font = ImageFont.load_default(size=30)
        self._paper = self._make_paper()
        self._bases = [self._draw_text(self._paper, "", self._generic_lines()) for _ in range(variants)]
        self._band_mask = self._noise((SCAN_SIZE[0], 80)).point(lambda v: v // 10)

    def _noise(self, size: tuple[int, int]) -> Image.Image:
        """Uniform noise from the seeded generator (Pillow's effect_noise uses C's unseeded rand())."""
        return Image.frombytes("L", size, self._rng.randbytes(size[0] * size[1]))

    def _make_paper(self) -> Image.Image:
        width, height = SCAN_SIZE
        texture = self._noise((width // 6, height // 6)).point(lambda v: 124 + v // 32)
        texture = texture.resize(SCAN_SIZE, Image.Resampling.BILINEAR)
        return ImageChops.add(Image.new("L", SCAN_SIZE, 240), texture, offset=-128)

    def _generic_lines(self) -> list[str]:
        pool = _line_pool(0)
        return [self._rng.choice(pool) if self._rng.random() > 0.08 else "" for _ in range(SCAN_TEXT_LINES)]

    def _draw_text(self, paper: Image.Image, heading: str, lines: Sequence[str]) -> Image.Image:
        text = Image.new("L", SCAN_SIZE, 255)
        draw = ImageDraw.Draw(text)
        y = _px(PAGE_HEIGHT - HEADING_BASELINE) - 26
        if heading:
            draw.text((_px(MARGIN), y), _ascii(heading), fill=40, font=self._heading_font)
            y += 52
        pitch = max(24, min(34, (_px(PAGE_HEIGHT - BODY_BOTTOM) - y) // max(1, len(lines))))
        for line in lines:
            draw.text((_px(MARGIN), y), _ascii(line), fill=100, font=self._font)
            y += pitch
        return ImageChops.darker(paper, text.filter(ImageFilter.GaussianBlur(1.3)))

    def _draw_margins(self, image: Image.Image, header: str, footer: str) -> None:
        draw = ImageDraw.Draw(image)
        if header:
            draw.text(
                (_px(MARGIN), _px(PAGE_HEIGHT - HEADER_BASELINE) - 16),
                _ascii(header),
                fill=70,
                font=self._font,
            )
        if footer:
            footer_top = _px(PAGE_HEIGHT - FOOTER_BASELINE) - 16
            draw.text((SCAN_SIZE[0] // 2, footer_top), _ascii(footer), fill=70, font=self._font, anchor="ma")

    def page(self, index: int, spec: PageSpec | None = None, stamp: str = "") -> bytes:
        """The JPEG of page `index` (0-based); `spec` draws that page's own heading, body and margins."""
        if spec is not None and (spec.heading or spec.lines):
            image = self._draw_text(self._paper, spec.heading, spec.lines[:45])
        else:
            image = self._bases[index % len(self._bases)]
        image = ImageChops.offset(image, index % 7 - 3, index // 7 % 5 - 2)
        band_top = 150 + (index * 97) % (SCAN_SIZE[1] - 300)
        image.paste(60, (0, band_top, SCAN_SIZE[0], band_top + 80), self._band_mask)
        if spec is not None:
            self._draw_margins(image, spec.header, spec.footer)
        if stamp:
            ImageDraw.Draw(image).text((SCAN_SIZE[0] - 330, 40), stamp, fill=110, font=self._font)
        return _jpeg(image)

    def shared(self) -> bytes:
        """One plain scan, the same bytes every time (reportlab stores it once however often it is drawn)."""
        return _jpeg(self._bases[0])


def _ascii(text: str) -> str:
    """Pillow's built-in font has no accented letters: drop the accents ("é" -> "e") in scanned pixels."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _px(points: float) -> int:
    return round(points * SCAN_DPI / 72)


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=SCAN_QUALITY, optimize=True, dpi=(SCAN_DPI, SCAN_DPI))
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------- drawing


@contextmanager
def _binary_streams() -> Iterator[None]:
    saved = rl_config.useA85
    rl_config.useA85 = 0
    try:
        yield
    finally:
        rl_config.useA85 = saved


def _render(draw_pages: Callable[[Canvas], None], path: Path | None, title: str | None) -> bytes | Path:
    """Run `draw_pages` on a fresh canvas (it calls showPage after each page) and save the result."""
    buffer = io.BytesIO()
    with _binary_streams():
        canvas = Canvas(
            buffer if path is None else str(path), pagesize=letter, invariant=1, pageCompression=1
        )
        canvas.setCreator("backoffice.devservices.sample_pdfs")
        canvas.setAuthor("Immigration and Refugee Board of Canada (sample)")
        if title:
            canvas.setTitle(title)
        draw_pages(canvas)
        canvas.save()
    return buffer.getvalue() if path is None else path


def _draw_margins(canvas: Canvas, header: str, footer: str) -> None:
    canvas.setFont(MARGIN_FONT, MARGIN_SIZE)
    if header:
        canvas.drawString(MARGIN, HEADER_BASELINE, header)
    if footer:
        canvas.drawCentredString(PAGE_WIDTH / 2, FOOTER_BASELINE, footer)


def _draw_text_page(canvas: Canvas, page: PageSpec) -> None:
    top = HEADING_BASELINE
    if page.heading:
        canvas.setFont(HEADING_FONT, HEADING_SIZE)
        canvas.drawString(MARGIN, top, page.heading)
        top -= 24
    if page.lines:
        leading = min(MAX_LEADING, (top - BODY_BOTTOM) / max(1, len(page.lines) - 1))
        text = canvas.beginText(MARGIN, top)
        text.setFont(BODY_FONT, BODY_SIZE, leading)
        text.textLines(page.lines, trim=0)
        canvas.drawText(text)
    _draw_margins(canvas, page.header, page.footer)


def _draw_scan(canvas: Canvas, jpeg: bytes) -> None:
    canvas.drawImage(_JpegReader(jpeg), 0, 0, PAGE_WIDTH, PAGE_HEIGHT)


def build_pdf(
    pages: Sequence[PageSpec],
    path: Path | None = None,
    title: str | None = None,
    *,
    distinct_scans: bool = True,
    seed: int = 0,
) -> bytes | Path:
    """A PDF with one page per `PageSpec`, `title` in its metadata. Scanned pages get distinct images
    (each with its own heading, body, header and footer in pixels; `seed` drives their noise) unless
    `distinct_scans=False`, in which case they all show one shared plain scan, stored once in the file."""
    if not pages:
        raise ValueError("a PDF needs at least one page")
    scans = _ScanMaker(seed) if any(page.scanned for page in pages) else None

    def draw(canvas: Canvas) -> None:
        for index, page in enumerate(pages):
            if page.scanned and scans is not None:
                _draw_scan(canvas, scans.page(index, page) if distinct_scans else scans.shared())
            else:
                _draw_text_page(canvas, page)
            canvas.showPage()

    return _render(draw, path, title)


# --------------------------------------------------------------------------------------------- documents


def numbered_document(
    page_count: int,
    footer: str | None = "Page {n} of {total}",
    heading: str | None = None,
    lines_per_page: int = 45,
    first_number: int = 1,
    *,
    header: str = "",
    path: Path | None = None,
    seed: int = 0,
) -> bytes | Path:
    """A text document whose footer is `footer` formatted with `n` (the printed number, from
    `first_number`) and `total` (the last printed number, `first_number + page_count - 1`); no footer if
    `footer` is None or empty. `heading` goes on page 1 only; `header` on every page."""
    total = first_number + page_count - 1
    pages = [
        PageSpec(
            header=header,
            footer=footer.format(n=first_number + index, total=total) if footer else "",
            heading=(heading or "") if index == 0 else "",
            lines=body_lines(lines_per_page, seed=seed * 1_000_003 + index),
        )
        for index in range(page_count)
    ]
    return build_pdf(pages, path, title=heading)


def _toc_pages(entries: Sequence[tuple[str, int]], per_page: int) -> list[list[str]]:
    lines = [_toc_line(title, page) for title, page in entries]
    return [lines[start : start + per_page] for start in range(0, max(1, len(lines)), per_page)]


def disclosure_bundle(
    documents: Sequence[tuple[str, int]],
    with_toc: bool = True,
    footer: str = "Page {n} of {total}",
    *,
    path: Path | None = None,
    seed: int = 0,
) -> bytes | Path:
    """A bundle of documents given as (title, page count), each starting with its title as heading and
    numbered from 1 with its own total (`footer` formatted with `n` and `total`).

    With `with_toc`, the bundle opens with a table of contents (heading `TOC_HEADING`, one line
    "Title ........ 12" per document, up to 40 per page) whose page references are positions in the
    bundle (the TOC pages included). The TOC pages are front matter: their footer is a lone lower-case
    roman numeral ("i", "ii"), not part of any document's numbering."""
    toc_count = math.ceil(len(documents) / TOC_LINES_PER_PAGE) if with_toc else 0
    entries, start = [], toc_count + 1
    for title, count in documents:
        entries.append((title, start))
        start += count
    pages: list[PageSpec] = []
    if with_toc:
        for number, lines in enumerate(_toc_pages(entries, TOC_LINES_PER_PAGE), start=1):
            pages.append(PageSpec(heading=TOC_HEADING, lines=lines, footer=_roman(number)))
    for doc_index, (title, count) in enumerate(documents):
        for index in range(count):
            pages.append(
                PageSpec(
                    heading=title if index == 0 else "",
                    footer=footer.format(n=index + 1, total=count) if footer else "",
                    lines=body_lines(45, seed=seed * 1_000_003 + doc_index * 1009 + index),
                )
            )
    return build_pdf(pages, path, title="Disclosure / Communication de la preuve")


_FORM_FIELDS = (
    "Family name / Nom de famille",
    "Given name(s) / Prénom(s)",
    "Date of birth / Date de naissance (YYYY-MM-DD)",
    "Country of citizenship / Pays de citoyenneté",
    "Unique client identifier (UCI) / Identificateur unique de client (IUC)",
    "IRB file number / Numéro de dossier de la CISR",
    "Address in Canada / Adresse au Canada",
    "Telephone / Téléphone",
    "Email / Courriel",
    "Language of proceedings / Langue des procédures",
    "Interpreter required / Interprète requis (language / langue)",
    "Counsel / Conseil",
)


def form_document(
    titles: Sequence[str], pages_per_title: int = 1, *, path: Path | None = None
) -> bytes | Path:
    """A form: `pages_per_title` pages per title, each with that title as heading, form-like lines
    and a lone page number ("1", "2", ...) in the footer, counted across the whole form."""
    pages = []
    for title in titles:
        for _ in range(pages_per_title):
            number = len(pages) + 1
            lines = [f"{label}: ______________________________" for label in _FORM_FIELDS]
            pages.append(PageSpec(heading=title, lines=lines, footer=str(number)))
    return build_pdf(pages, path, title=titles[0] if titles else None)


_APPEAL_TEXT = {
    "en": (
        "NOTICE OF APPEAL",
        "Page {n} of {total}",
        [
            "Immigration Appeal Division / Immigration and Refugee Board of Canada",
            "Appellant: Jane Doe        Respondent: The Minister of Citizenship and Immigration",
            "",
            "I appeal the decision made against me. The reasons for my appeal are the following:",
            "the decision is wrong in law and in fact, and there are humanitarian and compassionate",
            "considerations that warrant special relief in light of all the circumstances of the case.",
            "",
            "A copy of the decision being appealed is attached to this notice.",
            "I want the hearing to be held in English. I need an interpreter: no.",
        ],
    ),
    "fr": (
        "AVIS D'APPEL",
        "Page {n} de {total}",
        [
            "Section d'appel de l'immigration / Commission de l'immigration et du statut de réfugié",
            "Appelante : Jeanne Dupont        Intimé : Le ministre de la Citoyenneté et de l'Immigration",
            "",
            "J'interjette appel de la décision rendue contre moi. Les motifs de mon appel sont les suivants :",
            "la décision est erronée en droit et en fait, et des considérations d'ordre humanitaire",
            "justifient la prise de mesures spéciales compte tenu de toutes les circonstances de l'affaire.",
            "",
            "Une copie de la décision portée en appel est jointe au présent avis.",
            "Je veux que l'audience se déroule en français. J'ai besoin d'un interprète : non.",
        ],
    ),
}


def notice_of_appeal(language: Literal["en", "fr"] = "en", *, path: Path | None = None) -> bytes | Path:
    """A two-page notice of appeal: page 1 headed "NOTICE OF APPEAL" (en) or "AVIS D'APPEL" (fr)."""
    heading, footer, text = _APPEAL_TEXT[language]
    pages = [
        PageSpec(heading=heading, lines=text, footer=footer.format(n=1, total=2)),
        PageSpec(lines=body_lines(30, seed=7), footer=footer.format(n=2, total=2)),
    ]
    return build_pdf(pages, path, title=heading)


def document_mentioning(
    file_numbers: Sequence[str], ucis: Sequence[str], *, path: Path | None = None
) -> bytes | Path:
    """A document with one page per identifier, each mentioned in a sentence amid filler text: the file
    numbers first, then the UCIs (a single filler page if both lists are empty)."""
    mentions = [
        f"This matter concerns IRB file number {number}, as stated in the notice." for number in file_numbers
    ]
    mentions += [
        f"Unique client identifier (UCI) / IUC : {uci} — see the attached documents." for uci in ucis
    ]
    total = max(1, len(mentions))
    pages = []
    for index in range(total):
        lines = body_lines(30, seed=100 + index)
        if index < len(mentions):
            lines[12] = mentions[index]
        pages.append(PageSpec(lines=lines, footer=f"Page {index + 1} of {total}"))
    return build_pdf(pages, path, title="Correspondence")


# --------------------------------------------------------------------------------------------- benchmarks


def _bundle_layout(page_count: int, seed: int) -> list[tuple[str, int, int]]:
    """(title, first page, page count) of the documents after two TOC pages, about 40 of them."""
    rng = random.Random(seed)
    body = page_count - 2
    doc_count = max(1, min(len(_DOCUMENT_TITLES), body // 3))
    weights = [rng.uniform(0.2, 3.0) for _ in range(doc_count)]
    counts = [max(1, int(body * weight / sum(weights))) for weight in weights]
    counts[-1] += body - sum(counts)
    while counts[-1] < 1:  # rounding took too much from the last document
        donor = counts.index(max(counts))
        counts[donor] -= 1
        counts[-1] += 1
    layout, start = [], 3
    for title, count in zip(_DOCUMENT_TITLES, counts, strict=False):
        layout.append((title, start, count))
        start += count
    return layout


def bench_text_disclosure(path: Path, page_count: int = 1000, seed: int = 0) -> Path:
    """Like the design's samples A and C: a bundle of dense text pages (45 lines, about 1.5 KB of
    compressed content per page), footer "Page N of TOTAL" on every page counted across the bundle,
    and a table of contents on pages 1-2 listing about 40 documents with their first page."""
    if page_count < 3:
        raise ValueError("a bench disclosure has at least 3 pages")
    layout = _bundle_layout(page_count, seed)
    entries = [(title, start) for title, start, _ in layout]
    half = math.ceil(len(entries) / 2)
    toc = [entries[:half], entries[half:]]
    starts = {start: title for title, start, _ in layout}
    pool = _line_pool(seed)
    rng = random.Random(seed)

    def draw(canvas: Canvas) -> None:
        for number in range(1, page_count + 1):
            footer = f"Page {number} of {page_count}"
            if number <= 2:
                heading = TOC_HEADING if number == 1 else TOC_HEADING + " (continued / suite)"
                lines = [_toc_line(title, start) for title, start in toc[number - 1]]
                page = PageSpec(heading=heading, lines=lines, footer=footer)
            else:
                page = PageSpec(heading=starts.get(number, ""), lines=rng.choices(pool, k=45), footer=footer)
            _draw_text_page(canvas, page)
            canvas.showPage()

    _render(draw, path, "Disclosure / Communication de la preuve")
    return path


def bench_scanned_disclosure(path: Path, page_count: int = 1000, seed: int = 0) -> Path:
    """Like the design's sample B: every page a distinct greyscale 150-dpi JPEG scan (40-50 KB) covering
    the page, with a text footer "Page N of TOTAL" drawn over it (the only text on the page)."""
    if page_count < 1:
        raise ValueError("a PDF needs at least one page")
    scans = _ScanMaker(seed)

    def draw(canvas: Canvas) -> None:
        for index in range(page_count):
            _draw_scan(canvas, scans.page(index, stamp=f"CISR-IRB {index + 1:06d}"))
            _draw_margins(canvas, "", f"Page {index + 1} of {page_count}")
            canvas.showPage()

    _render(draw, path, "Disclosure (scanned) / Communication de la preuve (numérisée)")
    return path
