"""The values of a PDF's interactive form (AcroForm) fields with pdfplumber, run in a sandboxed child.

Usage: python -I form_fields.py FILE
Prints one JSON object: fields (fully qualified field name -> value as plain text; names of options, as in
radio buttons, without their slash), peak_kb. A PDF without form fields (scanned, flattened, printed to PDF)
gives {"fields": {}}.

The field tree is walked as in pdfplumber's README ("Extracting form values": `pdf.doc.catalog["AcroForm"]`
resolved, then each field's /T, /V and /Kids), with what a hostile file needs on top: every node visited
once (a /Kids array may point back at its parent), a depth and a node budget, at most 100 fields and
2,000 characters per value. No page is opened, so none is kept in memory.

Only ever run on a file that structure.py cleared.
"""

import sys
from pathlib import Path

import pdfplumber
from pdfplumber.utils.pdfinternals import resolve, resolve_and_decode

sys.path.insert(0, str(Path(__file__).resolve().parent))  # python -I leaves the probes' folder off the path
from probe_output import print_answer  # noqa: E402

MAX_FIELDS = 100
MAX_VALUE_CHARACTERS = 2_000
MAX_NAME_CHARACTERS = 200
MAX_DEPTH = 10
MAX_NODES = 2_000
MAX_LIST_ITEMS = 50


def main(path: str) -> dict:
    with pdfplumber.open(path) as pdf:
        acroform = resolve(pdf.doc.catalog.get("AcroForm"))
        roots = resolve(acroform.get("Fields")) if isinstance(acroform, dict) else None
        return {"fields": _fields(roots) if isinstance(roots, list) else {}}


def _fields(roots: list) -> dict[str, str]:
    """Depth first, in the document's order; the first field of a name wins."""
    fields: dict[str, str] = {}
    seen: set[int] = set()
    stack = [(reference, "", 0) for reference in reversed(roots[:MAX_NODES])]
    visited = 0
    while stack and len(fields) < MAX_FIELDS and visited < MAX_NODES:
        reference, prefix, depth = stack.pop()
        field = _unseen_dictionary(reference, seen)
        if field is None:
            continue
        visited += 1
        name = _qualified_name(prefix, field)
        kids = resolve(field.get("Kids"))
        kids = kids[:MAX_NODES] if isinstance(kids, list) else []
        if depth < MAX_DEPTH:
            stack.extend((kid, name, depth + 1) for kid in reversed(kids))
        if "T" in field and name and not _has_named_kids(kids):
            fields.setdefault(name, _text(field.get("V"))[:MAX_VALUE_CHARACTERS])
    return fields


def _unseen_dictionary(reference, seen: set[int]) -> dict | None:
    objid = getattr(reference, "objid", None)
    if objid is not None:
        if objid in seen:
            return None
        seen.add(objid)
    field = resolve(reference)
    return field if isinstance(field, dict) else None


def _qualified_name(prefix: str, field: dict) -> str:
    """A field's full name is its ancestors' partial names (/T) joined with dots; widgets have none."""
    partial = _text(field.get("T"))[:MAX_NAME_CHARACTERS]
    return ".".join(part for part in (prefix, partial) if part)[: MAX_NAME_CHARACTERS * 2]


def _has_named_kids(kids: list) -> bool:
    """A field whose kids have names of their own is a group; its kids hold the values."""
    return any(isinstance(kid, dict) and "T" in kid for kid in map(resolve, kids))


def _text(value) -> str:
    """Strings, names and numbers as text; a list (several options chosen) joined with commas. Anything
    else (a dictionary, a stream of rich text) is not a value the form can have: empty."""
    value = resolve(value)
    if isinstance(value, list):
        return ", ".join(filter(None, (_scalar(resolve(item)) for item in value[:MAX_LIST_ITEMS])))
    return _scalar(value)


def _scalar(value) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    decoded = resolve_and_decode(value)  # bytes and strings from PDFDocEncoding or UTF-16; names unslashed
    if isinstance(decoded, str):
        return decoded
    if isinstance(decoded, bool | int | float):
        return str(decoded)
    return ""


if __name__ == "__main__":
    print_answer(main(sys.argv[1]))
