"""The audit log said in words: who acted (a name, or what acted), what happened, to which kind of record, and
the values before and after as the screens show them. The log stores codes ("notification.queued",
"staff_users", "system", `is_active_account: true`), which stay the reference in exports and searches."""

from enum import Enum
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Enum as EnumType
from sqlalchemy import select

from backoffice.extensions import db
from backoffice.i18n import localised
from backoffice.models import AuditEvent, Reason, StaffUser
from backoffice.reports.timeline import REGISTRATION_EVENTS, SUBMISSION_EVENTS, who_acted

RECORD_TYPES = {
    "attachments": _l("PDF"),
    "cases": _l("Case"),
    "counsel": _l("Counsel"),
    "counsel_of_record": _l("Counsel of record"),
    "divisions": _l("Division"),
    "invitation_codes": _l("Invitation code"),
    "job_runs": _l("Job"),
    "notifications": _l("Message to counsel"),
    "offices": _l("Regional office"),
    "portal_accounts": _l("Portal account"),
    "portal_clients": _l("Portal client"),
    "reasons": _l("Reason"),
    "registrations": _l("Registration"),
    "saved_filters": _l("Saved filter"),
    "service_targets": _l("Service target"),
    "sso_group_mappings": _l("Single sign-on group"),
    "staff_users": _l("Staff user"),
    "submissions": _l("Submission"),
    "verification_meetings": _l("Verification meeting"),
}

ACTIONS = {
    **SUBMISSION_EVENTS,
    **REGISTRATION_EVENTS,
    "case.imported": _l("Case imported"),
    "case.updated_by_import": _l("Case updated by an import"),
    "case_import.queued": _l("Case import queued"),
    "case_import.finished": _l("Case import finished"),
    "counsel.imported": _l("Counsel imported"),
    "counsel.updated_by_import": _l("Counsel updated by an import"),
    "counsel.updated_from_form": _l("Counsel updated from the registration form"),
    "counsel_of_record.added": _l("Counsel of record added"),
    "counsel_of_record.ended": _l("Counsel of record ended"),
    "job.failed": _l("Job failed"),
    "job.requeued": _l("Job queued again"),
    "notification.queued": _l("Message to counsel queued"),
    "notification.failed": _l("Message to counsel not delivered"),
    "notification.resent": _l("Message to counsel sent again"),
    "notification.letter_opened": _l("Letter opened for printing"),
    "notification.letter_sent": _l("Letter marked as mailed"),
    "permission.refused": _l("Access refused"),
    "portal_account.activated": _l("Portal account activated"),
    "portal_client.created": _l("Portal client created"),
    "portal_client.revoked": _l("Portal client revoked"),
    "portal_client.code_flood": _l("Too many invitation codes tried by the portal"),
    "saved_filter.created": _l("Saved filter created"),
    "saved_filter.replaced": _l("Saved filter replaced"),
    "saved_filter.deleted": _l("Saved filter deleted"),
    "sign_in.succeeded": _l("Signed in"),
    "sign_in.failed": _l("Sign-in failed"),
    "sign_in.password_accepted": _l("Password accepted; second factor asked"),
    "sign_in.refused_locked": _l("Sign-in refused: account locked"),
    "sign_in.second_factor_failed": _l("Second factor refused"),
    "sign_in.sso_refused": _l("Single sign-on refused"),
    "staff_users.factors_reset": _l("Second factors reset"),
    "staff_users.locked_out": _l("Account locked after failed sign-ins"),
    "staff_users.passkey_added": _l("Passkey added"),
    "staff_users.passkey_removed": _l("Passkey removed"),
    "staff_users.passkey_clone_suspected": _l("Passkey possibly copied"),
    "staff_users.recovery_code_used": _l("Recovery code used"),
    "staff_users.recovery_codes_made": _l("Recovery codes made"),
    "staff_users.role_from_groups": _l("Role set from single sign-on groups"),
    "staff_users.sso_subject_bound": _l("Single sign-on account linked"),
    "staff_users.totp_added": _l("Authenticator app added"),
    "staff_users.totp_removed": _l("Authenticator app removed"),
    "sso_group_mappings.deleted": _l("Single sign-on group removed"),
}


def record_type_label(code: str | None) -> str:
    return str(RECORD_TYPES.get(code, code)) if code else ""


def action_label(code: str) -> str:
    """What happened: its words, else "<record> created/changed" for a change made on a screen, else the code."""
    if code in ACTIONS:
        return str(ACTIONS[code])
    record_type, _dot, verb = code.partition(".")
    if record_type in RECORD_TYPES and verb == "created":
        return _("%(record)s created", record=RECORD_TYPES[record_type])
    if record_type in RECORD_TYPES and verb == "updated":
        return _("%(record)s changed", record=RECORD_TYPES[record_type])
    return code


def actor_label(event: AuditEvent) -> str:
    """Who acted: the staff member's name, else what acted (the back office itself, the command line, the
    portal), else the label kept (an unknown email's domain at a refused sign-in)."""
    return who_acted(event.actor, event.actor_label, event.action)


# The facts events keep that are no column of a screen: their words.
EVENT_FIELDS = {
    "claimed_by": _l("Held by"),
    "held_by": _l("Put on hold by"),
    "reasons": _l("Reasons"),
    "note": _l("Note"),
    "why": _l("Why"),
    "files": _l("Files"),
    "hold_ended": _l("Hold ended"),
    "document_kind": _l("Kind"),
    "timeliness": _l("On time?"),
    "reason": _l("Reason"),
    "outcome": _l("Outcome"),
    "attempt": _l("Attempt"),
    "status": _l("Status"),
    "channel": _l("Channel"),
    "template": _l("Message"),
}
STAFF_FIELDS = frozenset({"claimed_by", "held_by"})  # events name the staff member by their address


def changed_values(event: AuditEvent, which: str) -> list[tuple[str, str]]:
    """The values before or after (`which`) as (field, value) in words: the field named as its screen names
    it, a yes/no, an enum's label, a list as a list, a staff member by name, "none" for nothing."""
    values = getattr(event, which) or {}
    columns = _columns_of(event.record_type)
    labels = {**EVENT_FIELDS, **_screen_labels(event.record_type)}
    names = _staff_names({value for name, value in values.items() if name in STAFF_FIELDS})
    return [
        (str(labels.get(name, name.replace("_", " "))), _in_words(name, value, columns, names))
        for name, value in values.items()
    ]


def _in_words(name: str, value: Any, columns: dict[str, Any], names: dict[str, str]) -> str:
    if name in STAFF_FIELDS and isinstance(value, str) and value:
        return names.get(value) or _("A former staff member")
    if name == "reasons" and isinstance(value, list):
        codes = [str(code) for code in value]
        texts = {
            reason.code: localised(reason.text_en, reason.text_fr)
            for reason in db.session.scalars(select(Reason).where(Reason.code.in_(codes)))
        }
        return "; ".join(texts.get(code, code) for code in codes) or _("none")
    return _value_in_words(value, columns.get(name))


def _staff_names(emails: set[Any]) -> dict[str, str]:
    emails = {email for email in emails if isinstance(email, str)}
    if not emails:
        return {}
    rows = db.session.execute(select(StaffUser.email, StaffUser.full_name).where(StaffUser.email.in_(emails)))
    return dict(rows.all())


def _value_in_words(value: Any, column: Any) -> str:
    if value is None:
        return _("none")
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return ", ".join(_value_in_words(item, column) for item in value) or _("none")
    enum_class = (
        getattr(column.type, "enum_class", None)
        if isinstance(getattr(column, "type", None), EnumType)
        else None
    )
    if enum_class is not None and issubclass(enum_class, Enum):
        try:
            return str(enum_class(value).label)
        except (ValueError, AttributeError):
            return str(value)
    return str(value)


def _columns_of(table: str | None) -> dict[str, Any]:
    for mapper in db.Model.registry.mappers:
        if mapper.local_table is not None and mapper.local_table.name == table:
            return {attribute.key: attribute.columns[0] for attribute in mapper.column_attrs}
    return {}


def _screen_labels(table: str | None) -> dict[str, Any]:
    """The column labels of the screen that shows this kind of record (their words for its fields)."""
    from flask import current_app

    for admin in current_app.extensions.get("admin", []):
        for view in admin._views:
            model = getattr(view, "model", None)
            if model is not None and getattr(model, "__tablename__", None) == table:
                return dict(view.column_labels or {})
    return {}
