"""Structural pre-check of a PDF with pikepdf (qpdf), run in a sandboxed child.

Usage: python -I structure.py FILE MAX_PAGES
Prints one JSON object: readable, problem, detail, encryption, page_count, claimed_page_count,
active_content (counts by kind), links, warnings, repaired, damaged_streams, reader_decides.

Every Flate stream is inflated here with a cap and the output thrown away, so that a decompression bomb is
found by counting bytes, never by holding them.

What readers tolerate is not refused here: a file qpdf had to repair (a rebuilt cross-reference table,
offsets off by a few bytes), a corrupt stream, a page tree qpdf cannot follow, or a file pikepdf cannot
parse at all but whose raw bytes hold no bomb and no active content is cleared for PDFium with
`reader_decides`: PDFium, sandboxed too, then says whether it reads it. Passwords, bombs, too many
objects or pages and a looping page tree are refused outright.
"""

import base64
import binascii
import re
import sys
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

import pikepdf

sys.path.insert(0, str(Path(__file__).resolve().parent))  # python -I leaves the probes' folder off the path
from probe_output import print_answer  # noqa: E402

STREAM_CAP = 256 * 1024 * 1024
DOCUMENT_CAP = 1024 * 1024 * 1024
SCAN_CAP = 16 * 1024 * 1024  # of an object stream's content, searched for active content
CHUNK = 1024 * 1024
OBJECTS_PER_PAGE = 20
HEADER_WINDOW = 1024  # readers accept `%PDF-` anywhere in the first kilobyte
TRAILER_WINDOW = 64 * 1024
TRAILER_SIZE = re.compile(rb"/Size\s+(\d{1,12})")
MAX_DAMAGED_STREAMS = 20
MAX_PAGE_WALK = 200_000  # objects visited in all to find the pages a damaged stream belongs to
# The raw bytes, for a file pikepdf cannot parse: objects, stream keywords, names (PDF delimiters end a name).
RAW_OBJECT = re.compile(rb"(?<![0-9])[0-9]{1,10}[ \t\r\n]+[0-9]{1,5}[ \t\r\n]+obj\b")
RAW_STREAM = re.compile(rb"\bstream(?:\r\n|\n|\r)")
RAW_NAME = re.compile(rb"/([^\s/<>\[\]()%{}]*)")
RAW_FILTER = re.compile(rb"/Filter\s*(\[[^\]]*\]|/[^\s/<>\[\]()%{}]+)")
HEX_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")


class Refused(Exception):
    def __init__(self, problem: str, detail: str = "") -> None:
        super().__init__(problem)
        self.problem = problem
        self.detail = detail


class Unparsable(Exception):
    """pikepdf could not open the file at all ("unable to find /Root", "trailer not found", ...)."""


class CorruptStream(Exception):
    """A stream's data cannot be decoded: readers show the rest of the document."""


def main(path: str, max_pages: int) -> dict:
    verdict = {
        "readable": False,
        "problem": None,
        "detail": "",
        "encryption": "none",
        "page_count": None,
        "claimed_page_count": None,
        "active_content": {},
        "links": 0,
        "warnings": [],
        "repaired": False,
        "damaged_streams": [],
        "reader_decides": False,
    }
    try:
        _refuse_before_parsing(path, max_pages)
        try:
            _inspect(_open(path, verdict), verdict, max_pages)
        except (Unparsable, pikepdf.PdfError) as error:
            _scan_raw(path, verdict, max_pages)
            raise Refused("unreadable", _without_path(str(error), path)) from None
    except Refused as refusal:
        verdict["problem"] = refusal.problem
        verdict["detail"] = refusal.detail[:300]
    return verdict


def _refuse_before_parsing(path: str, max_pages: int) -> None:
    """The signature, and the object count the trailer declares: qpdf needs about 1 KB of memory per object
    just to open a file, so one with far more objects than pages allowed is refused unopened."""
    with open(path, "rb") as file:
        if b"%PDF-" not in file.read(HEADER_WINDOW + 5):
            raise Refused("not_pdf")
        file.seek(0, 2)
        file.seek(max(0, file.tell() - TRAILER_WINDOW))
        sizes = [int(size) for size in TRAILER_SIZE.findall(file.read())]
    if sizes and max(sizes) > max_pages * OBJECTS_PER_PAGE:
        raise Refused("too_many_objects", f"{max(sizes):,} objects")


def _open(path: str, verdict: dict) -> pikepdf.Pdf:
    try:
        pdf = pikepdf.open(path)
    except pikepdf.PasswordError:
        verdict["encryption"] = "user"
        raise Refused("user_password") from None
    except pikepdf.PdfError as error:
        detail = _without_path(str(error), path)
        if "loop" in detail.lower():
            raise Refused("page_tree_loop", detail) from None
        raise Unparsable(detail) from None
    if pdf.is_encrypted:
        verdict["encryption"] = "owner"
    return pdf


def _without_path(message: str, path: str) -> str:
    return message.replace(path, "").lstrip(": ")


def _inspect(pdf: pikepdf.Pdf, verdict: dict, max_pages: int) -> None:
    """Pages, active content and streams; then whether the file is clean or only a reader can tell."""
    pages, page_tree_problem = _page_objects(pdf, verdict, max_pages)
    damaged: dict[tuple[int, int], str] = {}
    active, links = _walk_objects(pdf, damaged)
    verdict["active_content"] = active
    verdict["links"] = links
    verdict["damaged_streams"] = _damaged_streams(damaged, pages)
    repairs = _warnings(pdf, verdict)
    verdict["repaired"] = bool(repairs)
    if page_tree_problem or repairs or damaged:
        _raw_guards(pdf.filename, max_pages)  # the bombs only: qpdf's walk found the active content
    if page_tree_problem:
        raise _for_the_reader(verdict, "unreadable", page_tree_problem)
    if repairs or damaged:
        detail = "; ".join(repairs[:2]) if repairs else verdict["damaged_streams"][0]["error"]
        raise _for_the_reader(verdict, "damaged", detail)
    verdict["readable"] = True


def _for_the_reader(verdict: dict, problem: str, detail: str) -> Refused:
    """Nothing dangerous was found, but qpdf saw damage: PDFium, which repairs as other readers do, decides."""
    verdict["reader_decides"] = True
    return Refused(problem, detail)


def _warnings(pdf: pikepdf.Pdf, verdict: dict) -> list[str]:
    """qpdf's warnings: each one says it repaired something ("file is damaged", "xref not found", ...)."""
    warnings = [_without_path(str(warning), pdf.filename) for warning in pdf.get_warnings()]
    verdict["warnings"] = warnings[:5]
    return warnings


def _page_objects(pdf: pikepdf.Pdf, verdict: dict, max_pages: int) -> tuple[list, str]:
    """The pages in order, and what stops qpdf following the page tree ("" when nothing does)."""
    pages = pdf.Root.get("/Pages")
    if not isinstance(pages, pikepdf.Dictionary):
        return [], "no page tree"
    claimed = pages.get("/Count")
    verdict["claimed_page_count"] = int(claimed) if _is_int(claimed) else None
    try:
        found = _walk_page_tree(pages, max_pages)
    except Refused as refusal:
        if refusal.problem != "unreadable":
            raise
        return [], refusal.detail
    verdict["page_count"] = len(found)
    return found, ""


def _is_int(value) -> bool:
    try:
        int(value)
    except (TypeError, ValueError):
        return False
    return True


def _walk_page_tree(root: pikepdf.Dictionary, max_pages: int) -> list[pikepdf.Dictionary]:
    """Walk the page tree ourselves, one kid at a time: a loop or too many pages stops it early and cheaply."""
    pages: list[pikepdf.Dictionary] = []
    seen: set[tuple[int, int]] = {root.objgen}
    stack = [(_kids(root), 0)]
    while stack:
        kids, index = stack.pop()
        if index >= len(kids):
            continue
        stack.append((kids, index + 1))
        kid = kids[index]
        if not isinstance(kid, pikepdf.Dictionary):
            continue
        if kid.objgen != (0, 0):
            if kid.objgen in seen:
                raise Refused("page_tree_loop", f"object {kid.objgen[0]} appears twice in the page tree")
            seen.add(kid.objgen)
        if "/Kids" in kid:
            stack.append((_kids(kid), 0))
            continue
        pages.append(kid)
        if len(pages) > max_pages:
            raise Refused("too_many_pages", str(max_pages))
    return pages


def _kids(node: pikepdf.Dictionary) -> pikepdf.Array:
    kids = node.get("/Kids")
    if not isinstance(kids, pikepdf.Array):
        raise Refused("unreadable", "a node of the page tree has no list of kids")
    return kids


ACTIVE_KEYS = {
    "/JS": "javascript",
    "/JavaScript": "javascript",
    "/EmbeddedFiles": "embedded_file",
    "/EmbeddedFile": "embedded_file",
    "/XFA": "xfa",
    "/RichMedia": "rich_media",
    "/RichMediaContent": "rich_media",
    "/Launch": "launch",
}
ACTIVE_VALUES = {
    "/JavaScript": "javascript",
    "/Launch": "launch",
    "/EmbeddedFile": "embedded_file",
    "/RichMedia": "rich_media",
    "/ImportData": "launch",
    "/SubmitForm": "submit_form",
}


RAW_ACTIVE = {name.encode(): kind for name, kind in {**ACTIVE_KEYS, **ACTIVE_VALUES}.items()}


def _walk_objects(pdf: pikepdf.Pdf, damaged: dict[tuple[int, int], str]) -> tuple[dict[str, int], int]:
    """Look at every object, those inside object streams and direct ones nested in them too; streams that
    cannot be decoded are noted in `damaged`.

    Names come decoded from the file, so /J#61vaScript is seen as /JavaScript.
    """
    found: dict[str, int] = {}
    inflated = 0
    for obj in pdf.objects:
        if not isinstance(obj, pikepdf.Dictionary | pikepdf.Stream | pikepdf.Array):
            continue
        for dictionary in _dictionaries_within(obj):
            for kind in _active_kinds(dictionary):
                found[kind] = found.get(kind, 0) + 1
        if isinstance(obj, pikepdf.Stream):
            try:
                inflated += _inflated_size(obj)
            except CorruptStream as error:
                damaged[obj.objgen] = str(error)
            _refuse_beyond_document_cap(inflated)
    links = found.pop("link", 0)
    return found, links


def _refuse_beyond_document_cap(inflated: int) -> None:
    if inflated > DOCUMENT_CAP:
        raise Refused("decompression_bomb", f"streams inflate beyond {DOCUMENT_CAP // 2**20} MB")


def _dictionaries_within(obj):
    """The object if it is a dictionary, and every direct dictionary nested in it (indirect ones are walked
    on their own turn)."""
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, pikepdf.Dictionary | pikepdf.Stream):
            yield item
            children = item.values()
        elif isinstance(item, pikepdf.Array):
            children = list(item)
        else:
            continue
        stack.extend(child for child in children if _is_container(child) and not child.is_indirect)


def _is_container(item) -> bool:
    return isinstance(item, pikepdf.Dictionary | pikepdf.Array)


def _active_kinds(obj) -> set[str]:
    kinds = {ACTIVE_KEYS[key] for key in obj.keys() if key in ACTIVE_KEYS}
    for key in ("/S", "/Type", "/Subtype"):
        value = obj.get(key)
        if isinstance(value, pikepdf.Name) and str(value) in ACTIVE_VALUES:
            kinds.add(ACTIVE_VALUES[str(value)])
    return kinds or ({"link"} if obj.get("/Subtype") == pikepdf.Name.Link else set())


def _filters(stream: pikepdf.Stream) -> list[str]:
    value = stream.get("/Filter")
    if value is None:
        return []
    if isinstance(value, pikepdf.Array):
        return [str(item) for item in value]
    return [str(value)]


def _inflated_size(stream: pikepdf.Stream) -> int:
    """Bytes the stream inflates to, counted up to the cap; only the filters that can bomb are applied."""
    filters = _filters(stream)
    if "/FlateDecode" not in filters:
        return 0
    try:
        data = stream.read_raw_bytes()
    except pikepdf.PdfError as error:
        raise CorruptStream(str(error)) from None
    return _counted(_decoded(data, filters))


def _decoded(data: bytes, filters: list[str]) -> Iterable[bytes]:
    """The stream's data through its filters, lazily, as far as the filters that can bomb go."""
    chunks: Iterable[bytes] = [data]
    for name in filters:
        if name == "/FlateDecode":
            chunks = _inflate(chunks)
        elif name in ("/ASCII85Decode", "/A85"):
            chunks = [_ascii85(_joined(chunks))]
        elif name in ("/ASCIIHexDecode", "/AHx"):
            chunks = [_ascii_hex(_joined(chunks))]
        else:
            break  # image codecs and the like: left to the reader, they do not inflate without bound
    return chunks


def _counted(chunks: Iterable[bytes], keep: list[bytes] | None = None) -> int:
    """The bytes in `chunks`, refused past the cap; the first `SCAN_CAP` of them kept in `keep` if given."""
    total = 0
    for chunk in chunks:
        if keep is not None and total < SCAN_CAP:
            keep.append(chunk[: SCAN_CAP - total])
        total += len(chunk)
        if total > STREAM_CAP:
            raise Refused("decompression_bomb", f"a stream inflates beyond {STREAM_CAP // 2**20} MB")
    return total


def _joined(chunks: Iterable[bytes]) -> bytes:
    parts: list[bytes] = []
    _counted(chunks, parts)
    return b"".join(parts)


def _inflate(chunks: Iterable[bytes]) -> Iterator[bytes]:
    decompressor = zlib.decompressobj()
    try:
        for chunk in chunks:
            pending = chunk
            while pending:
                yield decompressor.decompress(pending, CHUNK)
                pending = decompressor.unconsumed_tail
                if decompressor.eof:
                    return
        yield decompressor.flush()
    except zlib.error as error:
        if "incorrect data check" in str(error):
            return  # every byte came out and was counted; only the checksum is wrong, which readers ignore
        raise CorruptStream(f"a compressed stream is corrupt ({error})") from None


def _ascii85(data: bytes) -> bytes:
    data = data.strip()
    if data.endswith(b"~>"):
        data = data[:-2]
    try:
        return base64.a85decode(data, ignorechars=b" \t\n\r\f\v")
    except ValueError as error:
        raise CorruptStream(f"an ASCII85 stream is corrupt ({error})") from None


def _ascii_hex(data: bytes) -> bytes:
    data = re.sub(rb"\s", b"", data).rstrip(b">")
    try:
        return binascii.unhexlify(data + b"0" * (len(data) % 2))
    except binascii.Error as error:
        raise CorruptStream(f"a hexadecimal stream is corrupt ({error})") from None


def _damaged_streams(damaged: dict[tuple[int, int], str], pages: list) -> list[dict]:
    """Each damaged stream with the pages that show it (through their contents or resources)."""
    if not damaged:
        return []
    showing: dict[tuple[int, int], list[int]] = {objgen: [] for objgen in damaged}
    budget = [MAX_PAGE_WALK]
    for number, page in enumerate(pages, start=1):
        for objgen in _streams_of_page(page, budget) & showing.keys():
            showing[objgen].append(number)
    return [
        {"object": f"{objgen[0]} {objgen[1]}", "pages": showing[objgen], "error": error[:200]}
        for objgen, error in list(damaged.items())[:MAX_DAMAGED_STREAMS]
    ]


def _streams_of_page(page: pikepdf.Dictionary, budget: list[int]) -> set[tuple[int, int]]:
    """The indirect objects a page draws from: its contents, its resources (inherited ones too), its
    annotations' appearances, and what they refer to in turn; never back up to its parent."""
    resources = page.get("/Resources")
    node = page
    while resources is None and isinstance(node.get("/Parent"), pikepdf.Dictionary):
        node = node.Parent
        resources = node.get("/Resources")
    stack = [item for item in (page.get("/Contents"), resources, page.get("/Annots")) if item is not None]
    seen: set[tuple[int, int]] = set()
    while stack and budget[0] > 0:
        item = stack.pop()
        budget[0] -= 1
        if item.is_indirect:
            if item.objgen in seen:
                continue
            seen.add(item.objgen)
        if isinstance(item, pikepdf.Dictionary | pikepdf.Stream):
            stack.extend(
                value for key, value in item.items() if key not in ("/Parent", "/P") and _walkable(value)
            )
        elif isinstance(item, pikepdf.Array):
            stack.extend(value for value in item if _walkable(value))
    return seen


def _walkable(item) -> bool:
    return isinstance(item, pikepdf.Dictionary | pikepdf.Array | pikepdf.Stream)


def _scan_raw(path: str, verdict: dict, max_pages: int) -> None:
    """The guards on the raw bytes of a file pikepdf cannot parse. A file with no active content is left
    for PDFium to decide on, unless it is encrypted: its streams could not be measured."""
    found, encrypted = _raw_guards(path, max_pages)
    verdict["active_content"] = found
    verdict["reader_decides"] = not found and not encrypted


def _raw_guards(path: str, max_pages: int) -> tuple[dict[str, int], bool]:
    """Objects counted, every stream found by its keyword inflated with the caps, and names (with #-escapes
    decoded) searched for active content outside stream data and inside object streams.

    Returns the active content found and whether the file is encrypted. Run on every file qpdf had to
    repair too: a stream its repair missed may still be one PDFium finds.
    """
    with open(path, "rb") as file:
        data = file.read()
    if sum(1 for _ in RAW_OBJECT.finditer(data)) > max_pages * OBJECTS_PER_PAGE:
        raise Refused("too_many_objects", f"more than {max_pages * OBJECTS_PER_PAGE:,} objects")
    found: dict[str, int] = {}
    for text in _raw_texts(data):
        for match in RAW_NAME.finditer(text):
            kind = RAW_ACTIVE.get(b"/" + _unescaped(match.group(1)))
            if kind:
                found[kind] = found.get(kind, 0) + 1
    return found, b"/Encrypt" in data


def _raw_texts(data: bytes) -> Iterator[bytes]:
    """The file between stream data, and the decoded content of object streams (where objects hide)."""
    position = inflated = 0
    for match in RAW_STREAM.finditer(data):
        if match.start() < position:
            continue  # the word inside a stream's data
        dictionary = _raw_dictionary(data, match.start())
        end = data.find(b"endstream", match.end())
        end = len(data) if end < 0 else end
        yield data[position : match.start()]
        position = end
        kept: list[bytes] | None = [] if b"/ObjStm" in dictionary else None
        try:
            inflated += _counted(_decoded(data[match.end() : end], _raw_filters(dictionary)), kept)
        except CorruptStream:
            pass  # as a reader would, keep going: what decoded was counted
        _refuse_beyond_document_cap(inflated)
        if kept:
            yield b"".join(kept)
    yield data[position:]


def _raw_dictionary(data: bytes, stream_start: int) -> bytes:
    """The stream's dictionary, names unescaped: from its `obj` keyword to the `stream` keyword."""
    start = data.rfind(b"obj", max(0, stream_start - TRAILER_WINDOW), stream_start)
    text = data[max(0, start) : stream_start]
    return RAW_NAME.sub(lambda match: b"/" + _unescaped(match.group(1)), text)


def _raw_filters(dictionary: bytes) -> list[str]:
    match = RAW_FILTER.search(dictionary)
    if match is None:
        return []
    return ["/" + name.decode("latin-1") for name in RAW_NAME.findall(match.group(1))]


def _unescaped(name: bytes) -> bytes:
    return HEX_ESCAPE.sub(lambda match: bytes([int(match.group(1), 16)]), name)


if __name__ == "__main__":
    print_answer(main(sys.argv[1], int(sys.argv[2])))
