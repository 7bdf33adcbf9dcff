"""Damaged but openable PDFs, shaped like those counsel send: the false-alarm corpus of the screening.

Readers (Acrobat, PDFium, pdf.js) open files that printer drivers, scanners and old tools damage in small
ways: a banner before `%PDF-`, a missing or early `%%EOF`, cross-reference tables that are shifted, broken
or gone, a trailer without /Root, one corrupt page stream. Screening must not call such files damaged.

Each sample starts from a clean base of a different producer's shape (reportlab; pikepdf with a classic
table, with object and cross-reference streams, linearized; with an incremental update appended; text,
images, form fields, several pages) and gets one kind of damage by editing bytes. Everything is seeded, so
the same call gives the same bytes. `corpus()` keeps only the samples that PDFium opens with the page count
a reader should see and renders and extracts every page of without error (`pdfium_reads_fully`): a file
PDFium cannot open is not "openable", and its count is printed.

The samples are damaged, not hostile: opening them in the calling process is safe.
"""

import io
import random
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import pikepdf
import pypdfium2 as pdfium
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen.canvas import Canvas

from backoffice.devservices import sample_pdfs

STARTXREF = re.compile(rb"startxref\s+(\d+)")
OBJECT_HEADER = rb"(?<![0-9])%d 0 obj"
BANNERS = (
    b'%!PS-Adobe-3.0\n%%Creator: HP LaserJet PCL 6 driver\n@PJL JOB NAME="scan0042"\n',
    b"GPL Ghostscript 9.56.1 (2022-04-04)\nCopyright (C) 2022 Artifex Software, Inc.  All rights reserved.\n",
    b"\x1b%-12345X@PJL ENTER LANGUAGE=PDF\r\n@PJL SET RESOLUTION=600\r\n",
    b'Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="disclosure.pdf"\r\n\r\n',
)


@dataclass(frozen=True)
class Sample:
    name: str
    category: str
    page_count: int  # what a reader shows
    data: bytes


@dataclass(frozen=True)
class Base:
    """A clean file before damage; `xref_stream` says whether its cross-reference is a stream."""

    name: str
    page_count: int
    data: bytes
    xref_stream: bool


# --------------------------------------------------------------------------------------------- clean bases


def _rewrite(data: bytes, **options) -> bytes:
    """The same document as pikepdf (qpdf) writes it."""
    output = io.BytesIO()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        pdf.save(output, deterministic_id=True, **options)
    return output.getvalue()


def _with_object_streams(data: bytes, **options) -> bytes:
    return _rewrite(data, object_stream_mode=pikepdf.ObjectStreamMode.generate, **options)


def _scanned_pages(count: int) -> bytes:
    pages = [
        sample_pdfs.PageSpec(
            footer=f"Page {n} of {count}", lines=sample_pdfs.body_lines(20, seed=n), scanned=True
        )
        for n in range(1, count + 1)
    ]
    return sample_pdfs.build_pdf(pages, seed=5)


def _form_with_fields() -> bytes:
    """A one-page form with fillable text fields and a check box (an /AcroForm, no scripts)."""
    output = io.BytesIO()
    canvas = Canvas(output, pagesize=letter, invariant=1)
    canvas.setFont("Helvetica-Bold", 14)
    canvas.drawString(72, 720, "Request to change the location of a proceeding")
    canvas.setFont("Helvetica", 10)
    for row, label in enumerate(("Family name", "Given names", "IRB file number", "Telephone")):
        canvas.drawString(72, 660 - 40 * row, label)
        canvas.acroForm.textfield(name=f"field{row}", x=200, y=650 - 40 * row, width=300, height=20)
    canvas.acroForm.checkbox(name="interpreter", x=200, y=480, size=14)
    canvas.drawString(72, 484, "Interpreter required")
    canvas.drawCentredString(306, 30, "1")
    canvas.save()
    return output.getvalue()


def _incremental_update(data: bytes) -> bytes:
    """`data` (with a classic table) plus an update appended as an editor saves it: new document
    information and page 1 stamped "Received" by a second content stream, with a table pointing back."""
    previous = _last_startxref(data)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        size = int(pdf.trailer.Size)
        root = pdf.trailer.Root.objgen[0]
        page = pdf.pages[0].obj
        number = page.objgen[0]
        font = str(next(iter(page.Resources.Font.keys()))).encode()
        page.Contents = pikepdf.Array([page.Contents, pikepdf.Name.Stamp])  # the new stream's place
        page_body = page.unparse(resolved=True).replace(b"/Stamp", b"%d 0 R" % size)
    stamp = b"BT %s 9 Tf 430 760 Td (Received / Recu 2024-03-18) Tj ET" % font
    bodies = {
        size: b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stamp), stamp),
        size + 1: b"<< /Producer (Acrobat Pro 24.1) /ModDate (D:20240318101500-04'00') >>",
        number: page_body,
    }
    update, offsets = bytearray(b"\n"), {}
    for object_number, body in sorted(bodies.items()):
        offsets[object_number] = len(data) + len(update)
        update += b"%d 0 obj\n%s\nendobj\n" % (object_number, body)
    table_offset = len(data) + len(update)
    update += b"xref\n0 1\n0000000000 65535 f \n"
    for object_number, offset in sorted(offsets.items()):
        update += b"%d 1\n%010d 00000 n \n" % (object_number, offset)
    update += b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R /Prev %d >>\n" % (
        size + 2,
        root,
        size + 1,
        previous,
    )
    update += b"startxref\n%d\n%%%%EOF\n" % table_offset
    return data + bytes(update)


@lru_cache(maxsize=1)
def bases() -> tuple[Base, ...]:
    text = sample_pdfs.numbered_document(3, seed=11)
    bundle = sample_pdfs.disclosure_bundle(
        [("Passport and identity documents", 4), ("Police report", 5)], seed=3
    )
    scans = _scanned_pages(2)
    fields = _form_with_fields()
    many = sample_pdfs.numbered_document(12, footer="- {n} -", header="VB5-01234", seed=12)
    form_like = sample_pdfs.form_document(["Basis of Claim Form", "Schedule A"], pages_per_title=2)
    return (
        Base("reportlab_text", 3, text, False),
        Base("reportlab_bundle", 10, bundle, False),
        Base("reportlab_scans", 2, scans, False),
        Base("reportlab_form_fields", 1, fields, False),
        Base("qpdf_table_12_pages", 12, _rewrite(many), False),
        Base("qpdf_linearized", 12, _rewrite(many, linearize=True), False),
        Base("incremental_update", 4, _incremental_update(form_like), False),
        Base("qpdf_xref_stream_text", 3, _with_object_streams(text), True),
        Base("qpdf_xref_stream_bundle", 10, _with_object_streams(bundle), True),
        Base("qpdf_xref_stream_scans", 2, _with_object_streams(scans), True),
        Base("qpdf_xref_stream_form_fields", 1, _with_object_streams(fields), True),
        Base("qpdf_xref_stream_linearized", 12, _with_object_streams(many, linearize=True), True),
        Base("qpdf_xref_stream_form", 4, _with_object_streams(form_like), True),
    )


# --------------------------------------------------------------------------------------------- byte helpers


def _last_startxref(data: bytes) -> int:
    return int(list(STARTXREF.finditer(data))[-1].group(1))


def _last_startxref_match(data: bytes) -> re.Match:
    return list(STARTXREF.finditer(data))[-1]


def _table_span(data: bytes) -> tuple[int, int]:
    """Where the last cross-reference table starts (`xref`) and ends (`trailer`)."""
    start = _last_startxref(data)
    return start, data.index(b"trailer", start)


def _object_span(data: bytes, number: int) -> tuple[int, int]:
    """Start and end (after `endobj`) of the last definition of object `number`."""
    start = list(re.finditer(OBJECT_HEADER % number, data))[-1].start()
    return start, data.index(b"endobj", start) + len(b"endobj")


def _stream_data_span(data: bytes, number: int) -> tuple[int, int]:
    start, end = _object_span(data, number)
    data_start = re.compile(rb"stream\r?\n").search(data, start).end()
    return data_start, data.rindex(b"endstream", start, end)


def _xref_stream_number(data: bytes) -> int:
    return int(re.match(rb"(\d+) 0 obj", data[_last_startxref(data) :]).group(1))


def _replace_startxref(data: bytes, value: bytes) -> bytes:
    match = _last_startxref_match(data)
    return data[: match.start(1)] + value + data[match.end(1) :]


def _rng(category: str, base: Base) -> random.Random:
    return random.Random(zlib.crc32(f"{category}/{base.name}".encode()))


# --------------------------------------------------------------------------------------------- damage


def banner_before_header(data: bytes, rng: random.Random) -> bytes:
    """100-1,000 bytes of a printer driver's or Ghostscript's text before `%PDF-`."""
    length = rng.randint(100, 1000)
    filler = b"%% spooled page data\n" * (length // 21 + 1)
    return (rng.choice(BANNERS) + filler)[:length] + data


def eof_missing(data: bytes, rng: random.Random) -> bytes:
    """The last `%%EOF` left out, the file ending after the startxref number (or its line end)."""
    end = data.rindex(b"%%EOF")
    return data[:end] if rng.random() < 0.5 else data[:end].rstrip(b"\r\n")


def eof_then_padding(data: bytes, rng: random.Random) -> bytes:
    """2-64 KB after `%%EOF`: NULs (a fixed-size block from a mail gateway), spaces, or a second banner."""
    size = rng.randint(2 * 1024, 64 * 1024)
    kind = rng.randrange(3)
    if kind == 0:
        padding = b"\x00" * size
    elif kind == 1:
        padding = b" " * size
    else:
        padding = (b"\n" + rng.choice(BANNERS) * (size // 60 + 1))[:size]
    return data + padding


def whitespace_before_xref(data: bytes, rng: random.Random) -> bytes:
    """Spaces and line ends between where startxref points and the `xref` keyword."""
    start, _ = _table_span(data)
    whitespace = bytes(rng.choice(b" \r\n\t") for _ in range(rng.randint(1, 12)))
    return data[:start] + whitespace + data[start:]


def xref_offsets_shifted(data: bytes, rng: random.Random) -> bytes:
    """Object offsets off by a few bytes: either a comment grown after the header (every offset after it
    wrong by the same amount) or each entry of the table nudged by -3 to +3."""
    if rng.random() < 0.5:
        insert_at = data.index(b"\n") + 1
        extra = b"%" + b"x" * rng.randint(1, 6) + b"\n"
        return data[:insert_at] + extra + data[insert_at:]
    start, end = _table_span(data)

    def nudge(entry: re.Match) -> bytes:
        offset = max(0, int(entry.group(1)) + rng.choice((-3, -2, -1, 1, 2, 3)))
        return b"%010d" % offset + entry.group(2)

    table = re.sub(rb"(\d{10})( \d{5} n)", nudge, data[start:end])
    return data[:start] + table + data[end:]


def xref_missing(data: bytes, rng: random.Random) -> bytes:
    """The cross-reference section gone: a table removed, cut after its first lines or blanked with NULs;
    a cross-reference stream's data overwritten with garbage (its dictionary, the trailer, left)."""
    if not data.startswith(b"xref", _last_startxref(data)):
        start, end = _stream_data_span(data, _xref_stream_number(data))
        return data[:start] + rng.randbytes(end - start) + data[end:]
    start, end = _table_span(data)
    replacement = rng.choice([b"", data[start : start + 40] + b"\n", b"\x00" * (end - start)])
    return data[:start] + replacement + data[end:]


def xref_stream_without_own_entry(data: bytes, rng: random.Random) -> bytes:
    """The cross-reference stream does not list itself (its /Size stops before its own number), as some
    writers make it; rewritten without a predictor, the rest unchanged."""
    number = _xref_stream_number(data)
    start, end = _object_span(data, number)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        xref = pdf.get_object((number, 0))
        widths = [int(width) for width in xref.W]
        rows = xref.read_bytes()
        keys = {
            key: value for key, value in xref.items() if key not in ("/Length", "/Filter", "/DecodeParms")
        }
        keys["/Size"] = number
        dictionary = pikepdf.Dictionary(keys).unparse()
    row_size = sum(widths)
    packed = zlib.compress(rows[: number * row_size])
    header = dictionary[:-2] + b" /Filter /FlateDecode /Length %d >>" % len(packed)
    body = b"%d 0 obj\n%s\nstream\n%s\nendstream\nendobj" % (number, header, packed)
    rewritten = data[:start] + body + data[end:]
    return _replace_startxref(rewritten, b"%d" % start)


def trailer_damaged(data: bytes, rng: random.Random) -> bytes:
    """The last trailer damaged in a way PDFium gets past: when an earlier trailer (linearized or updated
    files) still names the catalog, /Root misspelt, the `trailer` keyword mangled or the dictionary left
    open; otherwise /Size left out or understated, or the /ID broken."""
    end = _last_startxref_match(data).start()
    trailer = data.rfind(b"trailer", 0, end)
    earlier_trailers = data.count(b"trailer") + data.count(b"/XRef") > 1
    if earlier_trailers and trailer >= 0:
        damage = rng.choice([_misspell_root, _mangle_trailer_keyword, _leave_trailer_open])
    elif earlier_trailers:
        damage = _leave_trailer_open
    else:
        damage = rng.choice([_drop_size, _understate_size, _break_id])
    return damage(data, trailer if damage is _mangle_trailer_keyword else end)


def _misspell_root(data: bytes, end: int) -> bytes:
    root = data.rindex(b"/Root", 0, end)
    return data[:root] + b"/Xoot" + data[root + 5 :]


def _mangle_trailer_keyword(data: bytes, trailer: int) -> bytes:
    return data[:trailer] + b"trai1er" + data[trailer + 7 :]


def _leave_trailer_open(data: bytes, end: int) -> bytes:
    closing = data.rindex(b">>", 0, end)
    return data[:closing] + b"  " + data[closing + 2 :]


def _drop_size(data: bytes, end: int) -> bytes:
    return _replace_size(data, end, b"")


def _understate_size(data: bytes, end: int) -> bytes:
    return _replace_size(data, end, b"/Size 1")


def _replace_size(data: bytes, end: int, size: bytes) -> bytes:
    """The last /Size entry before `end` replaced by `size`, padded with spaces so no offset moves."""
    match = list(re.finditer(rb"/Size \d+", data[:end]))[-1]
    return data[: match.start()] + size.ljust(match.end() - match.start()) + data[match.end() :]


def _break_id(data: bytes, end: int) -> bytes:
    identifier = data.rindex(b"/ID", 0, end) + 3
    return data[:identifier] + b" [<zz" + data[identifier + 5 :]


def corrupt_page_stream(data: bytes, rng: random.Random) -> bytes:
    """Bytes in the middle of one page's compressed content stream overwritten (a bad sector, a bad copy)."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        index = rng.randrange(len(pdf.pages))
        contents = pdf.pages[index].obj.Contents
        number = (contents[0] if isinstance(contents, pikepdf.Array) else contents).objgen[0]
    start, end = _stream_data_span(data, number)
    middle = start + (end - start) // 3
    garbage = bytes(rng.randrange(256) for _ in range(min(16, (end - start) // 3)))
    return data[:middle] + garbage + data[middle + len(garbage) :]


def startxref_wrong(data: bytes, rng: random.Random) -> bytes:
    """startxref pointing elsewhere: 0, into the middle of an object, past the end, or a few bytes off."""
    true_offset = _last_startxref(data)
    value = rng.choice([0, len(data) // 2, len(data) + 4096, true_offset + rng.randint(5, 40)])
    return _replace_startxref(data, b"%d" % value)


def xref_line_ends_cr(data: bytes, rng: random.Random) -> bytes:
    """The cross-reference table and trailer with CR-only line ends (old Mac tools); entries either keep
    20 bytes (" \\r") or lose their space (19 bytes)."""
    start = _last_startxref(data)
    end = data.index(b"startxref", start)
    section = data[start:end].replace(b"\r\n", b"\n")
    if rng.random() < 0.5:
        section = section.replace(b" \n", b" \r")
    else:
        section = section.replace(b" \n", b"\n")
    return data[:start] + section.replace(b"\n", b"\r") + data[end:]


Damage = Callable[[bytes, random.Random], bytes]
TABLES_ONLY, STREAMS_ONLY, ANY = "tables", "streams", "any"
CATEGORIES: dict[str, tuple[Damage, str]] = {
    "banner_before_header": (banner_before_header, ANY),
    "eof_missing": (eof_missing, ANY),
    "eof_then_padding": (eof_then_padding, ANY),
    "whitespace_before_xref": (whitespace_before_xref, TABLES_ONLY),
    "xref_offsets_shifted": (xref_offsets_shifted, TABLES_ONLY),
    "xref_missing_or_garbage": (xref_missing, ANY),
    "xref_stream_without_own_entry": (xref_stream_without_own_entry, STREAMS_ONLY),
    "trailer_damaged": (trailer_damaged, ANY),
    "corrupt_page_stream": (corrupt_page_stream, ANY),
    "startxref_wrong": (startxref_wrong, ANY),
    "xref_line_ends_cr": (xref_line_ends_cr, TABLES_ONLY),
}


def _applies(base: Base, scope: str) -> bool:
    return scope == ANY or (scope == STREAMS_ONLY) == base.xref_stream


def build_samples() -> list[Sample]:
    """Every sample, openable or not."""
    samples = []
    for category, (damage, scope) in CATEGORIES.items():
        for base in bases():
            if _applies(base, scope):
                data = damage(base.data, _rng(category, base))
                samples.append(Sample(f"{category}-{base.name}", category, base.page_count, data))
    return samples


# --------------------------------------------------------------------------------------------- the premise


def pdfium_reads_fully(data: bytes, page_count: int) -> str | None:
    """None when PDFium opens `data` with `page_count` pages and renders and extracts every page; else why not."""
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        return f"PDFium cannot open it: {error}"
    try:
        if len(document) != page_count:
            return f"PDFium sees {len(document)} pages, not {page_count}"
        for index in range(page_count):
            _render_and_extract(document, index)
    except pdfium.PdfiumError as error:
        return f"PDFium fails on a page: {error}"
    finally:
        document.close()
    return None


def _render_and_extract(document: pdfium.PdfDocument, index: int) -> None:
    page = document[index]
    try:
        page.render(scale=0.25).close()
        textpage = page.get_textpage()
        textpage.get_text_range()
        textpage.close()
    finally:
        page.close()


def corpus() -> list[Sample]:
    """The samples PDFium reads fully, with a line saying how many were dropped because it cannot."""
    kept, dropped = [], []
    for sample in build_samples():
        reason = pdfium_reads_fully(sample.data, sample.page_count)
        (kept if reason is None else dropped).append((sample, reason))
    print(
        f"  real-world corpus: {len(kept)} samples kept, {len(dropped)} dropped (PDFium does not read them fully)"
    )
    for sample, reason in dropped:
        print(f"    dropped {sample.name}: {reason}")
    return [sample for sample, _ in kept]
