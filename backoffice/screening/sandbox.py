"""Run a program that parses untrusted input in a child process that cannot hurt the worker.

rq's job timeout is a signal Python cannot act on inside a long C call, and a library that aborts takes its
whole process with it; so each parse runs alone: a new session, address-space and CPU limits, no core
files, no file writes, stdin closed, a minimal environment and a wall-clock timeout that kills the process
group. A child that dies or overruns is a verdict ("could not be read safely"), never a crash of the worker.
"""

import json
import os
import re
import resource
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

MAX_OUTPUT = 64 * 1024 * 1024
MAX_ERROR_LINE = 200
MODULE_PREFIX = re.compile(r"^(?:[A-Za-z_]\w*\.)+(?=[A-Za-z_]\w*(?:Error|Exception|Warning)\b)")


@dataclass(frozen=True)
class Limits:
    memory_bytes: int = 1024 * 1024 * 1024
    cpu_seconds: int = 60
    wall_seconds: float = 90.0


@dataclass(frozen=True)
class ChildVerdict:
    """What came back from the child: its JSON answer, or why there is none."""

    answer: dict[str, Any] | None
    failure: str | None = None  # "timed_out", "killed_by_SIGABRT", "exit_status_1", "bad_output"
    seconds: float = 0.0
    stderr_tail: str = field(default="", repr=False)
    # The child's last error line when it failed ("PdfiumError: Failed to load document (PDFium: Data
    # format error)."), without the file's path: safe to show a clerk and to log.
    last_error: str = ""

    @property
    def ok(self) -> bool:
        return self.answer is not None


def run_sandboxed(script: Path, args: list[str], limits: Limits) -> ChildVerdict:
    return SandboxedChild(script, args, limits).wait()


class SandboxedChild:
    """A child started now and collected later, so that parts of one document can be read on several cores."""

    def __init__(self, script: Path, args: list[str], limits: Limits) -> None:
        self._limits = limits
        self._args = args
        self._started = time.monotonic()
        self._child = subprocess.Popen(  # noqa: S603 - our own script, our interpreter, a path argument
            [sys.executable, "-I", str(script), *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
            cwd="/",
            close_fds=True,
            start_new_session=True,
            # The limits apply in the child before it runs anything; rq's work horse is single-threaded.
            preexec_fn=lambda: _apply_limits(limits),  # noqa: PLW1509
        )

    def wait(self) -> ChildVerdict:
        remaining = max(0.1, self._limits.wall_seconds - (time.monotonic() - self._started))
        try:
            stdout, stderr = self._child.communicate(timeout=remaining)
        except subprocess.TimeoutExpired:
            _kill_group(self._child)
            self._child.communicate()
            return ChildVerdict(None, "timed_out", time.monotonic() - self._started)
        verdict = _verdict(self._child.returncode, stdout, stderr, time.monotonic() - self._started)
        if verdict.ok:
            return verdict
        return replace(verdict, last_error=last_error_line(verdict.stderr_tail, self._args))


def _apply_limits(limits: Limits) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


def _kill_group(child: subprocess.Popen) -> None:
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _verdict(returncode: int, stdout: bytes, stderr: bytes, seconds: float) -> ChildVerdict:
    tail = stderr[-2000:].decode("utf-8", "replace")
    if returncode < 0:
        return ChildVerdict(None, f"killed_by_{signal.Signals(-returncode).name}", seconds, tail)
    if returncode != 0:
        return ChildVerdict(None, f"exit_status_{returncode}", seconds, tail)
    if len(stdout) > MAX_OUTPUT:
        return ChildVerdict(None, "bad_output", seconds, tail)
    try:
        answer = json.loads(stdout)
    except ValueError:
        return ChildVerdict(None, "bad_output", seconds, tail)
    if not isinstance(answer, dict):
        return ChildVerdict(None, "bad_output", seconds, tail)
    return ChildVerdict(answer, None, seconds, tail)


def last_error_line(stderr: str, args: list[str]) -> str:
    """The last line a failed child wrote to stderr (a traceback ends with the exception), without its
    arguments (the file's path) or a module path before the exception's name, cut to 200 characters.

    The probes never print the document's text, so what is left names the library's complaint only.
    """
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    if not lines:
        return ""
    line = lines[-1]
    for arg in sorted(args, key=len, reverse=True):
        if len(arg) > 2:
            line = line.replace(arg, "…")
    line = MODULE_PREFIX.sub("", line)
    return line if len(line) <= MAX_ERROR_LINE else line[: MAX_ERROR_LINE - 1] + "…"
