"""Rendering a message from the repository's templates, in one language or both."""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from backoffice.workflows.message_templates import EMAIL, SMS, TEMPLATES

MESSAGES_DIR = Path(__file__).resolve().parent.parent / "templates" / "messages"
BILINGUAL = "bilingual"
MASK = "••••"
URL = re.compile(r"https?://[^\s<>\"]*[^\s<>\".,;:!?)]")  # not the punctuation that ends a sentence

# Plain text (email text, SMS, letters) is never read as HTML; the HTML version escapes everything.
_text = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(MESSAGES_DIR)),
    undefined=jinja2.StrictUndefined,
    autoescape=False,  # noqa: S701
)
_html = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(MESSAGES_DIR)), undefined=jinja2.StrictUndefined, autoescape=True
)


def _linkify(text: str) -> Markup:
    """Escape a line, then make its web addresses links (they were escaped with the rest)."""
    escaped = str(escape(text))
    return Markup(URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped))  # noqa: S704


_html.filters["linkify"] = _linkify

BILINGUAL_NOTE = "(Le texte français suit le texte anglais.)"
SEPARATOR = "\n\n" + "—" * 24 + "\n\n"


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text: str
    html: str
    sms: str


def languages_of(language: str) -> list[str]:
    return ["en", "fr"] if language == BILINGUAL else [language]


def render_message(template: str, channel: str, language: str, values: dict[str, Any]) -> RenderedMessage:
    """The message in the reader's language, or English then French when the language is unknown."""
    spec = TEMPLATES[template]
    languages = languages_of(language)
    if channel == SMS:
        sms = " / ".join(_render(template, lang, "sms.txt", values) for lang in languages)
        return RenderedMessage(subject="", text=sms, html="", sms=sms)
    bodies = {lang: _render(template, lang, "body.txt", values) for lang in languages}
    subjects = (
        [_render(template, lang, "subject.txt", values) for lang in languages]
        if EMAIL in spec.channels
        else []
    )
    text = SEPARATOR.join(bodies.values())
    if len(languages) > 1:
        text = f"{BILINGUAL_NOTE}\n\n{text}"
    subject = " ".join(" / ".join(subjects).split())  # one line, whatever the values held
    html = _html.get_template("_layout.html").render(
        subject=subject,
        sections=[(lang, blocks_of(body)) for lang, body in bodies.items()],
        bilingual_note=BILINGUAL_NOTE if len(languages) > 1 else "",
    )
    return RenderedMessage(subject=subject, text=text, html=html, sms="")


def _render(template: str, language: str, part: str, values: dict[str, Any]) -> str:
    return _text.get_template(f"{template}/{language}/{part}").render(**values).strip()


def blocks_of(text: str) -> list[tuple[str, list[str]]]:
    """Paragraphs ("p", lines) and lists ("ul", items), from a plain text body."""
    blocks = []
    for paragraph in text.split("\n\n"):
        lines = [line for line in paragraph.splitlines() if line.strip()]
        if lines and all(line.startswith("- ") for line in lines):
            blocks.append(("ul", [line[2:] for line in lines]))
        elif lines:
            blocks.append(("p", lines))
    return blocks


def masked(template: str, values: dict[str, Any]) -> dict[str, Any]:
    """The values with the codes hidden, for every place other than the message itself."""
    return {name: (MASK if name in TEMPLATES[template].secret else value) for name, value in values.items()}
