"""Screening of attachments: real PDFs made here, read in sandboxed children, checked, and stored by a real worker."""

import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backoffice.devservices import hostile_pdfs, sample_pdfs
from backoffice.extensions import db
from backoffice.models import AuditEvent, CheckOutcome, CheckResultRecord, Submission, SubmissionStatus
from backoffice.models.types import utcnow
from backoffice.screening import workflow as screening
from backoffice.screening.checks import CheckContext, run_document_checks
from backoffice.screening.pdf_reading import PROBES, ReadingSettings, read_document
from backoffice.screening.sandbox import Limits, run_sandboxed
from backoffice.screening.scan_reading import OcrSettings
from tests.factories import create_filer, create_submission
from tests.helpers import submit_through_api

DISCLOSURE = CheckContext(document_kind="disclosure", division="RPD", file_numbers=frozenset({"VB5-01234"}))
LETTER = CheckContext(
    document_kind="written_submission", division="RPD", file_numbers=frozenset({"VB5-01234"})
)


def screen_file(path: Path, context: CheckContext = DISCLOSURE, settings=ReadingSettings()) -> dict:
    document = read_document(path, path.name, path.stat().st_size, settings)
    return {result.code: result for result in run_document_checks(document, context)}


def screen_bytes(
    tmp_path: Path, content: bytes, context: CheckContext = DISCLOSURE, name: str = "doc.pdf"
) -> dict:
    path = tmp_path / name
    path.write_bytes(content)
    return screen_file(path, context)


def assert_result(results: dict, code: str, outcome: str, english: str = "", french: str = "") -> None:
    assert code in results, f"no {code} result among {sorted(results)}"
    result = results[code]
    assert result.outcome.value == outcome, (result.outcome, result.message_en)
    assert english.lower() in result.message_en.lower(), result.message_en
    assert french.lower() in result.message_fr.lower(), result.message_fr


# Broken and hostile files: each ends in a clear result, within the limits.

HOSTILE = {
    "truncated": ("readable", "failure", "damaged or truncated", "endommagé ou tronqué"),
    "junk_before_header": ("readable", "pass", "readable", "lisible"),  # readers accept a header within 1 KB
    "header_then_garbage": ("readable", "failure", "cannot be read as a PDF", "ne peut pas être lu"),
    "wav_renamed": ("readable", "failure", "does not start as a PDF", "ne commence pas comme un PDF"),
    "empty": ("readable", "failure", "does not start as a PDF", "ne commence pas comme un PDF"),
    "user_password": ("encryption", "failure", "protected by a password", "protégé par un mot de passe"),
    "user_password_rc4": ("encryption", "failure", "protected by a password", "protégé par un mot de passe"),
    "owner_password_only": ("encryption", "pass", "owner password", "mot de passe du propriétaire"),
    "javascript_open_action": ("active_content", "failure", "JavaScript", "JavaScript"),
    "javascript_name_tree": ("active_content", "failure", "JavaScript", "JavaScript"),
    "javascript_escaped_name": ("active_content", "failure", "JavaScript", "JavaScript"),
    "launch_action": ("active_content", "failure", "launch programs", "lancent des programmes"),
    "embedded_file": ("active_content", "failure", "embedded files", "fichiers intégrés"),
    "xfa_form": ("active_content", "failure", "XFA", "XFA"),
    "rich_media": ("active_content", "failure", "rich media", "multimédia"),
    "link_annotation": ("active_content", "pass", "1 link", "1 lien"),
    "bomb_in_page_content": ("readable", "failure", "compressed content far too large", "contenu compressé"),
    "bomb_in_metadata": ("readable", "failure", "compressed content far too large", "contenu compressé"),
    "looping_page_tree": ("readable", "failure", "loops on itself", "boucle sur elle-même"),
    "huge_claimed_page_count": (
        "page_count",
        "warning",
        "declares 2,000,000,000 pages but holds 1",
        "contient 1",
    ),
    "many_empty_pages": ("readable", "failure", "far more objects", "beaucoup plus d'objets"),
}


def test_every_hostile_sample_is_listed():
    assert set(HOSTILE) == set(hostile_pdfs.SAMPLES)


@pytest.mark.parametrize("sample", sorted(HOSTILE))
def test_a_broken_or_hostile_pdf_gets_a_clear_verdict(tmp_path, sample):
    path = hostile_pdfs.SAMPLES[sample](tmp_path / f"{sample}.pdf")
    started = time.monotonic()
    results = screen_file(path)
    code, outcome, english, french = HOSTILE[sample]
    assert_result(results, code, outcome, english, french)
    assert time.monotonic() - started < ReadingSettings().limits.wall_seconds
    assert str(tmp_path) not in results[code].message_en  # no server paths in what counsel may read


def test_pdfium_alone_on_a_bomb_dies_in_its_sandbox_and_gives_a_verdict(tmp_path):
    """Why PDFium only ever sees files the first child cleared: here it is given a bomb directly."""
    path = hostile_pdfs.bomb_in_metadata(tmp_path / "bomb.pdf")
    verdict = run_sandboxed(
        PROBES / "pages.py", [str(path), "1", "1"], Limits(memory_bytes=512 * 1024 * 1024)
    )
    assert not verdict.ok
    assert verdict.failure.startswith(("killed_by_", "exit_status_"))


def test_a_child_that_overruns_its_time_is_killed_with_its_process_group(tmp_path):
    path = sample_pdfs.numbered_document(400, path=tmp_path / "long.pdf")
    verdict = run_sandboxed(PROBES / "pages.py", [str(path), "1", "400"], Limits(wall_seconds=0.05))
    assert verdict.failure == "timed_out" and verdict.answer is None
    assert not _children_alive()  # killed and reaped before the verdict is returned


def _children_alive() -> list[int]:
    own = os.getpid()
    alive = []
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == own and fields[0] != "Z":
            alive.append(int(status.parent.name))
    return alive


def test_a_page_reader_that_fails_is_reported_as_not_read_safely(tmp_path, monkeypatch):
    path = sample_pdfs.numbered_document(3, path=tmp_path / "ok.pdf")
    settings = ReadingSettings(limits=Limits(memory_bytes=16 * 1024 * 1024))  # too little to even start
    document = read_document(path, "ok.pdf", path.stat().st_size, settings)
    results = {result.code: result for result in run_document_checks(document, DISCLOSURE)}
    assert_result(
        results, "readable", "failure", "could not be read safely", "n'a pas pu être lu en sécurité"
    )


# Each rule, passing and failing, on PDFs made here.


def test_a_numbered_disclosure_passes_every_check(tmp_path):
    results = screen_bytes(tmp_path, sample_pdfs.numbered_document(12))
    assert {code: result.outcome.value for code, result in results.items()} == {
        "readable": "pass",
        "encryption": "pass",
        "active_content": "pass",
        "page_count": "pass",
        "text_layer": "pass",
        "page_numbering": "pass",
        "table_of_contents": "pass",
        "notice_of_appeal": "pass",
        "unrelated_files": "pass",
    }
    assert results["page_count"].details["page_count"] == 12


def test_a_disclosure_with_pages_missing_their_number_fails_and_lists_them(tmp_path):
    pages = [sample_pdfs.PageSpec(footer=f"Page {n} of 8", lines=["Evidence."]) for n in range(1, 9)]
    pages[2] = sample_pdfs.PageSpec(lines=["Evidence."])
    pages[5] = sample_pdfs.PageSpec(lines=["Evidence."])
    results = screen_bytes(tmp_path, sample_pdfs.build_pdf(pages))
    assert_result(results, "page_numbering", "failure", "3, 6", "3, 6")
    assert results["page_numbering"].details["pages_without_number"] == [3, 6]


@pytest.mark.parametrize(
    "footer", ["{n}", "- {n} -", "Page {n}", "p. {n}", "{n}/{total}", "Page {n} de {total}"]
)
def test_every_usual_page_number_format_is_read(tmp_path, footer):
    results = screen_bytes(tmp_path, sample_pdfs.numbered_document(5, footer=footer))
    assert_result(results, "page_numbering", "pass")


def mixed_document(tmp_path: Path) -> Path:
    """Six text pages numbered "Page n of 6", of which pages 4 and 5 are scanned images."""
    pages = [sample_pdfs.PageSpec(footer=f"Page {n} of 6", lines=["Text."]) for n in range(1, 7)]
    pages[3] = sample_pdfs.PageSpec(scanned=True, footer="Page 4 of 6", lines=["Scanned."])
    pages[4] = sample_pdfs.PageSpec(scanned=True, footer="Page 5 of 6", lines=["Scanned."])
    path = tmp_path / "mixed.pdf"
    path.write_bytes(sample_pdfs.build_pdf(pages))
    return path


def test_scanned_pages_among_text_pages_are_read_by_ocr(tmp_path):
    results = screen_file(mixed_document(tmp_path))
    assert_result(
        results, "text_layer", "pass", "read by OCR: pages 4-5", "reconnaissance de caractères : pages 4-5"
    )
    assert_result(results, "page_numbering", "pass", "All 6 pages", "Les 6 pages")


def test_scanned_pages_not_read_by_ocr_are_not_verifiable_never_unnumbered(tmp_path):
    results = screen_file(mixed_document(tmp_path), settings=ReadingSettings(ocr=OcrSettings(seconds=0)))
    assert_result(results, "text_layer", "warning", "pages 4-5", "pages 4-5")
    assert_result(results, "page_numbering", "warning", "4-5", "4-5")
    assert results["page_numbering"].details["pages_without_number"] == []


def test_a_bundle_with_a_table_of_contents_passes_and_one_without_fails(tmp_path):
    documents = [("Country report", 4), ("Police report", 3)]
    good = screen_bytes(tmp_path, sample_pdfs.disclosure_bundle(documents), name="good.pdf")
    assert_result(good, "page_numbering", "pass")
    assert_result(good, "table_of_contents", "pass")
    bad = screen_bytes(tmp_path, sample_pdfs.disclosure_bundle(documents, with_toc=False), name="bad.pdf")
    assert_result(bad, "table_of_contents", "failure", "no table of contents", "table des matières")


def test_a_voluminous_rpd_disclosure_is_flagged(tmp_path):
    results = screen_bytes(tmp_path, sample_pdfs.numbered_document(101))
    assert_result(results, "page_count", "warning", "voluminous", "volumineuse")
    other_division = CheckContext(document_kind="disclosure", division="IAD", file_numbers=frozenset())
    assert_result(
        screen_bytes(tmp_path, sample_pdfs.numbered_document(101), other_division), "page_count", "pass"
    )


@pytest.mark.parametrize(("language", "french"), [("en", "avis d'appel"), ("fr", "avis d'appel")])
def test_a_notice_of_appeal_is_recognised_in_either_language(tmp_path, language, french):
    results = screen_bytes(tmp_path, sample_pdfs.notice_of_appeal(language), LETTER)
    assert_result(results, "notice_of_appeal", "failure", "notice of appeal", french)


def test_identifiers_of_other_files_are_listed(tmp_path):
    content = sample_pdfs.document_mentioning(["VB5-01234", "TB5-99999"], ["1234-5678"])
    results = screen_bytes(tmp_path, content, LETTER)
    assert_result(results, "unrelated_files", "warning", "TB5-99999", "TB5-99999")
    assert "VB5-01234" not in results["unrelated_files"].message_en
    own_only = screen_bytes(tmp_path, sample_pdfs.document_mentioning(["VB5-01234"], []), LETTER, "own.pdf")
    assert_result(own_only, "unrelated_files", "pass")


def test_several_subjects_in_one_pdf_are_flagged(tmp_path):
    titles = ["Notice of change of address", "Application to change the date or time of a proceeding"]
    results = screen_bytes(tmp_path, sample_pdfs.form_document(titles), LETTER)
    assert_result(results, "one_subject", "warning", "several subjects", "plusieurs")
    single = screen_bytes(
        tmp_path, sample_pdfs.form_document(titles[:1], pages_per_title=3), LETTER, "one.pdf"
    )
    assert_result(single, "one_subject", "pass")


def test_an_owner_password_and_links_are_only_noted(tmp_path):
    owner = hostile_pdfs.owner_password_only(tmp_path / "owner.pdf")
    assert_result(screen_file(owner, LETTER), "encryption", "pass", "noted", "à noter")
    link = hostile_pdfs.link_annotation(tmp_path / "link.pdf")
    assert_result(screen_file(link, LETTER), "active_content", "pass", "noted", "à noter")


def test_a_long_document_is_read_by_two_children_and_gives_the_same_facts(tmp_path):
    path = sample_pdfs.numbered_document(450, path=tmp_path / "long.pdf")
    one = read_document(path, "long.pdf", 1, ReadingSettings(processes=1))
    two = read_document(path, "long.pdf", 1, ReadingSettings(processes=2))
    assert two.reading["pages_children"] == min(2, os.cpu_count() or 1)
    assert one.pages == two.pages and one.first_pages_text == two.first_pages_text
    assert [page.number for page in two.pages] == list(range(1, 451))


# Screening a submission with a real worker.


def test_screening_moves_a_submission_to_registry_with_its_results(app, token, run_worker):
    filer = create_filer("western", "RPD")
    files = [
        ("disclosure.pdf", sample_pdfs.numbered_document(5)),
        ("appeal.pdf", sample_pdfs.notice_of_appeal()),
    ]
    submission = create_submission(filer, "disclosure", files=files)

    output = run_worker()

    db.session.expire_all()
    submission = db.session.get(Submission, submission.id)
    assert submission.status is SubmissionStatus.WITH_REGISTRY, output
    assert submission.screening_outcome is CheckOutcome.FAILURE
    first, second = submission.attachments
    assert (first.page_count, first.screening_outcome) == (5, CheckOutcome.PASS)
    assert second.screening_outcome is CheckOutcome.FAILURE
    codes = {(result.attachment_id, result.code): result.outcome for result in submission.check_results}
    assert codes[(second.id, "notice_of_appeal")] is CheckOutcome.FAILURE
    assert codes[(None, "proof_of_service")] is CheckOutcome.FAILURE  # RPD disclosure, no proof declared
    # The queues read the counts kept on the submission.
    outcomes = list(codes.values())
    assert submission.failed_checks == outcomes.count(CheckOutcome.FAILURE) >= 2
    assert submission.warning_checks == outcomes.count(CheckOutcome.WARNING)
    actions = db.session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.record_id == str(submission.id), AuditEvent.record_type == "submissions")
        .order_by(AuditEvent.id)
    ).all()
    assert actions[:1] == ["submission.received"]
    assert "submission.start_screening" in actions and actions[-1] == "submission.finish_screening"


def test_screening_twice_stores_each_result_once(app, run_worker):
    submission = create_submission(create_filer("western", "RPD"), "written_submission")
    run_worker()
    count = db.session.scalar(select(func.count(CheckResultRecord.id)))
    assert screening.screen_submission(submission.id) is SubmissionStatus.WITH_REGISTRY
    assert db.session.scalar(select(func.count(CheckResultRecord.id))) == count > 0


def test_hostile_files_through_the_api_leave_the_worker_alive(app, client, token, run_worker, tmp_path):
    """Bombs, loops, passwords and scripts go through intake and a real worker; all come out screened."""
    filer = create_filer("central", "RPD")
    batches = [
        [
            "bomb_in_page_content",
            "bomb_in_metadata",
            "looping_page_tree",
            "user_password",
            "javascript_escaped_name",
        ],
        ["many_empty_pages", "huge_claimed_page_count", "embedded_file", "launch_action", "xfa_form"],
    ]
    ids = []
    for batch in batches:
        files = [
            (f"{name}.pdf", hostile_pdfs.SAMPLES[name](tmp_path / f"{name}.pdf").read_bytes())
            for name in batch
        ]
        response = submit_through_api(
            client, token, filer, files, document_kind="disclosure", subject="Disclosure"
        )
        assert response.status_code == 201, response.get_data(as_text=True)
        ids.append(response.get_json()["id"])

    run_worker()  # fails the test if the worker exits with an error

    for public_id in ids:
        body = client.get(
            f"/api/v1/submissions/{public_id}", headers={"Authorization": f"Bearer {token}"}
        ).get_json()
        assert body["status"] == "with_registry"
        failed = {check["code"] for check in body["checks"] if check["outcome"] == "failure"}
        assert failed & {"readable", "encryption", "active_content"}
        per_attachment = {check["attachment_id"] for check in body["checks"]} - {None}
        assert len(per_attachment) == 5


def test_a_screening_lost_by_redis_is_queued_again_then_given_up_after_three_spaced_losses(app, monkeypatch):
    from backoffice.queue import job_queue

    submission = create_submission(create_filer("western", "RPD"))
    job_queue().empty()  # Redis lost the job
    assert screening.requeue_lost_screenings() == [submission.id]
    job_queue().empty()
    assert screening.requeue_lost_screenings() == []  # a minute later: an outage of minutes costs no attempt
    start = utcnow()
    for spacings in (1, 2):
        later = start + spacings * screening.REQUEUE_SPACING + timedelta(seconds=1)
        monkeypatch.setattr(screening, "utcnow", lambda later=later: later)
        job_queue().empty()
        assert screening.requeue_lost_screenings() == [submission.id]
    later = start + 3 * screening.REQUEUE_SPACING + timedelta(seconds=1)
    monkeypatch.setattr(screening, "utcnow", lambda: later)
    job_queue().empty()
    assert screening.requeue_lost_screenings() == []
    db.session.expire_all()
    submission = db.session.get(Submission, submission.id)
    assert submission.status is SubmissionStatus.WITH_REGISTRY
    result = db.session.scalar(
        select(CheckResultRecord).where(CheckResultRecord.submission_id == submission.id)
    )
    assert result.code == "readable" and result.outcome is CheckOutcome.FAILURE
    assert "un commis doit l'ouvrir" in result.message_fr
