"""The registration form: made as a real fillable PDF, filled in as counsel would, read back in the sandbox."""

import io
import os
from datetime import date
from pathlib import Path

import pdfplumber
import pikepdf
import pytest

from backoffice.devservices import hostile_pdfs
from backoffice.devservices.sample_pdfs import PageSpec, build_pdf
from backoffice.models import Case, CaseStatus, Counsel, CounselKind, CounselOfRecord, Language
from backoffice.screening.pdf_reading import PROBES
from backoffice.screening.sandbox import Limits, run_sandboxed
from backoffice.workflows.registration.form import (
    FIELD_NAMES,
    Difference,
    FormReading,
    check_registration_values,
    compare_with_counsel,
    file_numbers_not_of_record,
    form_values_for,
    normalise_mobile,
    parse_file_numbers,
    read_registration_form,
    registration_form_pdf,
)
from tests.factories import create_case, create_counsel, make_counsel_of_record
from tests.helpers import fill_in, flattened

COMPLETE = {
    "full_name": "Marie-Hélène Côté",
    "regulator": "Barreau du Québec",
    "membership_number": "123456-7",
    "email": "mh.cote@avocats.example",
    "mobile": "514-555-0199",
    "postal_address": "1234, rue Sainte-Catherine Ouest\nMontréal (Québec) H3G 1P1",
    "preferred_language": "fr",
    "file_numbers": "MB5-04801\n0003-B5-01234",
}


def counsel_on_record(**fields) -> Counsel:
    """Unsaved counsel of record on two active cases, one case closed and one where they were replaced."""
    counsel = Counsel(
        external_id="C-1",
        kind=fields.pop("kind", CounselKind.LAWYER),
        full_name=fields.pop("full_name", COMPLETE["full_name"]),
        regulator=fields.pop("regulator", COMPLETE["regulator"]),
        membership_number=fields.pop("membership_number", COMPLETE["membership_number"]),
        email=fields.pop("email", COMPLETE["email"]),
        mobile=fields.pop("mobile", "+15145550199"),
        postal_address=fields.pop("postal_address", COMPLETE["postal_address"]),
        preferred_language=fields.pop("preferred_language", Language.FRENCH),
        **fields,
    )
    for file_number, status, ended_on in (
        ("MB5-04801", CaseStatus.ACTIVE, None),
        ("0003-B5-01234", CaseStatus.ACTIVE, None),
        ("MB4-00001", CaseStatus.CLOSED, None),
        ("MB5-09999", CaseStatus.ACTIVE, date(2026, 2, 1)),
    ):
        CounselOfRecord(case=Case(file_number=file_number, status=status), counsel=counsel, ended_on=ended_on)
    return counsel


def write(tmp_path: Path, data: bytes, name: str = "returned.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def form_text(data: bytes) -> str:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        texts = []
        for page in pdf.pages:
            texts.append(page.extract_text())
            page.close()
    return "\n".join(texts)


def field_values(data: bytes) -> dict[str, str]:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        return {str(field.T): str(field.get("/V", "")).lstrip("/") for field in pdf.Root.AcroForm.Fields}


# --------------------------------------------------------------------------------------------- the form


def test_blank_form_has_every_registration_field_and_nothing_filled_in() -> None:
    form = registration_form_pdf()

    assert field_values(form) == dict.fromkeys(FIELD_NAMES, "")


def test_form_is_one_page_with_every_label_in_english_and_french() -> None:
    form = registration_form_pdf()

    text = form_text(form)
    with pdfplumber.open(io.BytesIO(form)) as pdf:
        assert len(pdf.pages) == 1
        assert pdf.metadata["Title"] == "My Case registration form / Formulaire d'inscription à Mon dossier"
    for words in (
        "My Case registration form",
        "Formulaire d'inscription à Mon dossier",
        "Immigration and Refugee Board of Canada",
        "Commission de l'immigration et du statut de réfugié du Canada",
        "Fill in this form on your computer",
        "Remplissez ce formulaire à l'ordinateur",
        "My Case mailboxes / Boîtes de courriel Mon dossier",
        "IRB.mycasewestern-mondossierouest.CISR@irb-cisr.gc.ca",
        "IRB.mycasecentral-mondossiercentre.CISR@irb-cisr.gc.ca",
        "irb.MyCaseEastern-mondossierEst.cisr@cisr-irb.gc.ca",
        "Full name",
        "Nom complet",
        "Regulator",
        "Ordre professionnel",
        "Membership number",
        "Numéro de membre",
        "Email address",
        "Adresse courriel",
        "Mobile number (for SMS access codes)",
        "Cellulaire (codes d'accès par texto)",
        "Postal address",
        "Adresse postale",
        "Preferred official language",
        "Langue officielle de préférence",
        "English / anglais",
        "French / français",
        "File numbers of your active cases",
        "Numéros de vos dossiers actifs",
    ):
        assert words in text


def test_form_is_the_same_bytes_every_time() -> None:
    assert registration_form_pdf() == registration_form_pdf()
    assert registration_form_pdf(counsel_on_record()) == registration_form_pdf(counsel_on_record())


def test_form_for_counsel_is_prefilled_with_what_the_back_office_knows() -> None:
    form = registration_form_pdf(counsel_on_record())

    assert field_values(form) == {
        **COMPLETE,
        "mobile": "+15145550199",
        "file_numbers": "0003-B5-01234\nMB5-04801",
    }
    assert "Marie-Hélène Côté" in form_text(flattened(form))  # drawn in the field, not only stored in it


def test_prefilled_file_numbers_are_only_active_cases_still_of_record() -> None:
    assert form_values_for(counsel_on_record())["file_numbers"] == "0003-B5-01234\nMB5-04801"


def test_counsel_of_record_in_the_database_get_their_active_file_numbers_on_the_form(app) -> None:
    counsel = create_counsel(full_name="Jane Doe", mobile="604-555-0199")
    make_counsel_of_record(create_case("western", file_number="VB5-02246"), counsel)
    make_counsel_of_record(create_case("central", file_number="TB5-12345"), counsel)
    make_counsel_of_record(create_case("western", file_number="VB4-00001", status=CaseStatus.CLOSED), counsel)
    replaced = make_counsel_of_record(create_case("eastern", file_number="MB5-04801"), counsel)
    replaced.ended_on = date(2026, 2, 1)

    values = field_values(registration_form_pdf(counsel))

    assert values["file_numbers"] == "TB5-12345\nVB5-02246"
    assert values["full_name"] == "Jane Doe"
    assert values["preferred_language"] == "en"


def test_names_beyond_latin1_are_prefilled_for_viewers_to_draw(tmp_path) -> None:
    counsel = counsel_on_record(full_name="Łukasz O’Brien-Nguyễn")

    form = registration_form_pdf(counsel)

    assert field_values(form)["full_name"] == "Łukasz O’Brien-Nguyễn"
    with pikepdf.open(io.BytesIO(form)) as pdf:
        assert pdf.Root.AcroForm.NeedAppearances
    reading = read_registration_form(write(tmp_path, form))
    assert reading.fields["full_name"] == "Łukasz O’Brien-Nguyễn"
    assert reading.fields["preferred_language"] == "fr"


# --------------------------------------------------------------------------------------------- reading


def test_form_filled_in_by_counsel_is_read_back_with_every_value(tmp_path) -> None:
    returned = fill_in(registration_form_pdf(), COMPLETE)

    reading = read_registration_form(write(tmp_path, returned))

    assert reading == FormReading(fields=COMPLETE, flattened=False)
    assert check_registration_values(reading.fields) == []


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: b"%!PS-Adobe-3.0 printed by a driver\n" * 8 + data,  # a banner before the header
        lambda data: data[: data.rfind(b"startxref")] + b"startxref\n999999\n%%EOF\n",  # a wrong startxref
    ],
    ids=["banner", "wrong-startxref"],
)
def test_a_returned_form_readers_open_despite_damage_is_read(tmp_path, damage) -> None:
    returned = damage(fill_in(registration_form_pdf(), COMPLETE))

    reading = read_registration_form(write(tmp_path, returned))

    assert reading == FormReading(fields=COMPLETE, flattened=False)


def test_prefilled_form_returned_unchanged_matches_the_counsel_record(tmp_path) -> None:
    counsel = counsel_on_record()

    reading = read_registration_form(write(tmp_path, registration_form_pdf(counsel)))

    assert reading.fields["file_numbers"] == "0003-B5-01234\nMB5-04801"
    assert compare_with_counsel(reading.fields, counsel) == []
    assert file_numbers_not_of_record(reading.fields, counsel) == []


def test_blank_form_returned_is_read_as_empty_fields_not_as_flattened(tmp_path) -> None:
    reading = read_registration_form(write(tmp_path, registration_form_pdf()))

    assert reading.fields == dict.fromkeys(FIELD_NAMES, "")
    assert reading.flattened is False
    required = [name for name in FIELD_NAMES if name != "regulator"]
    assert [item.field for item in check_registration_values(reading.fields)] == required


def test_flattened_form_is_readable_but_has_no_fields(tmp_path) -> None:
    form = flattened(fill_in(registration_form_pdf(), COMPLETE))

    reading = read_registration_form(write(tmp_path, form))

    assert reading == FormReading(fields={}, flattened=True)
    assert "MB5-04801" in form_text(form)  # for the clerk to read and type in


def test_form_printed_and_scanned_is_readable_but_has_no_fields(tmp_path) -> None:
    lines = [f"{name}: {value}" for name, value in COMPLETE.items()]
    typed = build_pdf([PageSpec(heading="My Case registration form / Formulaire d'inscription", lines=lines)])
    scanned = build_pdf([PageSpec(heading="My Case registration form", lines=lines, scanned=True)])

    for data in (typed, scanned):
        assert read_registration_form(write(tmp_path, data)) == FormReading(fields={}, flattened=True)


def test_form_protected_by_a_password_is_not_read_and_says_why_in_both_languages(tmp_path) -> None:
    path = tmp_path / "protected.pdf"
    with pikepdf.open(io.BytesIO(fill_in(registration_form_pdf(), COMPLETE))) as pdf:
        pdf.save(path, encryption=pikepdf.Encryption(user="secret", owner="owner-secret", R=6))

    reading = read_registration_form(path)

    assert reading.fields is None
    assert reading.flattened is False
    assert "password" in reading.problem_en
    assert "mot de passe" in reading.problem_fr


@pytest.mark.parametrize(
    ("sample", "english", "french"),
    [
        ("header_then_garbage", "damaged", "endommagé"),
        ("truncated", "damaged", "endommagé"),
        ("wav_renamed", "not a PDF", "n'est pas un PDF"),
        ("bomb_in_metadata", "could not be read safely", "n'a pas pu être lu en sécurité"),
    ],
)
def test_hostile_file_gives_no_fields_and_a_problem_in_both_languages(
    tmp_path, sample, english, french
) -> None:
    path = hostile_pdfs.SAMPLES[sample](tmp_path / f"{sample}.pdf")

    reading = read_registration_form(path)

    assert reading.fields is None
    assert english in reading.problem_en
    assert french in reading.problem_fr


def test_pdf_header_then_garbage_gives_no_fields(tmp_path) -> None:
    reading = read_registration_form(write(tmp_path, b"%PDF-1.7 garbage"))

    assert reading.fields is None
    assert reading.problem_en and reading.problem_fr


def test_reader_that_runs_out_of_time_gives_no_fields(tmp_path) -> None:
    # A named pipe that no one writes to: the reader waits on it until its time is up, however fast the machine.
    path = tmp_path / "never-ends.pdf"
    os.mkfifo(path)

    reading = read_registration_form(path, Limits(wall_seconds=0.01))

    assert reading.fields is None
    assert reading.problem_en == "The returned file could not be read safely."
    assert reading.problem_fr == "Le fichier renvoyé n'a pas pu être lu en sécurité."


def with_extra_fields(form: bytes, make_fields) -> bytes:
    with pikepdf.open(io.BytesIO(form)) as pdf:
        for field in make_fields(pdf):
            pdf.Root.AcroForm.Fields.append(pdf.make_indirect(field))
        output = io.BytesIO()
        pdf.save(output)
    return output.getvalue()


def test_field_probe_caps_values_at_2000_characters_and_fields_at_100(tmp_path) -> None:
    def many(pdf):
        return [
            pikepdf.Dictionary(FT=pikepdf.Name.Tx, T=pikepdf.String(f"extra_{n:03d}"), V="x" * 5000)
            for n in range(150)
        ]

    path = write(tmp_path, with_extra_fields(fill_in(registration_form_pdf(), COMPLETE), many))

    verdict = run_sandboxed(PROBES / "form_fields.py", [str(path)], Limits())

    fields = verdict.answer["fields"]
    assert len(fields) == 100
    assert fields["full_name"] == COMPLETE["full_name"]
    assert fields["extra_000"] == "x" * 2000


def test_field_tree_looping_on_itself_is_read_once(tmp_path) -> None:
    def looping(pdf):
        group = pdf.make_indirect(pikepdf.Dictionary(T=pikepdf.String("group")))
        kid = pdf.make_indirect(pikepdf.Dictionary(FT=pikepdf.Name.Tx, T=pikepdf.String("kid"), V="value"))
        kid.Kids = pikepdf.Array([group, kid])
        group.Kids = pikepdf.Array([kid, group])
        return [group]

    path = write(tmp_path, with_extra_fields(fill_in(registration_form_pdf(), COMPLETE), looping))

    reading = read_registration_form(path)
    verdict = run_sandboxed(PROBES / "form_fields.py", [str(path)], Limits())

    assert reading.fields == COMPLETE
    # Each node once: "kid" has named kids (itself, its parent), so it is a group with no value of its own.
    assert set(verdict.answer["fields"]) == set(FIELD_NAMES)


def test_field_probe_gives_names_of_options_without_their_slash_and_lists_joined(tmp_path) -> None:
    def choices(pdf):
        return [
            pikepdf.Dictionary(FT=pikepdf.Name.Ch, T=pikepdf.String("several"), V=pikepdf.Array(["a", "b"])),
            pikepdf.Dictionary(FT=pikepdf.Name.Btn, T=pikepdf.String("box"), V=pikepdf.Name.Yes),
            pikepdf.Dictionary(FT=pikepdf.Name.Tx, T=pikepdf.String("odd"), V=pikepdf.Dictionary(A=1)),
        ]

    path = write(tmp_path, with_extra_fields(registration_form_pdf(), choices))

    fields = run_sandboxed(PROBES / "form_fields.py", [str(path)], Limits()).answer["fields"]

    assert (fields["several"], fields["box"], fields["odd"]) == ("a, b", "Yes", "")


# --------------------------------------------------------------------------------------------- checking


def problems_with(**changes: str) -> dict[str, tuple[str, str]]:
    return {item.field: (item.en, item.fr) for item in check_registration_values({**COMPLETE, **changes})}


def test_complete_values_have_nothing_missing() -> None:
    assert check_registration_values(COMPLETE) == []


@pytest.mark.parametrize("field", ["full_name", "email", "mobile", "postal_address", "membership_number"])
def test_required_field_left_blank_is_listed_in_both_languages(field) -> None:
    problems = problems_with(**{field: "  "})

    assert list(problems) == [field]
    english, french = problems[field]
    assert english.endswith(": required, but left blank")
    assert french.endswith(" : obligatoire, mais laissé vide")


def test_missing_items_name_the_field_plainly_in_both_languages() -> None:
    assert problems_with(membership_number="") == {
        "membership_number": (
            "Membership number: required, but left blank",
            "Numéro de membre : obligatoire, mais laissé vide",
        )
    }


def test_unpaid_counsel_need_no_membership_number() -> None:
    values = {**COMPLETE, "regulator": "", "membership_number": ""}

    assert check_registration_values(values, kind=CounselKind.UNPAID) == []
    assert check_registration_values(values, kind="unpaid") == []
    assert [item.field for item in check_registration_values(values, kind="lawyer")] == ["membership_number"]


PLAUSIBLE_VALUES = {
    "membership_number": ["123456-7", "LSO-P12345", "R512345", "ABC", "A" * 20],
    "email": ["jane.doe@law.example", " Jane.Doe+irb@Cabinet-Avocats.ca "],
    "preferred_language": ["en", "fr", "FR", " English ", "français"],
    "file_numbers": [
        "TB5-12345",
        "tb5-12345",
        "TB5-12345, MB5-04801",
        "TB5-12345\n\n0003-B5-01234\n",
        "TB5-12345; VB5-02246",
    ],
}


@pytest.mark.parametrize(
    ("field", "value"), [(field, value) for field, values in PLAUSIBLE_VALUES.items() for value in values]
)
def test_a_plausible_value_of_a_field_passes(field: str, value: str) -> None:
    assert problems_with(**{field: value}) == {}


@pytest.mark.parametrize("number", ["12", "A" * 21, "123 456", "LSO#123", "---"])
def test_membership_number_of_an_implausible_format_is_listed(number) -> None:
    assert (
        "3 to 20 letters, digits or dashes" in problems_with(membership_number=number)["membership_number"][0]
    )


def test_unpaid_counsel_who_give_a_membership_number_still_give_a_plausible_one() -> None:
    items = check_registration_values({**COMPLETE, "membership_number": "#"}, kind="unpaid")

    assert [item.field for item in items] == ["membership_number"]


@pytest.mark.parametrize("email", ["jane.doe", "jane@", "jane doe@law.example", "jane@@law.example"])
def test_invalid_email_is_listed(email) -> None:
    assert problems_with(email=email) == {
        "email": (
            "Email address: not a valid email address",
            "Adresse courriel : adresse courriel non valide",
        )
    }


@pytest.mark.parametrize(
    "mobile",
    [
        "6045550199",
        "604-555-0199",
        "604.555.0199",
        "604 555 0199",
        "(604) 555-0199",
        "(604)555-0199",
        "1-604-555-0199",
        "1 (604) 555-0199",
        "+1 604 555 0199",
        "+16045550199",
        "  +1-604-555-0199 ",
    ],
)
def test_canadian_or_us_mobile_number_passes_and_is_normalised_to_e164(mobile) -> None:
    assert problems_with(mobile=mobile) == {}
    assert normalise_mobile(mobile) == "+16045550199"


@pytest.mark.parametrize(
    "mobile",
    [
        "555-0199",
        "604-555-019",
        "604-555-01999",
        "+44 20 7946 0958",
        "+6045550199",
        "2-604-555-0199",
        "104-555-0199",
        "604-155-0199",
        "(604 555-0199",
        "604--555-0199",
        "604-555-0199 ext. 2",
        "six zero four",
    ],
)
def test_number_that_is_not_a_canadian_or_us_mobile_is_listed(mobile) -> None:
    assert normalise_mobile(mobile) is None
    english, french = problems_with(mobile=mobile)["mobile"]
    assert english.startswith("Mobile number (for SMS access codes): not a Canadian or US mobile number")
    assert french.startswith("Cellulaire (codes d'accès par texto) : n'est pas un numéro de cellulaire")


@pytest.mark.parametrize("language", ["", "es", "bilingual"])
def test_language_other_than_english_or_french_is_listed(language) -> None:
    assert problems_with(preferred_language=language) == {
        "preferred_language": (
            "Preferred official language: choose English or French",
            "Langue officielle de préférence : choisissez le français ou l'anglais",
        )
    }


def test_no_file_number_is_listed() -> None:
    assert problems_with(file_numbers=" \n , ")["file_numbers"] == (
        "File numbers of your active cases: give the file number of at least one of your active cases",
        "Numéros de vos dossiers actifs : indiquez le numéro d'au moins un de vos dossiers actifs",
    )


def test_file_numbers_that_are_not_irb_file_numbers_are_each_named() -> None:
    english, french = problems_with(file_numbers="TB5-12345\nTB5-1234\n2401234/2024")["file_numbers"]

    assert "not IRB file numbers: TB5-1234, 2401234/2024" in english
    assert "numéros de dossier de la CISR non valides : TB5-1234, 2401234/2024" in french


def test_file_numbers_are_split_on_lines_and_commas_normalised_and_given_once() -> None:
    assert parse_file_numbers(" tb5-12345,MB5-04801\nTB5-12345\n") == ["TB5-12345", "MB5-04801"]


# --------------------------------------------------------------------------------------------- comparing


def differences_with(counsel: Counsel, **changes: str) -> list[Difference]:
    """What a form holding the complete values, but for `changes`, says differently from the record."""
    return compare_with_counsel({**COMPLETE, **changes}, counsel)


def test_form_that_says_what_the_record_says_has_no_differences() -> None:
    written_otherwise = {
        "full_name": "  marie-hélène   CÔTÉ ",
        "email": "MH.Cote@Avocats.example",
        "mobile": "(514) 555-0199",
        "postal_address": "1234 rue Sainte-Catherine Ouest, Montréal (Québec)  H3G 1P1",
        "preferred_language": "French",
    }

    assert differences_with(counsel_on_record(), **written_otherwise) == []


def test_comparison_lists_exactly_the_changed_fields() -> None:
    new_email = "marie-helene@nouveau-cabinet.example"

    differences = differences_with(
        counsel_on_record(), email=new_email, mobile="438.555.0123", preferred_language="en"
    )

    assert differences == [
        Difference("email", "Email address", "Adresse courriel", COMPLETE["email"], new_email),
        Difference(
            "mobile",
            "Mobile number (for SMS access codes)",
            "Cellulaire (codes d'accès par texto)",
            "+15145550199",
            "+14385550123",
        ),
        Difference(
            "preferred_language", "Preferred official language", "Langue officielle de préférence", "fr", "en"
        ),
    ]


def test_what_the_record_lacks_and_the_form_gives_is_a_difference() -> None:
    differences = differences_with(counsel_on_record(mobile=None, postal_address=None))

    assert [(item.field, item.on_record, item.on_form) for item in differences] == [
        ("mobile", "", "+15145550199"),
        ("postal_address", "", COMPLETE["postal_address"]),
    ]


def test_file_numbers_of_cases_not_of_record_are_named() -> None:
    values = {**COMPLETE, "file_numbers": "MB5-04801\nmb4-00001\nMB5-09999\nTB5-12345"}

    assert file_numbers_not_of_record(values, counsel_on_record()) == ["MB4-00001", "MB5-09999", "TB5-12345"]


def test_a_returned_form_is_read_from_the_file_received_not_fetched_back_from_the_store(
    app, monkeypatch
) -> None:
    from backoffice.integrations.storage import document_store
    from backoffice.models import InvitationChannel
    from backoffice.workflows.registration import machine
    from backoffice.workflows.registration.returned_form import store_returned_form
    from tests.factories import create_staff

    counsel = create_counsel(full_name="Jane Doe", mobile="604-555-0199")
    make_counsel_of_record(create_case("western", file_number="VB5-02246"), counsel)
    clerk = create_staff("clerk", "western")
    registration = machine.start_registration(counsel, InvitationChannel.EMAIL, clerk)
    store = document_store()

    def fetched_back(self, sha256):
        raise AssertionError("the form just received was fetched back from the store")

    monkeypatch.setattr(type(store), "local_copy", fetched_back)
    returned = fill_in(registration_form_pdf(counsel), COMPLETE)

    reading = store_returned_form(registration, io.BytesIO(returned), clerk)

    assert reading == FormReading(fields=COMPLETE, flattened=False)
    assert store.stored_size(registration.form_sha256) == len(returned)
    assert not store.working_dir.exists() or list(store.working_dir.iterdir()) == []
