"""The registration form counsel return: kept, read in the sandbox, checked, and recorded, which moves the
registration to "form received" (counsel's record updated) or "form incomplete" (counsel told what is missing)."""

from flask_babel import lazy_gettext as _l

from backoffice.integrations.storage import document_store
from backoffice.models import Counsel, Language, Registration, StaffUser
from backoffice.models.types import utcnow
from backoffice.workflows.audit import record_event
from backoffice.workflows.intake import HEAD, TAIL, pdf_framing_refusal
from backoffice.workflows.refusals import Refused
from backoffice.workflows.registration.form import (
    FIELD_NAMES,
    check_registration_values,
    normalise_language,
    normalise_mobile,
    read_registration_form,
)
from backoffice.workflows.registration.machine import fire, message_counsel, require

MAX_FORM_BYTES = 10 * 1024 * 1024
COUNSEL_FIELDS = ("full_name", "regulator", "membership_number", "email", "mobile", "postal_address")


def store_returned_form(registration: Registration, stream, clerk: StaffUser):
    """Keep the uploaded form (content-addressed, like submissions) and read its fields in the sandbox.

    Returns the reading; a scanned or flattened form reads as `flattened`, for the clerk to type it in.
    """
    require(registration, "receive_form", clerk)
    store = document_store()
    incoming = store.receive()
    try:
        head, tail = _copy_limited(stream, incoming)
    except BaseException:
        incoming.discard()
        raise
    if pdf_framing_refusal(head, tail) is not None:
        incoming.discard()
        raise Refused(_l("The returned form must be a PDF file."))
    try:  # read in the sandbox from the file just received: the very bytes kept, without a download back
        reading = read_registration_form(incoming.received_path())
    except BaseException:
        incoming.discard()
        raise
    stored = incoming.keep()
    registration.form_sha256 = stored.sha256
    record_event(
        "registration.form_uploaded", record=registration, actor=clerk, after={"sha256": stored.sha256}
    )
    return reading


def _copy_limited(stream, incoming) -> tuple[bytes, bytes]:
    """Copy the upload and return its first and last bytes, for the same test of a PDF as submissions."""
    head = tail = b""
    while chunk := stream.read(256 * 1024):
        if incoming.size + len(chunk) > MAX_FORM_BYTES:
            raise Refused(_l("The returned form is larger than 10 MB."))
        head = (head + chunk)[:HEAD] if len(head) < HEAD else head
        tail = (tail + chunk)[-TAIL:]
        incoming.write(chunk)
    return head, tail


def record_form(registration: Registration, values: dict[str, str], clerk: StaffUser) -> list:
    """The clerk confirms the form's values. Missing or invalid items send the registration to "form
    incomplete" with a message to counsel listing them; otherwise the counsel record is updated (audited)."""
    require(registration, "receive_form", clerk)  # the same stages as "form incomplete"
    values = {name: (values.get(name) or "").strip() for name in FIELD_NAMES}
    kind = registration.counsel.kind.value if registration.counsel.kind else None
    missing = check_registration_values(values, kind)
    registration.form_values = values
    registration.form_received_at = utcnow()
    if missing:
        fire(registration, "mark_form_incomplete", clerk, missing=[item.field for item in missing])
        missing_items = [{"en": item.en, "fr": item.fr} for item in missing]
        message_counsel(registration, "form_incomplete", {"missing_items": missing_items})
        return missing
    _update_counsel(registration.counsel, values, clerk)
    registration.verified_mobile = (
        registration.counsel.mobile
    )  # where access codes go, whatever happens later
    fire(registration, "receive_form", clerk)
    return []


def _update_counsel(counsel: Counsel, values: dict[str, str], clerk: StaffUser) -> None:
    wanted = {name: values[name] or None for name in COUNSEL_FIELDS}
    wanted["mobile"] = normalise_mobile(values["mobile"])
    language = normalise_language(values["preferred_language"])
    before, after = {}, {}
    for name, value in wanted.items():
        if getattr(counsel, name) != value:
            before[name], after[name] = getattr(counsel, name), value
            setattr(counsel, name, value)
    if language and counsel.preferred_language != Language(language):
        before["preferred_language"] = (
            counsel.preferred_language.value if counsel.preferred_language else None
        )
        after["preferred_language"] = language
        counsel.preferred_language = Language(language)
    if after:
        record_event("counsel.updated_from_form", record=counsel, actor=clerk, before=before, after=after)
