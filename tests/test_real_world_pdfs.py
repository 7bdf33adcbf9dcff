"""The corpus of damaged but openable PDFs (backoffice/devservices/real_world_pdfs.py): it is what it claims
to be, files that PDFium reads fully and that carry their category's damage, and screening does not call
them damaged."""

import io
import re
import zlib
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pikepdf
import pypdfium2 as pdfium
import pytest

from backoffice.devservices import real_world_pdfs
from backoffice.devservices.hostile_pdfs import truncated
from backoffice.devservices.real_world_pdfs import CATEGORIES, Sample, corpus, pdfium_reads_fully
from backoffice.screening.checks import CheckContext, Outcome, run_document_checks
from backoffice.screening.pdf_reading import ReadingSettings, read_document

ALARMING_CHECKS = ("readable", "encryption", "active_content")


@pytest.fixture(scope="module")
def samples() -> list[Sample]:
    return corpus()


def test_the_corpus_has_at_least_60_samples_over_at_least_10_categories(samples):
    per_category = Counter(sample.category for sample in samples)
    assert len(samples) >= 60
    assert len(per_category) >= 10
    assert min(per_category.values()) >= 6, per_category


def test_the_corpus_is_the_same_bytes_every_time(samples):
    real_world_pdfs.bases.cache_clear()
    rebuilt = {sample.name: sample.data for sample in real_world_pdfs.build_samples()}
    assert all(rebuilt[sample.name] == sample.data for sample in samples)


def test_every_sample_opens_in_pdfium_with_its_page_count(samples):
    for sample in samples:
        document = pdfium.PdfDocument(sample.data)
        try:
            assert len(document) == sample.page_count, sample.name
        finally:
            document.close()


def test_the_premise_turns_away_what_pdfium_does_not_read_fully(tmp_path):
    clean = real_world_pdfs.bases()[0]
    assert pdfium_reads_fully(clean.data, clean.page_count) is None
    assert "pages, not" in pdfium_reads_fully(clean.data, clean.page_count + 1)
    half = truncated(tmp_path / "truncated.pdf").read_bytes()
    assert "cannot open" in pdfium_reads_fully(half, 20)


def _qpdf_complains(data: bytes) -> bool:
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            return bool(pdf.get_warnings())
    except pikepdf.PdfError:
        return True


def _a_page_stream_is_corrupt(data: bytes) -> bool:
    """A page content stream that qpdf cannot decode, or whose Flate data zlib rejects (qpdf does not
    verify the checksum)."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            contents = page.obj.Contents
            for stream in contents if isinstance(contents, pikepdf.Array) else [contents]:
                try:
                    stream.read_bytes()
                    if stream.get("/Filter") == pikepdf.Name.FlateDecode:
                        zlib.decompress(stream.read_raw_bytes())
                except (pikepdf.PdfError, zlib.error):
                    return True
        return bool(pdf.get_warnings())


def _table(data: bytes) -> bytes:
    start = int(re.findall(rb"startxref\s+(\d+)", data)[-1])
    return data[start : data.index(b"startxref", start)]


def _xref_stream_lists_itself(data: bytes) -> bool:
    start = int(re.findall(rb"startxref\s+(\d+)", data)[-1])
    number, size = re.match(rb"(\d+) 0 obj\s*<<.*?/Size (\d+)", data[start:], re.DOTALL).groups()
    return int(size) > int(number)


DAMAGE_SEEN: dict[str, Callable[[bytes], bool]] = {
    "banner_before_header": lambda data: 100 <= data.find(b"%PDF-") <= 1000,
    "eof_missing": lambda data: not data.rstrip().endswith(b"%%EOF"),
    "eof_then_padding": lambda data: len(data) - data.rindex(b"%%EOF") >= 2048,
    "whitespace_before_xref": lambda data: _table(data)[:1] in (b" ", b"\r", b"\n", b"\t"),
    "xref_offsets_shifted": _qpdf_complains,
    "xref_missing_or_garbage": _qpdf_complains,
    "xref_stream_without_own_entry": lambda data: not _xref_stream_lists_itself(data),
    "trailer_damaged": _qpdf_complains,
    "corrupt_page_stream": _a_page_stream_is_corrupt,
    "startxref_wrong": _qpdf_complains,
    "xref_line_ends_cr": lambda data: b"\r" in _table(data) and b"\n" not in _table(data),
}


def test_every_sample_carries_the_damage_of_its_category(samples):
    assert set(DAMAGE_SEEN) == set(CATEGORIES)
    undamaged = [sample.name for sample in samples if not DAMAGE_SEEN[sample.category](sample.data)]
    assert undamaged == []


@pytest.mark.parametrize("category", list(CATEGORIES))
def test_screening_reads_a_damaged_but_openable_pdf_without_alarm(samples, category, tmp_path: Path):
    """One sample per category, each from another producer's shape where the category has several."""
    of_category = [sample for sample in samples if sample.category == category]
    sample = of_category[list(CATEGORIES).index(category) % len(of_category)]
    path = tmp_path / f"{sample.name}.pdf"
    path.write_bytes(sample.data)
    document = read_document(path, path.name, len(sample.data), ReadingSettings())
    results = run_document_checks(document, CheckContext("disclosure", "RPD", frozenset({"VB5-01234"})))
    alarms = [
        result.message_en
        for result in results
        if result.code in ALARMING_CHECKS and result.outcome is Outcome.FAILURE
    ]
    assert alarms == []
    assert document.page_count == sample.page_count
