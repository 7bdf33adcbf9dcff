"""False alarms of screening on damaged but openable PDFs, and what it still catches on the hostile set.

Every sample of `backoffice.devservices.real_world_pdfs` opens in PDFium with all its pages; each goes
through the intake's framing rule, then is screened as the worker does (sandboxed children, every check).
A false alarm is a refusal at intake, a failure of the readable, encryption or active-content check, or a
page count other than the one a reader shows. The hostile set (`backoffice.devservices.hostile_pdfs`) must
still be caught, and no exception may escape the reading (that would kill the worker's job).

    python -m benchmarks.false_alarms
"""

import multiprocessing
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from backoffice.devservices import hostile_pdfs
from backoffice.devservices.real_world_pdfs import CATEGORIES, Sample, corpus
from backoffice.screening.checks import CheckContext, CheckResult, Outcome, run_document_checks
from backoffice.screening.pdf_reading import ReadingSettings, read_document
from backoffice.workflows.intake import HEAD, TAIL, pdf_framing_refusal

PROCESSES = 2
ALARMING_CHECKS = ("readable", "encryption", "active_content")
CONTEXT = CheckContext("disclosure", "RPD", frozenset({"VB5-01234"}))
# What the hostile set must show: (the check that must fail, the samples it must fail on).
DANGERS = {
    "passwords": ("encryption", ("user_password", "user_password_rc4")),
    "bombs": ("readable", ("bomb_in_page_content", "bomb_in_metadata")),
    "JavaScript": (
        "active_content",
        ("javascript_open_action", "javascript_name_tree", "javascript_escaped_name"),
    ),
    "launch actions": ("active_content", ("launch_action",)),
    "embedded files": ("active_content", ("embedded_file",)),
}


def main() -> None:
    started = time.perf_counter()
    print(
        "false alarms on damaged but openable PDFs (intake framing, then the worker's screening; "
        f"{PROCESSES} processes):"
    )
    samples = corpus()
    with tempfile.TemporaryDirectory() as folder, _pool() as pool:
        folder = Path(folder)
        paths = [_write(folder / f"{sample.name}.pdf", sample.data) for sample in samples]
        alarms = list(pool.map(false_alarms, paths, [sample.page_count for sample in samples]))
        _print_false_alarms(samples, alarms)
        hostile = [build(folder / f"hostile-{name}.pdf") for name, build in hostile_pdfs.SAMPLES.items()]
        outcomes = dict(zip(hostile_pdfs.SAMPLES, pool.map(screen_outcomes, hostile), strict=True))
        _print_hostile(outcomes)
    print(f"  (this section took {time.perf_counter() - started:.0f} s)")


def _pool() -> ProcessPoolExecutor:
    """Fresh interpreters, not forks: the caller may hold threads, sockets and a database engine."""
    return ProcessPoolExecutor(PROCESSES, mp_context=multiprocessing.get_context("spawn"))


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def false_alarms(path: Path, page_count: int) -> list[str]:
    """What intake and screening wrongly say about a file a reader opens with `page_count` pages."""
    data = path.read_bytes()
    refusal = pdf_framing_refusal(data[:HEAD], data[-TAIL:])
    if refusal is not None:
        return [f"refused at intake ({refusal})"]
    try:
        document = read_document(path, path.name, len(data), ReadingSettings())
    except Exception as error:  # noqa: BLE001 - an escaping exception is a finding, not the benchmark's end
        return [f"the reading raised {type(error).__name__}: {error}"]
    alarms = [
        f"{result.code}: {result.message_en}"
        for result in run_document_checks(document, CONTEXT)
        if result.code in ALARMING_CHECKS and result.outcome is Outcome.FAILURE
    ]
    if document.page_count != page_count:
        alarms.append(f"{document.page_count} pages instead of {page_count}")
    return alarms


def screen_outcomes(path: Path) -> dict[str, str] | str:
    """Each check's outcome by code, or the exception that escaped the reading (a worker death)."""
    try:
        document = read_document(path, path.name, path.stat().st_size, ReadingSettings())
    except Exception as error:  # noqa: BLE001 - counted as a death
        return f"{type(error).__name__}: {error}"
    results: list[CheckResult] = run_document_checks(document, CONTEXT)
    return {result.code: str(result.outcome) for result in results}


def _print_false_alarms(samples: list[Sample], alarms: list[list[str]]) -> None:
    files, flagged = Counter(), Counter()
    for sample, found in zip(samples, alarms, strict=True):
        files[sample.category] += 1
        flagged[sample.category] += bool(found)
    for category in CATEGORIES:
        print(f"  {category}: {_rate(files[category], flagged[category])}")
    print(f"  overall: {_rate(sum(files.values()), sum(flagged.values()))}")
    for sample, found in zip(samples, alarms, strict=True):
        if found:
            print(f"  false alarm, {sample.name}: {' | '.join(found)}")


def _rate(files: int, flagged: int) -> str:
    rate = 100 * flagged / files if files else 0.0
    return f"{files} files, {flagged} false alarms ({rate:.1f} %)"


def _print_hostile(outcomes: dict[str, dict[str, str] | str]) -> None:
    deaths = {name: outcome for name, outcome in outcomes.items() if isinstance(outcome, str)}
    counts = []
    for danger, (code, names) in DANGERS.items():
        detected = [name for name in names if _failed(outcomes[name], code)]
        counts.append(f"{danger} {len(detected)}/{len(names)}")
        for name in sorted(set(names) - set(detected)):
            print(f"  missed, {name}: {code} did not fail ({outcomes[name]})")
    print(
        f"  hostile set ({len(outcomes)} files), detected: {', '.join(counts)}; worker deaths: {len(deaths)}"
    )
    for name, error in deaths.items():
        print(f"  worker death, {name}: {error}")


def _failed(outcome: dict[str, str] | str, code: str) -> bool:
    return isinstance(outcome, dict) and outcome.get(code) == Outcome.FAILURE


if __name__ == "__main__":
    main()
