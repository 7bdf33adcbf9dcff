"""Broken and hostile PDFs, for the screening's tests and its false-alarm benchmark (see design/PDF-SCREENING.md).

One function per sample, `name(path) -> path`: it writes the file at `path` and returns it. Each takes
well under 5 s and little memory to write (the decompression bombs are assembled from one compressed
block repeated, never by compressing gigabytes). Clean bases come from `sample_pdfs`; the samples are
then made with pikepdf, or written by hand (`_write_raw_pdf`) when pikepdf would normalise away what
makes them hostile (escaped names, loops, bombs it would try to recompress) or be too slow (400,000
pages). `SAMPLES` lists them all by name.

Never open these files in the test process itself with pypdfium2 or pdfplumber: the bombs kill or
exhaust the process that parses them. Parse them in a sandboxed child, as production does.
"""

import io
import random
import struct
import wave
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pikepdf
from pikepdf import Array, Dictionary, Name, String

from backoffice.devservices import sample_pdfs

MIB = 1 << 20
GIB = 1 << 30
BOMB_INFLATED_SIZE = 4 * GIB + 256 * MIB  # past 4 GiB, and not a multiple of 2**32 (no 32-bit wrap to 0)
OWNER_PASSWORD = "owner-secret"  # noqa: S105 - a sample's password, known to the tests
USER_PASSWORD = "user-secret"  # noqa: S105 - a sample's password, known to the tests

_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
_MEDIA_BOX = b"/MediaBox [0 0 612 792]"


# --------------------------------------------------------------------------------------------- helpers


def _write_raw_pdf(path: Path, objects: Iterable[bytes], trailer: bytes = b"/Root 1 0 R") -> Path:
    """Write a PDF by hand: object n is the n-th body of `objects` (from 1), followed by a correct
    cross-reference table (every entry exactly 20 bytes) and trailer."""
    offsets: list[int] = []
    with path.open("wb") as out:
        position = out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        for number, body in enumerate(objects, start=1):
            offsets.append(position)
            position += out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
        out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1))
        out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
        out.write(
            b"trailer\n<< /Size %d %s >>\nstartxref\n%d\n%%%%EOF\n" % (len(offsets) + 1, trailer, position)
        )
    return path


def _stream(dictionary: bytes, data: bytes) -> bytes:
    return b"<< %s /Length %d >>\nstream\n%s\nendstream" % (dictionary, len(data), data)


def _hello_page_objects(first: int = 3) -> list[bytes]:
    """A page (object `first`), its content stream and its font, under the page tree at object 2."""
    content = b"BT /F1 12 Tf 72 720 Td (Hello from the Immigration and Refugee Board) Tj ET"
    page = b"<< /Type /Page /Parent 2 0 R %s /Contents %d 0 R /Resources << /Font << /F1 %d 0 R >> >> >>"
    return [page % (_MEDIA_BOX, first + 1, first + 2), _stream(b"", content), _FONT]


def _clean_pdf(page_count: int) -> bytes:
    data = sample_pdfs.numbered_document(page_count)
    assert isinstance(data, bytes)
    return data


def _base_pdf(page_count: int = 3) -> pikepdf.Pdf:
    return pikepdf.open(io.BytesIO(_clean_pdf(page_count)))


def _save(pdf: pikepdf.Pdf, path: Path, encryption: pikepdf.Encryption | None = None, **options: Any) -> Path:
    # qpdf cannot make a deterministic /ID for an encrypted file (the ID is an input of the key)
    pdf.save(path, deterministic_id=encryption is None, encryption=encryption, **options)
    return path


def _adler32_of_run(byte: int, length: int) -> int:
    """The Adler-32 of `length` copies of `byte`, in closed form (a_n = 1 + n*c, b_n = n + c*n(n+1)/2)."""
    a = (1 + length * byte) % 65521
    b = (length + byte * (length * (length + 1) // 2)) % 65521
    return (b << 16) | a


def _flate_bomb(size: int = BOMB_INFLATED_SIZE, byte: bytes = b" ") -> bytes:
    """Stream data for /Filter [/FlateDecode /FlateDecode] that inflates to `size` copies of `byte`.

    The inner zlib stream is one MiB of `byte` deflated once (independent, byte-aligned blocks ending in
    a full flush) and repeated size/MiB times, then a final empty block and the Adler-32 of the whole; it
    is highly repetitive, so deflating it again (the outer layer) shrinks it ~440 times more (4.4 MB to
    10 KB for 4.25 GiB)."""
    if size % MIB:
        raise ValueError("the bomb's size must be a whole number of MiB")
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(byte * MIB) + compressor.flush(zlib.Z_FULL_FLUSH)
    checksum = struct.pack(">I", _adler32_of_run(byte[0], size))
    inner = b"\x78\xda" + block * (size // MIB) + b"\x03\x00" + checksum
    return zlib.compress(inner, 9)


def _bomb_stream(dictionary: bytes = b"") -> bytes:
    return _stream(dictionary + b" /Filter [/FlateDecode /FlateDecode]", _flate_bomb())


# --------------------------------------------------------------------------------------------- broken


def truncated(path: Path) -> Path:
    """A valid 20-page PDF cut in half: no cross-reference table, trailer or %%EOF (the last KB gone)."""
    data = _clean_pdf(20)
    path.write_bytes(data[: len(data) // 2])
    return path


def junk_before_header(path: Path) -> Path:
    """600 junk bytes, then a valid PDF (all three libraries accept it; the upload check must not)."""
    junk = random.Random(600).randbytes(600).replace(b"%", b"#")
    path.write_bytes(junk + _clean_pdf(2))
    return path


def header_then_garbage(path: Path) -> Path:
    """`%PDF-1.7` then 64 KB of random bytes, ending in %%EOF so only a parser can tell."""
    path.write_bytes(b"%PDF-1.7\n" + random.Random(17).randbytes(64 * 1024) + b"\n%%EOF\n")
    return path


def wav() -> bytes:
    """A small RIFF/WAVE file: a quarter second of 8 kHz silence."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(8000)
        sound.writeframes(b"\x00\x00" * 2000)
    return buffer.getvalue()


def wav_renamed(path: Path) -> Path:
    """A WAVE file, whatever the name says."""
    path.write_bytes(wav())
    return path


def empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path


# --------------------------------------------------------------------------------------------- encrypted


def user_password(path: Path) -> Path:
    """AES-256 (R6) with a user password: cannot be opened without `USER_PASSWORD`."""
    encryption = pikepdf.Encryption(user=USER_PASSWORD, owner=OWNER_PASSWORD, aes=True, R=6)
    return _save(_base_pdf(), path, encryption=encryption)


def user_password_rc4(path: Path) -> Path:
    """The same with 128-bit RC4 (R4), as older software writes it."""
    encryption = pikepdf.Encryption(user=USER_PASSWORD, owner=OWNER_PASSWORD, aes=False, R=4, metadata=False)
    return _save(_base_pdf(), path, encryption=encryption)


def owner_password_only(path: Path) -> Path:
    """AES-256 with an owner password and an empty user password, printing not allowed: opens without
    a password, but is encrypted."""
    allow = pikepdf.Permissions(print_lowres=False, print_highres=False)
    encryption = pikepdf.Encryption(user="", owner=OWNER_PASSWORD, aes=True, R=6, allow=allow)
    return _save(_base_pdf(), path, encryption=encryption)


# --------------------------------------------------------------------------------------------- active content


def _javascript_action(pdf: pikepdf.Pdf) -> pikepdf.Object:
    action = Dictionary(Type=Name.Action, S=Name.JavaScript, JS=String("app.alert(1)"))
    return pdf.make_indirect(action)


def javascript_open_action(path: Path) -> Path:
    """/OpenAction << /S /JavaScript /JS (app.alert(1)) >>."""
    pdf = _base_pdf()
    pdf.Root.OpenAction = _javascript_action(pdf)
    return _save(pdf, path)


def javascript_name_tree(path: Path) -> Path:
    """Document-level JavaScript in /Names /JavaScript; saved with object streams, so the dictionaries
    are inside compressed object streams (a byte search of the file finds nothing)."""
    pdf = _base_pdf()
    pdf.Root.Names = Dictionary(JavaScript=Dictionary(Names=Array([String("init"), _javascript_action(pdf)])))
    return _save(pdf, path, object_stream_mode=pikepdf.ObjectStreamMode.generate)


def javascript_escaped_name(path: Path) -> Path:
    """A JavaScript open action whose names are written with #-escapes, `/S /J#61vaScript /J#53 (...)`:
    the same names as /JavaScript and /JS to any PDF parser, invisible to a search of the raw bytes."""
    catalog = b"<< /Type /Catalog /Pages 2 0 R /OpenAction 6 0 R >>"
    pages = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
    action = b"<< /Type /Action /S /J#61vaScript /J#53 (app.alert\\(1\\)) >>"
    return _write_raw_pdf(path, [catalog, pages, *_hello_page_objects(), action])


def launch_action(path: Path) -> Path:
    """/OpenAction << /S /Launch /F (calc.exe) >>."""
    pdf = _base_pdf()
    action = Dictionary(Type=Name.Action, S=Name.Launch, F=String("calc.exe"), NewWindow=True)
    pdf.Root.OpenAction = pdf.make_indirect(action)
    return _save(pdf, path)


def embedded_file(path: Path) -> Path:
    """An embedded "invoice.exe" (a stub with an MZ header, not a real program) in /Names /EmbeddedFiles."""
    pdf = _base_pdf()
    stub = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"This program cannot be run." * 20
    pdf.attachments["invoice.exe"] = pikepdf.AttachedFileSpec(
        pdf, stub, filename="invoice.exe", mime_type="application/x-msdownload", description="Invoice"
    )
    return _save(pdf, path)


_XDP = b"""<?xml version="1.0" encoding="UTF-8"?>
<xdp:xdp xmlns:xdp="http://ns.adobe.com/xdp/">
  <template xmlns="http://www.xfa.org/schema/xfa-template/3.3/">
    <subform name="form1"><field name="name"><ui><textEdit/></ui></field></subform>
  </template>
</xdp:xdp>
"""


def xfa_form(path: Path) -> Path:
    """An AcroForm carrying an XFA form (/XFA stream)."""
    pdf = _base_pdf()
    pdf.Root.AcroForm = Dictionary(Fields=Array(), XFA=pikepdf.Stream(pdf, _XDP))
    pdf.Root.NeedsRendering = False
    return _save(pdf, path)


def _add_annotation(pdf: pikepdf.Pdf, annotation: Dictionary) -> None:
    page = pdf.pages[0]
    annotation.Type = Name.Annot
    annotation.Rect = Array([72, 500, 300, 650])
    annotation.P = page.obj
    page.Annots = Array([pdf.make_indirect(annotation)])


def rich_media(path: Path) -> Path:
    """An annotation /Subtype /RichMedia (Flash-era embedded media) on page 1."""
    pdf = _base_pdf()
    content = Dictionary(Assets=Dictionary(Names=Array()), Configurations=Array())
    _add_annotation(pdf, Dictionary(Subtype=Name.RichMedia, RichMediaContent=content))
    return _save(pdf, path)


def link_annotation(path: Path) -> Path:
    """An ordinary web link (/Link with a /URI action) on page 1: to be noted, not refused."""
    pdf = _base_pdf()
    action = Dictionary(S=Name.URI, URI=String("https://irb.gc.ca/en/Pages/index.aspx"))
    _add_annotation(pdf, Dictionary(Subtype=Name.Link, Border=Array([0, 0, 0]), A=action))
    return _save(pdf, path)


# --------------------------------------------------------------------------------------------- resource abuse


def bomb_in_page_content(path: Path) -> Path:
    """Page 1's content stream: spaces deflated twice, 10 KB on disk, `BOMB_INFLATED_SIZE` inflated."""
    catalog = b"<< /Type /Catalog /Pages 2 0 R >>"
    pages = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
    page = b"<< /Type /Page /Parent 2 0 R %s /Contents 4 0 R /Resources << >> >>" % _MEDIA_BOX
    return _write_raw_pdf(path, [catalog, pages, page, _bomb_stream()])


def bomb_in_metadata(path: Path) -> Path:
    """The same bomb as the catalog's XMP /Metadata stream (PDFium reads it while opening the file)."""
    catalog = b"<< /Type /Catalog /Pages 2 0 R /Metadata 6 0 R >>"
    pages = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
    metadata = _bomb_stream(b"/Type /Metadata /Subtype /XML")
    return _write_raw_pdf(path, [catalog, pages, *_hello_page_objects(), metadata])


def looping_page_tree(path: Path) -> Path:
    """The root /Pages node lists itself among its /Kids (after one real page)."""
    catalog = b"<< /Type /Catalog /Pages 2 0 R >>"
    pages = b"<< /Type /Pages /Kids [3 0 R 2 0 R] /Count 2 >>"
    return _write_raw_pdf(path, [catalog, pages, *_hello_page_objects()])


def huge_claimed_page_count(path: Path) -> Path:
    """/Count 2000000000 on the root /Pages node, which has one real page."""
    catalog = b"<< /Type /Catalog /Pages 2 0 R >>"
    pages = b"<< /Type /Pages /Kids [3 0 R] /Count 2000000000 >>"
    return _write_raw_pdf(path, [catalog, pages, *_hello_page_objects()])


def many_empty_pages(path: Path, count: int = 400_000) -> Path:
    """`count` real, empty pages under one /Pages node (about 43 MB for 400,000), written by hand."""
    kids = b" ".join(b"%d 0 R" % number for number in range(3, count + 3))
    catalog = b"<< /Type /Catalog /Pages 2 0 R >>"
    pages = b"<< /Type /Pages /Count %d /Resources << >> /Kids [%s] >>" % (count, kids)
    page = b"<< /Type /Page /Parent 2 0 R " + _MEDIA_BOX + b" >>"
    return _write_raw_pdf(path, [catalog, pages, *([page] * count)])


SAMPLES: dict[str, Callable[[Path], Path]] = {
    function.__name__: function
    for function in (
        truncated,
        junk_before_header,
        header_then_garbage,
        wav_renamed,
        empty,
        user_password,
        user_password_rc4,
        owner_password_only,
        javascript_open_action,
        javascript_name_tree,
        javascript_escaped_name,
        launch_action,
        embedded_file,
        xfa_form,
        rich_media,
        link_annotation,
        bomb_in_page_content,
        bomb_in_metadata,
        looping_page_tree,
        huge_claimed_page_count,
        many_empty_pages,
    )
}
