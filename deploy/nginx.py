"""The nginx front server: its configuration rendered from deploy/nginx.conf, and nginx run as a child process.

The body limits and the 413 error body are computed from the app's own code (REQUEST_CEILING, the Config's
MAX_CONTENT_LENGTH, the portal API's refusal), never copied by hand, so that they follow it.

An operator renders the file once:
    .venv/bin/python -m deploy.nginx --listen 80 --upstream 10.0.0.11:8000 --run-dir /var/lib/backoffice-nginx
Tests and the multi-host runner start their own nginx with `start_nginx`, in the foreground, under a
folder of their own (pid, logs and temporary files inside), as root or not.
"""

import argparse
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from backoffice.devservices.processes import free_port

TEMPLATE = Path(__file__).resolve().with_name("nginx.conf")
NGINX = "/usr/sbin/nginx"  # Debian's package
MIB = 1024 * 1024
HSTS = 'add_header Strict-Transport-Security "max-age=31536000" always;'
PLACEHOLDER = re.compile(r"\{\{([A-Z_]+)\}\}")
# A value put into the configuration as one word: no space, quote or character nginx reads as syntax.
CONFIG_WORD = re.compile(r"[^\s;{}'\"$#\\]+")


def body_limit(app_limit: int) -> str:
    """nginx's client_max_body_size for a body the app accepts up to `app_limit` bytes: one MiB above it, in
    whole MiB. Above, not equal: a body a little too large reaches the app, which answers with its own error
    (naming the file too large); nginx cuts short only those far past anything the app accepts."""
    return f"{-(-app_limit // MIB) + 1}m"


def request_too_large_json() -> str:
    """The portal API's own 413 error body, for nginx to answer with before the app sees the request."""
    from backoffice.workflows.refusals import Refusal

    return json.dumps(Refusal("request_too_large").as_json(), ensure_ascii=False, separators=(",", ":"))


def render_nginx_conf(
    listen: str,
    upstreams: Sequence[str],
    run_dir: Path,
    user: str = "www-data",
    certificate: tuple[Path, Path] | None = None,
    redirect_from: str | None = None,
    behind_load_balancer: bool = False,
) -> str:
    """deploy/nginx.conf with its placeholders filled. `listen` is nginx's (`8080`, `10.0.0.4:80`); each
    upstream a gunicorn's `host:port`; `run_dir` an existing folder for nginx's pid, logs and temporary files;
    `certificate` the (certificate, key) files when TLS ends at nginx, and `redirect_from` then a port (or
    address:port) answering plain HTTP with a redirect to HTTPS. `behind_load_balancer` passes on the
    X-Forwarded-Proto a load balancer sends: only when nginx is reachable from the load balancer alone."""
    from backoffice.api.submissions import REQUEST_CEILING
    from config import Config

    if not upstreams:
        raise ValueError("nginx needs at least one upstream gunicorn")
    if redirect_from and not certificate:
        raise ValueError("a redirect to HTTPS needs TLS at nginx: give a certificate")
    values = {
        "USER": _config_word(user),
        "RUN_DIR": _config_word(str(Path(run_dir).resolve())),
        "LISTEN": _config_word(listen) + (" ssl" if certificate else ""),
        "TLS": _tls_settings(certificate),
        "HSTS": HSTS if certificate else "# no Strict-Transport-Security: TLS does not end here",
        "REDIRECT_SERVER": _redirect_server(redirect_from, listen) if redirect_from else "# no redirect",
        "FORWARDED_PROTO": "$forwarded_proto" if behind_load_balancer else "$scheme",
        "UPSTREAM_SERVERS": "\n        ".join(f"server {_config_word(address)};" for address in upstreams),
        "BODY_LIMIT": body_limit(Config.MAX_CONTENT_LENGTH),
        "SUBMISSION_BODY_LIMIT": body_limit(REQUEST_CEILING),
        "REQUEST_TOO_LARGE_JSON": _single_quoted(request_too_large_json()),
    }
    return fill_placeholders(TEMPLATE.read_text(), values)


def _tls_settings(certificate: tuple[Path, Path] | None) -> str:
    if certificate is None:
        return "# no TLS here"
    chain, key = (_config_word(str(Path(path).resolve())) for path in certificate)
    return f"ssl_certificate {chain}; ssl_certificate_key {key}; ssl_protocols TLSv1.2 TLSv1.3;"


def _redirect_server(redirect_from: str, https_listen: str) -> str:
    """A server on `redirect_from` sending every request to the same path over HTTPS, on nginx's HTTPS port."""
    https_port = https_listen.rpartition(":")[2]
    authority = "$host" if https_port == "443" else f"$host:{_config_word(https_port)}"
    return (
        f"server {{ listen {_config_word(redirect_from)}; "
        f"location / {{ return 301 https://{authority}$request_uri; }} }}"
    )


def make_self_signed_certificate(folder: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A certificate for `host` made by openssl, for trying TLS on one machine (never for real traffic)."""
    folder.mkdir(parents=True, exist_ok=True)
    chain, key = folder / "certificate.pem", folder / "key.pem"
    subprocess.run(  # noqa: S603 (our own arguments)
        [shutil.which("openssl") or "/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={host}",
         "-addext", f"subjectAltName=IP:{host}", "-keyout", str(key), "-out", str(chain)],
        check=True, capture_output=True,
    )  # fmt: skip
    return chain, key


def fill_placeholders(template: str, values: dict[str, str]) -> str:
    """Each {{NAME}} of the template's settings replaced; comments, which name the placeholders, kept as they are."""

    def fill(found: re.Match[str]) -> str:
        if found.group(1) not in values:
            raise ValueError(f"no value for the placeholder {found.group(0)}")
        return values[found.group(1)]

    lines = template.splitlines(keepends=True)
    return "".join(line if line.lstrip().startswith("#") else PLACEHOLDER.sub(fill, line) for line in lines)


def _config_word(value: str) -> str:
    if not CONFIG_WORD.fullmatch(value):
        raise ValueError(f"{value!r} cannot be written into nginx's configuration as one word")
    return value


def _single_quoted(text: str) -> str:
    """`text` for inside '…' in nginx's configuration, which reads \\ and \\' as escapes and $ as a variable."""
    if "$" in text:
        raise ValueError("a $ would be read by nginx as a variable")
    return text.replace("\\", "\\\\").replace("'", "\\'")


@dataclass
class RunningNginx:
    """An nginx started by `start_nginx`: in the foreground, a child of this process."""

    process: subprocess.Popen
    prefix: Path
    host: str
    port: int
    tls: bool = False

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    @property
    def error_log(self) -> Path:
        return self.prefix / "error.log"

    @property
    def access_log(self) -> Path:
        return self.prefix / "access.log"

    def stop(self) -> None:
        """Fast shutdown (SIGTERM): open connections are closed, bodies being received dropped."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_nginx(
    temp_dir: Path,
    upstreams: Sequence[str],
    host: str = "127.0.0.1",
    port: int = 0,
    nginx: str = NGINX,
    ready_within: float = 10.0,
    certificate: tuple[Path, Path] | None = None,
    redirect_from: str | None = None,
) -> RunningNginx:
    """Start nginx before `upstreams` on host:port (a free port when 0), with its prefix folder, configuration,
    pid, logs and temporary files in `temp_dir`/nginx; return once it accepts connections. The caller stops it.

    Its workers run as the current user: as root, that keeps them able to write into a private temporary
    folder (an operator's rendered file names www-data instead); as anyone else, nginx ignores the directive."""
    prefix = Path(temp_dir).resolve() / "nginx"
    prefix.mkdir(parents=True, exist_ok=True)
    port = port or free_port(host)
    user = pwd.getpwuid(os.geteuid()).pw_name
    conf = prefix / "nginx.conf"
    conf.write_text(
        render_nginx_conf(_listen_address(host, port), upstreams, prefix, user, certificate, redirect_from)
    )
    command = [
        nginx,
        "-p",
        str(prefix),
        "-e",
        str(prefix / "error.log"),
        "-c",
        str(conf),
        "-g",
        "daemon off;",
    ]
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL)  # noqa: S603 (our own arguments)
    running = RunningNginx(process, prefix, host, port, tls=certificate is not None)
    try:
        wait_until_listening(host, port, process, ready_within)
    except RuntimeError as error:
        running.stop()
        log = running.error_log.read_text() if running.error_log.exists() else ""
        raise RuntimeError(f"{error}; nginx's error log ends with:\n{log[-2000:]}") from None
    return running


def _listen_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def wait_until_listening(host: str, port: int, process: subprocess.Popen, within: float) -> None:
    """Return once host:port accepts a connection; raise if `process` ends first or `within` seconds pass.
    Between tries it waits on the process, not a bare sleep, so that an exit is seen at once."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=0.5).close()
            return
        except OSError:
            pass
        try:
            process.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            continue
        raise RuntimeError(f"{process.args[0]} ended with {process.returncode} before listening on {port}")
    raise RuntimeError(f"nothing listens on {host}:{port} after {within} s")


def nginx_command() -> str | None:
    """Where nginx is here: Debian's, else the first on PATH; None when it is not installed."""
    return NGINX if Path(NGINX).exists() else shutil.which("nginx")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.nginx", description="Print nginx's configuration."
    )
    parser.add_argument("--listen", required=True, help="port, or address:port, nginx listens on")
    parser.add_argument("--upstream", action="append", required=True, help="a gunicorn's host:port (repeat)")
    parser.add_argument("--run-dir", required=True, type=Path, help="nginx's pid, logs and temporary files")
    parser.add_argument("--user", default="www-data", help="account of nginx's workers when started by root")
    parser.add_argument("--certificate", type=Path, help="certificate chain (PEM), when TLS ends at nginx")
    parser.add_argument("--certificate-key", type=Path, help="its private key (PEM)")
    parser.add_argument(
        "--redirect-from", help="with a certificate: port, or address:port, redirecting plain HTTP to HTTPS"
    )
    parser.add_argument(
        "--behind-load-balancer",
        action="store_true",
        help="pass on the load balancer's X-Forwarded-Proto (only if nginx is reachable from it alone)",
    )
    arguments = parser.parse_args(argv)
    if bool(arguments.certificate) != bool(arguments.certificate_key):
        parser.error("--certificate and --certificate-key go together")
    certificate = (arguments.certificate, arguments.certificate_key) if arguments.certificate else None
    if arguments.redirect_from and not certificate:
        parser.error("--redirect-from needs --certificate")
    conf = render_nginx_conf(
        arguments.listen,
        arguments.upstream,
        arguments.run_dir,
        arguments.user,
        certificate,
        arguments.redirect_from,
        arguments.behind_load_balancer,
    )
    print(conf, end="")


if __name__ == "__main__":
    main()
