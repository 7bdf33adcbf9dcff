"""Structural pre-check of a PDF with pikepdf (qpdf), run in a sandboxed child.

Usage: python -I structure.py FILE MAX_PAGES
Prints one JSON object: readable, problem, detail, encryption, page_count, claimed_page_count,
active_content (counts by kind), links, warnings.

Every Flate stream is inflated here with a cap and the output thrown away, so that a decompression bomb is
found by counting bytes, never by holding them.
"""

import base64
import binascii
import json
import re
import resource
import sys
import zlib

import pikepdf

STREAM_CAP = 256 * 1024 * 1024
DOCUMENT_CAP = 1024 * 1024 * 1024
CHUNK = 1024 * 1024
OBJECTS_PER_PAGE = 20
TRAILER_WINDOW = 64 * 1024
TRAILER_SIZE = re.compile(rb"/Size\s+(\d{1,12})")
DAMAGE = re.compile(r"damaged|reconstruct|xref|unexpected end|EOF", re.IGNORECASE)


class Refused(Exception):
    def __init__(self, problem: str, detail: str = "") -> None:
        super().__init__(problem)
        self.problem = problem
        self.detail = detail


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
    }
    try:
        _refuse_before_parsing(path, max_pages)
        pdf = _open(path, verdict)
        _inspect(pdf, verdict, max_pages)
        verdict["readable"] = True
    except Refused as refusal:
        verdict["problem"] = refusal.problem
        verdict["detail"] = refusal.detail[:300]
    return verdict


def _refuse_before_parsing(path: str, max_pages: int) -> None:
    """The signature, and the object count the trailer declares: qpdf needs about 1 KB of memory per object
    just to open a file, so one with far more objects than pages allowed is refused unopened."""
    with open(path, "rb") as file:
        if file.read(5) != b"%PDF-":
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
        detail = str(error).replace(path, "").lstrip(": ")
        raise Refused("page_tree_loop" if "loop" in detail.lower() else "unreadable", detail) from None
    if pdf.is_encrypted:
        verdict["encryption"] = "owner"
    _refuse_if_damaged(pdf, verdict)
    return pdf


def _refuse_if_damaged(pdf: pikepdf.Pdf, verdict: dict) -> None:
    warnings = [str(warning).replace(pdf.filename, "").lstrip(": ") for warning in pdf.get_warnings()]
    verdict["warnings"] = warnings[:5]
    damage = [warning for warning in warnings if DAMAGE.search(warning)]
    if damage:
        raise Refused("damaged", damage[0])


def _inspect(pdf: pikepdf.Pdf, verdict: dict, max_pages: int) -> None:
    pages = pdf.Root.get("/Pages")
    if not isinstance(pages, pikepdf.Dictionary):
        raise Refused("unreadable", "no page tree")
    claimed = pages.get("/Count")
    verdict["claimed_page_count"] = int(claimed) if _is_int(claimed) else None
    verdict["page_count"] = _count_pages(pages, max_pages)
    active, links = _walk_objects(pdf)
    verdict["active_content"] = active
    verdict["links"] = links
    _refuse_if_damaged(pdf, verdict)


def _is_int(value) -> bool:
    try:
        int(value)
    except (TypeError, ValueError):
        return False
    return True


def _count_pages(root: pikepdf.Dictionary, max_pages: int) -> int:
    """Walk the page tree ourselves, one kid at a time: a loop or too many pages stops it early and cheaply."""
    count = 0
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
        count += 1
        if count > max_pages:
            raise Refused("too_many_pages", str(max_pages))
    return count


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


def _walk_objects(pdf: pikepdf.Pdf) -> tuple[dict[str, int], int]:
    """Look at every object, those inside object streams and direct ones nested in them too.

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
            inflated += _inflated_size(obj)
            if inflated > DOCUMENT_CAP:
                raise Refused("decompression_bomb", f"streams inflate beyond {DOCUMENT_CAP // 2**20} MB")
    links = found.pop("link", 0)
    return found, links


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
        raise Refused("damaged", str(error)) from None
    chunks = [data]
    for name in filters:
        if name == "/FlateDecode":
            chunks = _inflate(chunks)
        elif name in ("/ASCII85Decode", "/A85"):
            chunks = [_ascii85(_joined(chunks))]
        elif name in ("/ASCIIHexDecode", "/AHx"):
            chunks = [_ascii_hex(_joined(chunks))]
        else:
            break  # image codecs and the like: left to the reader, they do not inflate without bound
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > STREAM_CAP:
            raise Refused("decompression_bomb", f"a stream inflates beyond {STREAM_CAP // 2**20} MB")
    return total


def _joined(chunks) -> bytes:
    parts, total = [], 0
    for chunk in chunks:
        total += len(chunk)
        if total > STREAM_CAP:
            raise Refused("decompression_bomb", f"a stream inflates beyond {STREAM_CAP // 2**20} MB")
        parts.append(chunk)
    return b"".join(parts)


def _inflate(chunks):
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
        raise Refused("damaged", f"a compressed stream is corrupt ({error})") from None


def _ascii85(data: bytes) -> bytes:
    data = data.strip()
    if data.endswith(b"~>"):
        data = data[:-2]
    try:
        return base64.a85decode(data, ignorechars=b" \t\n\r\f\v")
    except ValueError as error:
        raise Refused("damaged", f"an ASCII85 stream is corrupt ({error})") from None


def _ascii_hex(data: bytes) -> bytes:
    data = re.sub(rb"\s", b"", data).rstrip(b">")
    try:
        return binascii.unhexlify(data + b"0" * (len(data) % 2))
    except binascii.Error as error:
        raise Refused("damaged", f"a hexadecimal stream is corrupt ({error})") from None


def _with_peak_memory(answer: dict) -> dict:
    """This process's own peak (VmHWM starts afresh at exec; ru_maxrss would carry the parent's)."""
    try:
        with open("/proc/self/status") as status:
            answer["peak_kb"] = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        answer["peak_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return answer


if __name__ == "__main__":
    print(json.dumps(_with_peak_memory(main(sys.argv[1], int(sys.argv[2])))))
