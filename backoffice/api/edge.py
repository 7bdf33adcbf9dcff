"""The portal API's edge: the staff screens' rules (backoffice/edge.py), answered in the API's error body.

Only what the API reads is checked: the path, and the fields of a body that the OpenAPI document declares. A
key it does not declare is ignored, whatever it holds, as the document lets it be. Ids and fields are text
here, never read as numbers, so the rule on integers past 64 bits applies to JSON numbers only.
"""

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from flask import request

from backoffice.api.openapi import request_fields
from backoffice.edge import INT64, odd_character
from backoffice.workflows.refusals import Refusal


def refuse_odd_api_input() -> None:
    """Before every API view: a path with an odd character names nothing (404); a declared field holding an
    odd value, or a JSON body nested past what can be read, is malformed (400)."""
    for value in (request.view_args or {}).values():
        if odd_character(str(value)):
            raise Refusal("not_found")
    if request.is_json:
        body = _json_body()
        if isinstance(body, Mapping):
            check_fields(body, request_fields(request.url_rule.rule, request.method))


def check_fields(fields: Mapping[str, Any], declared: Iterable[str]) -> None:
    """Refuse, as malformed, the first declared field whose value holds an odd character or integer."""
    for name in sorted(declared):
        if name in fields:
            problem = _odd_part(fields[name])
            if problem is not None:
                raise Refusal("malformed_request", reason=f"{name} ({problem})", field=name)


def _json_body() -> Any:
    try:
        return request.get_json(silent=True)
    except RecursionError:
        raise Refusal("malformed_request", reason="the JSON is nested too deeply") from None


def _odd_part(value: Any) -> str | None:
    """How `value` or anything inside it is odd, in words that read the same in English and French."""
    for part in _parts(value):
        if isinstance(part, str):
            character = odd_character(part)
            if character is not None:
                return f"U+{ord(character):04X}"
        elif isinstance(part, int) and not isinstance(part, bool) and part not in INT64:
            return "> 2^63 - 1" if part > 0 else "< -2^63"
    return None


def _parts(value: Any) -> Iterator[Any]:
    """Every key and value inside `value`, without recursion (a body may nest deeply)."""
    pending = [value]
    while pending:
        part = pending.pop()
        yield part
        if isinstance(part, Mapping):
            pending.extend(part.keys())
            pending.extend(part.values())
        elif isinstance(part, list):
            pending.extend(part)
