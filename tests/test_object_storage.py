"""Documents in a folder or in an S3 bucket (SeaweedFS, a real S3 server): the same contract on both, and the
back office end to end on a bucket, as when web and workers run on different hosts."""

import hashlib
import io
import json
import os
import string
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from sqlalchemy import select

from backoffice.extensions import db
from backoffice.integrations.storage import (
    PART_BYTES,
    DocumentStore,
    FileStore,
    ObjectDiffers,
    S3Store,
    StorageSettingsError,
    StorageUnavailable,
    StoredDocument,
    digest_of_file,
    document_key,
    document_store,
    remove_stale_temporary_files,
    store_for,
)
from backoffice.models import AuditEvent, Case, CheckOutcome, JobRun, JobStatus, Submission, SubmissionStatus
from backoffice.workflows import submissions
from config.storage_url import REFUSAL, StorageUrlError, parse_storage_url
from tests.factories import create_filer, create_portal_client, create_submission, pdf_bytes
from tests.helpers import GOOD_ROW, PROJECT_ROOT, run_command, submit_through_api, write_csv

MB = 1024 * 1024
SIZES = {"one PUT": 3000, "multipart": PART_BYTES + 4096}  # two parts


@pytest.fixture(params=["file", "s3"])
def store(request, tmp_path) -> DocumentStore:
    """A store of each kind, empty: a folder of this test, or a prefix of its own in this process's SeaweedFS."""
    settings = {"STORAGE_ROOT": str(tmp_path / "storage"), "STORAGE_URL": ""}
    if request.param == "s3":
        settings.update(
            request.getfixturevalue("object_store").environment(prefix=f"test-{uuid.uuid4().hex}")
        )
    return store_for(settings)


@pytest.fixture
def bucket(object_store, tmp_path) -> S3Store:
    settings = {
        "STORAGE_ROOT": str(tmp_path / "storage"),
        **object_store.environment(f"test-{uuid.uuid4().hex}"),
    }
    return store_for(settings)


@pytest.fixture
def storage_settings(request) -> dict[str, str]:
    """This module's applications keep their documents in SeaweedFS, whatever TEST_STORAGE says (or in their
    folder, for a test parametrized with "file")."""
    if getattr(request, "param", "s3") == "file":
        return {"STORAGE_URL": ""}
    return request.getfixturevalue("object_store").environment(prefix=f"test-{uuid.uuid4().hex}")


def keep(store: DocumentStore, content: bytes) -> StoredDocument:
    incoming = store.receive()
    incoming.write(content)
    return incoming.keep()


def read_back(store: DocumentStore, sha256: str) -> bytes:
    opened = store.open(sha256)
    with opened.stream as stream:
        content = stream.read()
    assert len(content) == opened.size
    return content


def temporary_files(store: DocumentStore) -> list[Path]:
    folder = store.working_dir
    return [path for path in folder.rglob("*") if path.is_file()] if folder.exists() else []


def varied_bytes(size: int, seed: bytes = b"") -> bytes:
    """Bytes that differ from part to part (a corrupt part is then a different part)."""
    block = hashlib.sha256(seed).digest() * (MB // 32)
    return b"".join(bytes([n % 251]) + block[1:] for n in range(size // MB + 1))[:size]


# --------------------------------------------------------------------------------------------- the contract


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
def test_a_kept_document_is_found_read_back_and_copied_locally_leaving_no_temporary_file(store, size):
    content = varied_bytes(size)
    kept = keep(store, content)

    assert kept == StoredDocument(hashlib.sha256(content).hexdigest(), size)
    assert store.exists(kept.sha256) and store.stored_size(kept.sha256) == size
    assert list(store.kept_documents()) == [kept.sha256]
    assert read_back(store, kept.sha256) == content
    assert store.open(kept.sha256).last_modified.tzinfo is not None
    with store.local_copy(kept.sha256) as path:
        assert path.read_bytes() == content
    assert temporary_files(store) == []


def test_a_local_copy_leaves_nothing_behind_even_on_error(store):
    kept = keep(store, b"%PDF-1.7 a document\n%%EOF\n")
    with pytest.raises(RuntimeError, match="a reader failed"), store.local_copy(kept.sha256) as path:
        assert path.is_file()
        raise RuntimeError("a reader failed")
    assert temporary_files(store) == []
    assert store.exists(kept.sha256)


def test_a_document_never_kept_is_not_found_and_a_discarded_one_leaves_nothing(store):
    incoming = store.receive()
    incoming.write(b"%PDF-1.7 refused\n")
    sha256 = incoming.digest().sha256
    incoming.discard()

    assert not store.exists(sha256)
    with pytest.raises(FileNotFoundError):
        store.open(sha256)
    with pytest.raises(FileNotFoundError), store.local_copy(sha256):
        pass
    assert list(store.kept_documents()) == [] and temporary_files(store) == []
    with pytest.raises(ValueError, match="SHA-256"):
        store.exists("../../etc/passwd")


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
def test_the_same_bytes_kept_at_once_twice_are_kept_once_and_right(store, size, monkeypatch):
    content = varied_bytes(size, b"raced")
    incoming = [store.receive() for _ in range(2)]
    for document in incoming:
        document.write(content)
    refused = []
    if isinstance(store, S3Store):  # both find the key free, then write together: the condition settles it
        monkeypatch.setattr(store, "_upload", uploads_together(store._upload, refused))

    results = at_once([document.keep for document in incoming])

    assert results == [StoredDocument(hashlib.sha256(content).hexdigest(), size)] * 2
    assert len(refused) == (1 if isinstance(store, S3Store) else 0)
    assert list(store.kept_documents()) == [results[0].sha256]
    assert read_back(store, results[0].sha256) == content
    assert temporary_files(store) == []


def uploads_together(upload, refused: list) -> Callable:
    """`S3Store._upload`, held until two threads call it: each has found the key free. Counts the uploads the
    bucket refused because the other had just written the key."""
    both_checked = threading.Barrier(2)

    def upload_together(*args, **kwargs):
        both_checked.wait(timeout=30)
        try:
            return upload(*args, **kwargs)
        except ObjectDiffers:
            refused.append(args[1])
            raise

    return upload_together


def at_once(calls: list[Callable]) -> list:
    """Each call in a thread of its own, started together; what each returned or raised, in order."""
    start, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(position: int) -> None:
        start.wait()
        try:
            results[position] = calls[position]()
        except BaseException as error:  # compared by the caller
            results[position] = error

    threads = [threading.Thread(target=run, args=(position,)) for position in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_named_files_are_kept_replaced_and_read_back_by_key(store, tmp_path):
    source = tmp_path / "cases.csv"
    source.write_text("file_number,division,office\n")
    store.put_named("imports/case-import-7.csv", source)
    source.write_text("file_number,division,office\nVB5-02246,RPD,western\n")
    store.put_named("imports/case-import-7.csv", source)  # a run number used again after a rollback

    assert store.named_size("imports/case-import-7.csv") == source.stat().st_size
    assert store.named_size("imports/case-import-8.csv") is None
    with store.local_copy_of("imports/case-import-7.csv") as path:
        assert path.read_bytes() == source.read_bytes()
    assert temporary_files(store) == []
    for key in ("../etc/passwd", "imports/../documents/x", "imports/.hidden", "documents/ab", "imports/"):
        with pytest.raises(ValueError):
            store.named_size(key)
    with pytest.raises(TypeError):
        store.named_size(None)


def test_a_50_mb_document_is_streamed_in_and_out_with_flat_memory(store):
    chunk = varied_bytes(MB, b"large")
    incoming = store.receive()
    for number in range(50):
        incoming.write(bytes([number]) + chunk[1:])
    expected = incoming.digest()

    with peak_memory_growth() as growth:
        kept = incoming.keep()
    hasher, size = hashlib.sha256(), 0
    with store.open(kept.sha256).stream as stream:
        while block := stream.read(256 * 1024):
            hasher.update(block)
            size += len(block)

    assert (kept.sha256, kept.size) == (expected.sha256, 50 * MB)
    assert (hasher.hexdigest(), size) == (expected.sha256, 50 * MB)
    assert growth() < 16 * MB, f"memory grew by {growth() / MB:.1f} MB while keeping 50 MB"
    assert temporary_files(store) == []


@contextmanager
def peak_memory_growth() -> Iterator:
    """The most this process's resident memory grew above where it stood, sampled every 2 ms meanwhile."""
    page = os.sysconf("SC_PAGE_SIZE")

    def resident() -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * page

    start, peak, done = resident(), [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], resident() - start)
            time.sleep(0.002)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        yield lambda: peak[0]
    finally:
        done.set()
        sampler.join()


# --------------------------------------------------------------------------------------------- S3 only


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
def test_bytes_that_changed_after_they_were_hashed_are_refused_by_the_bucket(bucket, size):
    """The server checks what it receives against the SHA-256 computed as the bytes arrived (the whole
    document's, or each part's): a file that changed on disk since is refused, and nothing is kept."""
    incoming = bucket.receive()
    incoming.write(varied_bytes(size, b"corrupt"))
    incoming._file.flush()
    with incoming.temporary_path.open("r+b") as disk:  # a byte of the last part goes bad on disk
        disk.seek(size - 10)
        disk.write(b"\xff")

    with pytest.raises(ClientError, match="BadDigest"):
        incoming.keep()

    assert list(bucket.kept_documents()) == [] and temporary_files(bucket) == []
    assert bucket.client.list_multipart_uploads(Bucket=bucket.bucket).get("Uploads", []) == []


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
def test_an_object_is_never_overwritten(bucket, tmp_path, size):
    """The write is conditional (If-None-Match: *): SeaweedFS refuses it when the key is taken."""
    first = keep(bucket, varied_bytes(size, b"first"))
    other = tmp_path / "other"
    other.write_bytes(varied_bytes(size, b"other"))
    key = bucket._key(document_key(first.sha256))

    with pytest.raises(ObjectDiffers):
        bucket._upload(other, key, digest_of_file(other), only_if_absent=True)

    assert read_back(bucket, first.sha256) == varied_bytes(size, b"first")


def test_an_unknown_storage_url_is_refused_at_start(tmp_path):
    for url in ("ftp://host/folder", "file://relative/folder", "s3:///no-bucket", "/a/folder"):
        with pytest.raises(StorageSettingsError):
            store_for({"STORAGE_ROOT": str(tmp_path), "STORAGE_URL": url})
    assert isinstance(
        store_for({"STORAGE_ROOT": str(tmp_path), "STORAGE_URL": f"file://{tmp_path}"}), FileStore
    )

    started = subprocess.run(
        [sys.executable, "-c", "import config"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "STORAGE_URL": "ftp://host/folder"},
        capture_output=True,
        text=True,
    )
    assert started.returncode != 0
    assert "STORAGE_URL must be empty, file:///absolute/path or s3://bucket/prefix" in started.stderr
    assert "STORAGE_URL doit être vide" in started.stderr


STORAGE_URLS = {
    "": True,
    "file:///srv/documents": True,
    "file://localhost/srv/documents": True,
    "s3://bucket": True,
    "s3://bucket/a/prefix": True,
    "ftp://host/folder": False,
    "file://relative/folder": False,
    "file:relative": False,
    "s3:///no-bucket": False,
    "s3://bucket/prefix?versionId=1": False,
    "/a/folder": False,
}


def test_storage_url_is_accepted_or_refused_alike_at_start_and_by_the_store(tmp_path):
    for url, accepted in STORAGE_URLS.items():
        settings = {"STORAGE_ROOT": str(tmp_path), "STORAGE_URL": url}
        if accepted:
            parse_storage_url(url)
            store_for(settings)
        else:
            with pytest.raises(StorageUrlError):
                parse_storage_url(url)
            with pytest.raises(StorageSettingsError, match="STORAGE_URL doit être vide"):
                store_for(settings)
    script = (
        "import importlib, json, os, sys\n"
        "started = {}\n"
        "for url in json.loads(sys.argv[1]):\n"
        "    os.environ['STORAGE_URL'] = url\n"
        "    try:\n"
        "        import config\n"
        "        importlib.reload(config)\n"
        "        started[url] = True\n"
        "    except Exception:\n"
        "        started[url] = False\n"
        "print(json.dumps(started))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script, json.dumps(list(STORAGE_URLS))],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(run.stdout) == STORAGE_URLS


def test_the_storage_url_refusal_says_the_same_in_english_and_french():
    english, french = REFUSAL
    fields = [
        {field for _text, field, _spec, _conversion in string.Formatter().parse(text) if field}
        for text in REFUSAL
    ]
    assert english != french and fields[0] == fields[1] == {"scheme"}


# --------------------------------------------------------------------------------------------- errors of S3


def test_a_conflicting_conditional_write_is_looked_at_again_and_retried_once(bucket, monkeypatch):
    content = varied_bytes(3000, b"conflict")
    real_put = bucket.client.put_object
    answers = []

    def put_conflicting_once(**arguments):
        answers.append(arguments.get("IfNoneMatch"))
        if len(answers) == 1:  # as S3 answers while another conditional write of the key is under way
            error = {"Code": "ConditionalRequestConflict", "Message": "A conflicting operation is under way."}
            raise ClientError({"Error": error, "ResponseMetadata": {"HTTPStatusCode": 409}}, "PutObject")
        return real_put(**arguments)

    monkeypatch.setattr(bucket.client, "put_object", put_conflicting_once)
    kept = keep(bucket, content)

    assert answers == ["*", "*"]
    assert read_back(bucket, kept.sha256) == content
    assert temporary_files(bucket) == []


def test_a_store_that_does_not_answer_is_unavailable_and_leaves_nothing_behind(tmp_path, closed_port):
    silent = store_for(
        {
            "STORAGE_ROOT": str(tmp_path / "storage"),
            "STORAGE_URL": "s3://documents/test",
            "S3_ENDPOINT_URL": f"http://127.0.0.1:{closed_port}",
            "S3_ACCESS_KEY_ID": "nobody",
            "S3_SECRET_ACCESS_KEY": "nothing",
        }
    )
    sha256 = hashlib.sha256(b"anything").hexdigest()
    with pytest.raises(StorageUnavailable):
        keep(silent, b"%PDF-1.7 never kept\n")
    with pytest.raises(StorageUnavailable):
        silent.open(sha256)
    with pytest.raises(StorageUnavailable), silent.local_copy(sha256):
        pass
    assert temporary_files(silent) == []


# --------------------------------------------------------------------------------------------- temporary files


@pytest.mark.parametrize("storage_url", ["", "s3://documents/prefix"])
def test_temporary_files_left_by_a_crash_are_removed_once_old_and_fresh_ones_kept(tmp_path, storage_url):
    settings = {"STORAGE_ROOT": str(tmp_path / "storage"), "STORAGE_URL": storage_url}
    working = tmp_path / "storage" / "incoming"
    working.mkdir(parents=True)
    old = [working / "receiving-crashed.part", working / "reading-crashed", working / "named-crashed.part"]
    fresh = [working / "receiving-now.part", working / "reading-now"]
    other = working / "notes.txt"
    seven_hours_ago = time.time() - 7 * 3600
    for path in [*old, *fresh, other]:
        path.write_bytes(b"%PDF-1.7 half a document")
    for path in [*old, other]:
        os.utime(path, (seven_hours_ago, seven_hours_ago))

    assert remove_stale_temporary_files(settings, older_than=timedelta(hours=6)) == len(old)
    assert sorted(working.iterdir()) == sorted([*fresh, other])
    assert remove_stale_temporary_files(settings, older_than=timedelta(hours=6)) == 0


def test_gunicorn_removes_stale_temporary_files_when_it_starts(tmp_path):
    stale = tmp_path / "storage" / "incoming" / "receiving-crashed.part"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"%PDF-1.7 half")
    os.utime(stale, (time.time() - 7 * 3600,) * 2)
    script = (
        "import logging, runpy, types\n"
        "hooks = runpy.run_path('gunicorn.conf.py')\n"
        "hooks['on_starting'](types.SimpleNamespace(log=logging.getLogger('gunicorn.error')))\n"
    )
    environment = {**os.environ, "STORAGE_ROOT": str(tmp_path / "storage"), "STORAGE_URL": ""}
    subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, env=environment, check=True)
    assert not stale.exists()


# --------------------------------------------------------------------------------------------- end to end


@pytest.mark.worker
def test_a_submission_is_received_screened_and_shown_to_staff_from_the_bucket(
    app, client, login_as, run_worker
):
    content = pdf_bytes(pages=2, text="Kept in the bucket.")
    response = submit_through_api(
        client,
        create_portal_client("My Case portal"),
        create_filer("western", "RPD"),
        files=[("é 1.pdf", content)],
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    sha256 = hashlib.sha256(content).hexdigest()
    assert isinstance(document_store(), S3Store) and document_store().exists(sha256)
    assert local_files(app) == []  # the web host kept nothing of its own

    run_worker()

    submission = db.session.scalar(select(Submission))
    assert submission.status is SubmissionStatus.WITH_REGISTRY
    assert submission.attachments[0].page_count == 2 and submission.attachments[0].screened_at
    clerk = login_as("clerk", "western")
    url = f"/admin/submission/attachment/view/?id={submission.id}&position=1"
    from_bucket = clerk.get(url)
    assert from_bucket.status_code == 200 and from_bucket.data == content
    assert from_bucket.headers["Content-Length"] == str(len(content))
    part = clerk.get(url, headers={"Range": "bytes=0-9"})  # the PDF viewer reads a large file by ranges
    assert (part.status_code, part.data, part.headers["Content-Range"]) == (
        206,
        content[:10],
        f"bytes 0-9/{len(content)}",
    )
    assert len(audit(AuditEvent.action == "attachment.viewed")) == 2
    assert local_files(app) == []

    keep(FileStore(Path(app.config["STORAGE_ROOT"])), content)  # the same document, served from a folder
    app.config["STORAGE_URL"] = ""
    from_folder = clerk.get(url)
    assert from_folder.data == content
    assert comparable(from_bucket.headers) == comparable(from_folder.headers)


class CountedStream(io.RawIOBase):
    """A store's stream of a document, counting the bytes read from it."""

    def __init__(self, stream) -> None:
        super().__init__()
        self._stream, self.bytes_read = stream, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        self.bytes_read += len(data)
        return len(data)

    def close(self) -> None:
        self._stream.close()
        super().close()


@pytest.fixture
def opened_streams(app, monkeypatch) -> list[CountedStream]:
    """Every stream of a document that the application's store opens, counted."""
    streams = []
    store_class = type(document_store())
    real_open = store_class.open

    def counted_open(self, *arguments, **keywords):
        opened = real_open(self, *arguments, **keywords)
        opened.stream = CountedStream(opened.stream)
        streams.append(opened.stream)
        return opened

    monkeypatch.setattr(store_class, "open", counted_open)
    return streams


def in_registry(content: bytes) -> Submission:
    """A submission of one document, screened and waiting in the western registry queue."""
    submission = create_submission(create_filer("western", "RPD"), files=[("document.pdf", content)])
    for transition in ("start_screening", "finish_screening"):
        submissions.fire(submission, transition)
    submission.screening_outcome = CheckOutcome.PASS
    db.session.commit()
    return submission


def viewer_url(submission: Submission) -> str:
    return f"/admin/submission/attachment/view/?id={submission.id}&position=1"


def test_one_range_of_a_document_in_the_bucket_is_read_alone_and_sent_as_from_a_folder(
    app, login_as, opened_streams
):
    content = varied_bytes(5 * MB, b"ranged")
    size = len(content)
    url = viewer_url(in_registry(content))
    clerk = login_as("clerk", "western")
    last_ten = {"Range": f"bytes={size - 10}-{size - 1}"}

    from_bucket = clerk.get(url, headers=last_ten)

    assert (from_bucket.status_code, from_bucket.data) == (206, content[-10:])
    assert from_bucket.headers["Content-Range"] == f"bytes {size - 10}-{size - 1}/{size}"
    assert from_bucket.headers["Content-Length"] == "10"
    assert [stream.bytes_read for stream in opened_streams] == [10]  # not the 5 MB before them
    suffix = clerk.get(url, headers={"Range": "bytes=-10"})
    assert (suffix.status_code, suffix.data) == (206, content[-10:])
    assert len(audit(AuditEvent.action == "attachment.viewed")) == 2

    keep(FileStore(Path(app.config["STORAGE_ROOT"])), content)  # the same document, served from a folder
    app.config["STORAGE_URL"] = ""
    from_folder = clerk.get(url, headers=last_ten)
    assert (from_folder.status_code, from_folder.data) == (206, content[-10:])
    assert comparable(from_bucket.headers) == comparable(from_folder.headers)


@pytest.mark.parametrize("storage_settings", ["file", "s3"], indirect=True)
def test_a_range_past_the_end_answers_416_and_closes_the_document(app, login_as, opened_streams):
    url = viewer_url(in_registry(pdf_bytes(text="Short.")))
    clerk = login_as("clerk", "western")

    response = clerk.get(url, headers={"Range": "bytes=999999999-"})

    assert response.status_code == 416
    assert opened_streams and all(stream.closed for stream in opened_streams)


@pytest.mark.parametrize("storage_settings", ["file", "s3"], indirect=True)
def test_a_document_no_longer_kept_answers_404_and_no_opening_is_recorded(app, login_as):
    content = pdf_bytes(text="Removed since.")
    url = viewer_url(in_registry(content))
    sha256 = hashlib.sha256(content).hexdigest()
    store = document_store()
    if isinstance(store, FileStore):
        store.path_for(sha256).unlink()
    else:
        store.client.delete_object(Bucket=store.bucket, Key=store._key(document_key(sha256)))

    response = login_as("clerk", "western").get(url)

    assert response.status_code == 404
    assert audit(AuditEvent.action == "attachment.viewed") == []


@pytest.mark.parametrize("storage_settings", ["file"], indirect=True)
def test_a_store_that_does_not_answer_gives_a_503_page_and_no_opening_is_recorded(app, login_as, closed_port):
    url = viewer_url(in_registry(pdf_bytes(text="Out of reach.")))
    app.config.update(
        STORAGE_URL="s3://documents/unreachable",
        S3_ENDPOINT_URL=f"http://127.0.0.1:{closed_port}",
        S3_ACCESS_KEY_ID="nobody",
        S3_SECRET_ACCESS_KEY="nothing",
    )

    response = login_as("clerk", "western").get(url)

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    assert "The document store does not answer at the moment" in response.get_data(as_text=True)
    assert audit(AuditEvent.action == "attachment.viewed") == []


def local_files(app) -> list[Path]:
    root = Path(app.config["STORAGE_ROOT"])
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def audit(*conditions) -> list[AuditEvent]:
    return db.session.scalars(select(AuditEvent).where(*conditions)).all()


def comparable(headers) -> dict[str, str]:
    """Headers as they must be alike from a folder and from a bucket; the instants and ids are only there."""
    varying = ("Date", "Last-Modified", "Set-Cookie", "X-Request-Id")
    return {name: ("…" if name in varying else value) for name, value in headers.items()}


@pytest.mark.worker
def test_a_case_import_is_kept_in_the_bucket_and_run_by_a_worker_that_reads_it_from_there(
    app, tmp_path, run_worker
):
    source = write_csv(tmp_path / "cases.csv", [GOOD_ROW])
    result = run_command(app, "import-cases", str(source))
    assert result.exit_code == 0, result.output
    run = db.session.get(JobRun, 1)
    assert run.input_path == "imports/case-import-1.csv"
    assert document_store().named_size(run.input_path) == source.stat().st_size
    assert local_files(app) == []

    run_worker()

    run = db.session.get(JobRun, 1)
    assert (run.status, run.succeeded) == (JobStatus.FINISHED, 1)
    assert db.session.scalar(select(Case).where(Case.file_number == GOOD_ROW["file_number"]))
    assert local_files(app) == []


@pytest.mark.parametrize("storage_settings", ["file"], indirect=True)
def test_an_import_queued_before_the_store_changed_is_still_read_by_its_stored_path(app, run_worker):
    """Runs queued by the earlier code kept `imports/case-import-N.csv`, relative to STORAGE_ROOT."""
    earlier = Path(app.config["STORAGE_ROOT"]) / "imports" / "case-import-7.csv"
    earlier.parent.mkdir(parents=True)
    write_csv(earlier, [GOOD_ROW])
    run = JobRun(kind="case_import", requested_by_label="test", input_path="imports/case-import-7.csv")
    db.session.add(run)
    db.session.commit()

    from backoffice.workflows.case_import import import_cases

    assert import_cases(run.id).status is JobStatus.FINISHED
    assert db.session.get(JobRun, run.id).succeeded == 1


def test_copy_to_bucket_copies_each_document_once_and_reports_a_bad_one(app, tmp_path):
    folder = tmp_path / "old-storage"
    old = FileStore(folder)
    contents = [pdf_bytes(text=f"Document {number}") for number in range(3)] + [varied_bytes(PART_BYTES + 1)]
    for content in contents:
        keep(old, content)
    (folder / "imports").mkdir()
    (folder / "imports" / "case-import-7.csv").write_text("file_number,division,office\n")
    bad = folder / document_key("0" * 64)
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"not the bytes this name promises")

    first = run_command(app, "storage", "copy-to-bucket", str(folder))

    assert first.exit_code == 1, first.output
    assert "Copied: 5, already in the bucket: 0, bad: 1." in first.output
    assert "Copiés : 5, déjà dans le compartiment : 0, invalides : 1." in first.output
    assert f"documents/00/00/{'0' * 64}: its bytes do not match its name; not copied." in first.output
    bucket = document_store()
    assert sorted(bucket.kept_documents()) == sorted(
        hashlib.sha256(content).hexdigest() for content in contents
    )
    assert [read_back(bucket, hashlib.sha256(content).hexdigest()) for content in contents] == contents
    assert bucket.named_size("imports/case-import-7.csv") == 28

    again = run_command(app, "storage", "copy-to-bucket", str(folder))
    assert "Copied: 0, already in the bucket: 5, bad: 1." in again.output

    bad.unlink()
    clean = run_command(app, "storage", "copy-to-bucket", str(folder))
    assert clean.exit_code == 0, clean.output
    assert "Copied: 0, already in the bucket: 5, bad: 0." in clean.output


def test_copy_to_bucket_is_refused_when_storage_url_names_no_bucket(app, tmp_path):
    app.config["STORAGE_URL"] = ""
    result = run_command(app, "storage", "copy-to-bucket", str(tmp_path))
    assert result.exit_code != 0
    assert "STORAGE_URL names no bucket" in result.output
    assert "STORAGE_URL ne désigne aucun compartiment" in result.output
