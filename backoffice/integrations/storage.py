"""Content-addressed document storage on a filesystem root.

A document is stored once under its SHA-256 (`ab/cd/abcd…`), written to a temporary file, flushed to disk
(fsync) and then linked into place, so a reader never sees half a file and nothing is ever overwritten.
"""

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app


@dataclass(frozen=True)
class StoredDocument:
    sha256: str
    size: int
    path: Path


class IncomingDocument:
    """A document being received: bytes go to a temporary file while the hash and size are counted."""

    def __init__(self, store: "DocumentStore") -> None:
        self._store = store
        self._hash = hashlib.sha256()
        self.size = 0
        descriptor, name = _temporary_file(store.temporary_dir)
        self._file = os.fdopen(descriptor, "wb")
        self.temporary_path = Path(name)

    def write(self, data: bytes) -> None:
        self._file.write(data)
        self._hash.update(data)
        self.size += len(data)

    def discard(self) -> None:
        if not self._file.closed:
            self._file.close()
        self.temporary_path.unlink(missing_ok=True)

    def keep(self) -> StoredDocument:
        """Make the document durable under its hash. The same bytes stored twice are kept once."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        sha256 = self._hash.hexdigest()
        final = self._store.path_for(sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(self.temporary_path, final)  # fails rather than overwrite
        except FileExistsError:
            pass
        else:
            _fsync_directory(final.parent)
        finally:
            self.temporary_path.unlink(missing_ok=True)
        return StoredDocument(sha256=sha256, size=self.size, path=final)


class DocumentStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root) / "documents"
        self.temporary_dir = Path(root) / "incoming"

    def receive(self) -> IncomingDocument:
        self.temporary_dir.mkdir(parents=True, exist_ok=True)
        return IncomingDocument(self)

    def path_for(self, sha256: str) -> Path:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError("Not a SHA-256 in hexadecimal")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()


def _temporary_file(directory: Path) -> tuple[int, str]:
    return tempfile.mkstemp(dir=directory, prefix="receiving-", suffix=".part")


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def document_store() -> DocumentStore:
    """The application's document store (STORAGE_ROOT): the one way the back office reaches its documents."""
    return DocumentStore(current_app.config["STORAGE_ROOT"])
