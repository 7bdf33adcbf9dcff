"""Printable letters, for counsel reached by mail or fax: a PDF with the office's letterhead."""

from io import BytesIO
from xml.sax.saxutils import escape

import pikepdf
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import HRFlowable, Paragraph, SimpleDocTemplate, Spacer

from backoffice.extensions import db
from backoffice.models import Notification, Office
from backoffice.workflows.message_attachments import attachments_for
from backoffice.workflows.message_rendering import BILINGUAL_NOTE, blocks_of, languages_of, render_message


def letter_pdf(notification: Notification) -> bytes:
    rendered = render_message(notification.template, "mail", notification.language, notification.values)
    office = db.session.get(Office, notification.office_id) if notification.office_id else None
    styles = getSampleStyleSheet()
    story = [
        Paragraph("<b>Immigration and Refugee Board of Canada</b>", styles["Normal"]),
        Paragraph("<b>Commission de l'immigration et du statut de réfugié du Canada</b>", styles["Normal"]),
    ]
    if office is not None:
        story.append(
            Paragraph(escape(f"{office.name_en} / {office.name_fr} — {office.mailbox}"), styles["Normal"])
        )
    story += [Spacer(1, 0.6 * cm), HRFlowable(width="100%"), Spacer(1, 0.6 * cm)]
    story += [Paragraph(escape(line), styles["Normal"]) for line in _address_lines(notification)]
    story.append(Spacer(1, 0.8 * cm))
    if len(languages_of(notification.language)) > 1:
        story.append(Paragraph(escape(BILINGUAL_NOTE), styles["Italic"]))
    for kind, lines in blocks_of(rendered.text):
        if kind == "ul":
            story += [Paragraph("• " + escape(item), styles["Normal"]) for item in lines]
        else:
            story.append(Paragraph("<br/>".join(escape(line) for line in lines), styles["Normal"]))
        story.append(Spacer(1, 0.3 * cm))
    output = BytesIO()
    SimpleDocTemplate(
        output,
        pagesize=LETTER,
        title=rendered.subject or notification.template,
        leftMargin=2.2 * cm,
        rightMargin=2.2 * cm,
    ).build(story)
    return _with_attachments(notification, output.getvalue())


def _with_attachments(notification: Notification, letter: bytes) -> bytes:
    """The documents that go with the message are printed after the letter (the registration form)."""
    attachments = attachments_for(notification)
    if not attachments:
        return letter
    combined = pikepdf.Pdf.open(BytesIO(letter))
    for _filename, content in attachments:
        combined.add_pages_from(pikepdf.Pdf.open(BytesIO(content)))  # the form stays fillable
    output = BytesIO()
    combined.save(output)
    return output.getvalue()


def _address_lines(notification: Notification) -> list[str]:
    name = notification.counsel.full_name if notification.counsel else ""
    if notification.channel.value == "fax":
        return [name, f"Fax / Télécopieur : {notification.recipient}"]
    return [name, *notification.recipient.splitlines()]
