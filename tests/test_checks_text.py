"""The checks that read a PDF's text: page numbering, table of contents, notice of appeal, unrelated files, one
subject. Pure functions on facts built here by hand: no application, no database."""

import json

import pytest

from backoffice.screening.checks.base import CheckContext, DocumentFacts, Outcome, PageFacts
from backoffice.screening.checks.notice_of_appeal import check_notice_of_appeal
from backoffice.screening.checks.one_subject import check_one_subject
from backoffice.screening.checks.page_numbering import check_page_numbering, document_starts
from backoffice.screening.checks.table_of_contents import check_table_of_contents
from backoffice.screening.checks.unrelated_files import check_unrelated_files

FILE_NUMBER = "TB5-12345"
UCI = "1234-5678"


def context(
    kind: str = "disclosure", division: str = "RPD", ucis: frozenset[str] = frozenset({UCI})
) -> CheckContext:
    return CheckContext(
        document_kind=kind, division=division, file_numbers=frozenset({FILE_NUMBER}), ucis=ucis
    )


def pages_with_footers(
    footers: list[str], scanned: tuple[int, ...] = (), header: str = ""
) -> list[PageFacts]:
    """One page per footer; the pages in `scanned` have no text layer at all."""
    return [
        PageFacts(
            number,
            "" if number in scanned else header,
            "" if number in scanned else footer,
            0 if number in scanned else 1800,
        )
        for number, footer in enumerate(footers, start=1)
    ]


def pages_with_leads(leads: list[str]) -> list[PageFacts]:
    return [PageFacts(number, "", str(number), 1800, lead) for number, lead in enumerate(leads, start=1)]


def numbered(count: int, style: str = "Page {n} of {count}") -> list[str]:
    return [style.format(n=n, count=count) for n in range(1, count + 1)]


def document(
    pages: list[PageFacts] | None,
    first_pages_text: list[str] | None = None,
    bookmarks: int = 0,
    identifiers: dict[str, list[int]] | None = None,
) -> DocumentFacts:
    return DocumentFacts(
        filename="document.pdf",
        size=100_000,
        structure={"page_count": len(pages) if pages is not None else 3},
        pages=pages,
        first_pages_text=first_pages_text
        if first_pages_text is not None
        else [page.lead for page in (pages or [])[:5]],
        bookmarks=bookmarks,
        identifiers=identifiers or {},
    )


def read_numbering_of(footers: list[str], scanned: tuple[int, ...] = (), header: str = ""):
    result = check_page_numbering(document(pages_with_footers(footers, scanned, header)), context())
    assert result is not None and result.code == "page_numbering"
    json.dumps(result.details)
    return result


# Page numbering


def test_page_numbering_applies_only_to_a_disclosure_that_was_read() -> None:
    pages = pages_with_footers(numbered(3))
    assert check_page_numbering(document(pages), context("application")) is None
    assert check_page_numbering(document(pages), context("written_submission")) is None
    assert check_page_numbering(document(None), context()) is None


@pytest.mark.parametrize(
    "style",
    [
        "{n}",
        "- {n} -",
        "Page {n}",
        "Page {n} of 120",
        "p. {n}",
        "{n}/120",
        "Page {n} de 120",
        "page {n} sur 120",
        "Pg. {n}",
        "Smith v. Canada (Citizenship and Immigration)      {n}",
        "{n}      Country report: Nigeria",
    ],
)
def test_every_page_number_format_is_read(style: str) -> None:
    result = read_numbering_of(numbered(4, style))

    assert result.outcome == Outcome.PASS
    assert result.details["pages_without_number"] == []


def test_page_numbers_in_the_header_count_as_well_as_in_the_footer() -> None:
    pages = [
        PageFacts(n, f"Applicant's disclosure   Page {n}", "Protected B when completed", 1800)
        for n in range(1, 4)
    ]

    assert check_page_numbering(document(pages), context()).outcome == Outcome.PASS


def test_disclosure_numbered_in_sequence_passes_in_both_languages() -> None:
    result = read_numbering_of(numbered(120))

    assert result.outcome == Outcome.PASS
    assert result.message_en == "All 120 pages are numbered in sequence."
    assert result.message_fr == "Les 120 pages sont numérotées dans l'ordre."
    assert result.details["documents"] == 1


def test_disclosure_with_a_page_missing_its_number_fails_and_lists_it() -> None:
    footers = numbered(14, "{n}")
    for position in [4, 5, 6, 7, 8, 9, 10, 12]:
        footers[position - 1] = "Protected B"

    result = read_numbering_of(footers)

    assert result.outcome == Outcome.FAILURE
    assert result.details["pages_without_number"] == [4, 5, 6, 7, 8, 9, 10, 12]
    assert result.details["pages_out_of_sequence"] == []
    assert "Pages without a number: 4-10, 12." in result.message_en
    assert "Pages sans numéro : 4-10, 12." in result.message_fr
    assert "numérotées dans l'ordre" in result.message_fr


def test_a_skipped_number_is_reported_once_and_the_sequence_carries_on_from_it() -> None:
    result = read_numbering_of(["1", "2", "3", "5", "6", "7"])

    assert result.outcome == Outcome.FAILURE
    assert result.details["pages_out_of_sequence"] == [4]
    assert result.details["numbers_out_of_sequence"] == [{"page": 4, "expected": 4, "found": 5}]
    assert "Pages out of sequence: 4." in result.message_en
    assert "Pages dont le numéro ne suit pas l'ordre : 4." in result.message_fr


def test_a_page_number_shown_twice_is_out_of_sequence() -> None:
    result = read_numbering_of(["1", "2", "3", "3", "4", "5"])

    assert result.details["numbers_out_of_sequence"] == [{"page": 4, "expected": 4, "found": 3}]
    assert result.details["pages_without_number"] == []


def test_a_bundle_whose_documents_restart_at_one_passes_and_says_where_they_start() -> None:
    result = read_numbering_of(["1", "2", "3", "Page 1 of 2", "Page 2 of 2", "Page 1 of 1", "1", "2"])

    assert result.outcome == Outcome.PASS
    assert result.details["document_starts"] == [4, 6, 7]
    assert result.details["documents"] == 4
    assert "The PDF holds 4 documents, each numbered from 1" in result.message_en
    assert "pages 4, 6-7" in result.message_en
    assert "Le PDF regroupe 4 documents numérotés chacun à partir de 1" in result.message_fr
    assert "aux pages 4, 6-7" in result.message_fr


def test_document_starts_are_the_positions_where_the_numbering_restarts() -> None:
    assert document_starts(pages_with_footers(["1", "2", "1", "2", "3", "1"])) == [3, 6]
    assert document_starts(pages_with_footers(numbered(5))) == []


def test_front_matter_in_roman_numerals_is_numbered_outside_the_arabic_sequence() -> None:
    result = read_numbering_of(["i", "- ii -", "Page iii", "Page IV", "1", "2", "3"])

    assert result.outcome == Outcome.PASS
    assert result.details["roman_numbered"] == [1, 2, 3, 4]
    assert result.details["document_starts"] == []


def test_years_file_numbers_and_sizes_in_footers_do_not_confuse_the_sequence() -> None:
    footers = [f"TB5-12345 – 2024 – 50 MB – printed 2024-01-15\n{n}" for n in [1, 2, 3, 1, 2, 3, 4]]

    result = read_numbering_of(footers, header="Country report 2024")

    assert result.outcome == Outcome.PASS
    assert result.details["document_starts"] == [4]


def test_a_year_on_a_page_without_its_number_is_not_taken_for_one() -> None:
    result = read_numbering_of(["Report 2024\n1", "Report 2024\n2", "Report 2024", "Report 2024\n4"])

    assert result.details["pages_without_number"] == [3]
    assert result.details["pages_out_of_sequence"] == []


def test_a_year_on_a_cover_page_is_not_its_page_number() -> None:
    result = read_numbering_of(["Disclosure, March 2024", "2", "3", "4"])

    assert result.details["pages_without_number"] == [1]
    assert result.details["pages_out_of_sequence"] == []


def test_volume_one_in_every_header_does_not_start_documents() -> None:
    result = read_numbering_of(["1", "2", "", "4", "5"], header="Volume 1")

    assert result.details["pages_without_number"] == [3]
    assert result.details["document_starts"] == []


def test_a_fraction_counts_only_when_its_first_number_is_not_larger_than_the_second() -> None:
    result = read_numbering_of(["1/4", "2/4", "Decision 2401234/2024", "Received 15/01/2024"])

    assert result.details["pages_without_number"] == [3, 4]


def test_scanned_pages_are_not_verifiable_never_unnumbered_and_do_not_break_the_sequence() -> None:
    result = read_numbering_of(["1", "2", "", "", "", "6", "7"], scanned=(3, 4, 5))

    assert result.outcome == Outcome.WARNING
    assert result.details["not_verifiable"] == [3, 4, 5]
    assert result.details["pages_without_number"] == []
    assert result.details["pages_out_of_sequence"] == []
    assert "no text layer" in result.message_en and "3-5" in result.message_en
    assert "couche texte" in result.message_fr and "3-5" in result.message_fr
    assert "n'ont pas pu être vérifiées" in result.message_fr


def test_a_document_of_a_bundle_may_start_on_a_scanned_page() -> None:
    result = read_numbering_of(["1", "2", "3", "", "2", "3"], scanned=(4,))

    assert result.outcome == Outcome.WARNING
    assert result.details["document_starts"] == [4]


def test_a_document_of_a_bundle_whose_cover_has_no_number_is_reported_but_still_starts_there() -> None:
    result = read_numbering_of(["1", "2", "3", "Police report", "2", "3"])

    assert result.details["pages_without_number"] == [4]
    assert result.details["pages_out_of_sequence"] == []
    assert result.details["document_starts"] == [4]


def test_a_disclosure_of_scans_only_cannot_be_verified_at_all() -> None:
    result = read_numbering_of(["", "", ""], scanned=(1, 2, 3))

    assert result.outcome == Outcome.WARNING
    assert result.message_en.startswith("None of the pages could be verified")
    assert result.message_fr.startswith("Aucune page n'a pu être vérifiée")


def test_a_failure_also_names_the_pages_that_could_not_be_verified() -> None:
    result = read_numbering_of(["1", "", "", "Annex"], scanned=(2, 3))

    assert result.outcome == Outcome.FAILURE
    assert result.details["pages_without_number"] == [4]
    assert result.details["not_verifiable"] == [2, 3]
    assert "2-3" in result.message_en and "2-3" in result.message_fr


def test_a_5000_page_bundle_with_scans_and_noisy_footers_is_read() -> None:
    pages = [
        PageFacts(
            position,
            "Country report 2024\nTB5-12345",
            f"Printed 2024-01-15   50 MB\nPage {(position - 1) % 100 + 1} of 100",
            0 if position % 97 == 0 else 2500,
        )
        for position in range(1, 5001)
    ]

    result = check_page_numbering(document(pages), context())

    assert result.outcome == Outcome.WARNING
    assert result.details["counts"] == {
        "pages_without_number": 0,
        "pages_out_of_sequence": 0,
        "numbers_out_of_sequence": 0,
        "document_starts": 49,
        "not_verifiable": 51,
        "roman_numbered": 0,
    }
    assert result.details["document_starts"][:3] == [101, 201, 301]
    assert result.details["documents"] == 50


def test_page_lists_in_the_details_are_capped_but_the_counts_are_exact() -> None:
    footers = [str(n) if n % 2 else "Protected B" for n in range(1, 2401)]

    result = read_numbering_of(footers)

    assert result.details["counts"]["pages_without_number"] == 1200
    assert len(result.details["pages_without_number"]) == 500
    assert "… (1200 pages)" in result.message_en
    assert len(result.message_fr) < 1000


# Table of contents

TABLE_OF_CONTENTS = """Applicant's disclosure
TB5-12345
Table of contents
Tab 1 – Police report ........ 3
Tab 2 – Medical report   p. 5
Tab 3 – Country report 7-9
"""


def bundle(first_page: str, footers: list[str] | None = None, bookmarks: int = 0) -> DocumentFacts:
    """A 9-page disclosure holding three documents (its numbering restarts at pages 4 and 7)."""
    footers = footers or ["1", "2", "3", "1", "2", "3", "1", "2", "3"]
    return document(
        pages_with_footers(footers),
        first_pages_text=[first_page, "Police report", "..."],
        bookmarks=bookmarks,
    )


def test_table_of_contents_applies_only_to_a_disclosure_that_was_read() -> None:
    assert check_table_of_contents(bundle(TABLE_OF_CONTENTS), context("application")) is None
    assert check_table_of_contents(document(None), context()) is None


def test_a_bundle_with_a_table_of_contents_passes() -> None:
    result = check_table_of_contents(bundle(TABLE_OF_CONTENTS), context())

    assert result.code == "table_of_contents"
    assert result.outcome == Outcome.PASS
    assert result.details["table_of_contents_page"] == 1
    assert result.details["entries"] == 3
    assert result.details["documents"] == 3
    assert result.message_en == "Table of contents found on page 1 (3 entries)."
    assert result.message_fr == "Table des matières trouvée à la page 1 (3 entrées)."
    json.dumps(result.details)


@pytest.mark.parametrize(
    "heading",
    [
        "TABLE OF CONTENTS",
        "Contents",
        "Index",
        "List of documents",
        "Table des matières",
        "TABLE DES MATIERES",
        "Sommaire",
        "Index des documents",
        "Liste des documents",
        "Bordereau de pièces",
        "Table of contents / Table des matières",
    ],
)
def test_table_of_contents_headings_in_english_and_french_are_recognised(heading: str) -> None:
    first_page = (
        f"{heading}\nOnglet 1 - Rapport de police 1-3\nOnglet 2 - Rapport médical 4-6\nOnglet 3 - Lettre 7-9"
    )

    assert check_table_of_contents(bundle(first_page), context()).outcome == Outcome.PASS


def test_a_bundle_without_a_table_of_contents_fails() -> None:
    result = check_table_of_contents(
        bundle("Police report\nOn 3 May 2023 the applicant was arrested."), context()
    )

    assert result.outcome == Outcome.FAILURE
    assert result.message_en.startswith(
        "This disclosure holds 3 documents but has no table of contents in its first 5 pages."
    )
    assert "contient 3 documents" in result.message_fr
    assert "aucune table des matières" in result.message_fr
    assert "5 premières pages" in result.message_fr


def test_several_bookmarks_make_a_bundle_even_when_the_numbering_never_restarts() -> None:
    result = check_table_of_contents(bundle("Police report", footers=numbered(9), bookmarks=4), context())

    assert result.outcome == Outcome.FAILURE
    assert result.details["documents"] == 4
    assert "holds 4 documents" in result.message_en


def test_a_single_document_needs_no_table_of_contents() -> None:
    result = check_table_of_contents(bundle("Police report", footers=numbered(9), bookmarks=1), context())

    assert result.outcome == Outcome.PASS
    assert "needs no table of contents" in result.message_en
    assert "aucune table des matières n'est requise" in result.message_fr


def test_a_table_of_contents_pointing_beyond_the_last_page_is_a_warning() -> None:
    first_page = "Index\nPolice report ..... 3\nMedical report ..... 5\nCountry report ..... 450"

    result = check_table_of_contents(bundle(first_page), context())

    assert result.outcome == Outcome.WARNING
    assert result.details["references_beyond_last_page"] == [{"entry": "Country report", "page": 450}]
    assert "beyond the last page (9): Country report (450)" in result.message_en
    assert "au-delà de la dernière page (9) : Country report (450)" in result.message_fr


def test_a_heading_without_three_page_references_is_not_a_table_of_contents() -> None:
    first_page = "Contents\nPolice report ..... 3\nMedical report ..... 5\nThe applicant fears the police."

    assert check_table_of_contents(bundle(first_page), context()).outcome == Outcome.FAILURE


def test_references_that_go_back_and_forth_are_not_a_table_of_contents() -> None:
    first_page = "Index\nCrime rate 2019 ..... 9\nCrime rate 2020 ..... 2\nCrime rate 2021 ..... 8\nCrime rate 2022 ..... 1"

    assert check_table_of_contents(bundle(first_page), context()).outcome == Outcome.FAILURE


def test_a_table_of_contents_may_carry_on_to_the_next_page() -> None:
    disclosure = document(
        pages_with_footers(["i", "ii"] + ["1", "2", "1", "2", "1", "2"]),
        first_pages_text=[
            "Liste des documents\nOnglet 1 ..... 3\nOnglet 2 ..... 5",
            "Onglet 3 ..... 7\nOnglet 4 .... 8",
        ],
    )

    result = check_table_of_contents(disclosure, context())

    assert result.outcome == Outcome.PASS
    assert result.details["entries"] == 4


# Notice of appeal


@pytest.mark.parametrize(
    "title",
    [
        "NOTICE OF APPEAL",
        "Notice of Appeal (Rule 2)",
        "Avis d'appel",
        "AVIS D’APPEL",
        "Notice of appeal / Avis d'appel",
        "Notice of Appeal – Immigration Appeal Division",
        "Notice of appeal - Form IAD-01",
    ],
)
def test_a_notice_of_appeal_title_on_the_first_page_fails(title: str) -> None:
    lead = f"Immigration and Refugee Board of Canada\n{title}\nAppellant: Jane Doe"

    result = check_notice_of_appeal(
        document(pages_with_leads([lead, "Reasons for the appeal"])), context("division_form")
    )

    assert result.code == "notice_of_appeal"
    assert result.outcome == Outcome.FAILURE
    assert result.details == {"pages": [1]}


def test_a_notice_of_appeal_explains_where_to_file_it_in_both_languages() -> None:
    result = check_notice_of_appeal(
        document(pages_with_leads(["NOTICE OF APPEAL (Rule 2)"])), context("application")
    )

    assert result.message_en == (
        "This document looks like a notice of appeal (page 1). A notice of appeal cannot be filed through My Case: "
        "file it directly with the division."
    )
    assert result.message_fr == (
        "Ce document semble être un avis d'appel (page 1). Un avis d'appel ne peut pas être déposé au moyen de "
        "Mon dossier : déposez-le directement auprès de la section."
    )


def test_a_notice_of_appeal_at_the_top_of_a_later_page_is_found() -> None:
    leads = ["Written submissions", "Argument", "Argument", "Avis d'appel\nSection d'appel de l'immigration"]

    result = check_notice_of_appeal(document(pages_with_leads(leads)), context("written_submission"))

    assert result.outcome == Outcome.FAILURE
    assert "(page 4)" in result.message_en and "(page 4)" in result.message_fr


@pytest.mark.parametrize(
    "sentence",
    [
        "The notice of appeal was filed on 3 January 2024.",
        "Notice of appeal was filed on 3 January 2024 and the record followed.",
        "L'avis d'appel a été déposé le 3 janvier 2024.",
        "As stated in the Notice of Appeal, the panel erred.",
    ],
)
def test_a_sentence_mentioning_a_notice_of_appeal_passes(sentence: str) -> None:
    lead = f"Written submissions of the appellant\n{sentence}"

    result = check_notice_of_appeal(document(pages_with_leads([lead])), context("written_submission"))

    assert result.outcome == Outcome.PASS
    assert result.message_fr == "Ce document ne semble pas être un avis d'appel."


def test_notice_of_appeal_is_not_checked_on_a_file_that_was_not_read() -> None:
    assert check_notice_of_appeal(document(None), context()) is None


# Unrelated files


def test_identifiers_of_this_case_pass() -> None:
    result = check_unrelated_files(
        document(pages_with_footers(["1"]), identifiers={FILE_NUMBER: [1], UCI: [1]}), context()
    )

    assert result.code == "unrelated_files"
    assert result.outcome == Outcome.PASS


def test_another_file_number_is_a_warning_listing_its_pages() -> None:
    identifiers = {"TB5-99999": [3, 7], FILE_NUMBER: [1]}

    result = check_unrelated_files(
        document(pages_with_footers(["1"]), identifiers=identifiers), context("application")
    )

    assert result.outcome == Outcome.WARNING
    assert result.details == {"file_numbers": {"TB5-99999": [3, 7]}, "ucis": {}}
    assert result.message_en.startswith("Other files are mentioned: file TB5-99999 (pages 3, 7).")
    assert result.message_fr.startswith("D'autres dossiers sont mentionnés : dossier TB5-99999 (pages 3, 7).")


def test_immigration_division_file_numbers_and_ten_digit_ucis_are_recognised() -> None:
    identifiers = {"0003-B5-01234": [2], "12-3456-7890": [5, 6, 7]}

    result = check_unrelated_files(document(pages_with_footers(["1"]), identifiers=identifiers), context())

    assert result.details == {"file_numbers": {"0003-B5-01234": [2]}, "ucis": {"12-3456-7890": [5, 6, 7]}}
    assert "UCI 12-3456-7890 (pages 5-7)" in result.message_en
    assert "IUC 12-3456-7890 (pages 5-7)" in result.message_fr
    assert "dossier 0003-B5-01234 (page 2)" in result.message_fr


def test_dates_and_spans_of_years_are_not_read_as_ucis() -> None:
    identifiers = {"2024-01-15": [1], "15-01-2024": [2], "2023-2024": [3], "20240115": [4]}

    result = check_unrelated_files(document(pages_with_footers(["1"]), identifiers=identifiers), context())

    assert result.outcome == Outcome.PASS


def test_identifiers_are_normalised_before_they_are_compared() -> None:
    identifiers = {"tb5-12345": [1], "1234 5678": [2], "TB5-99999": [3], "tb5-99999": [8]}

    result = check_unrelated_files(
        document(pages_with_footers(["1"]), identifiers=identifiers), context(ucis=frozenset({"12345678"}))
    )

    assert result.details == {"file_numbers": {"TB5-99999": [3, 8]}, "ucis": {}}


def test_unrelated_files_are_not_checked_on_a_file_that_was_not_read() -> None:
    assert check_unrelated_files(document(None, identifiers={"TB5-99999": [1]}), context()) is None


# One subject


def test_one_subject_does_not_apply_to_a_disclosure() -> None:
    pages = pages_with_leads(["Notice of change of address", "Request for an interpreter"])

    assert check_one_subject(document(pages), context("disclosure")) is None
    assert check_one_subject(document(None), context("application")) is None


def test_two_forms_in_one_pdf_are_a_warning_naming_both() -> None:
    leads = [
        "Immigration and Refugee Board\nNotice of change of address\nFile TB5-12345",
        "New address: 123 Main Street",
        "Application to change the date or time of a proceeding\nTB5-12345",
        "I ask that the hearing be moved.",
    ]

    result = check_one_subject(document(pages_with_leads(leads)), context("application"))

    assert result.code == "one_subject"
    assert result.outcome == Outcome.WARNING
    assert result.message_en == (
        "This PDF seems to hold several subjects: Notice of change of address (page 1); "
        "Application to change the date or time of a proceeding (page 3). Send one PDF per subject."
    )
    assert result.message_fr == (
        "Ce PDF semble porter sur plusieurs sujets : Avis de changement d'adresse (page 1) ; "
        "Demande de changement de la date ou de l'heure d'une procédure (page 3). Envoyez un PDF par sujet."
    )
    json.dumps(result.details)


def test_the_same_title_repeated_on_many_pages_counts_once() -> None:
    result = check_one_subject(
        document(pages_with_leads(["BASIS OF CLAIM FORM\nTB5-12345"] * 12)), context("division_form")
    )

    assert result.outcome == Outcome.PASS
    assert result.details["subjects"] == [
        {
            "en": "Basis of Claim Form",
            "fr": "Formulaire Fondement de la demande d'asile",
            "pages": list(range(1, 13)),
        }
    ]
    assert result.message_en == "This PDF holds one subject: Basis of Claim Form."
    assert result.message_fr == "Ce PDF porte sur un seul sujet : Formulaire Fondement de la demande d'asile."


SUBJECTS_FOUND = [
    pytest.param(
        ["", "Notice of change of address\nFile TB5-12345", "   \n  ", "New address: 123 Main Street"],
        [("Notice of change of address", "Avis de changement d'adresse", [2])],
        id="scanned or blank pages announce no subject",
    ),
    pytest.param(
        [
            "Notice of change of address",
            "AVIS DE CHANGEMENT D’ADRESSE",
            "Demande d'interprète\nRequest for an interpreter",
        ],
        [
            ("Notice of change of address", "Avis de changement d'adresse", [1, 2]),
            ("Request for an interpreter", "Demande d'interprète", [3]),
        ],
        id="a bilingual form counts its English and French titles once",
    ),
    pytest.param(
        [
            "Application for a public hearing (Rule 57)",
            "Argument",
            "Application for a public hearing",
            "Demande de suspension de la mesure",
        ],
        [
            (
                "Application for a public hearing (Rule 57)",
                "Application for a public hearing (Rule 57)",
                [1, 3],
            ),
            ("Demande de suspension de la mesure", "Demande de suspension de la mesure", [4]),
        ],
        id="short title lines outside the catalogue are subjects too, in their own words",
    ),
    pytest.param(
        [
            "Notice of change of counsel",
            "Request for an adjournment was made by my former counsel because she could not attend.",
            "Demande de remise présentée par l'ancien conseil du demandeur.",
        ],
        [("Notice of change of counsel", "Avis de changement de conseil", [1])],
        id="a sentence at the top of a page is not a title",
    ),
    pytest.param(
        ["Application to change the date or time of a\nproceeding", "Notice of change of counsel"],
        [
            (
                "Application to change the date or time of a proceeding",
                "Demande de changement de la date ou de l'heure d'une procédure",
                [1],
            ),
            ("Notice of change of counsel", "Avis de changement de conseil", [2]),
        ],
        id="a long title wrapped on two lines is one subject",
    ),
    pytest.param(
        ["Application to reopen", "Notice of decision\nThe claim is declared abandoned.", "Notice to appear"],
        [("Application to reopen", "Demande de réouverture", [1])],
        id="a board notice attached as evidence is not a second subject",
    ),
]


@pytest.mark.parametrize(("leads", "subjects"), SUBJECTS_FOUND)
def test_the_subjects_announced_at_the_top_of_pages_are_found_with_their_pages(
    leads: list[str], subjects: list[tuple[str, str, list[int]]]
) -> None:
    """Several subjects are a warning; one, or none, passes."""
    result = check_one_subject(document(pages_with_leads(leads)), context("application"))

    found = [(subject["en"], subject["fr"], subject["pages"]) for subject in result.details["subjects"]]
    assert found == subjects
    assert result.outcome == (Outcome.WARNING if len(subjects) > 1 else Outcome.PASS)


def test_nothing_that_looks_like_a_title_passes() -> None:
    result = check_one_subject(
        document(pages_with_leads(["Dear Registrar,", "Yours truly,"])), context("written_submission")
    )

    assert result.outcome == Outcome.PASS
    assert result.details == {"subjects": []}
    assert result.message_fr == "Rien n'indique que ce PDF porte sur plusieurs sujets."
