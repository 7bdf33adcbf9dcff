"""Screening tolerates what PDF readers tolerate and still refuses what is dangerous (issue 18).

Each "now readable" sample is a kind of fault found in real-world PDFs that PDFium and pdf.js open; the test
first proves PDFium really opens it with all its pages, then that screening calls it readable. Each danger is
hidden in a damaged file, and must still be caught. Samples are made here, from a clean reportlab document,
by byte edits or written by hand.
"""

import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pikepdf
import pypdfium2 as pdfium
import pytest

from backoffice.devservices import hostile_pdfs, sample_pdfs
from backoffice.screening.checks import CheckContext, run_document_checks
from backoffice.screening.pdf_reading import PROBES, ReadingSettings, read_document
from backoffice.screening.sandbox import Limits, last_error_line, run_sandboxed
from backoffice.workflows.intake import HEAD, TAIL, pdf_framing_refusal
from tests.helpers import submit_through_api

DISCLOSURE = CheckContext(document_kind="disclosure", division="RPD", file_numbers=frozenset({"VB5-01234"}))
PAGES = 5
BANNER = (
    b"%!PS-Adobe-3.0\n%%Creator: GPL Ghostscript 10.02 (ps2write)\n%%Title: spool job 4471\n"
    + b"%" * 200
    + b"\n"
)


def clean_pdf() -> bytes:
    data = sample_pdfs.numbered_document(PAGES)
    assert isinstance(data, bytes)
    return data


def screen(path: Path) -> dict:
    document = read_document(path, path.name, path.stat().st_size, ReadingSettings())
    return {result.code: result for result in run_document_checks(document, DISCLOSURE)}


def write(tmp_path: Path, data: bytes, name: str = "sample.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def with_bad_startxref(data: bytes) -> bytes:
    return data[: data.rfind(b"startxref")] + b"startxref\n999999\n%%EOF\n"


def shifted(data: bytes, by: int = 4) -> bytes:
    """Every offset after the header off by `by` bytes (spaces added after the first line)."""
    first_line = data.index(b"\n") + 1
    return data[:first_line] + b" " * (by - 1) + b"\n" + data[first_line:]


def with_object_streams(data: bytes) -> bytes:
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        pdf.save(out, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out.getvalue()


# --------------------------------------------------------------------------------------------- false alarms


def banner_before_header() -> bytes:
    return BANNER + clean_pdf()


def missing_eof() -> bytes:
    return clean_pdf().rstrip().removesuffix(b"%%EOF")


def padding_after_eof() -> bytes:
    return clean_pdf() + b"\x00" * 6000


def rebuilt_xref() -> bytes:
    return with_bad_startxref(clean_pdf())


def whitespace_before_xref() -> bytes:
    data = clean_pdf()
    at = data.rfind(b"\nxref")
    return data[:at] + b"\n  \n " + data[at:]


def xref_stream_without_own_entry() -> bytes:
    """A cross-reference stream that lists objects 0-5 but not itself (object 6)."""
    content = b"BT /F1 12 Tf 72 720 Td (Exhibit A, page 1) Tj ET"
    bodies = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    rows = [struct.pack(">BIH", 0, 0, 65535)] + [struct.pack(">BIH", 1, offset, 0) for offset in offsets]
    table = zlib.compress(b"".join(rows))
    start = len(out)
    out += (
        b"6 0 obj\n<< /Type /XRef /Size 6 /W [1 4 2] /Root 1 0 R /Filter /FlateDecode /Length %d >>\n"
        % len(table)
    )
    out += b"stream\n" + table + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % start
    return bytes(out)


def offsets_off_by_a_few_bytes() -> bytes:
    return shifted(clean_pdf())


def missing_root() -> bytes:
    """The trailer's /Root names object 9 generation 0, which the file writes as generation 1: qpdf finds
    no catalog ("unable to find /Root dictionary"), PDFium does."""
    data = clean_pdf()
    catalog = data.index(b"/Type /Catalog")
    number_at = data.rindex(b"\n", 0, data.rindex(b" obj", 0, catalog)) + 1
    number = data[number_at : data.index(b" ", number_at)]
    assert b"/Root %s 0 R" % number in data
    return data[:number_at] + data[number_at:].replace(b"%s 0 obj" % number, b"%s 1 obj" % number, 1)


def corrupt_cross_reference_stream() -> bytes:
    """Object streams and a cross-reference stream whose compressed data is zeroed: "trailer not found"."""
    data = with_object_streams(clean_pdf())
    start = data.rfind(b"/Type /XRef")
    start = data.index(b"stream\n", start) + len(b"stream\n")
    return data[:start] + bytes(10) + data[start + 10 :]


FALSE_ALARMS: dict[str, Callable[[], bytes]] = {
    function.__name__: function
    for function in (
        banner_before_header,
        missing_eof,
        padding_after_eof,
        rebuilt_xref,
        whitespace_before_xref,
        xref_stream_without_own_entry,
        offsets_off_by_a_few_bytes,
        missing_root,
        corrupt_cross_reference_stream,
    )
}


def pdfium_pages(data: bytes) -> int:
    pdf = pdfium.PdfDocument(data)
    try:
        for index in range(len(pdf)):
            pdf[index].close()
        return len(pdf)
    finally:
        pdf.close()


@pytest.mark.parametrize("sample", sorted(FALSE_ALARMS))
def test_a_file_that_pdf_readers_open_is_readable(tmp_path, sample):
    data = FALSE_ALARMS[sample]()
    expected_pages = 1 if sample == "xref_stream_without_own_entry" else PAGES
    assert pdfium_pages(data) == expected_pages  # the premise: a reader opens every page
    assert pdf_framing_refusal(data[:HEAD], data[-TAIL:]) is None

    results = screen(write(tmp_path, data))

    assert results["readable"].outcome.value == "pass", results["readable"].message_en
    assert results["page_count"].details["page_count"] == expected_pages
    for code in ("encryption", "active_content"):
        assert results[code].outcome.value == "pass", results[code].message_en


@pytest.mark.parametrize("sample", ["rebuilt_xref", "missing_root", "offsets_off_by_a_few_bytes"])
def test_a_file_repaired_on_reading_says_so_to_the_clerk_in_both_languages(tmp_path, sample):
    results = screen(write(tmp_path, FALSE_ALARMS[sample]()))

    readable = results["readable"]
    assert readable.details["repaired"] is True
    assert "repaired on reading" in readable.message_en and f"{PAGES} page(s) open" in readable.message_en
    assert "réparé à la lecture" in readable.message_fr


def test_a_clean_file_is_not_said_to_be_repaired(tmp_path):
    readable = screen(write(tmp_path, clean_pdf()))["readable"]

    assert readable.message_en == "The PDF is readable."
    assert "repaired" not in readable.details


def corrupt_stream_on_page(page: int) -> bytes:
    """A clean five-page document whose page `page` has its compressed content partly zeroed."""
    data = clean_pdf()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        raw = pdf.pages[page - 1].Contents.read_raw_bytes()
    assert data.count(raw[10:40]) == 1
    return data.replace(raw[10:40], bytes(30))


def test_one_corrupt_stream_among_many_is_a_warning_naming_its_page(tmp_path):
    data = corrupt_stream_on_page(3)
    assert pdfium_pages(data) == PAGES

    results = screen(write(tmp_path, data))

    readable = results["readable"]
    assert readable.outcome.value == "warning"
    assert readable.details["damaged_pages"] == [3]
    assert "page 3 is damaged" in readable.message_en
    assert "de la page 3 est endommagée" in readable.message_fr
    assert results["page_count"].details["page_count"] == PAGES
    assert [page.number for page in read_pages(tmp_path / "sample.pdf") if page.chars] == [1, 2, 4, 5]


def read_pages(path: Path):
    return read_document(path, path.name, path.stat().st_size, ReadingSettings()).pages


# --------------------------------------------------------------------------------------------- dangers


def test_javascript_hidden_by_escaped_names_in_a_file_with_shifted_offsets_is_javascript(tmp_path):
    path = hostile_pdfs.javascript_escaped_name(tmp_path / "hidden.pdf")
    path.write_bytes(shifted(path.read_bytes(), by=7))

    results = screen(path)

    active = results["active_content"]
    assert active.outcome.value == "failure"
    assert active.details["kinds"] == {"javascript": 1}
    assert "JavaScript" in active.message_en and "JavaScript" in active.message_fr
    assert results["readable"].outcome.value == "pass"  # repaired, not "damaged"


def unparsable(objects: list[bytes]) -> bytes:
    """A hand-written PDF whose catalog (object 1) is written as generation 1: pikepdf cannot find /Root."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d %d obj\n%s\nendobj\n" % (number, 1 if number == 1 else 0, body)
    start = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(offsets) + 1, start)
    return bytes(out)


def page_objects(contents: bytes = b"BT /F1 12 Tf 72 720 Td (Exhibit B) Tj ET") -> list[bytes]:
    """Objects 2-5: the page tree, one page, its content stream and its font."""
    return [
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(contents), contents),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]


def test_a_launch_action_and_an_embedded_file_in_an_unparsable_file_are_found(tmp_path):
    stub = b"MZ\x90\x00" + b"This program cannot be run." * 10
    data = unparsable(
        [
            b"<< /Type /Catalog /Pages 2 0 R /OpenAction 6 0 R /Names << /EmbeddedFiles 7 0 R >> >>",
            *page_objects(),
            b"<< /Type /Action /S /L#61unch /F (calc.exe) >>",
            b"<< /Names [(invoice.exe) 8 0 R] >>",
            b"<< /Type /Filespec /F (invoice.exe) /EF << /F 9 0 R >> >>",
            b"<< /Type /#45mbeddedFile /Length %d >>\nstream\n%s\nendstream" % (len(stub), stub),
        ]
    )
    path = write(tmp_path, data)
    with pytest.raises(pikepdf.PdfError, match="/Root"):
        pikepdf.open(path)

    results = screen(path)

    active = results["active_content"]
    assert active.outcome.value == "failure"
    assert {"launch", "embedded_file"} <= set(active.details["kinds"])
    assert "launch programs" in active.message_en and "fichiers intégrés" in active.message_fr
    assert results["readable"].outcome.value == "failure"


def test_javascript_inside_an_object_stream_of_an_unparsable_file_is_found(tmp_path):
    """Names compressed in an object stream are invisible in the raw bytes; the scan inflates them."""
    action = b"<< /S /J#61vaScript /JS (app.alert\\(1\\)) >>"
    header = b"6 0 "
    objects = zlib.compress(header + action)
    stream = b"<< /Type /ObjStm /N 1 /First %d /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream" % (
        len(header),
        len(objects),
        objects,
    )
    catalog = b"<< /Type /Catalog /Pages 2 0 R /OpenAction 6 0 R >>"
    path = write(tmp_path, unparsable([catalog, *page_objects(), stream]))
    assert b"JavaScript" not in path.read_bytes()

    active = screen(path)["active_content"]

    assert active.outcome.value == "failure"
    assert set(active.details["kinds"]) == {"javascript"}


def test_a_bomb_in_an_unparsable_file_is_refused_before_any_reader_sees_it(tmp_path):
    path = hostile_pdfs.bomb_in_page_content(tmp_path / "bomb.pdf")
    data = path.read_bytes()
    path.write_bytes(data.replace(b"\n1 0 obj", b"\n1 1 obj", 1))
    with pytest.raises(pikepdf.PdfError, match="/Root"):
        pikepdf.open(path)

    results = screen(path)

    readable = results["readable"]
    assert readable.outcome.value == "failure"
    assert readable.details["problem"] == "decompression_bomb"
    assert "compressed content far too large" in readable.message_en


def test_an_unparsable_file_no_reader_opens_keeps_the_readers_last_error(tmp_path):
    data = clean_pdf().replace(b"/Root", b"/Rot")
    with pytest.raises(pdfium.PdfiumError):
        pdfium.PdfDocument(data)
    path = write(tmp_path, data)

    readable = screen(path)["readable"]

    assert readable.outcome.value == "failure"
    assert (
        readable.details["reader_error"]
        == "PdfiumError: Failed to load document (PDFium: Data format error)."
    )
    assert "The PDF reader stopped with: PdfiumError" in readable.message_en
    assert "Le lecteur PDF s'est arrêté sur : PdfiumError" in readable.message_fr
    assert str(tmp_path) not in readable.message_en


def empty_owner_password() -> bytes:
    """A user password and an empty owner password: qpdf opens it (as its owner), PDFium asks a password."""
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(clean_pdf())) as pdf:
        pdf.save(out, encryption=pikepdf.Encryption(user="user-secret", owner="", R=6))
    return out.getvalue()


def test_a_file_pdfium_refuses_for_a_password_needs_a_password(tmp_path):
    data = empty_owner_password()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert pdf.is_encrypted  # opened without a password
    with pytest.raises(pdfium.PdfiumError, match="password"):
        pdfium.PdfDocument(data)

    results = screen(write(tmp_path, data))

    encryption = results["encryption"]
    assert encryption.outcome.value == "failure"
    assert "protected by a password" in encryption.message_en
    assert "protégé par un mot de passe" in encryption.message_fr
    assert "readable" not in results  # not "the reader stopped on it"


def test_the_page_reader_answers_a_password_refusal_plainly(tmp_path):
    path = write(tmp_path, empty_owner_password())

    verdict = run_sandboxed(PROBES / "pages.py", [str(path), "1", "0"], Limits())

    assert verdict.ok
    assert verdict.answer["refused"] == "password"


def test_a_child_that_fails_keeps_its_last_error_line_without_the_files_path(tmp_path):
    path = write(tmp_path, b"%PDF-1.7\nnothing else\n")

    verdict = run_sandboxed(PROBES / "pages.py", [str(path), "1", "1"], Limits())

    assert verdict.failure == "exit_status_1"
    assert verdict.last_error == "PdfiumError: Failed to load document (PDFium: Data format error)."


def test_the_last_error_line_is_cut_and_loses_the_path():
    stderr = (
        "Traceback (most recent call last):\n  ...\nmodule.sub.SomeError: at /srv/doc/abc.pdf " + "x" * 300
    )
    line = last_error_line(stderr + "\n\n", ["/srv/doc/abc.pdf", "1"])

    assert line.startswith("SomeError: at … xxx")
    assert len(line) == 200
    assert last_error_line("", []) == ""


# --------------------------------------------------------------------------------------------- intake


def word_like_zip() -> bytes:
    """A ZIP archive (as a .docx is) whose first member is a PDF stored uncompressed: `%PDF-` near its start."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("exhibit.pdf", clean_pdf())
        archive.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def png() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(2000)


NOT_PDFS: dict[str, Callable[[], bytes]] = {
    "wav": hostile_pdfs.wav,
    "word_like_zip": word_like_zip,
    "png": png,
    "empty": lambda: b"",
    "header_at_byte_2000": lambda: b"\x00" * 2000 + clean_pdf(),
}


@pytest.mark.parametrize("sample", sorted(NOT_PDFS))
def test_what_is_not_a_pdf_is_still_refused_at_intake(sample):
    data = NOT_PDFS[sample]()

    assert pdf_framing_refusal(data[:HEAD], data[-TAIL:]) == "not_pdf"


def test_a_header_at_the_last_byte_allowed_is_accepted_and_one_byte_further_is_not():
    pdf = clean_pdf()
    assert pdf_framing_refusal((b"x" * 1024 + pdf)[:HEAD], pdf[-TAIL:]) is None
    assert pdf_framing_refusal((b"x" * 1025 + pdf)[:HEAD], pdf[-TAIL:]) == "not_pdf"


def test_the_portal_accepts_a_banner_before_the_header_and_a_missing_eof(app, client, token, filer):
    files = [
        ("banner.pdf", banner_before_header()),
        ("no-eof.pdf", missing_eof()),
        ("padded.pdf", padding_after_eof()),
    ]

    response = submit_through_api(client, token, filer, files=files)

    assert response.status_code == 201, response.get_data(as_text=True)
    assert [item["filename"] for item in response.get_json()["attachments"]] == [name for name, _ in files]


@pytest.mark.parametrize("sample", ["word_like_zip", "header_at_byte_2000"])
def test_the_portal_refuses_what_is_not_a_pdf(app, client, token, filer, sample):
    response = submit_through_api(client, token, filer, files=[(f"{sample}.pdf", NOT_PDFS[sample]())])

    assert response.status_code == 415, response.get_data(as_text=True)
    assert response.get_json()["error"] == "not_pdf"


def test_a_page_pdfium_cannot_load_fails_with_the_readers_last_error_in_both_languages(tmp_path):
    """The page tree's /Kids renamed: pikepdf cannot parse it, PDFium counts a page it then cannot load."""
    path = write(tmp_path, clean_pdf().replace(b"/Kids", b"/Kidz"))

    readable = screen(path)["readable"]

    assert readable.outcome.value == "failure"
    assert readable.details["reader_error"] == "PdfiumError: Failed to load page."
    assert readable.message_en.startswith("The file cannot be read as a PDF: the PDF reader could not open")
    assert readable.message_fr.startswith(
        "Le fichier ne peut pas être lu comme un PDF : le lecteur PDF n'a pas"
    )


def test_an_encrypted_file_pikepdf_cannot_parse_is_not_handed_to_pdfium(tmp_path):
    """Its streams cannot be measured from the raw bytes, so no guard vouches for it."""
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(clean_pdf())) as pdf:
        pdf.save(out, encryption=pikepdf.Encryption(user="", owner="owner-secret", R=6))
    with pikepdf.open(io.BytesIO(out.getvalue())) as pdf:
        catalog = pdf.Root.objgen[0]
    data = out.getvalue().replace(b"\n%d 0 obj" % catalog, b"\n%d 1 obj" % catalog, 1)
    path = write(tmp_path, data)
    with pytest.raises(pikepdf.PdfError, match="/Root"):
        pikepdf.open(path)

    document = read_document(path, path.name, len(data), ReadingSettings())

    assert document.structure["problem"] == "unreadable"
    assert "reader_check_seconds" not in document.reading
