"""The My Case registration form: the fillable PDF counsel receive with their invitation, reading the form
they return, checking its values and comparing them with what the back office knows.

The returned form is untrusted: it is read only in sandboxed children, first the structural pre-check
(`pdf_probes/structure.py`, with PDFium's word on a file qpdf repaired), then, for a file it cleared, the
form fields with pdfplumber
(`pdf_probes/form_fields.py`), in the order design/PDF-SCREENING.md derives.

Texts here are plain English and French pairs, not gettext messages: a form, or a "form incomplete"
message to counsel, carries both languages whatever the reader's locale.
"""

import io
import re
from dataclasses import dataclass
from pathlib import Path

import pikepdf
from email_validator import EmailNotValidError, validate_email
from reportlab.lib.colors import Color, black
from reportlab.lib.pagesizes import letter
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from backoffice.models import Counsel, CounselKind
from backoffice.screening.pdf_reading import PROBES, ReadingSettings, read_structure
from backoffice.screening.sandbox import Limits, run_sandboxed
from backoffice.workflows.cases import file_number_problem, normalise_file_number

TITLE = "My Case registration form / Formulaire d'inscription à Mon dossier"
BOARD_EN = "Immigration and Refugee Board of Canada"
BOARD_FR = "Commission de l'immigration et du statut de réfugié du Canada"
HELP_DESK = "1-833-777-2433"
# The regional offices' My Case mailboxes (as in the offices reference data): the form is made without a
# database, and counsel may have files in several regions.
MAILBOXES = (
    ("Western Region", "Région de l'Ouest", "IRB.mycasewestern-mondossierouest.CISR@irb-cisr.gc.ca"),
    ("Central Region", "Région du Centre", "IRB.mycasecentral-mondossiercentre.CISR@irb-cisr.gc.ca"),
    ("Eastern Region", "Région de l'Est", "irb.MyCaseEastern-mondossierEst.cisr@cisr-irb.gc.ca"),
)
INSTRUCTIONS_EN = (
    "Fill in this form on your computer, save it, and email the saved PDF to the My Case mailbox of the "
    "regional office that handles your files (below). Send the filled-in PDF itself rather than a printed "
    "and scanned copy, so that your answers can be read. The Board will then invite you to a short Webex "
    "meeting to confirm your identity."
)
INSTRUCTIONS_FR = (
    "Remplissez ce formulaire à l'ordinateur, enregistrez-le et envoyez le PDF enregistré par courriel à la "
    "boîte Mon dossier du bureau régional qui traite vos dossiers (ci-dessous). Envoyez le PDF rempli "
    "lui-même plutôt qu'une copie imprimée et numérisée, afin que vos réponses puissent être lues. La "
    "Commission vous invitera ensuite à une courte rencontre Webex pour confirmer votre identité."
)

FIELD_NAMES = (
    "full_name",
    "regulator",
    "membership_number",
    "email",
    "mobile",
    "postal_address",
    "preferred_language",
    "file_numbers",
)
FIELD_LABELS: dict[str, dict[str, str]] = {
    "full_name": {"en": "Full name", "fr": "Nom complet"},
    "regulator": {"en": "Regulator", "fr": "Ordre professionnel"},
    "membership_number": {"en": "Membership number", "fr": "Numéro de membre"},
    "email": {"en": "Email address", "fr": "Adresse courriel"},
    "mobile": {"en": "Mobile number (for SMS access codes)", "fr": "Cellulaire (codes d'accès par texto)"},
    "postal_address": {"en": "Postal address", "fr": "Adresse postale"},
    "preferred_language": {"en": "Preferred official language", "fr": "Langue officielle de préférence"},
    "file_numbers": {"en": "File numbers of your active cases", "fr": "Numéros de vos dossiers actifs"},
}
# What the form adds under some labels, to say how to fill the field in.
FORM_HINTS: dict[str, dict[str, str]] = {
    "regulator": {
        "en": "Law society, Chambre des notaires du Québec or College of Immigration and Citizenship "
        "Consultants; unpaid counsel leave this and the membership number blank",
        "fr": "Barreau, Chambre des notaires du Québec ou Collège des consultants en immigration et en "
        "citoyenneté; un conseil non rémunéré laisse ce champ et le numéro de membre vides",
    },
    "file_numbers": {
        "en": "IRB file numbers, one per line, for example TB5-12345 or 0003-B5-01234",
        "fr": "Numéros de dossier de la CISR, un par ligne, par exemple TB5-12345 ou 0003-B5-01234",
    },
}
LANGUAGE_CHOICES = (("en", "English / anglais"), ("fr", "French / français"))
LANGUAGE_WORDS = {"en": "en", "english": "en", "anglais": "en", "fr": "fr", "french": "fr", "français": "fr"}

MAX_FORM_PAGES = 50
MEMBERSHIP_NUMBER = re.compile(r"^(?=.*[A-Za-z0-9])[A-Za-z0-9-]{3,20}$")
# A North American number: optional country code 1, then area code and exchange (neither starting with 0
# or 1) and line number, separated by single spaces, dashes or dots, the area code maybe in parentheses.
MOBILE = re.compile(
    r"^(?:\+?1[ .-]?)?(?:\(([2-9]\d{2})\)[ .-]?|([2-9]\d{2})[ .-]?)([2-9]\d{2})[ .-]?(\d{4})$"
)
FILE_NUMBER_SEPARATORS = re.compile(r"[\s,;]+")


@dataclass(frozen=True)
class FormReading:
    """What a returned registration form gave: its fields, or why it could not be read.

    `fields` holds the registration form's fields found in the PDF (name -> value as typed); None when
    the file could not be read, with `problem_en` and `problem_fr` saying why. `flattened` is True when the
    PDF is readable but holds none of the form's fields (printed and scanned, flattened, or another
    document): the clerk then types the values in.
    """

    fields: dict[str, str] | None
    flattened: bool = False
    problem_en: str | None = None
    problem_fr: str | None = None


@dataclass(frozen=True)
class MissingItem:
    """One line of a "form incomplete" message: the field, and what is wrong, in English and French."""

    field: str
    en: str
    fr: str


@dataclass(frozen=True)
class Difference:
    """A field where the returned form says something other than the counsel record."""

    field: str
    label_en: str
    label_fr: str
    on_record: str
    on_form: str


# --------------------------------------------------------------------------------------------- the form

PAGE_WIDTH, PAGE_HEIGHT = letter
MARGIN = 54.0
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN
COLUMN_GAP = 18.0
HALF_WIDTH = (CONTENT_WIDTH - COLUMN_GAP) / 2
LABEL_FONT, LABEL_FRENCH_FONT, LABEL_SIZE, LABEL_LEADING = "Helvetica-Bold", "Helvetica", 8.5, 10.5
HINT_FONT, HINT_SIZE = "Helvetica-Oblique", 7.5
TEXT_FONT, TEXT_SIZE, TEXT_LEADING = "Helvetica", 8.5, 10.5
FIELD_FONT_SIZE = 10
FIELD_FILL = Color(0.93, 0.96, 1.0)
FIELD_BORDER = Color(0.45, 0.5, 0.6)

# (field, width, box height), row by row.
LAYOUT: tuple[tuple[tuple[str, float, float], ...], ...] = (
    (("full_name", CONTENT_WIDTH, 20),),
    (("regulator", CONTENT_WIDTH, 20),),
    (("membership_number", HALF_WIDTH, 20), ("email", HALF_WIDTH, 20)),
    (("mobile", HALF_WIDTH, 20), ("preferred_language", HALF_WIDTH, 14)),
    (("postal_address", CONTENT_WIDTH, 48),),
    (("file_numbers", CONTENT_WIDTH, 72),),
)
MAX_LENGTHS = {"full_name": 200, "regulator": 100, "membership_number": 40, "email": 254, "mobile": 25}
MULTILINE_MAX_LENGTH = 2_000


def registration_form_pdf(counsel: Counsel | None = None) -> bytes:
    """The fillable, bilingual registration form; prefilled with what the back office knows of `counsel`.

    Deterministic: reportlab runs in invariant mode (fixed dates and document id)."""
    values = form_values_for(counsel) if counsel is not None else {}
    drawable = {name: value for name, value in values.items() if _latin1(value)}
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=letter, invariant=1, pageCompression=1)
    canvas.setTitle(TITLE)
    canvas.setAuthor(f"{BOARD_EN} / {BOARD_FR}")
    canvas.setSubject("My Case / Mon dossier")
    top = _draw_heading(canvas)
    top = _draw_instructions(canvas, top)
    _draw_fields(canvas, top - 8, drawable)
    _draw_footer(canvas)
    canvas.showPage()
    canvas.save()
    return _with_values(buffer.getvalue(), {n: v for n, v in values.items() if n not in drawable})


def form_values_for(counsel: Counsel) -> dict[str, str]:
    """What the back office knows of counsel, by form field; blank where it knows nothing."""
    language = counsel.preferred_language
    values = {
        "full_name": counsel.full_name,
        "regulator": counsel.regulator,
        "membership_number": counsel.membership_number,
        "email": counsel.email,
        "mobile": counsel.mobile,
        "postal_address": counsel.postal_address,
        "preferred_language": language.value if language is not None else "",
        "file_numbers": "\n".join(active_file_numbers(counsel)),
    }
    return {name: value or "" for name, value in values.items()}


def active_file_numbers(counsel: Counsel) -> list[str]:
    """File numbers of the active cases on which counsel is (still) counsel of record."""
    return sorted(
        link.case.file_number
        for link in counsel.cases_of_record
        if link.ended_on is None and link.case.is_active
    )


def _latin1(value: str) -> bool:
    """reportlab draws a field's appearance only in Latin-1 ("Łukasz" or "O’Brien" are not)."""
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _draw_heading(canvas: Canvas) -> float:
    top = PAGE_HEIGHT - MARGIN
    canvas.setFont("Helvetica", 9)
    canvas.drawString(MARGIN, top, BOARD_EN)
    canvas.drawRightString(PAGE_WIDTH - MARGIN, top, BOARD_FR)
    canvas.setFont("Helvetica-Bold", 14)
    canvas.drawString(MARGIN, top - 28, "My Case registration form")
    canvas.drawString(MARGIN, top - 46, "Formulaire d'inscription à Mon dossier")
    return top - 66


def _draw_instructions(canvas: Canvas, top: float) -> float:
    """English on the left, French on the right, then the mailboxes in both languages."""
    bottom = min(
        _draw_paragraph(canvas, INSTRUCTIONS_EN, MARGIN, top, HALF_WIDTH),
        _draw_paragraph(canvas, INSTRUCTIONS_FR, MARGIN + HALF_WIDTH + COLUMN_GAP, top, HALF_WIDTH),
    )
    y = bottom - 6
    canvas.setFont(LABEL_FONT, LABEL_SIZE)
    canvas.drawString(MARGIN, y, "My Case mailboxes / Boîtes de courriel Mon dossier")
    canvas.setFont(TEXT_FONT, TEXT_SIZE)
    for english, french, mailbox in MAILBOXES:
        y -= TEXT_LEADING
        canvas.drawString(MARGIN, y, f"{english} / {french}: {mailbox}")
    return y - TEXT_LEADING


def _draw_paragraph(canvas: Canvas, text: str, x: float, top: float, width: float) -> float:
    """Draw `text` wrapped to `width` from baseline `top`; return the baseline after the last line."""
    canvas.setFont(TEXT_FONT, TEXT_SIZE)
    y = top
    for line in simpleSplit(text, TEXT_FONT, TEXT_SIZE, width):
        canvas.drawString(x, y, line)
        y -= TEXT_LEADING
    return y


def _draw_fields(canvas: Canvas, top: float, values: dict[str, str]) -> None:
    for row in LAYOUT:
        top = _draw_row(canvas, row, top, values) - 14


def _draw_row(
    canvas: Canvas, row: tuple[tuple[str, float, float], ...], top: float, values: dict[str, str]
) -> float:
    """Labels side by side from baseline `top`, then the fields, their tops aligned; return the lowest
    field's bottom."""
    columns = [MARGIN + index * (HALF_WIDTH + COLUMN_GAP) for index in range(len(row))]
    field_top = (
        min(
            _draw_label(canvas, name, x, top, width) for x, (name, width, _) in zip(columns, row, strict=True)
        )
        - 5
    )
    for x, (name, width, height) in zip(columns, row, strict=True):
        if name == "preferred_language":
            _draw_language_choice(canvas, x, field_top - height, values.get(name, ""))
        else:
            _draw_text_field(canvas, name, x, field_top - height, width, height, values.get(name, ""))
    return field_top - max(height for _, _, height in row)


def _draw_label(canvas: Canvas, name: str, x: float, top: float, width: float) -> float:
    """The field's label in English, then in French, then its hint; return the last line's baseline."""
    label, hint = FIELD_LABELS[name], FORM_HINTS.get(name)
    canvas.setFillColor(black)
    canvas.setFont(LABEL_FONT, LABEL_SIZE)
    canvas.drawString(x, top, label["en"])
    canvas.setFont(LABEL_FRENCH_FONT, LABEL_SIZE)
    y = top - LABEL_LEADING
    canvas.drawString(x, y, label["fr"])
    if hint:
        canvas.setFont(HINT_FONT, HINT_SIZE)
        for line in simpleSplit(f"{hint['en']} / {hint['fr']}", HINT_FONT, HINT_SIZE, width):
            y -= HINT_SIZE + 2
            canvas.drawString(x, y, line)
    return y


def _draw_text_field(
    canvas: Canvas, name: str, x: float, y: float, width: float, height: float, value: str
) -> None:
    multiline = name in ("postal_address", "file_numbers")
    canvas.acroForm.textfield(
        name=name,
        tooltip=f"{FIELD_LABELS[name]['en']} / {FIELD_LABELS[name]['fr']}",
        value=value,
        x=x,
        y=y,
        width=width,
        height=height,
        fieldFlags="multiline" if multiline else "",
        maxlen=MULTILINE_MAX_LENGTH if multiline else MAX_LENGTHS[name],
        fontName="Helvetica",
        fontSize=FIELD_FONT_SIZE,
        borderStyle="solid",
        borderWidth=0.75,
        borderColor=FIELD_BORDER,
        fillColor=FIELD_FILL,
        textColor=black,
    )


def _draw_language_choice(canvas: Canvas, x: float, y: float, value: str) -> None:
    label = FIELD_LABELS["preferred_language"]
    canvas.setFont(TEXT_FONT, TEXT_SIZE)
    for index, (code, text) in enumerate(LANGUAGE_CHOICES):
        left = x + index * 110
        canvas.acroForm.radio(
            name="preferred_language",
            tooltip=f"{label['en']} / {label['fr']}: {text}",
            value=code,
            selected=value == code,
            x=left,
            y=y,
            size=12,
            buttonStyle="circle",
            shape="circle",
            borderWidth=0.75,
            borderColor=FIELD_BORDER,
            fillColor=FIELD_FILL,
            textColor=black,
        )
        canvas.setFillColor(black)
        canvas.drawString(left + 16, y + 3, text)


def _draw_footer(canvas: Canvas) -> None:
    canvas.setFont(TEXT_FONT, TEXT_SIZE)
    canvas.drawCentredString(
        PAGE_WIDTH / 2,
        MARGIN - 24,
        f"My Case help desk / Service d'assistance Mon dossier : {HELP_DESK}",
    )


def _with_values(pdf: bytes, values: dict[str, str]) -> bytes:
    """Set the values reportlab cannot draw, and ask viewers to draw the fields themselves."""
    if not values:
        return pdf
    with pikepdf.open(io.BytesIO(pdf)) as document:
        for field in document.Root.AcroForm.Fields:
            name = str(field.get("/T", ""))
            if name in values:
                field.V = pikepdf.String(values[name])
        document.Root.AcroForm.NeedAppearances = True
        output = io.BytesIO()
        document.save(output, deterministic_id=True)
    return output.getvalue()


# --------------------------------------------------------------------------------------------- reading


def read_registration_form(path: Path, limits: Limits | None = None) -> FormReading:
    """The fields of a returned form, read in sandboxed children: the structure first, then the fields."""
    limits = limits or Limits()
    structure, _ = read_structure(path, ReadingSettings(max_pages=MAX_FORM_PAGES, limits=limits))
    if not structure.get("readable"):
        return _unreadable(STRUCTURE_PROBLEMS.get(structure.get("problem") or "", "unsafe"))
    verdict = run_sandboxed(PROBES / "form_fields.py", [str(path)], limits)
    found = verdict.answer.get("fields") if verdict.ok else None
    if not isinstance(found, dict):
        return _unreadable("unsafe")
    fields = {name: str(found[name]) for name in FIELD_NAMES if name in found}
    return FormReading(fields=fields, flattened=not fields)


PROBLEMS = {
    "not_pdf": (
        "The returned file is not a PDF.",
        "Le fichier renvoyé n'est pas un PDF.",
    ),
    "user_password": (
        "The returned form is protected by a password, so it cannot be read. Save it without a password "
        "and send it again.",
        "Le formulaire renvoyé est protégé par un mot de passe et ne peut donc pas être lu. Enregistrez-le "
        "sans mot de passe et envoyez-le de nouveau.",
    ),
    "damaged": (
        "The returned form is damaged or incomplete. Save it again and send it again.",
        "Le formulaire renvoyé est endommagé ou incomplet. Enregistrez-le de nouveau et envoyez-le de nouveau.",
    ),
    "too_many_pages": (
        f"The returned file has more than {MAX_FORM_PAGES} pages, so it is not the registration form.",
        f"Le fichier renvoyé compte plus de {MAX_FORM_PAGES} pages; ce n'est donc pas le formulaire "
        "d'inscription.",
    ),
    "unsafe": (
        "The returned file could not be read safely.",
        "Le fichier renvoyé n'a pas pu être lu en sécurité.",
    ),
}
# What structure.py reports, grouped by what counsel can do about it.
STRUCTURE_PROBLEMS = {
    "not_pdf": "not_pdf",
    "user_password": "user_password",
    "damaged": "damaged",
    "unreadable": "damaged",
    "page_tree_loop": "damaged",
    "page_count_differs": "damaged",
    "too_many_pages": "too_many_pages",
}


def _unreadable(problem: str) -> FormReading:
    english, french = PROBLEMS[problem]
    return FormReading(fields=None, problem_en=english, problem_fr=french)


# --------------------------------------------------------------------------------------------- checking


def check_registration_values(values: dict[str, str], kind: str | None = None) -> list[MissingItem]:
    """What is missing or wrong in a registration form's values, in the form's order; empty when complete.

    `kind` is the counsel's kind (CounselKind value): unpaid counsel have no membership number."""
    problems = {
        "full_name": _required(values, "full_name"),
        "membership_number": _membership_number_problem(values, kind),
        "email": _email_problem(values.get("email", "")),
        "mobile": _mobile_problem(values.get("mobile", "")),
        "postal_address": _required(values, "postal_address"),
        "preferred_language": _language_problem(values.get("preferred_language", "")),
        "file_numbers": _file_numbers_problem(values.get("file_numbers", "")),
    }
    return [_missing_item(name, *problems[name]) for name in FIELD_NAMES if problems.get(name) is not None]


REQUIRED = ("required, but left blank", "obligatoire, mais laissé vide")


def _missing_item(name: str, english: str, french: str) -> MissingItem:
    label = FIELD_LABELS[name]
    return MissingItem(name, f"{label['en']}: {english}", f"{label['fr']} : {french}")


def _required(values: dict[str, str], name: str) -> tuple[str, str] | None:
    return REQUIRED if not values.get(name, "").strip() else None


def _membership_number_problem(values: dict[str, str], kind: str | None) -> tuple[str, str] | None:
    number = values.get("membership_number", "").strip()
    if not number:
        return None if kind == CounselKind.UNPAID else REQUIRED
    if not MEMBERSHIP_NUMBER.match(number):
        return (
            "3 to 20 letters, digits or dashes, as your regulator wrote it",
            "de 3 à 20 lettres, chiffres ou traits d'union, comme l'a inscrit votre ordre professionnel",
        )
    return None


def _email_problem(value: str) -> tuple[str, str] | None:
    if not value.strip():
        return REQUIRED
    try:
        validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError:
        return ("not a valid email address", "adresse courriel non valide")
    return None


def _mobile_problem(value: str) -> tuple[str, str] | None:
    if not value.strip():
        return REQUIRED
    if normalise_mobile(value) is None:
        return (
            "not a Canadian or US mobile number of 10 digits, such as 604-555-0199",
            "n'est pas un numéro de cellulaire canadien ou américain à 10 chiffres, comme 604-555-0199",
        )
    return None


def _language_problem(value: str) -> tuple[str, str] | None:
    if normalise_language(value) is None:
        return ("choose English or French", "choisissez le français ou l'anglais")
    return None


def _file_numbers_problem(value: str) -> tuple[str, str] | None:
    numbers = parse_file_numbers(value)
    if not numbers:
        return (
            "give the file number of at least one of your active cases",
            "indiquez le numéro d'au moins un de vos dossiers actifs",
        )
    wrong = [number for number in numbers if file_number_problem(number, None) is not None]
    if wrong:
        listed = ", ".join(wrong)
        return (
            f"not IRB file numbers: {listed} (a file number looks like TB5-12345, or 0003-B5-01234 for "
            "the Immigration Division)",
            f"numéros de dossier de la CISR non valides : {listed} (un numéro de dossier ressemble à "
            "TB5-12345, ou à 0003-B5-01234 pour la Section de l'immigration)",
        )
    return None


def normalise_mobile(value: str) -> str | None:
    """A Canadian or US number in E.164 (+1XXXXXXXXXX), or None when `value` is not one."""
    match = MOBILE.match(" ".join(value.split()))
    if match is None:
        return None
    area = match.group(1) or match.group(2)
    return f"+1{area}{match.group(3)}{match.group(4)}"


def normalise_language(value: str) -> str | None:
    """ "en" or "fr" for a language as a form or a clerk gives it ("fr", "French", "français"), else None."""
    return LANGUAGE_WORDS.get(value.strip().lower())


def parse_file_numbers(value: str) -> list[str]:
    """The file numbers in a form's field, one per line or separated by commas; normalised, each once."""
    numbers = (normalise_file_number(part) for part in FILE_NUMBER_SEPARATORS.split(value))
    return list(dict.fromkeys(number for number in numbers if number))


# --------------------------------------------------------------------------------------------- comparing

COMPARED_FIELDS = tuple(name for name in FIELD_NAMES if name != "file_numbers")


def compare_with_counsel(values: dict[str, str], counsel: Counsel) -> list[Difference]:
    """The fields where the form differs from the counsel record, for the clerk to confirm; differences of
    case and spacing (and a mobile number's or a language's way of writing) do not count."""
    on_record = form_values_for(counsel)
    differences = []
    for name in COMPARED_FIELDS:
        recorded, given = on_record[name], values.get(name, "")
        if _comparable(name, recorded) != _comparable(name, given):
            label = FIELD_LABELS[name]
            differences.append(
                Difference(name, label["en"], label["fr"], recorded.strip(), _as_given(name, given))
            )
    return differences


def file_numbers_not_of_record(values: dict[str, str], counsel: Counsel) -> list[str]:
    """File numbers on the form of cases where counsel is not counsel of record on an active case."""
    of_record = set(active_file_numbers(counsel))
    return [
        number for number in parse_file_numbers(values.get("file_numbers", "")) if number not in of_record
    ]


def _comparable(name: str, value: str) -> str:
    if name == "mobile":
        return normalise_mobile(value) or _plain(value)
    if name == "preferred_language":
        return normalise_language(value) or _plain(value)
    if name == "postal_address":
        return _plain(value.replace(",", " "))
    return _plain(value)


def _plain(value: str) -> str:
    return " ".join(value.split()).casefold()


def _as_given(name: str, value: str) -> str:
    """The form's value as the record would take it."""
    if name == "mobile":
        return normalise_mobile(value) or value.strip()
    if name == "preferred_language":
        return normalise_language(value) or value.strip()
    return _lines(value) if name == "postal_address" else " ".join(value.split())


def _lines(value: str) -> str:
    return "\n".join(line.strip() for line in value.splitlines() if line.strip())
