"""Rule 1: the file is a PDF that can be read, neither damaged, truncated nor hostile to the reader."""

from backoffice.screening.checks.base import CheckContext, CheckResult, DocumentFacts, Outcome

CODE = "readable"

PROBLEMS = {
    "not_pdf": (
        "The file does not start as a PDF must (with %PDF- at its first byte).",
        "Le fichier ne commence pas comme un PDF (par %PDF- au premier octet).",
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
}

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
    problem = document.structure.get("problem")
    if problem in ("user_password", "too_many_pages"):
        return None  # the encryption and page count checks say it better
    if problem == "unsafe":
        return _unsafe(document.structure.get("detail") or "")
    if problem is not None:
        english, french = PROBLEMS.get(problem, PROBLEMS["unreadable"])
        detail = document.structure.get("detail") or problem
        return CheckResult(
            CODE,
            Outcome.FAILURE,
            english.format(detail=detail),
            french.format(detail=detail),
            {"problem": problem, "detail": detail},
        )
    if document.pages_error is not None:
        return _unsafe(document.pages_error)
    return CheckResult(CODE, Outcome.PASS, "The PDF is readable.", "Le PDF est lisible.")


def _unsafe(stop: str) -> CheckResult:
    english, french = PROBLEMS["unsafe"]
    why_english, why_french = STOPS.get(stop, CRASH)
    return CheckResult(
        CODE,
        Outcome.FAILURE,
        english.format(detail=why_english),
        french.format(detail=why_french),
        {"problem": "unsafe", "detail": stop},
    )
