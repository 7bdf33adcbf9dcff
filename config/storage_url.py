"""STORAGE_URL read by one rule, at start (config/) and when a store is made (backoffice/integrations/storage.py).

Only the standard library: config imports it, and must stay light (no boto3, no Flask)."""

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

# English, then French: the settings are read before any language is chosen, so both are shown.
REFUSAL = (
    "STORAGE_URL must be empty, file:///absolute/path or s3://bucket/prefix; the one given starts with {scheme}.",
    "STORAGE_URL doit être vide, file:///chemin/absolu ou s3://compartiment/préfixe; "
    "celle donnée commence par {scheme}.",
)


class StorageUrlError(ValueError):
    """STORAGE_URL names no store the back office knows; the message is in English and French."""


@dataclass(frozen=True)
class StorageLocation:
    """Where STORAGE_URL says documents are kept: a folder (None: STORAGE_ROOT), or a bucket and a prefix."""

    folder: Path | None = None
    bucket: str = ""
    prefix: str = ""

    @property
    def is_bucket(self) -> bool:
        return bool(self.bucket)


def parse_storage_url(url: str | None) -> StorageLocation:
    """Empty, `file:///absolute/path` (or `file://localhost/…`), or `s3://bucket/prefix`; StorageUrlError for
    anything else. Only the scheme is ever shown: a URL may hold a secret."""
    if not url:
        return StorageLocation()
    parts = urlsplit(url)
    if parts.scheme == "file" and parts.netloc in ("", "localhost") and parts.path.startswith("/"):
        if not (parts.query or parts.fragment):
            return StorageLocation(folder=Path(unquote(parts.path)))
    if parts.scheme == "s3" and parts.netloc and not (parts.query or parts.fragment):
        return StorageLocation(bucket=parts.netloc, prefix=unquote(parts.path).strip("/"))
    scheme = repr(url.partition(":")[0] if ":" in url else "")
    raise StorageUrlError("\n".join(text.format(scheme=scheme) for text in REFUSAL))
