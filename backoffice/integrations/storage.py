"""Content-addressed document storage: a folder, or an S3-compatible bucket when web and workers span hosts.

STORAGE_URL alone chooses: empty or `file:///absolute/path` is a folder (STORAGE_ROOT by default), and
`s3://bucket/prefix` a bucket; the code that keeps and reads documents is the same for both. STORAGE_ROOT
stays this host's working folder for temporary files in every mode.

A document is kept once under its SHA-256 (`documents/ab/cd/abcd…`) and never overwritten. Its bytes go to a
temporary file while they are hashed; `keep()` then makes them durable:
- in a folder, the file is flushed to disk (fsync) and linked into place, so a reader never sees half a file;
- in a bucket, the object is written only if absent (`If-None-Match: *`), and the server checks the bytes
  against the SHA-256 computed as they arrived: the whole document's for a single PUT, each part's for a
  multipart upload, so that no byte other than those received can become visible under the name.

Other files (the case import's CSV) are kept by name (`imports/…`), so that a job on another host reads them.
This module is the only importer of boto3.
"""

import base64
import hashlib
import io
import os
import shutil
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, closing, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError
from flask import Response, abort, current_app, request, send_file
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import ServiceUnavailable

from config.storage_url import StorageUrlError, parse_storage_url

PART_BYTES = 8 * 1024 * 1024  # each part of a multipart upload; a document up to this size is one PUT
CHUNK = 256 * 1024
HEX = frozenset("0123456789abcdef")
NAMED_FOLDERS = ("imports",)
# What a process that died while receiving or reading a document can leave in a working folder.
TEMPORARY_FILES = ("receiving-*.part", "reading-*", "named-*.part")
RETRY_AFTER_SECONDS = 60  # when the object store does not answer: a restart or a network hiccup


class StorageError(RuntimeError):
    """The store refused what was asked, or holds something other than what its name says."""


class StorageSettingsError(StorageError):
    """STORAGE_URL names no store this module knows."""


class StorageUnavailable(StorageError):
    """The object store does not answer (not started yet, or unreachable)."""


class ObjectDiffers(StorageError):
    """The store already holds an object of another size under this name; it is never overwritten."""


@dataclass(frozen=True)
class Digest:
    """What the store checks a document against: its SHA-256 and size, and the SHA-256 of each PART_BYTES
    part, as a multipart upload sends them (one part, the whole document, up to PART_BYTES)."""

    sha256: str
    size: int
    parts: tuple[bytes, ...]


class _Hasher:
    """The digest of bytes as they go by, computed once while they are received or read."""

    def __init__(self) -> None:
        self._whole, self._part = hashlib.sha256(), hashlib.sha256()
        self._in_part = 0
        self._parts: list[bytes] = []
        self.size = 0

    def update(self, data: bytes) -> None:
        self._whole.update(data)
        self.size += len(data)
        view = memoryview(data)
        while view:
            piece = view[: PART_BYTES - self._in_part]
            self._part.update(piece)
            self._in_part += len(piece)
            view = view[len(piece) :]
            if self._in_part == PART_BYTES:
                self._parts.append(self._part.digest())
                self._part, self._in_part = hashlib.sha256(), 0

    def digest(self) -> Digest:
        parts = list(self._parts)
        if self._in_part or not parts:
            parts.append(self._part.digest())
        return Digest(self._whole.hexdigest(), self.size, tuple(parts))


def digest_of_file(path: Path) -> Digest:
    hasher = _Hasher()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            hasher.update(chunk)
    return hasher.digest()


@dataclass(frozen=True)
class StoredDocument:
    sha256: str
    size: int


@dataclass
class OpenedDocument:
    """A stored document being read: a stream of its bytes (closed by whoever reads it), its size and when it
    was stored. When only a range was read, `content_range` is its (start, stop) and the stream holds only
    those bytes; `size` is still the whole document's."""

    stream: IO[bytes]
    size: int
    last_modified: datetime
    content_range: tuple[int, int] | None = None


def document_key(sha256: str) -> str:
    """Where a document is kept, in a folder or under a bucket's prefix: `documents/ab/cd/<sha256>`."""
    if len(sha256) != 64 or not HEX.issuperset(sha256):
        raise ValueError("Not a SHA-256 in hexadecimal")
    return f"documents/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def named_key(key: str) -> str:
    """A named file's key as stored in the database (`imports/case-import-7.csv`), checked: one known folder
    and a plain name, so that no key reaches outside the store."""
    if not isinstance(key, str):
        raise TypeError(f"A named file's key is a string, not {type(key).__name__}")
    folder, _, name = key.partition("/")
    plain = name and name[0] != "." and all(char.isalnum() or char in "._-" for char in name)
    if folder not in NAMED_FOLDERS or not plain or len(key) > 255:
        raise ValueError(f"Not the key of a named file: {key!r}")
    return key


class IncomingDocument:
    """A document being received: bytes go to a temporary file while the hash and size are counted."""

    def __init__(self, store: "DocumentStore") -> None:
        self._store = store
        self._hasher = _Hasher()
        descriptor, name = _temporary_file(store.working_dir, "receiving-", ".part")
        self._file = os.fdopen(descriptor, "wb")
        self.temporary_path = Path(name)

    @property
    def size(self) -> int:
        return self._hasher.size

    def digest(self) -> Digest:
        return self._hasher.digest()

    def write(self, data: bytes) -> None:
        self._file.write(data)
        self._hasher.update(data)

    def received_path(self) -> Path:
        """The temporary file holding every byte written so far: to read the document before `keep()`, which
        removes it, rather than fetch it back from the store."""
        self._file.flush()
        return self.temporary_path

    def discard(self) -> None:
        if not self._file.closed:
            self._file.close()
        self.temporary_path.unlink(missing_ok=True)

    def keep(self) -> StoredDocument:
        """Make the document durable under its hash. The same bytes stored twice are kept once."""
        self._file.flush()
        if self._store.syncs_received_files:
            os.fsync(self._file.fileno())
        self._file.close()
        digest = self.digest()
        try:
            self._store._keep_received(self.temporary_path, digest)
        finally:
            self.temporary_path.unlink(missing_ok=True)
        return StoredDocument(sha256=digest.sha256, size=digest.size)


class DocumentStore(ABC):
    """Where documents and named files are kept; `working_dir` holds this host's temporary files."""

    syncs_received_files = False

    def __init__(self, working_dir: Path) -> None:
        self.working_dir = working_dir

    def receive(self) -> IncomingDocument:
        return IncomingDocument(self)

    def exists(self, sha256: str) -> bool:
        return self.stored_size(sha256) is not None

    def keep_file(self, source: Path, digest: Digest) -> StoredDocument:
        """Keep a copy of a local file whose digest was just computed; the file itself is left as it is."""
        incoming = self.receive()
        try:
            with source.open("rb") as handle:
                while chunk := handle.read(CHUNK):
                    incoming.write(chunk)
        except BaseException:
            incoming.discard()
            raise
        if incoming.digest() != digest:
            incoming.discard()
            raise StorageError(f"{source} changed while it was copied")
        return incoming.keep()

    @abstractmethod
    def check_reachable(self) -> None:
        """Cheaply, whether documents can be kept and read now; StorageUnavailable if not (for /readyz)."""

    @abstractmethod
    def stored_size(self, sha256: str) -> int | None:
        """The size of the document kept under this hash, or None when there is none."""

    @abstractmethod
    def kept_documents(self) -> Iterator[str]:
        """The SHA-256 of every document kept (an inventory: for checks and copies, never for a request)."""

    @abstractmethod
    def open(self, sha256: str, byte_range: str | None = None) -> OpenedDocument:
        """The document's bytes as a stream; FileNotFoundError when it is not kept here. `byte_range` (a Range
        header of one range) may be honoured by a store that cannot seek: see OpenedDocument.content_range."""

    @abstractmethod
    def local_copy(self, sha256: str) -> AbstractContextManager[Path]:
        """A local file of the document while the block runs (the PDF readers need a path); nothing is left
        behind after it, even on error."""

    @abstractmethod
    def put_named(self, key: str, source: Path) -> None:
        """Keep a copy of a local file under a key of a named folder (`imports/…`), replacing any before."""

    @abstractmethod
    def named_size(self, key: str) -> int | None:
        """The size of the named file, or None when there is none."""

    @abstractmethod
    def local_copy_of(self, key: str) -> AbstractContextManager[Path]:
        """A local file of the named file while the block runs; nothing is left behind after it."""

    @abstractmethod
    def _keep_received(self, path: Path, digest: Digest) -> None:
        """Make a temporary file of `working_dir` durable under its hash; the caller then removes it."""


class FileStore(DocumentStore):
    """Documents in a folder: `root/documents/ab/cd/<sha256>`, named files in `root/imports/`."""

    syncs_received_files = True

    def __init__(self, root: Path) -> None:
        # Temporary files beside the documents: a received file is linked into place, which needs one file system.
        super().__init__(root / "incoming")
        self.root = root

    def path_for(self, sha256: str) -> Path:
        return self.root / document_key(sha256)

    def check_reachable(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise StorageUnavailable("the storage folder cannot be written")

    def stored_size(self, sha256: str) -> int | None:
        path = self.path_for(sha256)
        return path.stat().st_size if path.is_file() else None

    def kept_documents(self) -> Iterator[str]:
        documents = self.root / "documents"
        if documents.is_dir():
            yield from (path.name for path in documents.rglob("*") if path.is_file())

    def open(self, sha256: str, byte_range: str | None = None) -> OpenedDocument:
        """The whole file, whatever the range: werkzeug seeks to a range of a file."""
        handle = self.path_for(sha256).open("rb")
        status = os.fstat(handle.fileno())
        return OpenedDocument(handle, status.st_size, datetime.fromtimestamp(status.st_mtime, UTC))

    @contextmanager
    def local_copy(self, sha256: str) -> Iterator[Path]:
        """The kept file itself: it is local already, and never changes, so no copy is made."""
        path = self.path_for(sha256)
        if not path.is_file():
            raise FileNotFoundError(path)
        yield path

    def put_named(self, key: str, source: Path) -> None:
        target = self.root / named_key(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor, name = _temporary_file(self.working_dir, "named-", ".part")
        try:
            with os.fdopen(descriptor, "wb") as handle, source.open("rb") as original:
                shutil.copyfileobj(original, handle, CHUNK)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(name, target)
        finally:
            Path(name).unlink(missing_ok=True)
        _fsync_directory(target.parent)

    def named_size(self, key: str) -> int | None:
        path = self.root / named_key(key)
        return path.stat().st_size if path.is_file() else None

    @contextmanager
    def local_copy_of(self, key: str) -> Iterator[Path]:
        path = self.root / named_key(key)
        if not path.is_file():
            raise FileNotFoundError(path)
        yield path

    def _keep_received(self, path: Path, digest: Digest) -> None:
        final = self.path_for(digest.sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, final)  # fails rather than overwrite
        except FileExistsError:
            return
        _fsync_directory(final.parent)


class S3Store(DocumentStore):
    """Documents in an S3-compatible bucket, under `prefix/documents/ab/cd/<sha256>`."""

    def __init__(self, client: Any, bucket: str, prefix: str, working_dir: Path) -> None:
        super().__init__(working_dir)
        self.client, self.bucket, self.prefix = client, bucket, prefix.strip("/")

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def stored_size(self, sha256: str) -> int | None:
        return self._size(self._key(document_key(sha256)))

    def named_size(self, key: str) -> int | None:
        return self._size(self._key(named_key(key)))

    def kept_documents(self) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self._key("documents/")
        )
        with _answered():
            for page in pages:
                yield from (item["Key"].rsplit("/", 1)[-1] for item in page.get("Contents", []))

    def open(self, sha256: str, byte_range: str | None = None) -> OpenedDocument:
        """Only the range asked for is read from the bucket: its stream cannot seek, so werkzeug would read
        and discard every byte before the range."""
        return self._open(self._key(document_key(sha256)), byte_range)

    @contextmanager
    def local_copy(self, sha256: str) -> Iterator[Path]:
        """Downloaded and checked against its name: what the screening reads is what was received."""
        with self._downloaded(self._key(document_key(sha256))) as (path, digest):
            if digest.sha256 != sha256:
                raise StorageError(f"The object of {sha256} in the bucket does not match its name")
            yield path

    @contextmanager
    def local_copy_of(self, key: str) -> Iterator[Path]:
        with self._downloaded(self._key(named_key(key))) as (path, _digest):
            yield path

    def put_named(self, key: str, source: Path) -> None:
        self._upload(source, self._key(named_key(key)), digest_of_file(source), only_if_absent=False)

    def keep_file(self, source: Path, digest: Digest) -> StoredDocument:
        """Sent straight from the file: the server checks it against `digest`, so a file that changed since
        is refused rather than kept under a name that is not its own."""
        self._keep_received(source, digest)
        return StoredDocument(sha256=digest.sha256, size=digest.size)

    def _keep_received(self, path: Path, digest: Digest) -> None:
        key = self._key(document_key(digest.sha256))
        if self._size(key) == digest.size:
            return  # the same bytes, kept before
        try:
            self._upload(path, key, digest, only_if_absent=True)
        except ObjectDiffers:  # another upload of this key came first, or was under way (409)
            kept_size = self._size(key)
            if kept_size == digest.size:
                return  # the same bytes, kept meanwhile by the other upload
            if kept_size is not None:
                raise
            self._upload(path, key, digest, only_if_absent=True)  # the other upload did not last: once more

    def check_reachable(self) -> None:
        if not self.bucket_exists():
            raise StorageUnavailable("the bucket does not exist")

    def bucket_exists(self) -> bool:
        """Whether the bucket is there; StorageUnavailable when the server does not answer."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as error:
            if _status(error) == 404:
                return False
            raise
        except BotoCoreError as error:
            raise StorageUnavailable(str(error)) from error
        return True

    def _size(self, key: str) -> int | None:
        try:
            with _answered():
                return self.client.head_object(Bucket=self.bucket, Key=key)["ContentLength"]
        except ClientError as error:
            if _status(error) == 404:
                return None
            raise

    def _open(self, key: str, byte_range: str | None = None) -> OpenedDocument:
        try:
            with _answered():
                answer = self.client.get_object(
                    Bucket=self.bucket, Key=key, **({"Range": byte_range} if byte_range else {})
                )
        except ClientError as error:
            if _status(error) == 404:
                raise FileNotFoundError(f"s3://{self.bucket}/{key}") from error
            if _status(error) == 416 and byte_range:
                return self._open(key)  # werkzeug then answers 416 with the document's size
            raise
        content_range = _content_range(answer.get("ContentRange")) if byte_range else None
        if content_range is None:
            return OpenedDocument(answer["Body"], answer["ContentLength"], answer["LastModified"])
        start, stop, size = content_range
        return OpenedDocument(answer["Body"], size, answer["LastModified"], (start, stop))

    @contextmanager
    def _downloaded(self, key: str) -> Iterator[tuple[Path, Digest]]:
        descriptor, name = _temporary_file(self.working_dir, "reading-", "")
        hasher = _Hasher()
        try:
            with (
                os.fdopen(descriptor, "wb") as handle,
                closing(self._open(key).stream) as stream,
                _answered(),
            ):
                while chunk := stream.read(CHUNK):
                    handle.write(chunk)
                    hasher.update(chunk)
            yield Path(name), hasher.digest()
        finally:
            Path(name).unlink(missing_ok=True)

    def _upload(self, path: Path, key: str, digest: Digest, only_if_absent: bool) -> None:
        """One PUT up to PART_BYTES, else a multipart upload; every byte checked by the server against the
        digest. ObjectDiffers when `only_if_absent` and the key is taken."""
        condition = {"IfNoneMatch": "*"} if only_if_absent else {}
        try:
            with _answered():
                self._send(path, key, digest, condition)
        except ClientError as error:
            # 412: the key is taken; 409 (ConditionalRequestConflict): another conditional write of it is
            # under way. Either way the caller looks at the key again.
            if _status(error) == 412 or (_status(error) == 409 and condition):
                raise ObjectDiffers(f"s3://{self.bucket}/{key} is kept already") from error
            raise

    def _send(self, path: Path, key: str, digest: Digest, condition: dict[str, str]) -> None:
        if len(digest.parts) > 1:
            self._upload_in_parts(path, key, digest, condition)
            return
        with path.open("rb") as body:
            self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentLength=digest.size,
                ChecksumSHA256=_base64(bytes.fromhex(digest.sha256)),
                **condition,
            )

    def _upload_in_parts(self, path: Path, key: str, digest: Digest, condition: dict[str, str]) -> None:
        """Parts read from the file as they are sent, so memory stays flat whatever the size. boto3's
        TransferConfig uploads cannot carry the parts' checksums computed on receipt, nor If-None-Match."""
        upload_id = self.client.create_multipart_upload(
            Bucket=self.bucket, Key=key, ChecksumAlgorithm="SHA256"
        )["UploadId"]
        try:
            with path.open("rb") as handle:
                parts = [
                    self._upload_part(handle, key, upload_id, number, part_digest, digest.size)
                    for number, part_digest in enumerate(digest.parts, start=1)
                ]
            self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}, **condition
            )
        except BaseException:
            with suppress(BotoCoreError, ClientError):  # the upload's own error is the one to report
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            raise

    def _upload_part(
        self, handle: IO[bytes], key: str, upload_id: str, number: int, part_digest: bytes, size: int
    ) -> dict[str, Any]:
        start = (number - 1) * PART_BYTES
        length = min(PART_BYTES, size - start)
        checksum = _base64(part_digest)
        answer = self.client.upload_part(
            Bucket=self.bucket,
            Key=key,
            UploadId=upload_id,
            PartNumber=number,
            Body=_FilePart(handle, start, length),
            ContentLength=length,
            ChecksumSHA256=checksum,
        )
        return {"PartNumber": number, "ETag": answer["ETag"], "ChecksumSHA256": checksum}


class _FilePart(io.RawIOBase):
    """`length` bytes of an open file from `start`, read from disk as they are sent; botocore seeks back to
    sign the request and to retry it."""

    def __init__(self, handle: IO[bytes], start: int, length: int) -> None:
        super().__init__()
        self._descriptor, self._start, self._length, self._position = handle.fileno(), start, length, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        left = self._length - self._position
        count = left if size is None or size < 0 else min(size, left)
        data = os.pread(self._descriptor, count, self._start + self._position)
        self._position += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._length}[whence]
        self._position = max(0, min(self._length, base + offset))
        return self._position

    def tell(self) -> int:
        return self._position


def _status(error: ClientError) -> int | None:
    return error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")


@contextmanager
def _answered() -> Iterator[None]:
    """botocore's own errors (connection refused, timeouts, a stream cut) mean the store does not answer."""
    try:
        yield
    except BotoCoreError as error:
        raise StorageUnavailable(str(error)) from error


def _content_range(header: str | None) -> tuple[int, int, int] | None:
    """(start, stop, size) of `bytes 0-9/5242880`, or None (no header, or a size the server does not know)."""
    unit, _, spec = (header or "").partition(" ")
    span, _, size = spec.partition("/")
    first, _, last = span.partition("-")
    if unit != "bytes" or not (first.isdigit() and last.isdigit() and size.isdigit()):
        return None
    return int(first), int(last) + 1, int(size)


def _base64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def _temporary_file(directory: Path, prefix: str, suffix: str) -> tuple[int, str]:
    directory.mkdir(parents=True, exist_ok=True)
    return tempfile.mkstemp(dir=directory, prefix=prefix, suffix=suffix)


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


_CLIENTS: dict[tuple, Any] = {}
_CLIENTS_LOCK = threading.Lock()


def _s3_client(config: Mapping[str, Any]) -> Any:
    """One client per process and settings: making one takes tens of milliseconds. A client is safe to share
    between threads, not across a fork (rq's work horses), hence the process id in the key."""
    settings = tuple(
        config.get(name) or None
        for name in ("S3_ENDPOINT_URL", "S3_REGION", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY")
    )
    key = (os.getpid(), *settings)
    with _CLIENTS_LOCK:
        if key not in _CLIENTS:
            _CLIENTS[key] = _new_s3_client(*settings)
        return _CLIENTS[key]


def _new_s3_client(endpoint: str | None, region: str | None, key_id: str | None, secret: str | None) -> Any:
    """Without a key, boto3's own chain finds the credentials (environment, profile, instance role)."""
    session = boto3.session.Session(
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        region_name=region or ("us-east-1" if endpoint else None),
    )
    settings = BotoConfig(
        # Path-style addresses for S3-compatible servers, which rarely serve a host name per bucket.
        s3={"addressing_style": "path"} if endpoint else {},
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=5,
        read_timeout=60,
        request_checksum_calculation="when_required",  # the store sends its own SHA-256 with every write
    )
    return session.client("s3", endpoint_url=endpoint, config=settings)


def store_for(config: Mapping[str, Any]) -> DocumentStore:
    """The store these settings name: STORAGE_URL (with S3_* for a bucket), else the folder STORAGE_ROOT."""
    working_root = Path(config["STORAGE_ROOT"])
    try:
        location = parse_storage_url(config.get("STORAGE_URL"))
    except StorageUrlError as error:
        raise StorageSettingsError(str(error)) from None
    if location.is_bucket:
        return S3Store(_s3_client(config), location.bucket, location.prefix, working_root / "incoming")
    return FileStore(location.folder or working_root)


def working_folder(config: Mapping[str, Any]) -> Path:
    """This host's folder of temporary files for these settings (the store's `working_dir`), found without
    making a store."""
    return (parse_storage_url(config.get("STORAGE_URL")).folder or Path(config["STORAGE_ROOT"])) / "incoming"


def remove_stale_temporary_files(
    config: Mapping[str, Any], older_than: timedelta = timedelta(hours=6)
) -> int:
    """Remove what a process that died while receiving or reading a document left in this host's working
    folder; a file younger than `older_than` may be in use and is kept. Returns how many were removed. Run at
    the start of a web server and of a worker, each on its own host."""
    folder = working_folder(config)
    cutoff = time.time() - older_than.total_seconds()
    removed = 0
    for pattern in TEMPORARY_FILES:
        for path in folder.glob(pattern) if folder.is_dir() else ():
            with suppress(FileNotFoundError):  # removed meanwhile by its own process, or by another
                if path.is_file() and path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
    return removed


def document_store() -> DocumentStore:
    """The application's document store: the one way the back office reaches its documents."""
    return store_for(current_app.config)


def send_document(
    sha256: str,
    *,
    download_name: str,
    as_attachment: bool,
    etag: str | bool = False,
    before_sending: Callable[[], None] | None = None,
) -> Response:
    """A stored PDF streamed to the browser as `send_file` sends a file from disk (Content-Length,
    Last-Modified, ranges for the PDF viewer), from whichever store.

    The document is opened first: one not kept answers 404, a store that does not answer 503. Only then does
    `before_sending` run (the audit event of the opening, and its commit), so that nothing is recorded of a
    document that could not be sent. The stream closes with the response, or here if anything fails first (a
    range past the end answers 416)."""
    opened = _open_to_send(sha256)
    try:
        if before_sending is not None:
            before_sending()
        return _document_response(opened, download_name=download_name, as_attachment=as_attachment, etag=etag)
    except BaseException:
        opened.stream.close()
        raise


def _open_to_send(sha256: str) -> OpenedDocument:
    try:
        return document_store().open(sha256, _single_range())
    except FileNotFoundError:
        abort(404)
    except StorageUnavailable as error:
        message = _l("The document store does not answer at the moment. Try again in a minute.")
        raise ServiceUnavailable(message, retry_after=RETRY_AFTER_SECONDS) from error


def _single_range() -> str | None:
    """The request's Range header when it asks for one range of bytes unconditionally (no If-Range): the one
    case where a store reads that range only."""
    ranges = request.range
    if ranges is None or ranges.units != "bytes" or len(ranges.ranges) != 1 or "If-Range" in request.headers:
        return None
    return ranges.to_header()


def _document_response(
    opened: OpenedDocument, *, download_name: str, as_attachment: bool, etag: str | bool
) -> Response:
    response = send_file(
        opened.stream,
        mimetype="application/pdf",
        as_attachment=as_attachment,
        download_name=download_name,
        etag=etag,
        last_modified=opened.last_modified,
        conditional=False,  # made conditional below, once the size is known, as send_file does for a path
    )
    if opened.content_range is None:
        response.content_length = opened.size
        return response.make_conditional(request.environ, accept_ranges=True, complete_length=opened.size)
    start, stop = opened.content_range  # the store read just this range: answered as make_conditional would
    response.status_code = 206
    response.headers["Accept-Ranges"] = "bytes"
    response.headers["Content-Range"] = f"bytes {start}-{stop - 1}/{opened.size}"
    response.content_length = stop - start
    response.date = datetime.now(UTC)
    return response


@dataclass
class CopyReport:
    """What `copy_folder` did: counts, and each file not copied with why (a lazy message)."""

    copied: int = 0
    skipped: int = 0
    bad: list[Any] = field(default_factory=list)


def copy_folder(folder: Path, store: DocumentStore) -> CopyReport:
    """Copy a storage folder's documents and named files into a store. A document whose bytes do not match its
    name is reported, never copied; one already kept with the same size is skipped, so a second run copies
    nothing and an interrupted run can be run again."""
    report = CopyReport()
    for path in _files_under(folder / "documents"):
        _copy_document(folder, path, store, report)
    for name in NAMED_FOLDERS:
        for path in _files_under(folder / name):
            _copy_named(folder, path, store, report)
    return report


def _files_under(directory: Path) -> list[Path]:
    return sorted(path for path in directory.rglob("*") if path.is_file()) if directory.is_dir() else []


def _copy_document(folder: Path, path: Path, store: DocumentStore, report: CopyReport) -> None:
    relative = path.relative_to(folder).as_posix()
    digest = digest_of_file(path)
    if relative != document_key(digest.sha256):
        report.bad.append(_l("%(path)s: its bytes do not match its name; not copied.", path=relative))
    elif store.stored_size(digest.sha256) == digest.size:
        report.skipped += 1
    else:
        try:
            store.keep_file(path, digest)
        except ObjectDiffers:
            report.bad.append(
                _l("%(path)s: the bucket holds another object under this name; not copied.", path=relative)
            )
            return
        report.copied += 1


def _copy_named(folder: Path, path: Path, store: DocumentStore, report: CopyReport) -> None:
    key = path.relative_to(folder).as_posix()
    try:
        kept_size = store.named_size(key)
    except ValueError:
        report.bad.append(_l("%(path)s: not a name the store keeps; not copied.", path=key))
        return
    if kept_size is None:
        store.put_named(key, path)
        report.copied += 1
    elif kept_size == path.stat().st_size:
        report.skipped += 1
    else:
        report.bad.append(
            _l("%(path)s: the bucket holds another object under this name; not copied.", path=key)
        )
