"""Portal API, registration steps 4 and 5: redeem an invitation code, then verify the SMS access code."""

from flask import g, jsonify, request

from backoffice.api import bp
from backoffice.extensions import db
from backoffice.workflows.registration import invitation_codes
from backoffice.workflows.registration.codes import masked_phone
from backoffice.workflows.timeliness import EASTERN


@bp.post("/invitation-codes/redeem")
def redeem_invitation_code():
    redeem = invitation_codes.read_redeem_request(request.get_json(silent=True))
    challenge = invitation_codes.redeem_invitation_code(g.portal_client, redeem)
    registration = challenge.invitation_code.registration
    db.session.commit()
    return jsonify(
        {
            "challenge_id": challenge.public_id,
            "sms_sent_to": masked_phone(registration.verified_mobile),
            "expires_at": challenge.expires_at.astimezone(EASTERN).isoformat(),
        }
    )


@bp.post("/access-codes/verify")
def verify_access_code():
    account = invitation_codes.verify_access_code(g.portal_client, request.get_json(silent=True))
    db.session.commit()
    language = account.counsel.preferred_language
    return jsonify(
        {
            "portal_account_id": account.public_id,
            "counsel": {
                "name": account.counsel.full_name,
                "preferred_language": language.value if language else None,
            },
            "status": "active",
        }
    )
