"""Documents sent with a message, made when it is sent (so the outbox keeps no copy of them)."""

from collections.abc import Callable

from backoffice.models import Notification
from backoffice.workflows.message_templates import TEMPLATES
from backoffice.workflows.registration.form import registration_form_pdf


def _registration_form(notification: Notification) -> tuple[str, bytes]:

    return "registration-form-formulaire-inscription.pdf", registration_form_pdf(notification.counsel)


BUILDERS: dict[str, Callable[[Notification], tuple[str, bytes]]] = {"registration_form": _registration_form}


def attachments_for(notification: Notification) -> tuple[tuple[str, bytes], ...]:
    spec = TEMPLATES.get(notification.template)
    if spec is None or spec.attachment is None:
        return ()
    return (BUILDERS[spec.attachment](notification),)
