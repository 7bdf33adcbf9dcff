"""Starting and stopping the back office's own processes on this machine (the local topology, the tests that
run production commands): free ports, a clean environment, readiness polling and a graceful stop."""

import os
import socket
import subprocess
import time

import requests

from config import SETTING_NAMES

POLL_SECONDS = 0.1


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on now (the system's choice); another process could take it before the caller
    binds it, which on a machine of tests is rare enough."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def clean_environment(settings: dict[str, str]) -> dict[str, str]:
    """This process's environment without any back office setting or test variable, with `settings`: what an
    operator would give a process, and nothing of the developer's own configuration."""
    kept = {
        name: value
        for name, value in os.environ.items()
        if name not in SETTING_NAMES and not name.startswith(("TEST_", "PYTEST", "FLASK_"))
    }
    return {**kept, **settings}


def wait_until_answering(url: str, process: subprocess.Popen, seconds: float = 120, **options) -> bool:
    """Poll `url` until it answers 200 (True), or the process ends or `seconds` pass (False)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            if requests.get(url, timeout=2, **options).status_code == 200:
                return True
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(POLL_SECONDS)
    return False


def stop(process: subprocess.Popen | None, seconds: float = 60) -> None:
    """SIGTERM (a graceful stop), then SIGKILL if it takes longer than `seconds`."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)


def serve_until_interrupted(server, banner: str) -> None:
    """Run an emulator's server in the foreground (as `make run` starts it) until Ctrl-C."""
    print(banner, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
