"""Odd input is refused at the edge with a 4xx in both languages, on the staff screens and in the portal API."""

import io
import json

from tests.factories import create_case, create_filer, create_portal_client, pdf_bytes
from tests.helpers import csrf_token_from


def test_a_405_names_what_the_address_allows_on_staff_pages_and_in_the_api(app, client):
    staff = client.get("/sign-out")
    api = client.put("/api/v1/submissions")
    assert staff.status_code == api.status_code == 405
    assert "POST" in staff.headers["Allow"] and "POST" in api.headers["Allow"]
    assert api.get_json()["error"] == "method_not_allowed"


def test_a_nul_in_the_sign_in_email_is_refused_in_english_and_in_french(app, client):
    token = csrf_token_from(client.get("/sign-in").get_data(as_text=True))
    form = {"email": "clerk\x00@staff.example", "password": "x", "csrf_token": token}
    english = client.post("/sign-in", data=form)
    french = client.post("/sign-in", data=form, headers={"Accept-Language": "fr"})
    assert english.status_code == french.status_code == 400
    assert "a control character" in english.get_data(as_text=True)
    assert "un caractère de contrôle" in french.get_data(as_text=True)


def test_an_id_past_the_database_keys_is_not_found_and_a_page_past_64_bits_is_refused(app, login_as):
    clerk = login_as("clerk", "western")
    create_case("western", "RPD")
    assert clerk.get(f"/admin/case/details/?id={2**70}").status_code == 404
    assert clerk.get(f"/admin/case/details/?id={2**40}").status_code == 404
    assert clerk.get(f"/admin/case/?page={2**70}").status_code == 400
    assert clerk.get(f"/admin/case/?page={2**63 - 1}").status_code == 200
    assert clerk.get(f"/admin/case/?flt0_1={2**40}").status_code == 200
    assert clerk.get("/admin/case/?search=a%00b").status_code == 400


def test_odd_values_in_the_api_are_refused_in_its_error_body_in_both_languages(app, client):
    headers = {"Authorization": f"Bearer {create_portal_client('My Case portal')}"}
    body = {"code": "K7QM-3XPR-9TWD", "sign_in_provider": "gckey", "sign_in_subject": "gckey\x00"}
    refused = client.post("/api/v1/invitation-codes/redeem", json=body, headers=headers)
    assert refused.status_code == 400
    assert refused.get_json()["error"] == "malformed_request"
    assert "sign_in_subject (U+0000)" in refused.get_json()["message_en"]
    assert refused.get_json()["message_fr"].startswith("La demande est mal formée : sign_in_subject (U+0000)")
    assert client.get("/api/v1/submissions/a%00b", headers=headers).status_code == 404
    ignored = {**body, "sign_in_subject": "gckey-1", "extra": ["\x00", 2**70]}
    assert client.post("/api/v1/invitation-codes/redeem", json=ignored, headers=headers).status_code == 422
    nested = "[" * 100_000 + "]" * 100_000
    deep = client.post(
        "/api/v1/access-codes/verify", data=nested, headers=headers, content_type="application/json"
    )
    assert deep.status_code == 400


def test_a_proof_of_service_holding_lists_or_escaped_nul_is_invalid_not_a_failure(app, client):
    headers = {"Authorization": f"Bearer {create_portal_client('My Case portal')}"}
    filer = create_filer("western", "RPD")
    proofs = [
        {"served_on": [["minister"]], "method": "mail", "served_at": "2026-12-01T10:00:00-05:00"},
        {"served_on": [{"a": 1}], "method": "mail", "served_at": "2026-12-01T10:00:00-05:00"},
        {"served_on": ["minister"], "method": "mail\u0000", "served_at": "2026-12-01T10:00:00-05:00"},
    ]
    for proof in proofs:
        fields = {
            "portal_account_id": filer.public_id,
            "case_file_number": filer.case.file_number,
            "document_kind": "disclosure",
            "subject": "Disclosure",
            "proof_of_service": json.dumps(proof),
            "attachments": [(io.BytesIO(pdf_bytes()), "letter.pdf")],
        }
        response = client.post(
            "/api/v1/submissions", data=fields, headers=headers, content_type="multipart/form-data"
        )
        assert response.status_code == 422, proof
        assert response.get_json()["error"] == "invalid_proof_of_service"
