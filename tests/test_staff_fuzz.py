"""Odd values in the query strings and forms of every staff route, as every role: never an answer of 500 or more.

The parameters are those the staff views read (their names are taken from the views' source, so a new one is
fuzzed without anyone listing it), the fields of each route's own form, and Flask-Admin's own (page, sort,
search, filters, id, url...). They are split into groups; each request gives one odd value to one group and
leaves the record id valid otherwise, and the group turns with the route, the role and the value, so every
parameter of every route gets odd values without sending every combination.
"""

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

from tests.helpers import (
    METRICS,
    PORTAL,
    PRINCIPALS,
    PUBLIC,
    SIGNED_IN,
    csrf_token_from,
    rules_to_walk,
    who_may_use,
)

LONG = "10 KB"
ODD_VALUES: dict[str, str | list[str]] = {
    "NUL": "a\x00b",
    "2**70": str(2**70),
    "-2**70": str(-(2**70)),
    "largest 64-bit": str(2**63 - 1),
    "-1": "-1",
    "right-to-left": "\u202etxt.exe\u202c",
    LONG: "é" * 5 * 1024,
    "empty": "",
    "repeated": ["1", "\u202e2"],
}
FLASK_ADMIN_PARAMETERS = ("page", "page_size", "sort", "desc", "search", "id", "url", "office", "flt0_0")
FILTERS = tuple(f"flt{n}_{n}" for n in range(1, 40))  # position n, filter n: each filter of a view
VIEWS = Path(__file__).resolve().parent.parent / "backoffice"
READ = re.compile(r"\b(?:args|values|form)\.get(?:list)?\(\s*\"([A-Za-z0-9_]+)\"")
FIELD = re.compile(r"<(?:input|select|textarea)\b[^>]*\bname=\"([^\"]+)\"")
GROUPS = 6
SKIPPED = {"auth.sign_out"}  # reads nothing, and ends the session the other requests use


def parameters_read_by_views() -> list[str]:
    names = set(FLASK_ADMIN_PARAMETERS) | set(FILTERS)
    for source in VIEWS.rglob("*.py"):
        if "devservices" not in source.parts and "api" not in source.parts:
            names |= set(READ.findall(source.read_text()))
    return sorted(names)


@dataclass(frozen=True)
class OddRequest:
    method: str
    path: str
    role: str
    label: str
    chosen: list[str]
    pairs: list[tuple[str, str]]

    def __str__(self) -> str:
        return f"{self.method} {self.path} as {self.role}, {self.label} in {', '.join(self.chosen)}"


@pytest.mark.parametrize("role", [*PRINCIPALS, "anonymous"])
def test_odd_values_in_every_staff_query_string_and_form_never_fail(app, client, records, capsys, role):
    clients, ids = records
    clients = {name: clients[name] for name in PRINCIPALS} | {"anonymous": client}
    principal, token = clients[role], _csrf_token(role, clients[role])
    statuses, failures = Counter(), []
    for odd in odd_requests(app, clients, ids, role):
        if odd.method == "GET":
            response = principal.get(odd.path, query_string=odd.pairs)
        else:
            response = principal.post(odd.path, data=MultiDict([*odd.pairs, ("csrf_token", token)]))
        statuses[response.status_code] += 1
        if response.status_code >= 500:
            failures.append(str(odd))
    with capsys.disabled():
        print(
            f"\nstaff fuzz as {role}: {sum(statuses.values())} requests; by status: {dict(sorted(statuses.items()))}"
        )
    assert not failures, f"{len(failures)} answers of 500 or more:\n" + "\n".join(failures)


def odd_requests(app, clients: dict, ids: dict[str, int], only: str) -> Iterator[OddRequest]:
    """Every odd value, for every route and method that the role `only` may use; the group of parameters
    that carries it turns with the route, the role and the value."""
    names = parameters_read_by_views()
    for route_number, rule in enumerate(rules_to_walk(app)):
        if rule.endpoint in SKIPPED or "static" in rule.endpoint:
            continue
        path, sample_id = rule.rule.replace("<export_type>", "csv"), ids.get(rule.endpoint.split(".")[0])
        for role_number, role in enumerate(_roles_for(rule.endpoint)):
            if role != only:
                continue
            for method in sorted(rule.methods & {"GET", "POST"}):
                fields = (
                    names if method == "GET" else _form_fields(clients[role], path, rule, names, sample_id)
                )
                for value_number, (label, value) in enumerate(ODD_VALUES.items()):
                    turn = route_number + role_number + value_number
                    chosen = [
                        name for position, name in enumerate(fields) if position % GROUPS == turn % GROUPS
                    ]
                    if label == LONG:  # one at a time: lists repeat their query string in every link
                        chosen = [chosen[(route_number + role_number) % len(chosen)]]
                    yield OddRequest(method, path, role, label, chosen, _pairs(chosen, value, sample_id))


def _roles_for(endpoint: str) -> list[str]:
    allowed = who_may_use(endpoint)
    if allowed == PORTAL:
        return []
    if allowed == METRICS:  # no principal has its token: each is refused alike
        return ["anonymous"]
    if allowed == PUBLIC:
        return [*PRINCIPALS, "anonymous"]
    return sorted(PRINCIPALS) if allowed == SIGNED_IN else sorted(allowed)


def _pairs(chosen: list[str], value: str | list[str], sample_id: int | None) -> list[tuple[str, str]]:
    values = value if isinstance(value, list) else [value]
    pairs = [(name, each) for name in chosen for each in values]
    if sample_id is not None and "id" not in chosen:
        pairs.append(("id", str(sample_id)))
    return pairs


def _form_fields(principal, path: str, rule, names: list[str], sample_id: int | None) -> list[str]:
    """The route's own form fields (when it has a page to show them) before every name the views read."""
    own = []
    if "GET" in rule.methods:
        page = principal.get(path, query_string={"id": sample_id} if sample_id else None)
        if page.status_code == 200:
            own = [name for name in FIELD.findall(page.get_data(as_text=True)) if name != "csrf_token"]
    return list(dict.fromkeys([*own, *names]))


def _csrf_token(role: str, principal) -> str:
    page = principal.get("/sign-in" if role == "anonymous" else "/admin/")
    return csrf_token_from(page.get_data(as_text=True))
