"""Receiving a submission's upload: streamed to storage, with the limits enforced while the bytes arrive.

The multipart body is read in small chunks and each file goes straight to a temporary file of the document
store, so memory stays flat whatever the size. The 6th file, the 50 MB + 1st byte of a file, or a file with no
`%PDF-` in its first kilobyte ends the request at once. Nothing becomes durable until `Upload.keep()`; a
refused upload leaves nothing behind.
"""

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO

from werkzeug.exceptions import ClientDisconnected
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from backoffice.integrations.storage import DocumentStore, IncomingDocument, StoredDocument
from backoffice.workflows.refusals import Refusal

CHUNK = 256 * 1024
MAX_ATTACHMENTS = 5
MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024
MAX_FIELD_BYTES = 16 * 1024
MAX_PARTS = 30
MAX_UNPARSED_BYTES = 4 * CHUNK
FIELDS_AND_HEADERS_ALLOWANCE = 2 * 1024 * 1024
PDF_SIGNATURE = b"%PDF-"
EOF_MARKER = b"%%EOF"
ZIP_END = b"PK\x05\x06"  # a ZIP archive's end of central directory (Word, OpenDocument)
HEADER_WINDOW = 1024
HEAD = HEADER_WINDOW + len(PDF_SIGNATURE)
TAIL = 1024


@dataclass
class IncomingAttachment:
    filename: str
    document: IncomingDocument
    head: bytes = b""
    tail: bytes = b""


@dataclass(frozen=True)
class KeptAttachment:
    filename: str
    stored: StoredDocument


@dataclass
class Upload:
    fields: dict[str, str] = field(default_factory=dict)
    attachments: list[IncomingAttachment] = field(default_factory=list)

    def discard(self) -> None:
        for attachment in self.attachments:
            attachment.document.discard()

    def keep(self) -> list[KeptAttachment]:
        """Make every file durable; returns them in the order they came."""
        return [KeptAttachment(item.filename, item.document.keep()) for item in self.attachments]


def receive_upload(
    stream: IO[bytes],
    boundary: bytes,
    store: DocumentStore,
    before_first_file: Callable[[dict[str, str]], None],
) -> Upload:
    """Read the whole multipart body. `before_first_file` sees the fields sent before any file and may refuse."""
    upload = Upload()
    try:
        _read(stream, boundary, store, before_first_file, upload)
        for attachment in upload.attachments:  # an empty file part has no data to check on the way
            _refuse_unless_pdf(attachment)
    except BaseException:
        upload.discard()
        raise
    return upload


def _read(stream, boundary, store, before_first_file, upload: Upload) -> None:
    decoder = MultipartDecoder(boundary, max_parts=MAX_PARTS)
    part: Field | File | None = None
    buffer = bytearray()
    for event in _events(decoder, stream):
        if isinstance(event, Field):
            part, buffer = event, bytearray()
        elif isinstance(event, File):
            part = event
            _start_file(event, store, before_first_file, upload)
        elif isinstance(event, Data):
            if isinstance(part, Field):
                buffer += event.data
                if len(buffer) > MAX_FIELD_BYTES:
                    raise Refusal("malformed_request", reason=f"the field {part.name} is longer than 16 KB")
                if not event.more_data:
                    upload.fields[part.name] = buffer.decode("utf-8", "replace")
            else:
                _write_file_data(upload.attachments[-1], event.data, finished=not event.more_data)


def _events(decoder: MultipartDecoder, stream: IO[bytes]) -> Iterator:
    received = 0
    limit = MAX_ATTACHMENTS * MAX_ATTACHMENT_BYTES + FIELDS_AND_HEADERS_ALLOWANCE
    while True:
        event = _next_event(decoder)
        if isinstance(event, Epilogue):
            return
        if not isinstance(event, NeedData):
            yield event
            continue
        chunk = _read_chunk(stream)
        received += len(chunk)
        if received > limit:
            raise Refusal("request_too_large")
        if not chunk:
            decoder.receive_data(None)
            event = _next_event(decoder)
            if not isinstance(event, Epilogue):
                raise Refusal("malformed_request", reason="the body ends before its last boundary")
            return
        decoder.receive_data(chunk)
        if len(decoder.buffer) > MAX_UNPARSED_BYTES:
            raise Refusal("malformed_request", reason="no multipart boundary where one is expected")


def _next_event(decoder: MultipartDecoder):
    try:
        return decoder.next_event()
    except ValueError as error:
        raise Refusal("malformed_request", reason=str(error) or "not multipart/form-data") from None


def _read_chunk(stream: IO[bytes]) -> bytes:
    try:
        return stream.read(CHUNK)
    except ClientDisconnected:
        raise Refusal("malformed_request", reason="the upload was interrupted") from None


def _start_file(event: File, store: DocumentStore, before_first_file, upload: Upload) -> None:
    if event.name != "attachments":
        raise Refusal("malformed_request", reason=f"unexpected file field {event.name!r}")
    if not upload.attachments:
        before_first_file(upload.fields)
    if len(upload.attachments) == MAX_ATTACHMENTS:
        raise Refusal("too_many_attachments")
    upload.attachments.append(IncomingAttachment(clean_filename(event.filename), store.receive()))


def _write_file_data(attachment: IncomingAttachment, data: bytes, finished: bool) -> None:
    if attachment.document.size + len(data) > MAX_ATTACHMENT_BYTES:
        raise Refusal("attachment_too_large", filename=attachment.filename)
    if len(attachment.head) < HEAD:
        attachment.head += data[: HEAD - len(attachment.head)]
        if len(attachment.head) == HEAD and PDF_SIGNATURE not in attachment.head:
            raise Refusal("not_pdf", filename=attachment.filename)
    attachment.document.write(data)
    attachment.tail = (attachment.tail + data)[-TAIL:]
    if finished:
        _refuse_unless_pdf(attachment)


def _refuse_unless_pdf(attachment: IncomingAttachment) -> None:
    code = pdf_framing_refusal(attachment.head, attachment.tail)
    if code is not None:
        raise Refusal(code, filename=attachment.filename)


def pdf_framing_refusal(head: bytes, tail: bytes) -> str | None:
    """Why a file's first 1,029 and last 1,024 bytes show it is not a PDF, or None when they could be one.

    As Acrobat does: `%PDF-` anywhere in the first 1,024 bytes (printer drivers and Ghostscript may write
    a banner before it), and a missing or early `%%EOF` tolerated; whether the file really reads is the
    screening's question. A ZIP archive (a Word or OpenDocument file) that stores a PDF as its first member
    has `%PDF-` near its start too, but ends with the archive's directory, after any `%%EOF`.
    """
    if PDF_SIGNATURE not in head[:HEAD]:
        return "not_pdf"
    if tail.rfind(ZIP_END) > tail.rfind(EOF_MARKER):
        return "not_pdf"
    return None


def clean_filename(name: str | None) -> str:
    """The name as counsel gave it, without directories or control characters, at most 255 characters."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        char for char in unicodedata.normalize("NFC", name) if unicodedata.category(char)[0] != "C"
    )
    name = re.sub(r"\s+", " ", name).strip()
    return name[:255] or "document.pdf"
