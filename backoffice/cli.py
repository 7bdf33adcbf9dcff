"""Command-line tools: staff users, case import, demonstration data and the worker."""

import ipaddress
import json
import socket
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import click
from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from prometheus_client import make_wsgi_app
from sqlalchemy import select

from backoffice.extensions import db
from backoffice.integrations.storage import S3Store, copy_folder, document_store
from backoffice.models import JobRun, JobStatus, PortalClient, Role
from backoffice.observability.exposition import processes_metrics
from backoffice.observability.web import authorization_carries
from backoffice.worker import run_worker
from backoffice.workflows.accounts import AccountError, create_staff_user
from backoffice.workflows.audit import COMMAND_LINE
from backoffice.workflows.case_import import ImportFileError, start_case_import
from backoffice.workflows.i18n import in_both_languages
from backoffice.workflows.portal import PortalClientError, create_portal_client, revoke_portal_client
from backoffice.workflows.tallies import recount


def register_commands(app: Flask) -> None:
    app.cli.add_command(users)
    app.cli.add_command(import_cases)
    app.cli.add_command(seed_demo)
    app.cli.add_command(seed_volume)
    app.cli.add_command(recount_decision_tallies)
    app.cli.add_command(worker)
    app.cli.add_command(portal_clients)
    app.cli.add_command(storage)


def _message(text) -> str:
    """A refusal for the terminal, in both languages."""
    both = in_both_languages(text)
    return both["en"] if both["en"] == both["fr"] else f"{both['en']}\n{both['fr']}"


@click.group()
def users() -> None:
    """Manage staff users."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--name", "full_name", required=True)
@click.option("--role", type=click.Choice([role.value for role in Role]), required=True)
@click.option("--office", default="national", show_default=True, help="western, central, eastern or national")
@click.option("--division", default=None, help="RPD, RAD, ID or IAD (division members only)")
@click.option("--language", type=click.Choice(["en", "fr"]), default="en", show_default=True)
@click.password_option(help="At least 12 characters; asked for when not given.")
def create_user(email, full_name, role, office, division, language, password) -> None:
    """Create a staff user."""
    try:
        user = create_staff_user(
            email=email,
            full_name=full_name,
            password=password,
            role=Role(role),
            office_code=office,
            division_code=division,
            preferred_language=language,
            created_by=COMMAND_LINE,
        )
    except AccountError as error:
        db.session.rollback()
        raise click.ClickException(_message(error.args[0])) from error
    db.session.commit()
    click.echo(f"Created staff user {user.id}: {user.email} ({user.role.value}, {office}).")


@click.group("portal-clients")
def portal_clients() -> None:
    """Manage the systems allowed to call the portal API."""


@portal_clients.command("create")
@click.argument("name")
def create_portal_client_command(name: str) -> None:
    """Create a portal client and print its token (shown this once; only its hash is kept)."""
    try:
        client, token = create_portal_client(name)
    except PortalClientError as error:
        db.session.rollback()
        raise click.ClickException(_message(error.args[0])) from error
    db.session.commit()
    click.echo(f"Created portal client {client.id}: {client.name}")
    click.echo(f"Token (shown once, store it in the portal's secrets): {token}")


@portal_clients.command("revoke")
@click.argument("name")
def revoke_portal_client_command(name: str) -> None:
    """Revoke a portal client: its token stops working at once."""
    client = db.session.scalar(select(PortalClient).where(PortalClient.name == name))
    if client is None:
        raise click.ClickException(_message(_l("No portal client has this name.")))
    revoke_portal_client(client)
    db.session.commit()
    click.echo(f"Revoked portal client {client.id}: {client.name}")


@portal_clients.command("list")
def list_portal_clients() -> None:
    """List the portal clients, with when each was last used."""
    for client in db.session.scalars(select(PortalClient).order_by(PortalClient.name)):
        state = f"revoked {client.revoked_at:%Y-%m-%d %H:%M} UTC" if client.revoked_at else "active"
        used = f"{client.last_used_at:%Y-%m-%d %H:%M} UTC" if client.last_used_at else "never"
        click.echo(f"{client.id:>4}  {client.name:<40} {state:<28} last used: {used}")


@click.command("import-cases")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--wait/--no-wait", default=False, help="Wait for the worker to finish and print the report.")
def import_cases(file: Path, wait: bool) -> None:
    """Queue an import of a case management system CSV export (cases, counsel, counsel of record)."""
    try:
        run = start_case_import(file, file.name)
    except ImportFileError as error:
        db.session.rollback()
        raise click.ClickException(_message(error.args[0])) from error
    click.echo(f"Queued case import #{run.id} (job {run.rq_job_id}). Follow it under Operations > Jobs.")
    if wait:
        _wait_and_report(run.id)


def _wait_and_report(run_id: int, timeout_seconds: int = 3600) -> None:
    deadline = time.monotonic() + timeout_seconds
    while True:
        db.session.expire_all()
        run = db.session.get(JobRun, run_id)
        if run.status in (JobStatus.FINISHED, JobStatus.FAILED) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    click.echo(
        f"Status: {run.status.value}; rows {run.done}/{run.total}; "
        f"imported {run.succeeded}; refused {run.failed}."
    )
    for error in run.errors:
        row = f"row {error['row']}" if error["row"] else "file"
        click.echo(f"  {row} {error['column'] or ''}: {error['message_en']} / {error['message_fr']}")
    if run.status is not JobStatus.FINISHED:
        raise click.ClickException("The import did not finish.")


@click.command("seed-demo")
@click.option("--json", "as_json", is_flag=True, help="Print what a tester needs, as JSON.")
def seed_demo(as_json: bool) -> None:
    """Load demonstration data (once) and print the demo sign-ins."""
    from backoffice.devdata.demo import load_demo_data  # development data: never imported unless asked for

    try:
        summary = load_demo_data()
    except RuntimeError as error:
        raise click.ClickException(str(error)) from error
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    click.echo(f"Demo staff (password for all: {summary['staff'][0]['password']}):")
    for person in summary["staff"]:
        click.echo(
            f"  {person['email']:<40} {person['role']:<16} {person['office']:<9} {person['division'] or ''}"
        )


@click.command("seed-volume")
@click.option("--submissions", default=200_000, show_default=True, type=click.IntRange(min=0))
@click.option("--counsel", default=20_000, show_default=True, type=click.IntRange(min=0))
@click.option("--cases", default=60_000, show_default=True, type=click.IntRange(min=0))
@click.option(
    "--seed", type=int, default=None, help="Seed of the random generator, to make the same data again."
)
@click.option("--add", is_flag=True, help="Add to the volume data already loaded (refused without it).")
def seed_volume(submissions: int, counsel: int, cases: int, seed: int | None, add: bool) -> None:
    """Load realistic volume data, to measure the screens.

    Counsel (most with a portal account and a registration), cases in every office and division with their
    counsel of record, and submissions over the last two years with their attachments' metadata, check
    results, decisions, notes and audit events: old ones decided, recent ones waiting in the queues.

    Staff of every role in every office are created under @volume.irb-backoffice.example; they all sign in
    with the password Volume-password-2026. Refused in production, and refused when volume data is already
    loaded unless --add is given: --add adds the counsel, cases and submissions asked for (give --counsel 0
    --cases 0 to add only submissions, filed on the cases already there). The same --seed gives the same
    data, with times counted back from now.
    """
    from backoffice.devdata.volume import VolumeRefused, VolumeRequest, load_volume  # likewise

    request = VolumeRequest(submissions=submissions, counsel=counsel, cases=cases, seed=seed, add=add)
    try:
        summary = load_volume(request, progress=click.echo)
    except VolumeRefused as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    rows = ", ".join(f"{table} {count:,}" for table, count in summary["rows"].items())
    click.echo(f"Done in {summary['seconds']} s (seed {summary['seed']}). Rows written: {rows}.")
    click.echo(f"Volume staff (password for all: {summary['password']}), for example:")
    for person in summary["staff"]:
        click.echo(f"  {person['email']:<56} {person['role']:<16} {person['office']:<9} {person['division']}")


@click.command("recount-decision-tallies")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Make them again from this day on (Eastern time); all days without it.",
)
def recount_decision_tallies(since) -> None:
    """Make the supervisors' daily tallies of decisions again from the decisions themselves.

    The tallies are kept as each decision is made; this is for decisions written in bulk or changed outside
    the back office. It replaces the tallies of the days it counts, in one transaction; on PostgreSQL,
    decisions made meanwhile wait for it (seconds for 200,000 submissions), so --since keeps it short.
    """

    counted = recount(since.date() if since else None)
    db.session.commit()
    click.echo(f"Decisions counted: {counted:,}.")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Serve this host's worker metrics for Prometheus on PORT of --metrics-address (0: any free port), "
    "read from PROMETHEUS_MULTIPROC_DIR. One worker per host carries --metrics-port: it serves its "
    "neighbours' metrics too, and owns the folder, which it empties when it starts (so the folder is the "
    "workers' of this host, one per service: never the web server's).",
)
@click.option(
    "--metrics-address",
    default="127.0.0.1",
    show_default=True,
    help="Address the metrics port listens on. Any but a loopback address needs METRICS_TOKEN, which the "
    "scraper then sends as its bearer token (as to the web's /metrics).",
)
def worker(burst: bool, metrics_port: int | None, metrics_address: str) -> None:
    """Run a job worker (with rq's scheduler) on the back office queue."""
    app = current_app._get_current_object()
    server = None if metrics_port is None else _serve_worker_metrics(app, metrics_address, metrics_port)
    try:
        run_worker(app, burst=burst)
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()


def _serve_worker_metrics(app: Flask, address: str, port: int) -> WSGIServer:
    directory = app.config["PROMETHEUS_MULTIPROC_DIR"]
    if not directory or not Path(directory).is_dir():
        # Each job runs in a process of its own, which ends with it: only that folder keeps what it counted.
        raise click.ClickException(
            _message(_l("--metrics-port needs PROMETHEUS_MULTIPROC_DIR, an existing folder."))
        )
    token = app.config["METRICS_TOKEN"]
    if not token and not _is_loopback(address):
        raise click.ClickException(
            _message(
                _l(
                    "--metrics-address %(address)s is reachable from other hosts: set METRICS_TOKEN, which "
                    "the scraper must then send.",
                    address=address,
                )
            )
        )
    # This worker owns the folder: files of processes of a run before would be added to this run's forever.
    for stale in Path(directory).glob("*.db"):
        stale.unlink(missing_ok=True)
    server = _start_metrics_server(
        address, port, _bearer_only(make_wsgi_app(processes_metrics(directory)), token)
    )
    shown = f"[{address}]" if ":" in address else address
    click.echo(_message(_l("Worker metrics: %(url)s", url=f"http://{shown}:{server.server_port}/metrics")))
    return server


def _is_loopback(address: str) -> bool:
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


WsgiApp = Callable[[dict, Callable], Iterable[bytes]]


def _bearer_only(application: WsgiApp, token: str | None) -> WsgiApp:
    """`application` for a caller that sends `token` as its bearer token (compared in constant time); anyone
    else gets the 404 the web's /metrics gives. No token configured: everyone (a loopback address only)."""
    if not token:
        return application

    def guarded(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if authorization_carries(environ.get("HTTP_AUTHORIZATION", ""), token):
            return application(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
        return [b"Not Found\n"]

    return guarded


class _MetricsServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a scrape in progress does not hold the worker's exit


class _MetricsServer6(_MetricsServer):
    address_family = socket.AF_INET6


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the standard library's name)
        """A line per scrape would drown the worker's own."""


def _start_metrics_server(address: str, port: int, application: WsgiApp) -> WSGIServer:
    """Serve `application` on address:port in a thread; the caller shuts it down."""
    server_class = _MetricsServer6 if ":" in address else _MetricsServer
    server = make_server(address, port, application, server_class, _QuietHandler)
    threading.Thread(target=server.serve_forever, name="worker-metrics", daemon=True).start()
    return server


@click.group()
def storage() -> None:
    """Manage where documents are kept."""


@storage.command("copy-to-bucket")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.pass_context
def copy_to_bucket(context: click.Context, folder: Path) -> None:
    """Copy the documents and imports of a storage FOLDER (the old STORAGE_ROOT) into the bucket STORAGE_URL
    names. Each document is checked against its name; run again, it copies only what is missing."""
    store = document_store()
    if not isinstance(store, S3Store):
        raise click.ClickException(
            _message(
                _l("STORAGE_URL names no bucket: set it to s3://bucket/prefix to copy documents into one.")
            )
        )
    report = copy_folder(folder, store)
    for problem in report.bad:
        click.echo(_message(problem), err=True)
    counts = {"copied": report.copied, "skipped": report.skipped, "bad": len(report.bad)}
    click.echo(
        _message(_l("Copied: %(copied)d, already in the bucket: %(skipped)d, bad: %(bad)d.", **counts))
    )
    if report.bad:
        context.exit(1)
