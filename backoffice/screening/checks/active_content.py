"""Rule 3: active content (scripts, launch actions, embedded files, XFA forms, rich media) is refused; links are noted."""

from backoffice.screening.checks.base import CheckContext, CheckResult, DocumentFacts, Outcome

CODE = "active_content"

KINDS = {
    "javascript": ("JavaScript", "JavaScript"),
    "launch": (
        "actions that launch programs or import data",
        "actions qui lancent des programmes ou importent des données",
    ),
    "embedded_file": ("embedded files", "fichiers intégrés"),
    "xfa": ("an XFA form", "un formulaire XFA"),
    "rich_media": ("rich media (video, Flash)", "contenu multimédia (vidéo, Flash)"),
    "submit_form": ("form submission actions", "actions d'envoi de formulaire"),
}


def check_active_content(document: DocumentFacts, context: CheckContext) -> CheckResult | None:
    """Active content found is reported even in a file that does not read: damage must not hide a script."""
    found = {kind: count for kind, count in document.structure.get("active_content", {}).items() if count}
    if not found and not document.structure.get("readable"):
        return None
    links = document.structure.get("links", 0)
    if found:
        english = ", ".join(KINDS.get(kind, (kind, kind))[0] for kind in sorted(found))
        french = ", ".join(KINDS.get(kind, (kind, kind))[1] for kind in sorted(found))
        return CheckResult(
            CODE,
            Outcome.FAILURE,
            f"The PDF holds active content, which is not accepted: {english}. Print it to a plain PDF and resubmit it.",
            f"Le PDF contient du contenu actif, qui n'est pas accepté : {french}. Imprimez-le en PDF simple, puis soumettez-le à nouveau.",
            {"kinds": found, "links": links},
        )
    if links:
        return CheckResult(
            CODE,
            Outcome.PASS,
            f"No active content. Noted: {links} link(s) to web pages or other places.",
            f"Aucun contenu actif. À noter : {links} lien(s) vers des pages Web ou d'autres endroits.",
            {"kinds": {}, "links": links},
        )
    return CheckResult(
        CODE, Outcome.PASS, "No active content.", "Aucun contenu actif.", {"kinds": {}, "links": 0}
    )
