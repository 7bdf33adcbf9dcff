"""The portal's submission API (PORTAL-API.md): streamed intake, every refusal, and the received times."""

import hashlib
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backoffice.extensions import db
from backoffice.integrations.storage import document_store
from backoffice.models import AuditEvent, Notification, Submission, SubmissionStatus, Timeliness
from backoffice.workflows import submissions
from tests.factories import create_case, create_counsel, create_filer, pdf_bytes
from tests.helpers import fix_clock, submission_fields, submit_through_api

MB = 1024 * 1024


def multipart(fields: dict, files: list[tuple[str, bytes]], boundary: str = "b0undary") -> bytes:
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    for filename, content in files:
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="{filename}"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        )
        parts.append(head.encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts)


class CountingStream(io.BytesIO):
    """A request body that tells how much of it the server read."""

    @property
    def bytes_read(self) -> int:
        return self.tell()


def post_raw(client, token, body: bytes, boundary: str = "b0undary"):
    stream = CountingStream(body)
    response = client.post(
        "/api/v1/submissions",
        input_stream=stream,
        content_length=len(body),
        content_type=f"multipart/form-data; boundary={boundary}",
        headers={"Authorization": f"Bearer {token}"},
    )
    return response, stream


def assert_refused(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"] == code
    assert body["message_en"] and body["message_fr"] and body["message_en"] != body["message_fr"]
    assert isinstance(body["details"], dict)
    return body


def stored_bytes(sha256: str) -> bytes:
    """A kept document's bytes, asked of the store (a folder or a bucket, as the run is configured)."""
    with document_store().open(sha256).stream as stream:
        return stream.read()


def temporary_files(app) -> list[Path]:
    """What is left in the local working folders: received files not kept, copies not removed."""
    root = Path(app.config["STORAGE_ROOT"])
    folders = {root / "incoming", document_store().working_dir}
    return [path for folder in folders if folder.exists() for path in folder.rglob("*") if path.is_file()]


def assert_nothing_stored(app) -> None:
    assert list(document_store().kept_documents()) == []
    assert temporary_files(app) == []
    assert db.session.scalar(select(func.count(Submission.id))) == 0


def test_a_submission_is_received_with_eastern_and_vancouver_times_of_the_worked_example(
    app, client, token, filer, monkeypatch
):
    fix_clock(monkeypatch, datetime(2021, 4, 2, 5, 0, tzinfo=UTC))  # 01:00 Eastern
    content = pdf_bytes(pages=2)

    response = submit_through_api(client, token, filer, files=[("evidence.pdf", content)])

    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["status"] == "received"
    assert body["received_at"] == "2021-04-02T01:00:00-04:00"
    assert body["received_at_local"] == "2021-04-01T22:00:00-07:00"
    assert body["office"] == "western"
    sha256 = hashlib.sha256(content).hexdigest()
    assert body["attachments"] == [
        {
            "id": body["attachments"][0]["id"],
            "filename": "evidence.pdf",
            "size": len(content),
            "sha256": sha256,
        }
    ]
    assert stored_bytes(sha256) == content
    assert response.headers["Location"].endswith(f"/api/v1/submissions/{body['id']}")
    submission = db.session.scalar(select(Submission))
    assert submission.received_at == submission.received_at_original == datetime(2021, 4, 2, 5, 0, tzinfo=UTC)
    assert submission.status is SubmissionStatus.RECEIVED
    assert db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "submission.received")
    ).record_id == str(submission.id)
    receipt = db.session.scalar(select(Notification).where(Notification.template == "submission_receipt"))
    assert receipt.values["received_eastern"] == "2021-04-02 01:00 EDT"
    assert receipt.values["received_local"] == "2021-04-01 22:00 PDT"
    assert receipt.values["attachments"] == ["evidence.pdf"]


@pytest.mark.parametrize(
    ("instant", "eastern", "local"),
    [
        # Winter: Eastern -05:00, Vancouver -08:00.
        (datetime(2021, 1, 15, 5, 30, tzinfo=UTC), "2021-01-15T00:30:00-05:00", "2021-01-14T21:30:00-08:00"),
        # 14 March 2021, 09:30 UTC: Toronto has sprung forward (05:30 EDT), Vancouver not yet (01:30 PST).
        (datetime(2021, 3, 14, 9, 30, tzinfo=UTC), "2021-03-14T05:30:00-04:00", "2021-03-14T01:30:00-08:00"),
        # 7 November 2021, 08:30 UTC: Toronto is back on EST (03:30), Vancouver still on PDT (01:30).
        (datetime(2021, 11, 7, 8, 30, tzinfo=UTC), "2021-11-07T03:30:00-05:00", "2021-11-07T01:30:00-07:00"),
    ],
)
def test_received_times_are_right_across_daylight_saving_changes(
    client, token, filer, monkeypatch, instant, eastern, local
):
    fix_clock(monkeypatch, instant)
    body = submit_through_api(client, token, filer).get_json()
    assert (body["received_at"], body["received_at_local"]) == (eastern, local)


def test_a_montreal_file_is_received_in_eastern_time_twice(client, token, monkeypatch):
    filer = create_filer("eastern", "RPD")
    fix_clock(monkeypatch, datetime(2021, 4, 2, 5, 0, tzinfo=UTC))
    body = submit_through_api(client, token, filer).get_json()
    assert body["received_at"] == body["received_at_local"] == "2021-04-02T01:00:00-04:00"


def test_a_disclosure_is_judged_on_time_by_the_rpd_rule_in_vancouver_time(client, token, monkeypatch):
    filer = create_filer("western", "RPD", next_hearing_on=date(2021, 4, 12))
    # Due 10 days before the hearing: by the end of 2 April, Vancouver time. 01:00 Eastern on 3 April is
    # still 22:00 on 2 April in Vancouver.
    fix_clock(monkeypatch, datetime(2021, 4, 3, 5, 0, tzinfo=UTC))
    body = submit_through_api(client, token, filer, document_kind="disclosure").get_json()
    assert body["timeliness"]["status"] == "on_time"
    assert body["timeliness"]["deadline"] == "2021-04-02"
    assert body["timeliness"]["rule"] == "RPD-DISCLOSURE"
    assert "34(3)" in body["timeliness"]["citation_en"]

    fix_clock(monkeypatch, datetime(2021, 4, 3, 7, 30, tzinfo=UTC))  # 00:30 on 3 April in Vancouver
    late = submit_through_api(client, token, filer, document_kind="disclosure").get_json()
    assert late["timeliness"]["status"] == "late"


def test_a_disclosure_in_reply_has_five_days(client, token, monkeypatch):
    filer = create_filer("central", "RPD", next_hearing_on=date(2026, 12, 10))
    fix_clock(monkeypatch, datetime(2026, 12, 5, 16, 0, tzinfo=UTC))
    body = submit_through_api(client, token, filer, document_kind="disclosure", purpose="reply").get_json()
    assert body["timeliness"] == {
        **body["timeliness"],
        "status": "on_time",
        "deadline": "2026-12-05",
        "rule": "RPD-DISCLOSURE-REPLY",
    }


def test_iad_witness_information_is_due_thirty_days_before_the_hearing(client, token, monkeypatch):
    filer = create_filer(
        "central", "IAD", next_hearing_on=date(2026, 12, 31), appeal_filed_on=date(2026, 6, 1)
    )
    fix_clock(monkeypatch, datetime(2026, 12, 5, 16, 0, tzinfo=UTC))
    body = submit_through_api(
        client,
        token,
        filer,
        document_kind="disclosure",
        purpose="witness_information",
        proof_of_service=SERVICE,
    ).get_json()
    assert body["timeliness"]["status"] == "late"
    assert body["timeliness"]["deadline"] == "2026-12-01"


def test_a_case_without_a_hearing_date_has_no_deadline(client, token, filer):
    body = submit_through_api(client, token, filer, document_kind="disclosure").get_json()
    assert body["timeliness"]["status"] == Timeliness.NO_DEADLINE.value


SERVICE = json.dumps({"served_on": ["minister"], "method": "email", "served_at": "2026-12-01T10:00:00-05:00"})


def test_the_same_file_sent_twice_is_stored_once(app, client, token, filer):
    content = pdf_bytes()
    assert submit_through_api(client, token, filer, files=[("a.pdf", content)]).status_code == 201
    assert submit_through_api(client, token, filer, files=[("b.pdf", content)]).status_code == 201
    assert list(document_store().kept_documents()) == [hashlib.sha256(content).hexdigest()]
    assert temporary_files(app) == []


def test_five_attachments_are_accepted_in_their_order(client, token, filer):
    files = [(f"part-{n}.pdf", pdf_bytes(text=f"Part {n}")) for n in range(1, 6)]
    body = submit_through_api(client, token, filer, files=files).get_json()
    assert [item["filename"] for item in body["attachments"]] == [name for name, _ in files]


# Refusals: each ends with the right error and nothing stored.


def test_a_call_without_a_token_is_refused(app, client, filer):
    response = client.post(
        "/api/v1/submissions", data=submission_fields(filer), content_type="multipart/form-data"
    )
    assert_refused(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert_nothing_stored(app)


def test_a_wrong_or_revoked_token_is_refused(app, client, token, filer):
    assert_refused(submit_through_api(client, token + "x", filer), 401, "unauthorized")
    assert_refused(submit_through_api(client, "Basic " + token, filer), 401, "unauthorized")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["portal-clients", "revoke", "My Case portal"]).exit_code == 0
    assert_refused(submit_through_api(client, token, filer), 401, "unauthorized")
    assert_nothing_stored(app)


def test_a_sixth_attachment_ends_the_request_before_it_is_read(app, client, token, filer):
    files = [(f"part-{n}.pdf", pdf_bytes()) for n in range(1, 7)]
    files[5] = ("sixth.pdf", pdf_bytes() + b"%" + b"x" * (2 * MB) + b"\n%%EOF\n")
    response, stream = post_raw(client, token, multipart(submission_fields(filer), files))
    assert_refused(response, 422, "too_many_attachments")
    assert stream.bytes_read < len(stream.getvalue()) - MB
    assert_nothing_stored(app)


def test_the_first_byte_over_50_mb_ends_the_request(app, client, token, filer):
    content = b"%PDF-1.7\n%" + b"0" * (50 * MB - 10) + b"\n%%EOF\n"  # 50 MB and a few bytes
    response, _ = post_raw(client, token, multipart(submission_fields(filer), [("big.pdf", content)]))
    body = assert_refused(response, 413, "attachment_too_large")
    assert body["details"] == {"filename": "big.pdf"}
    assert_nothing_stored(app)

    content = b"%PDF-1.7\n%" + b"0" * (60 * MB) + b"\n%%EOF\n"
    response, stream = post_raw(client, token, multipart(submission_fields(filer), [("bigger.pdf", content)]))
    assert_refused(response, 413, "attachment_too_large")
    assert stream.bytes_read < 51 * MB
    assert_nothing_stored(app)


def test_a_file_of_exactly_50_mb_is_accepted(app, client, token, filer):
    base = pdf_bytes()
    content = base + b"%" + b"0" * (50 * MB - len(base) - 8) + b"\n%%EOF\n"
    assert len(content) == 50 * MB
    response, _ = post_raw(client, token, multipart(submission_fields(filer), [("exact.pdf", content)]))
    assert response.status_code == 201, response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("filename", "content"),
    [
        ("sound.pdf", b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 200),
        ("header-too-far.pdf", b"\x00" * 2000 + b"%PDF-1.7\n%%EOF\n"),
        ("empty.pdf", b""),
        ("word.docx", b"PK\x03\x04" + b"\x00" * 100),
    ],
)
def test_a_file_that_is_not_a_pdf_is_refused_whatever_its_name(app, client, token, filer, filename, content):
    body = assert_refused(
        submit_through_api(client, token, filer, files=[(filename, content)]), 415, "not_pdf"
    )
    assert body["details"] == {"filename": filename}
    assert_nothing_stored(app)


def test_a_bad_file_after_good_ones_leaves_nothing_behind(app, client, token, filer):
    files = [("good.pdf", pdf_bytes()), ("also-good.pdf", pdf_bytes(pages=2)), ("bad.pdf", b"GIF89a...")]
    assert_refused(submit_through_api(client, token, filer, files=files), 415, "not_pdf")
    assert_nothing_stored(app)


def test_an_unknown_or_closed_case_is_refused(app, client, token, filer):
    assert_refused(
        submit_through_api(client, token, filer, case_file_number="VB5-99999"), 422, "unknown_case"
    )
    closed = create_case("western", "RPD", status="closed")
    assert_refused(
        submit_through_api(client, token, filer, case_file_number=closed.file_number), 422, "unknown_case"
    )
    assert_nothing_stored(app)


def test_counsel_not_of_record_is_refused(app, client, token, filer):
    other_case = create_case("western", "RPD")
    body = assert_refused(
        submit_through_api(client, token, filer, case_file_number=other_case.file_number),
        422,
        "not_counsel_of_record",
    )
    assert other_case.file_number in body["message_fr"]
    assert_nothing_stored(app)


def test_an_appeal_division_case_without_an_appeal_filed_is_refused(app, client, token):
    filer = create_filer("central", "RAD")
    assert_refused(submit_through_api(client, token, filer), 422, "no_appeal_filed")
    assert_nothing_stored(app)


def test_a_notice_of_appeal_is_refused(app, client, token, filer):
    body = assert_refused(
        submit_through_api(client, token, filer, document_kind="notice_of_appeal"),
        422,
        "notice_of_appeal_not_accepted",
    )
    assert "avis d'appel" in body["message_fr"].lower()
    assert_nothing_stored(app)


def test_an_unknown_kind_of_document_is_refused(app, client, token, filer):
    assert_refused(
        submit_through_api(client, token, filer, document_kind="audio"), 422, "unknown_document_kind"
    )
    assert_nothing_stored(app)


def test_an_unknown_portal_account_is_refused(app, client, token, filer):
    assert_refused(
        submit_through_api(client, token, filer, portal_account_id="nobody"), 422, "unknown_portal_account"
    )
    assert_nothing_stored(app)


def test_a_missing_field_is_named(app, client, token, filer):
    body = assert_refused(submit_through_api(client, token, filer, subject=None), 400, "missing_field")
    assert body["details"] == {"field": "subject"}
    assert_nothing_stored(app)


def test_a_submission_without_attachments_is_refused(app, client, token, filer):
    assert_refused(submit_through_api(client, token, filer, files=[]), 422, "no_attachments")
    assert_nothing_stored(app)


@pytest.mark.parametrize(
    ("proof", "status", "code"),
    [
        ("{not json", 400, "malformed_request"),
        (
            json.dumps(
                {"served_on": ["neighbour"], "method": "mail", "served_at": "2026-12-01T10:00:00-05:00"}
            ),
            422,
            "invalid_proof_of_service",
        ),
        (
            json.dumps({"served_on": ["minister"], "method": "", "served_at": "2026-12-01T10:00:00-05:00"}),
            422,
            "invalid_proof_of_service",
        ),
        (
            json.dumps({"served_on": ["minister"], "method": "mail", "served_at": "2026-12-01 10:00"}),
            422,
            "invalid_proof_of_service",
        ),
    ],
)
def test_a_bad_proof_of_service_is_refused(app, client, token, filer, proof, status, code):
    assert_refused(submit_through_api(client, token, filer, proof_of_service=proof), status, code)
    assert_nothing_stored(app)


def test_fields_sent_first_are_checked_before_any_file_is_read(app, client, token, filer):
    fields = submission_fields(filer, case_file_number="VB5-99999")
    files = [("big.pdf", b"%PDF-1.7\n%" + b"0" * (5 * MB) + b"\n%%EOF\n")]
    response, stream = post_raw(client, token, multipart(fields, files))
    assert_refused(response, 422, "unknown_case")
    assert stream.bytes_read < MB
    assert_nothing_stored(app)


def test_a_body_that_is_not_multipart_is_refused(app, client, token):
    response = client.post(
        "/api/v1/submissions", json={"hello": "world"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert_refused(response, 400, "malformed_request")
    response, _ = post_raw(
        client, token, b'--b0undary\r\nContent-Disposition: form-data; name="x"\r\n\r\nunfinished'
    )
    assert_refused(response, 400, "malformed_request")
    assert_nothing_stored(app)


# Resubmissions


def _rejected_submission(client, token, filer) -> Submission:
    body = submit_through_api(client, token, filer).get_json()
    submission = db.session.scalar(select(Submission).where(Submission.public_id == body["id"]))
    for transition in ("start_screening", "finish_screening"):
        submissions.fire(submission, transition)
    from tests.factories import create_staff

    submissions.fire(submission, "reject_by_registry", create_staff("clerk", "western"))
    db.session.commit()
    return submission


def test_a_resubmission_shows_the_first_received_time_beside_its_own(client, token, filer, monkeypatch):
    fix_clock(monkeypatch, datetime(2021, 4, 2, 5, 0, tzinfo=UTC))
    first = _rejected_submission(client, token, filer)
    fix_clock(monkeypatch, datetime(2021, 4, 6, 15, 0, tzinfo=UTC))

    body = submit_through_api(client, token, filer, resubmission_of=first.public_id).get_json()

    assert body["received_at"] == "2021-04-06T11:00:00-04:00"
    assert body["resubmission_of"] == {
        "id": first.public_id,
        "received_at": "2021-04-02T01:00:00-04:00",
        "received_at_local": "2021-04-01T22:00:00-07:00",
    }


def test_only_a_rejected_submission_of_the_same_case_can_be_replaced(app, client, token, filer):
    pending = submit_through_api(client, token, filer).get_json()
    assert_refused(
        submit_through_api(client, token, filer, resubmission_of=pending["id"]), 409, "not_rejected"
    )
    assert_refused(
        submit_through_api(client, token, filer, resubmission_of="no-such-id"), 422, "unknown_submission"
    )
    other = create_filer("western", "RPD")
    rejected_elsewhere = _rejected_submission(client, token, other)
    assert_refused(
        submit_through_api(client, token, filer, resubmission_of=rejected_elsewhere.public_id),
        422,
        "unknown_submission",
    )
    assert db.session.scalar(select(func.count(Submission.id))) == 2


# Reading back


def test_a_submission_can_be_read_back_by_its_id(client, token, filer):
    created = submit_through_api(client, token, filer).get_json()
    response = client.get(
        f"/api/v1/submissions/{created['id']}", headers={"Authorization": f"Bearer {token}"}
    )
    body = response.get_json()
    assert body["id"] == created["id"]
    assert body["status"] == "received"
    assert body["decisions"] == [] and body["checks"] == []


def test_an_unknown_submission_is_404_in_json(client, token):
    response = client.get("/api/v1/submissions/nope", headers={"Authorization": f"Bearer {token}"})
    assert_refused(response, 404, "not_found")
    response = client.get("/api/v1/no-such-thing", headers={"Authorization": f"Bearer {token}"})
    assert_refused(response, 404, "not_found")


def test_an_account_lists_its_active_cases(client, token, filer):
    closed = create_case("western", "RPD", status="closed")
    from tests.factories import make_counsel_of_record

    make_counsel_of_record(closed, filer.counsel)
    response = client.get(
        f"/api/v1/accounts/{filer.public_id}/cases", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.get_json() == [
        {"file_number": filer.case.file_number, "division": "RPD", "office": "western", "appeal_filed": False}
    ]


def test_every_response_carries_the_request_id(client, token, filer):
    response = submit_through_api(client, token, filer)
    assert response.headers["X-Request-Id"]
    response = client.get(
        f"/api/v1/accounts/{filer.public_id}/cases",
        headers={"Authorization": f"Bearer {token}", "X-Request-Id": "portal-42"},
    )
    assert response.headers["X-Request-Id"] == "portal-42"


def test_portal_client_tokens_are_created_once_and_kept_hashed(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["portal-clients", "create", "Portal staging"])
    assert result.exit_code == 0, result.output
    token = result.output.split("Token (shown once, store it in the portal's secrets): ")[1].strip()
    from backoffice.models import PortalClient

    client_row = db.session.scalar(select(PortalClient).where(PortalClient.name == "Portal staging"))
    assert token not in client_row.token_hash and len(client_row.token_hash) == 64
    again = runner.invoke(args=["portal-clients", "create", "Portal staging"])
    assert again.exit_code != 0
    assert "already exists" in again.output and "existe déjà" in again.output
    listing = runner.invoke(args=["portal-clients", "list"]).output
    assert "Portal staging" in listing and token not in listing
    counsel = create_counsel()
    assert counsel.id  # the CLI left the database usable


def test_a_submission_while_the_store_does_not_answer_is_refused_with_503_and_nothing_is_kept(
    app, client, token, filer, closed_port
):
    app.config.update(
        STORAGE_URL="s3://documents/unreachable",
        S3_ENDPOINT_URL=f"http://127.0.0.1:{closed_port}",
        S3_ACCESS_KEY_ID="nobody",
        S3_SECRET_ACCESS_KEY="nothing",
    )

    response = submit_through_api(client, token, filer)

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    body = response.get_json()
    assert body["error"] == "storage_unavailable" and body["details"] == {"retry_after_seconds": 60}
    assert "again in 60 seconds" in body["message_en"]
    assert "dans 60 secondes" in body["message_fr"]
    assert db.session.scalar(select(func.count()).select_from(Submission)) == 0
    assert db.session.scalar(select(func.count()).where(AuditEvent.action.like("submission.%"))) == 0
    working = Path(app.config["STORAGE_ROOT"]) / "incoming"
    assert not working.exists() or list(working.iterdir()) == []
