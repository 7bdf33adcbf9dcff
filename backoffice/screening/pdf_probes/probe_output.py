"""What every probe shares: the shape of identifiers it collects, and how it prints its answer.

The probes run as `python -I probe.py …`, which leaves their own folder off the import path; each puts it
back before importing this module.
"""

import json
import re
import resource

# Strings shaped like IRB file numbers (TB5-12345, 2024-B1-01234) or client ids (11-2345-6789, 1234-5678).
IDENTIFIER = re.compile(
    r"(?<![\w-])(?:[A-Z]{2}\d-\d{5}|\d{4}-[A-Z]\d-\d{5}|\d{2}-\d{4}-\d{4}|\d{4}-\d{4})(?![\w-])"
)
MAX_IDENTIFIERS = 200
MAX_PAGES_PER_IDENTIFIER = 50


def collect_identifiers(text: str, number: int, identifiers: dict[str, list[int]]) -> None:
    """Add the identifiers in `text`, seen on page `number`, within bounds a hostile file cannot stretch."""
    for value in set(IDENTIFIER.findall(text)):
        pages = identifiers.get(value)
        if pages is None:
            if len(identifiers) >= MAX_IDENTIFIERS:
                continue
            pages = identifiers[value] = []
        if len(pages) < MAX_PAGES_PER_IDENTIFIER:
            pages.append(number)


def print_answer(answer: dict) -> None:
    """The answer as one JSON object on stdout, with this process's own peak memory (VmHWM starts afresh at
    exec; ru_maxrss would carry the parent's)."""
    try:
        with open("/proc/self/status") as status:
            answer["peak_kb"] = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        answer["peak_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(answer))
