"""Every message template renders in English, in French and in both, and the preview shows it."""

import pytest

from backoffice.workflows.message_rendering import render_message
from backoffice.workflows.message_templates import TEMPLATES

CASES = [
    (name, channel, language)
    for name, spec in TEMPLATES.items()
    for channel in spec.channels
    for language in ("en", "fr", "bilingual")
]


@pytest.mark.parametrize(("name", "channel", "language"), CASES)
def test_every_template_renders_on_each_channel_in_each_language(app, name, channel, language):
    message = render_message(name, channel, language, TEMPLATES[name].sample)
    text = message.sms if channel == "sms" else message.text
    assert text and "{{" not in text and "{%" not in text and "\n\n\n" not in text
    for secret in TEMPLATES[name].secret:
        assert str(TEMPLATES[name].sample[secret]) in text, "a code must appear in its own message"
    if channel == "sms":
        assert len(message.sms) <= 320 * (2 if language == "bilingual" else 1)
    if channel == "email":
        first_language = "en" if language == "bilingual" else language  # a bilingual message opens in English
        assert message.subject and f'<html lang="{first_language}">' in message.html
    if language == "bilingual":
        assert "Immigration" in (message.html or text) or text


def test_english_and_french_versions_differ(app):
    for name, spec in TEMPLATES.items():
        channel = spec.channels[0]
        english = render_message(name, channel, "en", spec.sample)
        french = render_message(name, channel, "fr", spec.sample)
        assert english.text != french.text, name


def test_html_escapes_values(app):
    sample = {**TEMPLATES["invitation"].sample, "counsel_name": "<script>alert(1)</script>"}
    message = render_message("invitation", "email", "en", sample)
    assert "<script>" not in message.html and "&lt;script&gt;" in message.html


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_the_preview_screen_shows_each_template_in_both_languages(app, login_as, name):
    clerk = login_as("clerk", "western")
    page = clerk.get(f"/admin/message_templates/?template={name}").get_data(as_text=True)
    channel = TEMPLATES[name].channels[0]
    for language in ("en", "fr", "bilingual"):
        assert f'data-testid="preview-{channel}-{language}"' in page


@pytest.mark.parametrize(
    ("language", "kind", "reference"),
    [("en", "Disclosure", "Reference: "), ("fr", "Communication de documents", "Référence : ")],
)
def test_a_message_about_a_submission_names_its_file_kind_subject_and_files(app, language, kind, reference):
    from sqlalchemy import select

    from backoffice.extensions import db
    from backoffice.models import Language, Notification
    from tests.factories import create_filer, create_submission, pdf_bytes

    account = create_filer("western", "RPD")
    account.counsel.preferred_language = Language(language)
    files = [("exhibits.pdf", pdf_bytes()), ("proof-of-service.pdf", pdf_bytes())]
    submission = create_submission(account, "disclosure", files, subject="Exhibits for the hearing")
    db.session.commit()
    receipt = db.session.scalar(select(Notification).where(Notification.template == "submission_receipt"))
    message = render_message(receipt.template, receipt.channel.value, receipt.language, receipt.values)
    assert submission.case.file_number in message.subject and kind in message.subject
    assert "Exhibits for the hearing" in message.subject
    assert submission.public_id not in message.subject  # a reference, not a name
    for words in (kind, "Exhibits for the hearing", "exhibits.pdf", "proof-of-service.pdf"):
        assert words in message.text
    assert (
        message.text.count(submission.public_id) == 1 and f"{reference}{submission.public_id}" in message.text
    )


@pytest.mark.parametrize("name", ["submission_rejected", "division_decision"])
def test_the_decisions_name_the_submission_in_both_languages(app, name):
    sample = TEMPLATES[name].sample
    for language in ("en", "fr"):
        message = render_message(name, "email", language, sample)
        assert sample["document_kind"][language] in message.subject and sample["subject"] in message.text
        assert all(filename in message.text for filename in sample["filenames"])
        assert sample["submission_id"] not in message.subject and sample["submission_id"] in message.text
