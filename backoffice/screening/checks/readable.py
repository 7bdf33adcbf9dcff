"""Rule 1: the file is a PDF that can be read, neither damaged, truncated nor hostile to the reader.

A file a PDF reader repairs as it opens it (a rebuilt index of its objects, offsets a few bytes off) reads
like any other, as it does in Acrobat: it passes, with a note for the clerk. A damaged stream on a page is
a warning naming the page, when the rest of the file reads.
"""

from backoffice.screening.checks.base import CheckContext, CheckResult, DocumentFacts, Outcome, page_ranges

CODE = "readable"

PROBLEMS = {
    "not_pdf": (
        "The file does not start as a PDF must (with %PDF- in its first 1,024 bytes).",
        "Le fichier ne commence pas comme un PDF (par %PDF- dans ses 1 024 premiers octets).",
    ),
    "unreadable": (
        "The file cannot be read as a PDF: {detail}.",
        "Le fichier ne peut pas être lu comme un PDF : {detail}.",
    ),
    "damaged": (
        "The PDF is damaged or truncated: {detail}. Save or export it again and resubmit it.",
        "Le PDF est endommagé ou tronqué : {detail}. Enregistrez-le ou exportez-le de nouveau, puis soumettez-le à nouveau.",
    ),
    "page_tree_loop": (
        "The PDF's list of pages loops on itself, so the file is damaged: {detail}.",
        "La liste des pages du PDF boucle sur elle-même, donc le fichier est endommagé : {detail}.",
    ),
    "decompression_bomb": (
        "The PDF holds compressed content far too large to open safely ({detail}).",
        "Le PDF contient du contenu compressé beaucoup trop volumineux pour être ouvert en sécurité ({detail}).",
    ),
    "too_many_objects": (
        "The PDF holds far more objects than a document of its size should ({detail}); it cannot be read safely.",
        "Le PDF contient beaucoup plus d'objets qu'un document de cette taille ne devrait en avoir ({detail}); il ne peut pas être lu en sécurité.",
    ),
    "unsafe": (
        "The PDF could not be read safely: {detail}.",
        "Le PDF n'a pas pu être lu en sécurité : {detail}.",
    ),
    "pages_unreadable": (
        "The file cannot be read as a PDF: the PDF reader could not open every page.",
        "Le fichier ne peut pas être lu comme un PDF : le lecteur PDF n'a pas pu en ouvrir toutes les pages.",
    ),
    "page_count_differs": (
        "The PDF is damaged: once repaired, the PDF reader finds {reader} page(s) where its list of pages holds "
        "{listed}. Save or export it again and resubmit it.",
        "Le PDF est endommagé : une fois réparé, le lecteur PDF y trouve {reader} page(s) alors que sa liste de "
        "pages en compte {listed}. Enregistrez-le ou exportez-le de nouveau, puis soumettez-le à nouveau.",
    ),
}
REPAIRED = (
    "The PDF is readable. Noted: it was repaired on reading, as PDF readers do (its internal structure had "
    "faults), and its {count} page(s) open.",
    "Le PDF est lisible. À noter : il a été réparé à la lecture, comme le font les lecteurs PDF (sa structure "
    "interne comportait des défauts), et ses {count} page(s) s'ouvrent.",
)
DAMAGED_PAGES = (
    "Part of the content of {pages} is damaged and may not show (compressed data that cannot be decoded); the "
    "rest of the PDF reads. Check {those} in the file, and resubmit it if content is missing.",
    "Une partie du contenu {pages} est endommagée et pourrait ne pas s'afficher (des données compressées "
    "illisibles); le reste du PDF se lit. Vérifiez {those} dans le fichier et soumettez-le à nouveau s'il y "
    "manque du contenu.",
)
READER_ERROR = (" The PDF reader stopped with: {error}", " Le lecteur PDF s'est arrêté sur : {error}")

# Why a sandboxed reader gave no verdict, in words.
STOPS = {
    "timed_out": ("reading it took longer than allowed", "sa lecture a pris plus de temps que permis"),
    "killed_by_SIGXCPU": (
        "reading it used more processor time than allowed",
        "sa lecture a exigé plus de temps de processeur que permis",
    ),
    "killed_by_SIGKILL": ("the reader was stopped", "le lecteur a été arrêté"),
}
CRASH = ("the reader stopped on it", "le lecteur s'est arrêté sur ce fichier")


def check_readable(document: DocumentFacts, context: CheckContext) -> CheckResult | None:
    structure = document.structure
    problem = structure.get("problem")
    error = document.reading.get("reader_error") or ""
    if problem in ("user_password", "too_many_pages"):
        return None  # the encryption and page count checks say it better
    if problem == "unsafe":
        return _unsafe(structure.get("detail") or "", error)
    if problem is not None:
        return _failed(problem, structure, error)
    if document.pages_error == "exit_status_1" and error:
        # PDFium raised an error on a page it could not load: a damaged file, not a hostile one
        return _failed("pages_unreadable", {}, error)
    if document.pages_error is not None:
        return _unsafe(document.pages_error, error)
    return _read(document)


def _read(document: DocumentFacts) -> CheckResult:
    """A file PDFium read: clean, repaired on reading (noted), or with damaged streams (a warning)."""
    structure = document.structure
    damaged_streams = structure.get("damaged_streams", [])
    damaged_pages = sorted({page for stream in damaged_streams for page in stream["pages"]})
    if damaged_pages:
        return _damaged_pages(damaged_pages, structure)
    if structure.get("repaired") or damaged_streams:
        english, french = REPAIRED
        count = document.page_count
        details = {
            "repaired": True,
            "warnings": structure.get("warnings", []),
            "detail": structure.get("detail"),
        }
        return CheckResult(
            CODE, Outcome.PASS, english.format(count=count), french.format(count=count), details
        )
    return CheckResult(CODE, Outcome.PASS, "The PDF is readable.", "Le PDF est lisible.")


def _failed(problem: str, structure: dict, error: str) -> CheckResult:
    english, french = PROBLEMS.get(problem, PROBLEMS["unreadable"])
    detail = structure.get("detail") or problem
    values = {
        "detail": detail,
        "reader": structure.get("reader_page_count"),
        "listed": structure.get("page_count"),
    }
    details = {"problem": problem, "detail": detail}
    if problem == "page_count_differs":
        details.update(reader_page_count=values["reader"], page_count=values["listed"])
    return _failure(english.format(**values), french.format(**values), details, error)


def _damaged_pages(pages: list[int], structure: dict) -> CheckResult:
    """A warning naming the pages whose content a corrupt stream belongs to."""
    english, french = DAMAGED_PAGES
    listed = page_ranges(pages)
    several = len(pages) > 1
    english = english.format(
        pages=f"{'pages' if several else 'page'} {listed}", those="those pages" if several else "that page"
    )
    french = french.format(
        pages=f"{'des pages' if several else 'de la page'} {listed}",
        those="ces pages" if several else "cette page",
    )
    details = {"damaged_pages": pages, "damaged_streams": structure.get("damaged_streams", [])}
    return CheckResult(CODE, Outcome.WARNING, english, french, details)


def _unsafe(stop: str, error: str) -> CheckResult:
    english, french = PROBLEMS["unsafe"]
    why_english, why_french = STOPS.get(stop, CRASH)
    details = {"problem": "unsafe", "detail": stop}
    return _failure(english.format(detail=why_english), french.format(detail=why_french), details, error)


def _failure(english: str, french: str, details: dict, error: str) -> CheckResult:
    """A failure, with the reader's last error line when it stopped with one."""
    if error:
        english += READER_ERROR[0].format(error=error)
        french += READER_ERROR[1].format(error=error)
        details = {**details, "reader_error": error}
    return CheckResult(CODE, Outcome.FAILURE, english, french, details)
