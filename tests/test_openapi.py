"""The OpenAPI document at /api/v1/openapi.json stays true: every route is in it, and real answers match it."""

import pytest
from jsonschema import Draft202012Validator

from tests.factories import create_filer
from tests.helpers import submit_through_api


@pytest.fixture
def api(app, token):
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    document = client.get("/api/v1/openapi.json", headers=headers).get_json()
    return client, headers, document


def conforms(document: dict, schema_name: str, instance) -> None:
    schema = {**document, "$ref": f"#/components/schemas/{schema_name}"}
    errors = sorted(Draft202012Validator(schema).iter_errors(instance), key=str)
    assert not errors, "\n".join(error.message for error in errors)


def response_schema(document: dict, path: str, method: str, status: int) -> dict:
    return document["paths"][path][method]["responses"][str(status)]["content"]["application/json"]["schema"]


def test_every_api_route_is_described_with_its_methods(app, api):
    _client, _headers, document = api
    routes = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            path = rule.rule.replace("<", "{").replace(">", "}")
            routes[path] = {method.lower() for method in rule.methods - {"HEAD", "OPTIONS"}}
    described = {path: set(operations) for path, operations in document["paths"].items()}
    assert routes == described


def test_the_document_is_valid_openapi_3_1_with_bearer_security(api):
    _client, _headers, document = api
    assert document["openapi"].startswith("3.1")
    assert document["components"]["securitySchemes"]["portalClient"] == {"type": "http", "scheme": "bearer"}
    for schema in document["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)


def test_real_answers_match_the_document(app, api, token, run_worker):
    client, headers, document = api
    filer = create_filer("western", "RPD")
    created = submit_through_api(client, token, filer)
    assert created.status_code == 201
    conforms(document, "Submission", created.get_json())
    run_worker()
    submission = client.get(f"/api/v1/submissions/{created.get_json()['id']}", headers=headers).get_json()
    assert submission["checks"]
    conforms(document, "SubmissionWithHistory", submission)
    cases = client.get(f"/api/v1/accounts/{filer.public_id}/cases", headers=headers).get_json()
    conforms(document, "Case", cases[0])


def test_the_registration_answers_match_the_document(app, api):
    from backoffice.extensions import db
    from backoffice.models import Notification
    from tests.factories import registration_with_code

    client, headers, document = api
    _registration, code = registration_with_code()
    body = {"code": code, "sign_in_provider": "partner", "sign_in_subject": "partner-7"}
    challenge = client.post("/api/v1/invitation-codes/redeem", json=body, headers=headers)
    conforms(document, "Challenge", challenge.get_json())
    sms = db.session.query(Notification).filter_by(template="access_code").one()
    verify = {"challenge_id": challenge.get_json()["challenge_id"], "access_code": sms.values["access_code"]}
    conforms(
        document,
        "ActiveAccount",
        client.post("/api/v1/access-codes/verify", json=verify, headers=headers).get_json(),
    )
    refused = client.post("/api/v1/invitation-codes/redeem", json=body, headers=headers)
    conforms(document, "Error", refused.get_json())
    assert (
        str(refused.status_code) in document["paths"]["/api/v1/invitation-codes/redeem"]["post"]["responses"]
    )


@pytest.mark.parametrize(
    ("method", "path", "headers_kind"),
    [
        ("get", "/api/v1/submissions/unknown", "token"),
        ("get", "/api/v1/accounts/unknown/cases", "token"),
        ("post", "/api/v1/submissions", "none"),
        ("post", "/api/v1/submissions", "token"),
    ],
)
def test_errors_have_the_documented_body(api, method, path, headers_kind):
    client, headers, document = api
    response = client.open(path, method=method.upper(), headers=headers if headers_kind == "token" else {})
    assert response.status_code in (400, 401, 404)
    conforms(document, "Error", response.get_json())
    template = path.replace("unknown", "{submission_id}" if "submissions/" in path else "{portal_account_id}")
    assert str(response.status_code) in document["paths"][template][method]["responses"]


def test_every_link_leads_to_an_operation_with_the_parameters_and_fields_it_fills(api):
    _client, _headers, document = api
    operations = {op["operationId"]: op for path in document["paths"].values() for op in path.values()}
    links = [
        link
        for operation in operations.values()
        for response in operation["responses"].values()
        for link in response.get("links", {}).values()
    ]
    assert len(links) >= 3
    for link in links:
        target = operations[link["operationId"]]
        assert set(link.get("parameters", {})) <= {
            parameter["name"] for parameter in target.get("parameters", [])
        }
        fields = link.get("requestBody", {})
        for media in target.get("requestBody", {}).get("content", {}).values():
            schema = media["schema"]
            if "$ref" in schema:
                schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
            assert set(fields) <= set(schema["properties"])


@pytest.mark.parametrize(
    ("value", "accepted"),
    [("K7QM-3XPR-9TWD", True), ("tab\there", True), ("", False), ("   ", False), ("nul\x00", False)],
)
def test_the_document_refuses_the_text_the_api_refuses(api, value, accepted):
    client, headers, document = api
    body = {"code": value, "sign_in_provider": "gckey", "sign_in_subject": "gckey-1"}
    schema = {**document, "$ref": "#/components/schemas/RedeemRequest"}
    assert Draft202012Validator(schema).is_valid(body) is accepted
    answer = client.post("/api/v1/invitation-codes/redeem", json=body, headers=headers)
    assert answer.status_code == (422 if accepted else 400)
