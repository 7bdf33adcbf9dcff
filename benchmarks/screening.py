"""Screening and upload figures: the full screening of generated disclosures, the naive pdfplumber pass it
replaces, and a 5 x 50 MB submission streamed through the API to a real server process."""

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from backoffice.devservices import sample_pdfs

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MB = 1024 * 1024


def bench_screening(folder: Path) -> None:
    files = {
        "100-page text disclosure": sample_pdfs.bench_text_disclosure(folder / "text-100.pdf", 100),
        "1,000-page text disclosure": sample_pdfs.bench_text_disclosure(folder / "text-1000.pdf", 1000),
        "1,000-page scanned disclosure": sample_pdfs.bench_scanned_disclosure(
            folder / "scans-1000.pdf", 1000
        ),
        "5,000-page text disclosure": sample_pdfs.bench_text_disclosure(folder / "text-5000.pdf", 5000),
    }
    figures = {}
    for label, path in files.items():
        figures[label] = figure = _screen_in_own_process(path)
        failed = sorted(code for code, outcome in figure["outcomes"].items() if outcome == "failure")
        print(
            f"screening, {label} ({path.stat().st_size / MB:.1f} MB): {figure['seconds']:.2f} s, "
            f"{figure['pages'] / figure['seconds']:.0f} pages/s, "
            f"{1000 * figure['seconds'] / figure['pages']:.2f} ms/page; peak memory: worker "
            f"{figure['worker_peak_mb']:.0f} MB, largest child {figure['child_peak_mb']:.0f} MB"
            + (f"; failed checks: {', '.join(failed)}" if failed else "")
        )
    naive = _naive_pdfplumber_pass(files["1,000-page text disclosure"])
    fast = figures["1,000-page text disclosure"]["seconds"]
    print(
        f"naive pdfplumber full-text pass (extract_text + page.close) on the 1,000-page text disclosure: "
        f"{naive:.1f} s; full screening is {naive / fast:.0f} times faster"
    )


def _screen_in_own_process(path: Path) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.screen_one", str(path), "disclosure", "RPD"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        check=True,
        text=True,
    )
    return json.loads(result.stdout)


def _naive_pdfplumber_pass(path: Path) -> float:
    script = (
        "import sys, time, pdfplumber\n"
        "started = time.perf_counter()\n"
        "with pdfplumber.open(sys.argv[1]) as pdf:\n"
        "    for page in pdf.pages:\n"
        "        page.extract_text()\n"
        "        page.close()\n"
        "print(time.perf_counter() - started)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        capture_output=True,
        check=True,
        text=True,
    )
    return float(result.stdout)


def bench_upload(app, folder: Path) -> None:
    """Five 50 MB PDFs in one submission, streamed to gunicorn; the web worker's memory is watched."""
    token, fields = _submission_fields(app)
    body_path, boundary = _multipart_file(folder, fields, count=5, size=50 * MB)
    port = _free_port()
    server = _start_gunicorn(app, port)
    try:
        worker_pid = _gunicorn_worker(server.pid)
        _post(port, token, *_multipart_file(folder, fields, count=1, size=1 * MB, name="warmup"))
        before = _memory_kb(worker_pid, "VmRSS")
        sampler = RssSampler(worker_pid).start()
        started = time.perf_counter()
        status, answer = _post(port, token, body_path, boundary)
        elapsed = time.perf_counter() - started
        peak = sampler.stop()
    finally:
        os.kill(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    if status != 201:
        raise RuntimeError(f"upload refused: {status} {answer}")
    size = body_path.stat().st_size / MB
    print(
        f"upload of 5 x 50 MB through the API (gunicorn, one sync worker): {elapsed:.1f} s = "
        f"{size / elapsed:.0f} MB/s; web worker memory {before / 1024:.0f} MB before, peak {peak / 1024:.0f} MB "
        f"(+{(peak - before) / 1024:.0f} MB while receiving {size:.0f} MB)"
    )


class RssSampler:
    """The highest resident memory of a process while it works, sampled every few milliseconds (its VmHWM
    already holds the peak of its start-up, which would hide what one request costs)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self._running = True
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def start(self) -> "RssSampler":
        self._thread.start()
        return self

    def _sample(self) -> None:
        while self._running:
            self.peak = max(self.peak, _memory_kb(self.pid, "VmRSS"))
            time.sleep(0.002)

    def stop(self) -> int:
        self._running = False
        self._thread.join()
        return self.peak


def _submission_fields(app) -> tuple[str, dict]:
    from sqlalchemy import select

    from backoffice.extensions import db
    from backoffice.models import (
        Case,
        CaseStatus,
        Counsel,
        CounselKind,
        CounselOfRecord,
        Office,
        PortalAccount,
    )
    from backoffice.workflows.portal import create_portal_client

    with app.app_context():
        western = db.session.scalar(select(Office).where(Office.code == "western"))
        case = db.session.scalar(
            select(Case).where(Case.office_id == western.id, Case.status == CaseStatus.ACTIVE)
        )
        counsel = Counsel(
            external_id=f"C-UPLOAD-{os.getpid()}-{time.monotonic_ns()}",
            full_name="Upload Counsel",
            kind=CounselKind.LAWYER,
        )
        db.session.add_all([counsel, CounselOfRecord(case=case, counsel=counsel)])
        account = PortalAccount(
            counsel=counsel, sign_in_provider="gckey", sign_in_subject=f"bench-upload-{time.monotonic_ns()}"
        )
        db.session.add(account)
        _client, token = create_portal_client(f"Benchmark portal {time.monotonic_ns()}")
        db.session.commit()
        fields = {
            "portal_account_id": account.public_id,
            "case_file_number": case.file_number,
            "document_kind": "disclosure",
            "subject": "Benchmark upload",
        }
        if case.division.is_appeal and case.appeal_filed_on is None:
            raise RuntimeError("the benchmark needs a case open to submissions")
    return token, fields


def _multipart_file(
    folder: Path, fields: dict, count: int, size: int, name: str = "upload"
) -> tuple[Path, str]:
    """The request body on disk, so that the client streams it too: `count` PDFs of exactly `size` bytes."""
    boundary = "benchmark-boundary-7d1f"
    path = folder / f"{name}.multipart"
    base = sample_pdfs.numbered_document(3)
    with path.open("wb") as body:
        for key, value in fields.items():
            body.write(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
            )
        for number in range(count):
            body.write(
                f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="part-{number}.pdf"\r\n'
                "Content-Type: application/pdf\r\n\r\n".encode()
            )
            body.write(base + f"%{number}\n%".encode())
            _write_filler(body, size - len(base) - len(f"%{number}\n%") - len(b"\n%%EOF\n"))
            body.write(b"\n%%EOF\n\r\n")
        body.write(f"--{boundary}--\r\n".encode())
    return path, boundary


def _write_filler(body, length: int) -> None:
    block = b"0" * MB
    while length > 0:
        body.write(block[: min(length, MB)])
        length -= MB


def _post(port: int, token: str, body_path: Path, boundary: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Length": str(body_path.stat().st_size),
    }
    with body_path.open("rb") as body:
        connection.request("POST", "/api/v1/submissions", body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read().decode()


def _start_gunicorn(app, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": app.config["REDIS_URL"],
        "RQ_QUEUE": "bench",
        "STORAGE_ROOT": app.config["STORAGE_ROOT"],
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            "1",
            "-b",
            f"127.0.0.1:{port}",
            "--timeout",
            "600",
            "wsgi:app",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/sign-in")
            return server
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start")


def _gunicorn_worker(master_pid: int) -> int:
    for _ in range(50):
        children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise RuntimeError("no gunicorn worker")


def _memory_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not found for {pid}")


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
