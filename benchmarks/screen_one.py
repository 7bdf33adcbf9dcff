"""Screen one PDF as the worker does (sandboxed children, every check) and print the figures as JSON.

Run in its own process by the benchmark so that its peak memory is the worker's for this file alone:
    python -m benchmarks.screen_one FILE KIND DIVISION
"""

import json
import sys
import time
from pathlib import Path

from backoffice.screening.checks import CheckContext, run_document_checks
from backoffice.screening.pdf_reading import ReadingSettings, read_document


def main(path: Path, kind: str, division: str) -> dict:
    started = time.perf_counter()
    document = read_document(path, path.name, path.stat().st_size, ReadingSettings())
    results = run_document_checks(document, CheckContext(kind, division, frozenset({"VB5-01234"})))
    seconds = time.perf_counter() - started
    children = [document.reading.get("structure_peak_kb") or 0, document.reading.get("pages_peak_kb") or 0]
    return {
        "seconds": seconds,
        "pages": document.page_count,
        "worker_peak_mb": _own_peak_kb() / 1024,
        "child_peak_mb": max(children) / 1024,
        "reading": document.reading,
        "outcomes": {result.code: result.outcome.value for result in results},
    }


def _own_peak_kb() -> int:
    """VmHWM starts afresh at exec, unlike ru_maxrss, which would carry the benchmark's own peak."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), sys.argv[2], sys.argv[3])))
