"""The production topology on one machine's loopback: nginx in front of two gunicorn web processes, three
workers, PostgreSQL, Redis, SeaweedFS (S3) and the SMTP sink, each web process and worker with its own empty
local folder (nothing shared but the services), configured by environment variables only, in production mode.

Used by the multi-host test and by `make loadtest`; `python -m backoffice.devservices.topology` starts it and
prints where everything is, until Ctrl-C. It needs PostgreSQL (TOPOLOGY_DATABASE_URL, by default the local
server's `postgres` user), and Debian's redis-server and nginx on the PATH.
"""

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

from backoffice.devservices.notify_emulator import NotifyEmulator, api_key_parts, serve_in_thread
from backoffice.devservices.object_store import SeaweedFS
from backoffice.devservices.processes import clean_environment, free_port, stop, wait_until_answering
from backoffice.devservices.smtp_sink import SmtpSink
from backoffice.integrations.storage import DocumentStore, store_for
from deploy.nginx import make_self_signed_certificate, start_nginx

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/backoffice_topology"
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]
STARTUP_SECONDS = 120


class RedisServer:
    """Debian's redis-server on a port of its own, so that it can be stopped and started again (as a restart
    of the service would) without touching any other Redis; it keeps nothing on disk, so a restart loses
    every queued job: the hardest case for the workers and the sweep."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        self.folder.mkdir(parents=True, exist_ok=True)
        command = [
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        with (self.folder / "redis.log").open("a") as log:
            self.process = subprocess.Popen(command, cwd=self.folder, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        _wait_for(lambda: _redis_answers(self.port), "Redis")
        return self

    def stop(self) -> None:
        stop(self.process)

    def restart(self) -> None:
        self.stop()
        self.start()


def _redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@dataclass
class Process:
    """A web process or worker of the topology: its command, its own folder and log, and how to start it."""

    name: str
    command: list[str]
    env: dict[str, str]
    folder: Path
    process: subprocess.Popen | None = None

    def start(self) -> "Process":
        """In a session of its own, so that the process and its children (a worker's scheduler and work horse,
        gunicorn's workers) can be killed together, as when their host goes down."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / f"{self.name}.log").open("a") as log:
            self.process = subprocess.Popen(  # noqa: S603  (our own commands)
                self.command,
                cwd=PROJECT_ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def kill(self) -> None:
        """SIGKILL to the process and its children: no warm shutdown, the job under way left as a crash
        leaves it."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        stop(self.process)


@dataclass
class Topology:
    root: Path
    web_count: int = 2
    worker_count: int = 3
    database_url: str = field(
        default_factory=lambda: os.environ.get("TOPOLOGY_DATABASE_URL", DEFAULT_DATABASE_URL)
    )
    webs: list[Process] = field(default_factory=list)
    workers: list[Process] = field(default_factory=list)
    plan: dict = field(default_factory=dict)

    def start(self) -> "Topology":
        """Start everything, fresh: an empty database migrated, demonstration data loaded, then the processes.
        What started is stopped again if a later part fails."""
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> "Topology":
        self.root.mkdir(parents=True, exist_ok=True)
        self.metrics_token = secrets.token_urlsafe(24)
        self.redis = RedisServer(self.root / "redis").start()
        self.s3 = SeaweedFS(self.root / "seaweedfs").start()
        self.mail = SmtpSink(save_to=self.root / "mail").start()
        self.notify = _start_notify_emulator()
        _empty_database(self.database_url)
        self.settings = self._settings()
        self._run([*FLASK, "db", "upgrade"])
        demo = self._run([*FLASK, "seed-demo", "--json"], BACKOFFICE_ENV="development")
        self.plan = json.loads(demo[demo.index("{") :])
        self.webs = [self._web(number) for number in range(self.web_count)]
        self.workers = [self._worker(number) for number in range(self.worker_count)]
        for web in self.webs:
            if not wait_until_answering(f"{web.url}/healthz", web.process, STARTUP_SECONDS):
                raise RuntimeError(f"{web.name} did not start: see {web.folder / (web.name + '.log')}")
        self.certificate = make_self_signed_certificate(self.root / "tls")
        self.front = start_nginx(self.root, [web.address for web in self.webs], certificate=self.certificate)
        return self

    def document_store(self) -> DocumentStore:
        """The bucket, seen as the back office sees it (to check what it holds)."""
        return store_for({"STORAGE_ROOT": str(self.root / "operator" / "storage"), **self.s3.environment()})

    def _settings(self) -> dict[str, str]:
        """What an operator sets on every host: the same for web and worker, but for the local folder."""
        return clean_environment(
            {
                "BACKOFFICE_ENV": "production",
                "SECRET_KEY": secrets.token_urlsafe(48),
                "CODE_HASH_KEY": secrets.token_urlsafe(48),
                "DATABASE_URL": self.database_url,
                "REDIS_URL": self.redis.url,
                **self.s3.environment(),
                "SMTP_HOST": "127.0.0.1",
                "SMTP_PORT": str(self.mail.port),
                "EMAIL_PROVIDER": "smtp",
                "NOTIFY_BASE_URL": f"http://127.0.0.1:{self.notify.server_port}",
                "LOG_FORMAT": "json",
                "METRICS_TOKEN": self.metrics_token,
                "TRUSTED_PROXY_COUNT": "1",
            }
        )

    def _host_env(self, folder: Path, **more: str) -> dict[str, str]:
        metrics = folder / "metrics"
        metrics.mkdir(parents=True, exist_ok=True)
        return {
            **self.settings,
            "STORAGE_ROOT": str(folder / "storage"),
            "PROMETHEUS_MULTIPROC_DIR": str(metrics),
            **more,
        }

    def _run(self, command: list[str], **more: str) -> str:
        folder = self.root / "operator"
        finished = subprocess.run(  # noqa: S603
            command,
            cwd=PROJECT_ROOT,
            env=self._host_env(folder, **more),
            capture_output=True,
            text=True,
            timeout=600,
        )
        if finished.returncode != 0:
            raise RuntimeError(f"{' '.join(command[3:])} failed:\n{finished.stderr[-3000:]}")
        return finished.stdout

    def _web(self, number: int) -> Process:
        folder = self.root / f"web-{number}"
        port = free_port()
        env = self._host_env(folder, GUNICORN_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="2")
        web = Process(
            f"web-{number}",
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
            env,
            folder,
        )
        web.address = f"127.0.0.1:{port}"
        web.url = f"http://{web.address}"
        return web.start()

    def _worker(self, number: int) -> Process:
        folder = self.root / f"worker-{number}"
        env = self._host_env(folder)
        return Process(f"worker-{number}", [*FLASK, "worker"], env, folder).start()

    @property
    def url(self) -> str:
        return self.front.url

    def stop(self) -> None:
        """Stop whatever was started (all of it, or what a failed start got to)."""
        for process in [*self.workers, *self.webs]:
            process.stop()
        for part in ("front", "mail", "s3", "redis"):
            if hasattr(self, part):
                getattr(self, part).stop()
        if hasattr(self, "notify"):
            self.notify.shutdown()


def _start_notify_emulator():
    """The GC Notify emulator (text messages to counsel) on a free port, with the development key's service."""
    from config import Config

    service_id, secret = api_key_parts(Config.NOTIFY_API_KEY)
    emulator = NotifyEmulator(
        service_id, secret, Config.NOTIFY_EMAIL_TEMPLATE_ID, Config.NOTIFY_SMS_TEMPLATE_ID
    )
    return serve_in_thread(emulator, 0)


def _empty_database(url: str) -> None:
    """Drop and make again the topology's database: only one named for it, never one pointed at by mistake."""
    address = make_url(url)
    if "topology" not in (address.database or ""):
        raise RuntimeError(
            f"The topology empties its database: give one whose name says topology, not {address.database!r}."
        )
    server = create_engine(address.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{address.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{address.database}"'))
    server.dispose()


def _wait_for(ready, what: str, seconds: float = STARTUP_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start within {seconds:g} s")
        time.sleep(0.1)


def main() -> int:
    """Start the topology under a temporary folder and print where everything is, until Ctrl-C."""
    import tempfile

    topology = Topology(Path(tempfile.mkdtemp(prefix="backoffice-topology-")))
    print(f"Starting under {topology.root} ...", flush=True)
    try:
        topology.start()
        print(f"Front door (nginx, TLS, certificate {topology.certificate[0]}): {topology.url}/")
        for process in [*topology.webs, *topology.workers]:
            print(f"  {process.name:<9} log {process.folder / (process.name + '.log')}")
        print(
            f"  S3 (SeaweedFS) {topology.s3.endpoint_url}, Redis {topology.redis.url}, SMTP sink {topology.mail.port}"
        )
        print(
            f"  metrics: curl -H 'Authorization: Bearer {topology.metrics_token}' {topology.webs[0].url}/metrics"
        )
        print(
            "Demo sign-ins: " + ", ".join(person["email"] for person in topology.plan["staff"][:3]) + " ..."
        )
        print(f"  password: {topology.plan['staff'][0]['password']}. Ctrl-C stops everything.", flush=True)
        stops = {signal.SIGINT, signal.SIGTERM}
        signal.pthread_sigmask(
            signal.SIG_BLOCK, stops
        )  # after the children started: they must not inherit it
        signal.sigwait(stops)
    finally:
        topology.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
